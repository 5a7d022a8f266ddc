"""Kconfig tree layer on Debian's linux-source-6.12 with Debian's cloud config."""

from __future__ import annotations

import re
from pathlib import Path

import kconfiglib
import pytest

from cocoscope.evidence.dotconfig import KernelConfig, load_config, parse_config_text
from cocoscope.evidence.kconfig import KconfigTree, load_tree
from cocoscope.evidence.kconfig.compat import _STOCK_TRI_VALUE
from tests.paths import REPO

pytestmark = pytest.mark.realtree

DOCS = REPO / "docs" / "kconfig.md"


@pytest.fixture(scope="module")
def tree(linux_tree: Path, pytestconfig: pytest.Config) -> KconfigTree:
    t = load_tree(linux_tree)
    capman = pytestconfig.pluginmanager.getplugin("capturemanager")
    with capman.global_and_fixture_disabled():
        print(f"\n[kconfig] linux-source-6.12 loaded in {t.load_seconds:.2f} s "
              f"({len(t.kconf.unique_defined_syms)} symbols, {len(t.probes)} probes)")
    return t


@pytest.fixture(scope="module")
def cloud(debian_cloud_config: Path) -> KernelConfig:
    return load_config(str(debian_cloud_config))


def assignments(text: str) -> dict[str, str]:
    cfg = parse_config_text(text, "written")
    return {k: e.value for k, e in cfg.entries.items()}


def test_tree_loads_with_every_probe_answered(tree: KconfigTree) -> None:
    assert tree.kernel_version == "6.12.117"
    assert tree.unanswered_probes == ()
    assert len(tree.kconf.unique_defined_syms) > 15000
    assert tree.kconf.modules.name == "MODULES"


def test_recorded_table_has_no_dead_rows(tree: KconfigTree) -> None:
    # Every row of the shipped table is asked by linux-source-6.12: no row is dead weight.
    # Rows whose symbols Debian's config shows are checked by the round trip below;
    # docs/kconfig.md names the answers that config cannot confirm.
    from cocoscope.evidence.kconfig.toolchain import _IF_SUCCESS, recorded_toolchain

    table = recorded_toolchain()
    assert table.outputs is not None and table.successes is not None
    asked = {p.command for p in tree.probes}
    asked |= {m.group(1) for c in asked if (m := _IF_SUCCESS.fullmatch(c))}
    assert set(table.outputs) <= asked
    assert set(table.successes) <= asked


def test_debian_config_roundtrips_through_olddefconfig(tree: KconfigTree,
                                                      cloud: KernelConfig,
                                                      pytestconfig: pytest.Config) -> None:
    result = tree.apply(cloud)
    assert result.unknown_symbols == ()
    assert result.changed == ()  # every value Debian wrote is what the tree computes
    before = {k: e.value for k, e in cloud.entries.items()}
    after = assignments(tree.config_text())
    diff = {k for k in before.keys() | after.keys() if before.get(k) != after.get(k)}
    capman = pytestconfig.pluginmanager.getplugin("capturemanager")
    with capman.global_and_fixture_disabled():
        print(f"\n[kconfig] Debian cloud config through olddefconfig: {len(diff)} symbols "
              f"differ: {sorted(diff)}")
    # Only symbols Debian's packaging leaves out of the shipped file; olddefconfig writes
    # their defaults back. Nothing present in the file changes.
    assert diff == {"BUILD_SALT", "MODULE_SIG_ALL", "MODULE_SIG_KEY", "SYSTEM_TRUSTED_KEYS"}
    assert all(k not in before for k in diff)


def test_m_under_imply_stays_m_as_in_c_kconfig(tree: KconfigTree, cloud: KernelConfig) -> None:
    tree.apply(cloud)
    # Debian's file was written by the C kconfig: CRYPTO_CTS=m although FS_ENCRYPTION_ALGS=y
    # implies it. scripts/kconfig/symbol.c keeps a user value over "imply".
    assert cloud.value("CRYPTO_CTS") == "m" and cloud.value("FS_ENCRYPTION_ALGS") == "y"
    e = tree.explain("CRYPTO_CTS")
    assert e.value == "m"
    assert any(t.symbol == "FS_ENCRYPTION_ALGS" and t.active for t in e.implied_by)
    # Stock kconfiglib's rule on the same graph turns every such module into a built-in.
    promoted = []
    for sym in tree.kconf.unique_defined_syms:
        if sym.orig_type is kconfiglib.TRISTATE and sym.choice is None and sym.tri_value == 1:
            sym._cached_tri_val = None
            if _STOCK_TRI_VALUE.fget(sym) == 2:
                promoted.append(sym.name)
            sym._cached_tri_val = None
    assert "CRYPTO_CTS" in promoted and "CRYPTO_XTS" in promoted
    assert tree.value("CRYPTO_CTS") == "m"


