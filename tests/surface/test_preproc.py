"""Per-config #if handling: conditions evaluated from a config's symbols, fallback counted."""

from __future__ import annotations

from pathlib import Path

import pytest

from cocoscope.surface.preproc import (
    Defines,
    blank_inactive,
    config_defines,
    evaluate,
    includer_defines,
)

D = Defines({"CONFIG_PCI": 1, "CONFIG_VIRTIO_MODULE": 1, "CONFIG_NR_CPUS": 64,
             "CONFIG_64BIT": 1, "BITS_PER_LONG": 64, "__KERNEL__": 1})


@pytest.mark.parametrize(("cond", "value"), [
    ("defined(CONFIG_PCI)", 1),
    ("defined CONFIG_VIRTIO", 0),  # =m defines CONFIG_VIRTIO_MODULE, not CONFIG_VIRTIO
    ("IS_ENABLED(CONFIG_VIRTIO)", 1),
    ("IS_BUILTIN(CONFIG_VIRTIO) || IS_MODULE(CONFIG_PCI)", 0),
    ("IS_REACHABLE(CONFIG_VIRTIO)", None),  # depends on whether the includer is a module
    ("CONFIG_NR_CPUS > 1 && !defined(CONFIG_ACPI)", 1),
    ("BITS_PER_LONG == 64", 1),
    ("defined(SOME_DRIVER_MACRO)", None),
    ("defined(SOME_DRIVER_MACRO) && CONFIG_FOO", 0),  # false whatever the unknown is
    ("defined(SOME_DRIVER_MACRO) || CONFIG_PCI", 1),
    ("__has_attribute(x)", None),
    ("0x10 == 16", 1),
])
def test_conditions(cond: str, value: int | None) -> None:
    assert evaluate(cond, D) == value


def test_blanking_keeps_the_built_branch_and_every_offset() -> None:
    src = (b"#ifdef CONFIG_PCI\nint a(void) { return inb(1); }\n#else\nint a(void) { return 0; }\n"
           b"#endif\n#if BITS_PER_LONG == 64\n#define rd(x) readq(x)\n#else\n#define rd(x) readl(x)\n"
           b"#endif\n#ifndef GUARD_H\n#define GUARD_H\n#ifdef MODULE\nint m;\n#endif\n#endif\n")
    out, decided, undecided = blank_inactive(src, D)
    assert len(out) == len(src) and out.count(b"\n") == src.count(b"\n")
    assert b"inb(1)" in out and b"return 0" not in out
    assert b"readq" in out and b"readl" not in out
    assert b"int m;" in out  # MODULE is unknown: kept, counted as a fallback
    assert (decided, undecided) == (3, 1)


def test_debian_cloud_config_defines(debian_cloud_config: Path) -> None:
    d = config_defines(str(debian_cloud_config))
    assert d.macros["CONFIG_X86_64"] == 1 and d.macros["BITS_PER_LONG"] == 64
    assert d.macros["__x86_64__"] == 1
    assert evaluate("IS_ENABLED(CONFIG_INTEL_TDX_GUEST) && defined(CONFIG_AMD_MEM_ENCRYPT)",
                    d) == 1


def test_includer_defines_before_the_include() -> None:
    includer = b"""#include "stc.h"
/* #define COMMENTED */
#define PCIDMA
#define RATE 0x10 /* Hz */
#define GONE 1
#undef GONE
#ifdef CONFIG_X
#define MAYBE 1
#endif
#define MAYBE 2
#include "common.c"
#define AFTER 1
"""
    assert includer_defines(includer, "common.c", b"int x;") == (
        ("PCIDMA", -1), ("RATE", 16))
    # the included file's own #define/#undef of a name wins: left out
    assert includer_defines(includer, "common.c", b"#undef PCIDMA\n") == (("RATE", 16),)


def test_includer_defines_need_a_certain_include() -> None:
    assert includer_defines(b"#define A 1\n#ifdef B\n#include \"x.c\"\n#endif\n", "x.c",
                            b"") == ()
    assert includer_defines(b"#define A 1\n", "x.c", b"") == ()


