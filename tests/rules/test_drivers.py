"""CCS-DRV-001: PCI drivers built outside the allow-list (virtio and the platform's own)."""

from __future__ import annotations

import pytest

from cocoscope.evidence.dotconfig import parse_config_text
from cocoscope.evidence.guest import GuestEvidence
from cocoscope.evidence.pcidrivers import DriverIndex, PciDriver
from cocoscope.evidence.system import Device, PlatformDetection, RunningSystem
from cocoscope.finding import Status
from cocoscope.model.hypervisor import Hypervisor
from cocoscope.model.platform import Platform
from cocoscope.rules import evaluate_rules, load_rules
from cocoscope.rules.conditions import ConditionError, PciDrivers, parse
from cocoscope.rules.conditions.drivers import knowledge
from cocoscope.rules.fragment import build_fragment

HEADER = "#\n# Linux/x86 {v} Kernel Configuration\n#\n"


def config(body: str, version: str = "6.12.117") -> GuestEvidence:
    return GuestEvidence(config=parse_config_text(HEADER.format(v=version) + body, "t.config"))


def drv001(ev: GuestEvidence):  # type: ignore[no-untyped-def]
    (rule,) = [r for r in load_rules().rules if r.id == "CCS-DRV-001"]
    (f,) = evaluate_rules([rule], ev)
    return rule, f


VIRTIO_ONLY = "CONFIG_PCI=y\nCONFIG_VIRTIO_PCI=y\nCONFIG_VIRTIO_NET=y\nCONFIG_PCIEPORTBUS=y\n"


def test_virtio_only_config_passes_from_the_knowledge_list() -> None:
    _, f = drv001(config(VIRTIO_ONLY))
    assert f.status is Status.PASS
    assert "VIRTIO_PCI" in f.message and "knowledge list of Linux 6.12" in f.message


def test_listed_driver_fails_and_names_symbol_and_area() -> None:
    _, f = drv001(config(VIRTIO_ONLY + "CONFIG_MLX5_CORE=m\nCONFIG_IXGBEVF=m\n"))
    assert f.status is Status.FAIL
    assert f.message.startswith("2 PCI driver symbols outside the allow-list built (net 2)")
    assert "IXGBEVF (ixgbevf, m), MLX5_CORE (mlx5_core, m)" in f.message  # module names
    assert f.location is not None and f.location.line is not None  # points at the config line
    assert any(n.startswith("reported by area: net (2): IXGBEVF, MLX5_CORE") for n in f.notes)


def test_other_series_without_listed_driver_is_unknown_not_pass() -> None:
    _, f = drv001(config(VIRTIO_ONLY, version="6.6.50"))
    assert f.status is Status.UNKNOWN
    assert "covers Linux 6.12 only" in f.message
    # ...but a listed driver built still fails on any kernel.
    _, f = drv001(config(VIRTIO_ONLY + "CONFIG_E1000E=m\nCONFIG_IGB=m\n", version="6.6.50"))
    assert f.status is Status.FAIL and "IGB" in f.message


def test_no_pci_passes_whatever_else_is_set() -> None:
    _, f = drv001(config("# CONFIG_PCI is not set\n", version="5.15.0"))
    assert f.status is Status.PASS


def test_fragment_and_missing_config() -> None:
    frag = GuestEvidence(config=parse_config_text("CONFIG_VIRTIO_PCI=y\n", "frag.config"))
    assert drv001(frag)[1].status is Status.UNKNOWN
    frag = GuestEvidence(config=parse_config_text("CONFIG_GVE=m\n", "frag.config"))
    assert drv001(frag)[1].status is Status.FAIL
    assert drv001(GuestEvidence())[1].status is Status.UNKNOWN


def test_covered_by_other_rules_and_on_request_are_not_reported() -> None:
    body = VIRTIO_ONLY + "CONFIG_E1000=m\nCONFIG_VFIO_PCI=m\nCONFIG_SERIAL_8250_PCI=y\n"
    _, f = drv001(config(body))
    assert f.status is Status.PASS
    notes = " ".join(f.notes)
    assert "CCS-KCFG-123 E1000" in notes and "CCS-KCFG-041 SERIAL_8250_PCI" in notes
    assert "(not reported): VFIO_PCI" in notes and ", PCI," not in notes


def test_hypervisor_allows_its_own_devices() -> None:
    body = VIRTIO_ONLY + "CONFIG_MICROSOFT_MANA=m\nCONFIG_PCI_HYPERV=m\nCONFIG_HYPERV_NET=m\n"
    ev = config(body)
    assert drv001(ev)[1].status is Status.FAIL  # hypervisor unknown: MANA is just a NIC
    on_hyperv = GuestEvidence(config=ev.config, hypervisor=Hypervisor.HYPERV)
    _, f = drv001(on_hyperv)
    assert f.status is Status.PASS and "MICROSOFT_MANA" in f.message
    on_kvm = GuestEvidence(config=ev.config, hypervisor=Hypervisor.KVM)
    assert "MICROSOFT_MANA" in drv001(on_kvm)[1].message