def test_explain_gives_selecting_and_depending_symbols(tree: KconfigTree,
                                                      cloud: KernelConfig) -> None:
    tree.apply(cloud)
    mmio = tree.explain("VIRTIO_MMIO")
    assert (mmio.value, mmio.user_value, mmio.prompt) == (
        "m", "m", "Platform bus driver for memory mapped virtio devices")
    assert mmio.depends_on == "HAS_IOMEM && HAS_DMA && VIRTIO_MENU"
    assert mmio.can_turn_off and mmio.why == ("set to m in the configuration",)

    virtio = tree.explain("VIRTIO")
    active = {t.symbol for t in virtio.selected_by if t.active}
    assert {"VIRTIO_PCI", "VIRTIO_MMIO", "VIRTIO_CONSOLE"} <= active
    assert not virtio.can_turn_off
    assert "selected by VIRTIO_PCI=y" in virtio.blocked_by

    pci = tree.explain("VIRTIO_PCI")
    dropped = {c.symbol for c in pci.turning_off_changes if c.after == "n"}
    assert {"VIRTIO_PCI_LEGACY", "VIRTIO_PCI_LIB", "VIRTIO_PCI_LIB_LEGACY"} <= dropped

    hyperv = tree.explain("HYPERV")
    dropped = {c.symbol for c in hyperv.turning_off_changes if c.after == "n"}
    assert {"HYPERV_NET", "HYPERV_STORAGE", "PCI_HYPERV"} <= dropped
    assert tree.value("HYPERV_NET") == "m"  # the simulation was undone


def test_turn_off_plan_on_debian_config(tree: KconfigTree, cloud: KernelConfig) -> None:
    tree.apply(cloud)
    # The emulated-TPM drivers are pinned by IMA's select: turn IMA off first.
    plan = tree.turn_off_plan("TCG_TIS")
    assert plan.feasible and plan.turn_off == ("IMA", "TCG_TIS")
    assert {"IMA", "TCG_TIS"} <= {c.symbol for c in plan.changes if c.after == "n"}
    plan = tree.turn_off_plan("VIRTIO")
    assert plan.feasible
    assert {"VIRTIO_PCI", "VIRTIO_MMIO", "VIRTIO_CONSOLE", "VIRTIO_FS"} <= set(plan.turn_off)
    assert tree.value("IMA") == "y" and tree.value("VIRTIO") == "y"  # simulation undone
    # A diamond is not a cycle: INTEL_SOC_DTS_THERMAL and INT340X_THERMAL both select
    # INTEL_SOC_DTS_IOSF_CORE, which selects IOSF_MBI.
    plan = tree.turn_off_plan("IOSF_MBI")
    assert plan.feasible, plan.reason
    assert {"INTEL_SOC_DTS_THERMAL", "INT340X_THERMAL", "IOSF_MBI"} <= set(plan.turn_off)


def test_merge_fragment_turns_host_facing_options_off(tree: KconfigTree,
                                                     cloud: KernelConfig) -> None:
    frag = "\n".join(f"# CONFIG_{s} is not set" for s in
                     ("VIRTIO_MMIO", "VIRTIO_PCI_LEGACY", "HYPERV", "XEN", "VIRTIO")) + "\n"
    result = tree.merge_fragment(cloud, frag, "coco.fragment")
    merged = parse_config_text(result.config_text, "merged")
    for sym in ("VIRTIO_MMIO", "VIRTIO_PCI_LEGACY", "HYPERV", "XEN", "XEN_PV", "HYPERV_NET",
                "VIRTIO_PCI_LIB_LEGACY"):
        assert not merged.is_on(sym), sym
    assert merged.value("VIRTIO_PCI") == "y"
    # VIRTIO cannot go: virtio-pci, the console, virtiofs select it.
    (refused,) = result.not_taken
    assert (refused.line, refused.symbol, refused.result) == (5, "VIRTIO", "y")
    assert "select from VIRTIO_PCI=y" in refused.reason
    assert re.search(r"Linux/x86 6\.12\.117 Kernel Configuration", result.config_text)


def test_probe_dependent_symbols_match_docs(tree: KconfigTree) -> None:
    from cocoscope.evidence.kconfig import probe_symbols_markdown

    deps = tree.probe_dependent_symbols()
    assert {"CC_IS_GCC", "GCC_VERSION", "AS_VERSION", "LD_VERSION", "RUSTC_VERSION",
            "PAHOLE_VERSION", "CC_HAS_IBT", "AS_TPAUSE", "TOOLS_SUPPORT_RELR"} <= set(deps)
    section = probe_symbols_markdown(tree)
    assert section in DOCS.read_text(encoding="utf-8"), \
        "docs/kconfig.md is stale: run scripts/kconfig_probe_doc.py"


def test_old_config_choices_resolve_like_c_kconfig(tree: KconfigTree, testdata: Path) -> None:
    # Values from scripts/kconfig/conf of this tree (make O=... olddefconfig, run by
    # benchmarks/kconfig_vs_c.py): the 5.15 kAFL config sets the choices' defaults to n
    # (INTEL_IOMMU_DEFAULT_ON) or names a member 6.12 no longer has
    # (LEGACY_VSYSCALL_EMULATE) and says n to the rest.
    cfg = load_config(str(testdata / "kconfig" / "kafl_linux_kernel_tdx_guest_5.15-rc6.config"))
    result = tree.apply(cfg)
    assert "LEGACY_VSYSCALL_EMULATE" in result.unknown_symbols
    assert tree.value("INTEL_IOMMU_DEFAULT_ON") == "n"
    assert tree.value("INTEL_IOMMU_DEFAULT_ON_INTGPU_OFF") == "y"
    assert tree.value("LEGACY_VSYSCALL_XONLY") == "y"
    assert tree.value("LEGACY_VSYSCALL_NONE") == "n"
    # The kAFL guest builds the transports the rules flag.
    assert tree.value("VIRTIO_MMIO") == "y" and tree.value("VIRTIO_PCI_LEGACY") == "y"