def test_includer_macro_blanks_the_included_branches() -> None:
    d = Defines({"PCIDMA": -1})
    text = b"#ifndef PCIDMA\nint isa;\n#else\nint pci;\n#endif\n#if PCIDMA\nint v;\n#endif\n"
    out, decided, undecided = blank_inactive(text, d)
    assert b"isa" not in out and b"pci" in out
    assert b"int v;" in out and (decided, undecided) == (1, 1)  # empty value: #if undecided


def test_includer_defines_of_a_guarded_header() -> None:
    # x86's asm/io.h: inside its include guard, `#define inb_p inb_p` before
    # `#include <asm-generic/io.h>`; the generic header's own `#ifndef inb_p` / `#define inb_p`
    # fallback does not hide the includer's definition, any other #define or #undef does.
    includer = b"""#ifndef _ASM_X86_IO_H
#define _ASM_X86_IO_H
#ifdef CONFIG_X86_64
#define readq readq
#endif
#define inb_p inb_p
#define IO_SPACE_LIMIT 0xffff
#define insb insb
#include <asm-generic/io.h>
#endif
"""
    generic = b"""#ifndef __ASM_GENERIC_IO_H
#define __ASM_GENERIC_IO_H
#ifndef inb_p
#define inb_p inb_p
static inline u8 inb_p(unsigned long addr) { return inb(addr); }
#endif
#undef insb
#endif
"""
    assert includer_defines(includer, "<asm-generic/io.h>", generic) == (
        ("IO_SPACE_LIMIT", 0xffff), ("inb_p", -1))
    assert includer_defines(includer, '"asm-generic/io.h"', generic) == ()  # not that line
    out, _d, _u = blank_inactive(generic, Defines({"inb_p": -1}))
    assert b"static inline u8 inb_p" not in out


def test_includer_defines_under_a_condition_the_config_decides() -> None:
    # x86's asm/io.h defines readq and readq_relaxed under `#ifdef CONFIG_X86_64` before
    # `#include <asm-generic/io.h>`, whose fallback is `#if defined(readq) &&
    # !defined(readq_relaxed)`: with the config, both definitions are certain.
    includer = b"""#ifndef _ASM_X86_IO_H
#define _ASM_X86_IO_H
#ifdef CONFIG_X86_64
#define readq readq
#define readq_relaxed(a) __readq(a)
#else
#define slow_only 1
#endif
#ifdef CONFIG_UNSET
#define not_built 1
#endif
#if defined(SOMETHING_UNKNOWN)
#define unsure 1
#endif
#include <asm-generic/io.h>
#endif
"""
    generic = b"""#if defined(readq) && !defined(readq_relaxed)
#define readq_relaxed readq_relaxed
static inline u64 readq_relaxed(const volatile void *addr) { return __raw_readq(addr); }
#endif
#if defined(readq) || !defined(unsure)
#define unsure 2
#endif
"""
    x86_64 = Defines({"CONFIG_X86_64": 1})
    assert includer_defines(includer, "<asm-generic/io.h>", generic, x86_64) == (
        ("readq", -1), ("readq_relaxed", -1))
    # without the config every conditional is undecided: nothing under one counts
    assert includer_defines(includer, "<asm-generic/io.h>", generic) == ()
    out, _d, _u = blank_inactive(generic, Defines({"readq": -1, "readq_relaxed": -1}))
    assert b"static inline u64 readq_relaxed" not in out
    # an include in a branch the config leaves out is not the include
    assert includer_defines(b"#define A 1\n#ifdef CONFIG_UNSET\n#include \"x.c\"\n#endif\n",
                            "x.c", b"", x86_64) == ()
    assert includer_defines(b"#define A 1\n#ifdef CONFIG_X86_64\n#include \"x.c\"\n#endif\n",
                            "x.c", b"", x86_64) == (("A", 1),)