def test_keep_allows_a_driver_and_the_fragment_never_drops_it() -> None:
    ev = config(VIRTIO_ONLY + "CONFIG_GVE=m\nCONFIG_BLK_DEV_NVME=y\n")
    rule, f = drv001(ev)
    assert f.status is Status.FAIL
    frag = build_fragment([rule], Platform.TDX, evidence=ev)
    assert {s: v for s, (v, _) in frag.config.items()} == {"GVE": "n", "BLK_DEV_NVME": "n"}
    kept = GuestEvidence(config=ev.config, keep=frozenset({"GVE"}))
    rule, f = drv001(kept)
    assert f.status is Status.FAIL and "GVE" not in f.message and "BLK_DEV_NVME" in f.message
    assert any("GVE (--keep)" in n for n in f.notes)
    frag = build_fragment([rule], Platform.TDX, keep=frozenset({"GVE"}), evidence=kept)
    assert set(frag.config) == {"BLK_DEV_NVME"}
    # A keep the condition does not see (fragment --keep alone) still wins in the fragment.
    frag = build_fragment([rule], Platform.TDX, keep=frozenset({"GVE"}), evidence=ev)
    assert set(frag.config) == {"BLK_DEV_NVME"} and frag.kept == {"GVE": "CCS-DRV-001"}
    assert "# CONFIG_BLK_DEV_NVME is not set" in frag.kconfig_text()


def test_source_index_is_used_and_ranked() -> None:
    ev = config(VIRTIO_ONLY)
    index = DriverIndex((PciDriver("A_NIC", "drivers/net/a.c", "a", "m", "a", True, 90, 9),
                         PciDriver("B_NIC", "drivers/net/b.c", "b", "m", "b", True, 40, 1)),
                        "kernel source T", ranked=True)
    ranked = GuestEvidence(config=ev.config, drivers=index)
    _, f = drv001(ranked)
    assert f.status is Status.FAIL
    assert "most exposed (host-input sites/risky): A_NIC (a, m: 90/9), B_NIC (b, m: 40/1)" \
        in f.message
    unreadable = DriverIndex((), "kernel source T", unreadable=("x.c: too large",))
    _, f = drv001(GuestEvidence(config=ev.config, drivers=unreadable))
    assert f.status is Status.UNKNOWN and "could not be read" in f.message


@pytest.mark.parametrize("doc, error", [
    ({"pci_drivers": "all"}, "takes \"built\""),
    ({"pci_drivers": "built", "deny": ["X"]}, "takes \"built\""),
    ({"pci_drivers": "built", "allow_on": {"qemu": ["X"]}}, "unknown hypervisor"),
    ({"pci_drivers": "built", "allow": [1]}, "list of strings"),
    ({"pci_drivers": "built", "elsewhere": ["CCS-KCFG-120"]}, "must be tables"),
])
def test_malformed_condition_is_refused(doc: dict[str, object], error: str) -> None:
    with pytest.raises(ConditionError, match=error):
        parse(doc)


def test_elsewhere_names_existing_rules_that_turn_the_symbol_off() -> None:
    rules = {r.id: r for r in load_rules().rules}
    (cond,) = [leaf for leaf in rules["CCS-DRV-001"].pass_if.leaves()
               if isinstance(leaf, PciDrivers)]
    listed = {d.symbol for d in knowledge().drivers}
    for rid, items in cond.elsewhere:
        fix = rules[rid].fix.config
        assert any(v == "n" for v in fix.values()), rid
        for item in items:
            if item.endswith("/"):
                assert any(d.file.startswith(item) for d in knowledge().drivers), item
            else:
                assert item in listed, item
                assert fix.get(item) == "n" or item in set(rules[rid].pass_if.config_symbols()) \
                    or rid == "CCS-KCFG-101", (rid, item)
    for sym in cond.allow | {s for _, syms in cond.allow_on for s in syms}:
        assert sym in listed, f"allow-list symbol {sym} is not a PCI driver of 6.12"


def test_knowledge_list_names_the_objects_symbol_not_the_bus() -> None:
    """ccp-$(CONFIG_PCI) += sp-pci.o is CRYPTO_DEV_CCP_DD's driver; PCI itself is never one."""
    k = knowledge()
    listed = k.drivers
    assert k.series == (6, 12) and len(listed) > 800
    rows = {(d.symbol, d.file) for d in listed}
    assert ("CRYPTO_DEV_CCP_DD", "drivers/crypto/ccp/sp-pci.c") in rows
    assert ("IPMI_SI", "drivers/char/ipmi/ipmi_si_pci.c") in rows
    assert not any(d.symbol in ("PCI", "") for d in listed)
    assert ("VIRTIO_PCI", "drivers/virtio/virtio_pci_common.c") in rows


