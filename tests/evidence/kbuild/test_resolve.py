"""Kbuild resolution on the hand-written fixture tree in tests/data/kbuild/ (every construct)."""

from __future__ import annotations

from pathlib import Path

import pytest

from cocoscope.errors import InputError
from cocoscope.evidence.dotconfig import load_config, parse_config_text
from cocoscope.evidence.kbuild import BuiltFile, KbuildResult, resolve
from tests.paths import DATA as TESTDATA

DATA = TESTDATA / "kbuild"
TREE = DATA / "tree"


@pytest.fixture(scope="module")
def result() -> KbuildResult:
    return resolve(TREE, load_config(str(DATA / "config")))


def built(result: KbuildResult, path: str) -> BuiltFile:
    f = result.by_path(path)
    assert f is not None, f"{path} should be built"
    return f


def not_built(result: KbuildResult, path: str) -> None:
    assert result.by_path(path) is None, f"{path} should not be built"


def test_top_level_entry_points(result: KbuildResult) -> None:
    # top Kbuild's init/, arch/$(SRCARCH)/ and the arch Makefile's core-y/libs-y/drivers-y
    assert built(result, "init/main.c").built == "y"
    assert built(result, "arch/x86/kernel/setup.c").symbol is None
    assert built(result, "arch/x86/core/core.c").built == "y"  # core-y -> $(ARCH_CORE)
    pci = built(result, "arch/x86/pci/pci.c")  # drivers-$(CONFIG_PCI) -> $(ARCH_DRIVERS)
    assert (pci.built, pci.symbol) == ("y", "PCI")
    not_built(result, "arch/x86/nope/nope.c")  # drivers-$(CONFIG_NOPE), not set
    assert "." in result.directories


def test_exported_arch_variable(result: KbuildResult) -> None:
    # arch/x86/Makefile computes BITS from an ifeq on the config and exports it
    assert built(result, "arch/x86/kernel/head_64.c").symbol == "X86_64"
    not_built(result, "arch/x86/kernel/head_32.c")


def test_modular_symbol_builds_directory_in(result: KbuildResult) -> None:
    # obj-$(subst m,y,$(CONFIG_HYPERV)) += hyperv/ with HYPERV=m
    f = built(result, "arch/x86/hyperv/hv_init.c")
    assert (f.built, f.symbol) == ("y", "HYPERV")


def test_libs_y_and_lib_y(result: KbuildResult) -> None:
    assert built(result, "arch/x86/lib/string.c").built == "y"  # lib-y in a libs-y directory
    assert built(result, "arch/x86/lib/zlib_glue.c").symbol == "ZLIB"  # lib-$(CONFIG_ZLIB)
    assert built(result, "lib/sort.c").built == "y"
    assert built(result, "lib/bitmap.c").built == "y"
    not_built(result, "lib/nope.c")


def test_conditionals(result: KbuildResult) -> None:
    assert built(result, "init/do_mounts.c").symbol == "BLK"  # ifeq ($(CONFIG_BLK),y)
    not_built(result, "init/nfs_root.c")  # else ifeq, not taken after a taken branch
    not_built(result, "init/no_root.c")  # else
    # ifndef CONFIG_NET: built because NET is off, so NET is not what brings it in; the
    # innermost enclosing condition on a set symbol is (here none, then ifdef CONFIG_BLK)
    assert built(result, "init/no_net.c").symbol is None
    assert built(result, "init/blk_no_net.c").symbol == "BLK"
    not_built(result, "init/net_init.c")  # ifdef CONFIG_NET
    assert built(result, "init/hv_early.c").symbol == "HYPERV"  # ifneq (..,), tab-indented
    assert built(result, "init/fancy.c").built == "y"  # ifeq "..." "..." on a string value


def test_subdirectories_y_m_and_subdir(result: KbuildResult) -> None:
    assert built(result, "drivers/base/core.c").built == "y"
    not_built(result, "drivers/base/not_kbuild.c")  # Kbuild is read, not Makefile
    virtio = built(result, "drivers/virtio/virtio.c")
    assert (virtio.built, virtio.module, virtio.symbol) == ("m", "virtio", "VIRTIO")
    # obj-y in a directory reached only through obj-m is not linked anywhere
    not_built(result, "drivers/virtio/lost.c")
    not_built(result, "drivers/virtio/balloon/also_lost.c")
    balloon = built(result, "drivers/virtio/balloon/virtio_balloon.c")
    assert (balloon.built, balloon.symbol) == ("m", "VIRTIO_BALLOON")
    # subdir-y: descended (for host programs) but nothing from it is linked
    assert "drivers/tools" in result.directories
    not_built(result, "drivers/tools/tool.c")
    not_built(result, "drivers/tools/tool_lib.c")
    (lib,) = (o for o in result.other_sources if o.path == "drivers/tools/tool_lib.o")
    assert lib.reason == "lib-y in drivers/tools: its lib.a is not linked into vmlinux"
    not_built(result, "drivers/gone/gone.c")
    assert "net" not in result.directories  # obj-$(CONFIG_NET) with NET not set
    # a directory listed both as obj-m and obj-y is built in
    assert built(result, "drivers/both/both.c").built == "y"


