"""Integrity of the built-in rule packs: they load, ids are stable and well formed, every
threat and interface class of the model is covered, and every symbol and command-line
parameter a rule names exists in Linux 6.12 (Debian's linux-source-6.12) unless the rule says
why not in its version_note."""

from __future__ import annotations

import re
from collections import Counter
from functools import cache
from pathlib import Path

import pytest

from cocoscope.model import InterfaceId, ThreatId
from cocoscope.model.platform import Platform
from cocoscope.model.threatmodel import THREATS
from cocoscope.rules import load_builtin_rules
from cocoscope.rules.conditions import (
    CmdlineCondition,
    Condition,
    DeviceFeature,
    DevicePresent,
    DriverBound,
    LockdownIs,
)
from cocoscope.rules.fragment import build_fragment
from cocoscope.rules.rule import Rule

ID = re.compile(r"^CCS-(PLAT|KCFG|CMD|TIME|RNG|IRQ|DATA|MOD|LIVE|ATTEST|DRV)-[0-9]{3}$")
PACK_PREFIX = {  # which id prefixes each pack file may use
    "platform.toml": {"PLAT"},
    "virtio.toml": {"KCFG"},
    "legacy.toml": {"KCFG"},
    "pci.toml": {"KCFG"},
    "acpi.toml": {"KCFG"},
    "hypervisors.toml": {"KCFG"},
    "devices.toml": {"KCFG"},
    "hardening.toml": {"KCFG"},
    "modules.toml": {"MOD"},
    "cmdline.toml": {"CMD"},
    "time.toml": {"TIME"},
    "entropy.toml": {"RNG"},
    "interrupts.toml": {"IRQ"},
    "data.toml": {"DATA"},
    "live.toml": {"LIVE"},
    "attestation.toml": {"ATTEST"},
    "drivers.toml": {"DRV"},
}

# Symbols a rule may name although 6.12 lacks them; each such rule must explain it.
NOT_IN_612 = {
    "ACPI_CUSTOM_METHOD",  # removed upstream before 6.12
    "RANDOM_TRUST_CPU", "RANDOM_TRUST_BOOTLOADER",  # removed in 6.2
    "INTEL_TDX_KVM_SDV", "TDX_FUZZ", "TDX_FUZZ_KAFL",  # Intel out-of-tree guest trees only
}
# Parameters the kernel defines in source but does not list in kernel-parameters.txt.
IN_SOURCE_ONLY = {
    "nohpet": ("arch/x86/kernel/hpet.c", '__setup("nohpet"'),
    "notsc": ("arch/x86/kernel/tsc.c", '__setup("notsc"'),
    "rng_core.default_quality": ("drivers/char/hw_random/core.c", "module_param(default_quality"),
    "sysctl.kernel.panic_on_oops": ("kernel/sysctl.c", '"panic_on_oops"'),
    "virtio_pci.force_legacy": ("drivers/virtio/virtio_pci_common.c", "module_param(force_legacy"),
}
# Parameters of Intel's out-of-tree TDX guest kernels (the device filter).
OUT_OF_TREE_PARAMS = {"noccfilter", "tdx_disable_filter", "authorize_allow_devs", "tdx_allow_acpi"}

# The interface classes issue 2 lists for the model; each must have rules.
ISSUE_INTERFACES = set(InterfaceId)

_SYMBOL_DEF = re.compile(r"^\s*(?:menu)?config\s+([A-Za-z0-9_]+)\s*$", re.M)


@cache
def rules() -> tuple[Rule, ...]:
    return tuple(load_builtin_rules())


def _conditions(rule: Rule) -> list[Condition]:
    conds = [rule.pass_if] + ([rule.applies_if] if rule.applies_if is not None else [])
    return [leaf for c in conds for leaf in c.leaves()]


def _symbols(rule: Rule) -> set[str]:
    return {s for c in _conditions(rule) for s in c.config_symbols()}


def _params(rule: Rule) -> set[str]:
    return {c.name for c in _conditions(rule)
            if isinstance(c, CmdlineCondition)}


@pytest.fixture(scope="module")
def kconfig_symbols(linux_tree: Path) -> frozenset[str]:
    found: set[str] = set()
    for path in linux_tree.rglob("Kconfig*"):
        if "Documentation" in path.parts or not path.is_file():
            continue
        found.update(_SYMBOL_DEF.findall(path.read_text("utf-8", "replace")))
    assert len(found) > 15000, "the 6.12 tree should define well over 15000 symbols"
    return frozenset(found)


def test_at_least_80_rules_load() -> None:
    assert len(rules()) >= 80


def test_ids_unique_and_well_formed() -> None:
    ids = [r.id for r in rules()]
    assert not [i for i, n in Counter(ids).items() if n > 1]
    bad = [i for i in ids if not ID.match(i)]
    assert not bad


def test_each_pack_uses_its_own_prefix() -> None:
    for r in rules():
        pack = r.origin.rsplit("/", 1)[-1]
        assert pack in PACK_PREFIX, f"{r.id}: pack {pack} has no declared prefix"
        assert r.id.split("-")[1] in PACK_PREFIX[pack], f"{r.id} does not belong in {pack}"


def test_every_rule_is_explained() -> None:
    for r in rules():
        assert r.title.strip(), r.id
        assert len(r.rationale) >= 40, f"{r.id}: rationale too thin"
        assert r.remediation.strip(), f"{r.id}: no remediation"
        assert r.references, f"{r.id}: no references"