def test_generic_fragment_turns_off_every_listed_driver_and_its_selectors() -> None:
    """No config (fragment for merge_config.sh): every driver the rule would report, with what
    selects it (MLX4_EN selects MLX4_CORE), never the allow-list, a kept or covered one."""
    (rule,) = [r for r in load_rules().rules if r.id == "CCS-DRV-001"]
    frag = build_fragment([rule], Platform.SNP, Hypervisor.HYPERV, keep=frozenset({"GVE"}))
    lines = {s for s, (v, rid) in frag.config.items() if v == "n" and rid == "CCS-DRV-001"}
    assert {"MLX5_CORE", "MLX4_CORE", "MLX4_EN", "IXGBEVF", "BLK_DEV_NVME"} <= lines
    assert not {"VIRTIO_PCI", "PCIEPORTBUS", "MICROSOFT_MANA", "GVE", "E1000", "VFIO_PCI"} & lines
    assert "MICROSOFT_MANA" in build_fragment([rule], Platform.SNP, Hypervisor.KVM).config
    # A kept driver keeps what selects it too (MLX4_EN is what makes MLX4_CORE useful).
    frag = build_fragment([rule], Platform.TDX, keep=frozenset({"MLX4_CORE"}))
    assert "MLX4_EN" not in frag.config and "MLX4_CORE" not in frag.config


def test_a_layered_rule_file_extends_the_allow_list(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """docs/rules.md: --rules with a CCS-DRV-001 of a longer allow replaces the built-in."""
    user = tmp_path / "site.toml"
    user.write_text('''[[rule]]
id = "CCS-DRV-001"
title = "PCI drivers outside our allow-list"
threat = "malformed-runtime-input"
severity = "medium"
pass_if = { pci_drivers = "built", allow = ["VIRTIO_PCI", "PCIEPORTBUS", "GVE"] }
''')
    (rule,) = [r for r in load_rules([str(user)]).rules if r.id == "CCS-DRV-001"]
    (f,) = evaluate_rules([rule], config(VIRTIO_ONLY + "CONFIG_GVE=m\n"))
    assert f.status is Status.PASS and "GVE" in f.message


def _live(*devices: Device, hypervisor: Hypervisor | None = None,
          keep: frozenset[str] = frozenset()) -> GuestEvidence:
    system = RunningSystem("/fake", "6.12.117", None, None,
                           PlatformDetection(Platform.TDX, ("test",)), devices)
    return GuestEvidence(system=system, hypervisor=hypervisor, keep=keep)


def drv002(ev: GuestEvidence):  # type: ignore[no-untyped-def]
    (rule,) = [r for r in load_rules().rules if r.id == "CCS-DRV-002"]
    (f,) = evaluate_rules([rule], ev)
    return f


VIRTIO_NIC = Device("pci", "0000:00:02.0", "virtio-pci", "1af4", "1041", klass="020000")
ROOT_PORT = Device("pci", "0000:00:1c.0", "pcieport", "1b36", "000c", klass="060400")
MANA = Device("pci", "7870:00:00.0", "mana", "1414", "00ba", klass="020000")
NVME = Device("pci", "0000:00:04.0", "nvme", "8086", "5845", klass="010802")


def test_live_virtio_and_root_ports_pass_and_other_bound_drivers_fail() -> None:
    assert drv002(_live(VIRTIO_NIC, ROOT_PORT)).status is Status.PASS
    f = drv002(_live(VIRTIO_NIC, ROOT_PORT, NVME,
                     Device("pci", "0000:00:05.0", None, "8086", "10d3")))  # unbound: no driver
    assert f.status is Status.FAIL
    assert f.message == ("1 PCI devices bound outside the allow-list: "
                         "0000:00:04.0 8086:5845 -> nvme")
    assert drv002(GuestEvidence()).status is Status.UNKNOWN  # no running system


def test_live_platform_devices_keep_and_other_live_rules() -> None:
    assert drv002(_live(MANA)).status is Status.FAIL
    assert drv002(_live(MANA, hypervisor=Hypervisor.HYPERV)).status is Status.PASS
    assert drv002(_live(NVME, keep=frozenset({"BLK_DEV_NVME"}))).status is Status.PASS
    covered = (Device("pci", "0000:00:03.0", "e1000e", "8086", "10d3", klass="020000"),
               Device("pci", "0000:00:1d.0", "xhci_hcd", "1b36", "000d", klass="0c0330"),
               Device("pci", "0000:00:01.0", "bochs-drm", "1234", "1111", klass="030000"))
    assert drv002(_live(*covered)).status is Status.PASS  # CCS-LIVE-006/013/016 report them