def test_composites(result: KbuildResult) -> None:
    common = built(result, "drivers/virtio/virtio_pci_common.c")
    assert (common.built, common.module, common.object) == (
        "m", "virtio_pci", "drivers/virtio/virtio_pci")
    assert built(result, "drivers/virtio/virtio_pci_legacy.c").symbol == "VIRTIO_PCI_LEGACY"
    not_built(result, "drivers/virtio/virtio_pci_nope.c")
    m_part = built(result, "drivers/virtio/virtio_pci_m.c")  # virtio_pci-m in a module
    assert (m_part.module, m_part.symbol) == ("virtio_pci", "VIRTIO_BALLOON")
    not_built(result, "drivers/net/mydrv_m.c")  # mydrv-m in a built-in composite
    mydrv = built(result, "drivers/net/mydrv_hw.c")  # foo-objs, built in
    assert (mydrv.built, mydrv.module, mydrv.object, mydrv.symbol) == (
        "y", None, "drivers/net/mydrv", "MYDRV")
    e1000 = built(result, "drivers/net/e1000/e1000_main.c")
    assert (e1000.module, e1000.object) == ("e1000", "drivers/net/e1000/e1000")
    # nested composite: outer-y has inner.o, inner-y has two files
    for part in ("inner_a", "inner_b", "outer_main"):
        f = built(result, f"drivers/net/{part}.c")
        assert (f.built, f.module) == ("m", "outer")
    assert result.modules() >= {"virtio", "virtio_ring", "virtio_pci", "virtio_balloon",
                                "e1000", "outer"}


def test_line_continuation_substitution_and_duplicates(result: KbuildResult) -> None:
    assert built(result, "drivers/net/netpoll.c").symbol == "NETCONS"
    assert built(result, "drivers/net/e1000_glue.c").built == "y"  # $(CONFIG_E1000:m=y)
    assert built(result, "drivers/net/dup.c").built == "y"  # listed m and y: y wins


def test_variables_functions_eval_include(result: KbuildResult) -> None:
    assert built(result, "drivers/net/second_lazy.c")  # "=" expands late
    not_built(result, "drivers/net/first_lazy.c")
    assert built(result, "drivers/net/maybe_a.c")  # "?=" keeps the first value
    assert built(result, "drivers/net/crc8.c") and built(result, "drivers/net/crc16.c")
    assert built(result, "drivers/net/wild_one.c") and built(result, "drivers/net/wild_two.c")
    assert built(result, "drivers/net/cond_if.c").symbol == "NETCONS"  # obj-$(if ...)
    assert built(result, "drivers/net/extra.c")  # include $(src)/Makefile.extra
    not_built(result, "drivers/net/recipe_line.c")  # a recipe line after a rule


def test_generated_assembly_and_included_c(result: KbuildResult) -> None:
    generated = {o.path: o for o in result.generated}
    assert "drivers/net/gen_table.o" in generated
    assert generated["lib/generated_table.c"].object == "lib/combined"
    other = {o.path: o.reason for o in result.other_sources}
    assert other["drivers/net/fast.o"] == "assembly (.S)"
    assert other["arch/x86/kernel/entry.o"] == "assembly (.S)"
    assert built(result, "lib/part_a.c").included_from == "lib/combined.c"
    assert built(result, "lib/part_c.c").object == "lib/combined"  # IS_ENABLED && !defined
    not_built(result, "lib/part_b.c")  # under #ifdef CONFIG_NOPE


def test_no_diagnostics_on_the_fixture(result: KbuildResult) -> None:
    # The fixture's only unknown is a cc-option in KBUILD_CFLAGS, which is not an object list.
    assert result.diagnostics == () == result.unresolved
    paths = [f.path for f in result.files]
    assert paths == sorted(paths) and len(paths) == len(set(paths))


def test_not_a_tree(tmp_path: Path) -> None:
    cfg = parse_config_text("CONFIG_X86_64=y\n", "cfg")
    with pytest.raises(InputError, match="not a kernel source tree"):
        resolve(tmp_path, cfg)


def test_missing_directory_is_a_diagnostic(tmp_path: Path) -> None:
    (tmp_path / "arch" / "x86").mkdir(parents=True)
    (tmp_path / "arch" / "x86" / "Makefile").write_text("libs-y += arch/x86/lib/\n")
    (tmp_path / "Kbuild").write_text("obj-y += $(ARCH_LIB) missing/\n")
    result = resolve(tmp_path, parse_config_text("CONFIG_X86_64=y\n", "cfg"))
    messages = {(d.file, d.message) for d in result.diagnostics}
    assert ("missing", "directory listed for descent has no Kbuild or Makefile") in messages
    assert ("lib", "directory listed for descent has no Kbuild or Makefile") in messages
    assert result.files == ()
