"""Headers reached through includes: include/asm-generic/ fallbacks read with the macros of
their one includer (includes.generic_header_macros)."""

from __future__ import annotations

from pathlib import Path

from cocoscope.surface.files import FileSpec
from cocoscope.surface.scan import scan

ARCH_IO = """\
#ifndef _ASM_X86_IO_H
#define _ASM_X86_IO_H
#define inb_p inb_p
static inline u8 inb_p(unsigned long port) { return inb(port); }
#include <asm-generic/io.h>
#endif
"""

GENERIC_IO = """\
#ifndef __ASM_GENERIC_IO_H
#define __ASM_GENERIC_IO_H
#ifndef inb_p
#define inb_p inb_p
static inline u8 inb_p(unsigned long addr)
{
	return inb(addr);
}
#endif
#ifndef inw_p
#define inw_p inw_p
static inline u16 inw_p(unsigned long addr)
{
	return inw(addr);
}
#endif
#endif
"""

DRIVER = """\
#include <asm/io.h>
int probe(void) { return inb_p(0x60) + inw_p(0x62); }
"""


def _scan(tree: Path, extra: dict[str, str], cache: Path | None = None) -> set[tuple[str, int]]:
    files = {"arch/x86/include/asm/io.h": ARCH_IO, "include/asm-generic/io.h": GENERIC_IO,
             "drivers/x.c": DRIVER, **extra}
    for rel, text in files.items():
        (tree / rel).parent.mkdir(parents=True, exist_ok=True)
        (tree / rel).write_text(text)
    config = tree / ".config"
    config.write_text("CONFIG_X86_64=y\nCONFIG_64BIT=y\n")
    specs = [FileSpec(rel, "y") for rel in files if rel.endswith(".c")]
    inv = scan(tree, specs, config=str(config), use_cache=cache is not None, cache_dir=cache,
               jobs=1, quiet=True)
    return {(s.file, s.line) for s in inv.sites if s.file.startswith("include/asm-generic/")}


def test_generic_fallback_the_arch_header_overrides_is_not_built(tmp_path: Path) -> None:
    # asm/io.h defines inb_p before its #include <asm-generic/io.h>: the generic #ifndef inb_p
    # fallback is compiled out; inw_p's is still built.
    assert _scan(tmp_path / "t", {}) == {("include/asm-generic/io.h", 14)}
    # the same, warm from the cache
    cache = tmp_path / "cache"
    assert _scan(tmp_path / "t", {}, cache) == _scan(tmp_path / "t", {}, cache) == \
        {("include/asm-generic/io.h", 14)}


def test_a_second_includer_leaves_the_fallback(tmp_path: Path) -> None:
    # another file includes the generic header directly, without inb_p: both fallbacks stay
    other = {"drivers/y.c": "#include <asm-generic/io.h>\nint f(void) { return inb_p(1); }\n"}
    assert _scan(tmp_path, other) == {("include/asm-generic/io.h", 7),
                                      ("include/asm-generic/io.h", 14)}