def test_mitigation_belongs_to_the_rules_threat() -> None:
    allowed = {t.id: {m.id for m in t.mitigations} for t in THREATS}
    for r in rules():
        if r.mitigation is not None:
            assert r.mitigation in allowed[r.threat], f"{r.id}: {r.mitigation} vs {r.threat}"


def test_platform_names_are_known() -> None:
    for r in rules():
        assert r.platforms is None or all(isinstance(p, Platform) for p in r.platforms), r.id


def test_every_threat_has_rules() -> None:
    by_threat = Counter(r.threat for r in rules())
    for t in ThreatId:
        assert by_threat[t] >= 3, f"threat {t} has {by_threat[t]} rules"


def test_every_interface_class_is_covered() -> None:
    covered = {r.interface for r in rules() if r.interface is not None}
    assert ISSUE_INTERFACES - covered == set()


def test_every_prefix_has_rules() -> None:
    prefixes = Counter(r.id.split("-")[1] for r in rules())
    for p in ("PLAT", "KCFG", "CMD", "TIME", "RNG", "IRQ", "DATA", "MOD", "LIVE"):
        assert prefixes[p] >= 3, p


def test_intel_recommended_cmdline_checked_item_by_item() -> None:
    """mce=off oops=panic pci=noearly pci=nommconf no-kvmclock random.trust_cpu=y
    random.trust_bootloader=n: each item has a rule of its own naming it in the title."""
    intel = [r for r in rules() if r.title.startswith("Intel recommended:")]
    items = ["mce=off", "oops=panic", "pci=noearly", "pci=nommconf", "no-kvmclock",
             "random.trust_cpu=y", "random.trust_bootloader=n"]
    for item in items:
        assert [r.id for r in intel if f"({item})" in r.title], item
    assert len(intel) == len(items)


def test_host_shared_file_systems_have_a_data_and_an_input_rule() -> None:
    for sym in ("VIRTIO_FS", "NET_9P_VIRTIO", "9P_FS"):
        threats = {r.threat for r in rules() if sym in _symbols(r)}
        if sym == "9P_FS":
            assert ThreatId.GUEST_DATA_ATTACKS in threats
        elif sym == "NET_9P_VIRTIO":
            assert ThreatId.MALFORMED_RUNTIME_INPUT in threats
        else:
            assert {ThreatId.GUEST_DATA_ATTACKS, ThreatId.MALFORMED_RUNTIME_INPUT} <= threats


def test_live_rules_need_live_evidence_only() -> None:
    for r in rules():
        if r.id.startswith("CCS-LIVE-"):
            assert any(isinstance(c, DevicePresent | DeviceFeature | DriverBound | LockdownIs)
                       for c in _conditions(r)), r.id


def test_symbols_exist_in_612_or_are_explained(kconfig_symbols: frozenset[str]) -> None:
    for r in rules():
        for sym in _symbols(r) | set(r.fix.config):
            if sym in kconfig_symbols:
                continue
            assert sym in NOT_IN_612, f"{r.id}: CONFIG_{sym} is not defined in 6.12"
            assert r.version_note, f"{r.id}: names CONFIG_{sym} (absent in 6.12) without a note"
            assert sym not in r.fix.config, f"{r.id}: fix sets CONFIG_{sym}, absent in 6.12"
    # and the exceptions are really absent, so the list cannot rot silently
    assert NOT_IN_612.isdisjoint(kconfig_symbols)


def test_cmdline_parameters_exist_in_612_or_are_explained(linux_tree: Path) -> None:
    doc = (linux_tree / "Documentation/admin-guide/kernel-parameters.txt").read_text("utf-8")
    documented = set(re.findall(r"^\t([A-Za-z0-9_.\-]+)(?:=|\s|\[|$)", doc, re.M))
    for r in rules():
        for name in _params(r):
            if name in documented:
                continue
            if name in IN_SOURCE_ONLY:
                path, needle = IN_SOURCE_ONLY[name]
                assert needle in (linux_tree / path).read_text("utf-8"), name
                continue
            assert name in OUT_OF_TREE_PARAMS, f"{r.id}: {name}= is not a 6.12 parameter"
            assert "out-of-tree" in r.version_note, f"{r.id}: {name}= needs a version_note"


def test_fix_values_are_literals() -> None:
    for r in rules():
        for sym, val in r.fix.config.items():
            assert val in ("y", "m", "n") or re.fullmatch(r"-?[0-9]+|0x[0-9a-fA-F]+", val), \
                f"{r.id}: CONFIG_{sym}={val!r}"


@pytest.mark.parametrize("platform", [Platform.TDX, Platform.SNP])
def test_fragment_builds_without_clashes(platform: Platform) -> None:
    frag = build_fragment(list(rules()), platform)
    assert frag.config["VIRTIO_MMIO"][0] == "n"
    assert frag.config["VIRTIO_PCI_LEGACY"][0] == "n"
    assert "no-kvmclock" in frag.cmdline_text().split()
    if platform == "tdx":
        assert frag.config["INTEL_TDX_GUEST"][0] == "y"
        assert "mce=off" in frag.cmdline_text().split()
    else:
        assert frag.config["AMD_MEM_ENCRYPT"][0] == "y"
        assert "INTEL_TDX_GUEST" not in frag.config
