"""The rule engine on rules written here (the built-in packs have their own tests)."""

import datetime as dt
from pathlib import Path

import pytest

from cocoscope.errors import InputError
from cocoscope.evidence.cmdline import parse_cmdline
from cocoscope.evidence.dotconfig import parse_config_text
from cocoscope.evidence.guest import GuestEvidence
from cocoscope.evidence.system import Device, PlatformDetection, RunningSystem
from cocoscope.finding import LocationKind, Status
from cocoscope.model.platform import Platform
from cocoscope.rules import evaluate_rules, layer, load_waivers, parse_rules

RULES = '''
[[rule]]
id = "CCS-TEST-001"
title = "virtio-mmio off"
threat = "malformed-runtime-input"
interface = "mmio"
severity = "high"
pass_if = { symbol = "VIRTIO_MMIO", is = "off" }
[rule.fix]
config = { VIRTIO_MMIO = "n" }

[[rule]]
id = "CCS-TEST-002"
title = "trust cpu rng"
threat = "malicious-runtime-input"
severity = "medium"
pass_if = { cmdline = "random.trust_cpu", bool = true }

[[rule]]
id = "CCS-TEST-003"
title = "tdx only"
threat = "guest-malicious-configuration"
severity = "high"
platforms = ["tdx"]
pass_if = { symbol = "TDX_GUEST_DRIVER", is = ["y", "m"] }

[[rule]]
id = "CCS-TEST-004"
title = "no legacy NIC bound"
threat = "malformed-runtime-input"
severity = "low"
applies_if = { kernel = ">=6.0" }
pass_if = { not = { any = [ { driver = "e1000" }, { device = { bus = "pci", vendor = "0x10ec" } } ] } }

[[rule]]
id = "CCS-TEST-005"
title = "no serial console"
threat = "malformed-runtime-input"
severity = "low"
pass_if = { not = { cmdline = "console", any_matches = "^ttyS" } }
'''

CONFIG = """# Linux/x86 6.12.0 Kernel Configuration
CONFIG_VIRTIO_MMIO=m
# CONFIG_TDX_GUEST_DRIVER is not set
"""


def _status(findings, rid):  # type: ignore[no-untyped-def]
    return next(f for f in findings if f.rule_id == rid).status


def _system(drivers: list[str]) -> RunningSystem:
    devs = tuple(Device("pci", f"0000:00:0{i}.0", d, vendor="8086") for i, d in enumerate(drivers))
    return RunningSystem("/fake", "6.12.0", None, None, PlatformDetection(Platform.NONE, ()), devs)


def test_statuses_and_locations() -> None:
    rules = parse_rules(RULES, "t.toml")
    cfg = parse_config_text(CONFIG, "cfg")
    ev = GuestEvidence(config=cfg)
    f = evaluate_rules(rules, ev)
    assert _status(f, "CCS-TEST-001") is Status.FAIL
    loc = next(x for x in f if x.rule_id == "CCS-TEST-001").location
    assert loc is not None and loc.kind is LocationKind.CONFIG and loc.line == 2
    # No command line and no running system given: unknown, never pass.
    assert _status(f, "CCS-TEST-002") is Status.UNKNOWN
    assert _status(f, "CCS-TEST-004") is Status.UNKNOWN
    assert _status(f, "CCS-TEST-005") is Status.UNKNOWN
    # a TDX-only rule with no platform known: not applicable (the report says how to choose)
    assert _status(f, "CCS-TEST-003") is Status.NOT_APPLICABLE
    assert "--platform" in next(x for x in f if x.rule_id == "CCS-TEST-003").message
    assert _status(evaluate_rules(rules, GuestEvidence(config=cfg, platform=Platform.TDX)),
                   "CCS-TEST-003") is Status.FAIL
    assert _status(evaluate_rules(rules, GuestEvidence(config=cfg, platform=Platform.SNP)),
                   "CCS-TEST-003") is Status.NOT_APPLICABLE


def test_cmdline_and_live_conditions() -> None:
    rules = parse_rules(RULES, "t.toml")
    ev = GuestEvidence(cmdline=parse_cmdline("random.trust_cpu=on console=tty0 console=ttyS0"),
                       system=_system(["e1000"]))
    f = evaluate_rules(rules, ev)
    assert _status(f, "CCS-TEST-002") is Status.PASS
    assert _status(f, "CCS-TEST-005") is Status.FAIL
    assert _status(f, "CCS-TEST-004") is Status.FAIL
    assert _status(evaluate_rules(rules, GuestEvidence(system=_system(["virtio-pci"]))),
                   "CCS-TEST-004") is Status.PASS
    ev2 = GuestEvidence(cmdline=parse_cmdline("random.trust_cpu=on random.trust_cpu=off"))
    assert _status(evaluate_rules(rules, ev2), "CCS-TEST-002") is Status.FAIL  # last wins


def test_waivers(tmp_path: Path) -> None:
    rules = parse_rules(RULES, "t.toml")
    w = tmp_path / "w.toml"
    w.write_text('[[waiver]]\nid = "CCS-TEST-001"\nrationale = "needed for firecracker"\n'
                 'expires = 2027-01-31\n')
    waivers = load_waivers(str(w), {r.id for r in rules})
    ev = GuestEvidence(config=parse_config_text(CONFIG, "cfg"))
    f = evaluate_rules(rules, ev, waivers, today=dt.date(2026, 12, 1))
    finding = next(x for x in f if x.rule_id == "CCS-TEST-001")
    assert finding.status is Status.WAIVED and "firecracker" in finding.notes[0]
    f = evaluate_rules(rules, ev, waivers, today=dt.date(2027, 2, 1))
    assert _status(f, "CCS-TEST-001") is Status.FAIL
    w.write_text('[[waiver]]\nid = "CCS-NOPE-001"\nrationale = "x"\nexpires = 2027-01-31\n')
    with pytest.raises(InputError, match="unknown rule id"):
        load_waivers(str(w), {r.id for r in rules})


@pytest.mark.parametrize(
    "bad",
    [
        'id = "bad"\ntitle="t"\nthreat="malformed-runtime-input"\nseverity="low"\npass_if={symbol="X", is="on"}',
        'id = "CCS-X-001"\ntitle="t"\nthreat="nope"\nseverity="low"\npass_if={symbol="X", is="on"}',
        'id = "CCS-X-001"\ntitle="t"\nthreat="malformed-runtime-input"\nseverity="low"\npass_if={symbol="X", is="maybe"}',
        'id = "CCS-X-001"\ntitle="t"\nthreat="malformed-runtime-input"\nseverity="low"\npass_if={eval="1"}',
        'id = "CCS-X-001"\ntitle="t"\nthreat="malformed-runtime-input"\nseverity="low"',
    ],
)
def test_bad_rule_files(bad: str) -> None:
    with pytest.raises(InputError):
        parse_rules("[[rule]]\n" + bad, "user.toml")


def test_user_rules_layer() -> None:
    base = parse_rules(RULES, "builtin")
    user = parse_rules(RULES.replace('severity = "high"', 'severity = "low"', 1), "user.toml")
    merged = layer(base, user[:1])
    assert len(merged) == len(base)
    assert next(r for r in merged if r.id == "CCS-TEST-001").origin == "user.toml"


FIX_RULES = '''
[[rule]]
id = "CCS-FIX-001"
title = "a"
threat = "malformed-runtime-input"
severity = "low"
pass_if = { cmdline = "pci", any_matches = "noearly" }
[rule.fix]
cmdline = ["pci=noearly"]
config = { PCI_MMCONFIG = "n" }

[[rule]]
id = "CCS-FIX-002"
title = "b"
threat = "malformed-runtime-input"
severity = "low"
pass_if = { cmdline = "pci", any_matches = "nommconf" }
[rule.fix]
cmdline = ["pci=nommconf"]

[[rule]]
id = "CCS-FIX-003"
title = "c"
threat = "malformed-runtime-input"
severity = "low"
platforms = ["snp"]
pass_if = { cmdline = "mce", value_in = ["off"] }
[rule.fix]
cmdline = ["mce=off"]
config = { PCI_MMCONFIG = "y" }
'''


def test_fragment_merges_option_lists_and_refuses_clashes() -> None:
    from cocoscope.rules.fragment import build_fragment

    rules = parse_rules(FIX_RULES, "fix.toml")
    frag = build_fragment(rules, Platform.TDX)
    assert frag.cmdline_text() == "pci=noearly,nommconf"
    assert frag.cmdline["pci"][1] == "CCS-FIX-001,CCS-FIX-002"
    assert frag.kconfig_plain() == "# CONFIG_PCI_MMCONFIG is not set\n"
    with pytest.raises(InputError, match="CONFIG_PCI_MMCONFIG"):
        build_fragment(rules, Platform.SNP)


def test_load_rules_layers_user_files_and_checks_waivers(tmp_path: Path) -> None:
    from cocoscope.rules import load_builtin_rules, load_rules

    builtin = load_builtin_rules()
    first = builtin[0]
    user = tmp_path / "user.toml"
    user.write_text(RULES.replace('id = "CCS-TEST-001"', f'id = "{first.id}"'))
    waivers = tmp_path / "w.toml"
    waivers.write_text('[[waiver]]\nid = "CCS-TEST-002"\nrationale = "lab only"\n'
                       'expires = 2027-01-31\n')
    rs = load_rules([str(user)], str(waivers))
    by_id = {r.id: r for r in rs.rules}
    assert len(rs.rules) == len(builtin) + 4
    assert by_id[first.id].origin == str(user) and by_id[first.id].title == "virtio-mmio off"
    assert [r.id for r in rs.rules] == sorted(by_id)
    assert set(rs.waivers) == {"CCS-TEST-002"}
    assert load_rules().rules == builtin and load_rules().waivers == {}
    # A waiver may name a user rule only when that file is loaded.
    with pytest.raises(InputError, match="unknown rule id"):
        load_rules((), str(waivers))


ADVICE_RULES = '''
[[rule]]
id = "CCS-ADV-001"
title = "virtio-net built (keep only if used)"
threat = "malformed-runtime-input"
severity = "info"
advice = true
pass_if = { symbol = "VIRTIO_NET", is = "off" }

[[rule]]
id = "CCS-ADV-002"
title = "virtio-mmio off"
threat = "malformed-runtime-input"
severity = "high"
pass_if = { symbol = "VIRTIO_MMIO", is = "off" }
'''


def test_advice_is_shown_but_never_fails(tmp_path: Path) -> None:
    rules = parse_rules(ADVICE_RULES, "adv.toml")
    assert [r.advice for r in rules] == [True, False]
    on = parse_config_text("CONFIG_VIRTIO_NET=y\n# CONFIG_VIRTIO_MMIO is not set\n", "cfg")
    f = {x.rule_id: x for x in evaluate_rules(rules, GuestEvidence(config=on))}
    assert f["CCS-ADV-001"].status is Status.ADVICE
    assert f["CCS-ADV-001"].message == "review: CONFIG_VIRTIO_NET=y"
    assert f["CCS-ADV-002"].status is Status.PASS
    off = parse_config_text("# CONFIG_VIRTIO_NET is not set\n", "cfg")
    assert _status(evaluate_rules(rules, GuestEvidence(config=off)), "CCS-ADV-001") is Status.PASS
    assert _status(evaluate_rules(rules, GuestEvidence()), "CCS-ADV-001") is Status.UNKNOWN
    # A waiver only turns a failure into waived; advice stays advice.
    w = tmp_path / "w.toml"
    w.write_text('[[waiver]]\nid = "CCS-ADV-001"\nrationale = "the NIC is used"\n'
                 'expires = 2099-01-31\n')
    waived = evaluate_rules(rules, GuestEvidence(config=on), load_waivers(str(w), {"CCS-ADV-001"}))
    assert _status(waived, "CCS-ADV-001") is Status.ADVICE
    with pytest.raises(InputError, match="advice must be true or false"):
        parse_rules(ADVICE_RULES.replace("advice = true", 'advice = "yes"'), "adv.toml")


KEEP_RULES = '''
[[rule]]
id = "CCS-TEST-101"
title = "virtiofs off"
threat = "guest-data-attacks"
severity = "medium"
pass_if = { symbol = "VIRTIO_FS", is = "off" }

[[rule]]
id = "CCS-TEST-102"
title = "virtiofs and its DAX window off"
threat = "malformed-runtime-input"
severity = "medium"
pass_if = { all = [{ symbol = "VIRTIO_FS", is = "off" }, { symbol = "FUSE_DAX", is = "off" }] }
'''


@pytest.mark.parametrize(("dax", "expected"), [("n", Status.ADVICE), ("y", Status.FAIL)])
def test_kept_symbols_make_a_failure_accepted_advice(dax: str, expected: Status) -> None:
    from cocoscope.rules.keep import parse_keep

    rules = parse_rules(KEEP_RULES, "keep.toml")
    cfg = parse_config_text(
        f"# Linux/x86 6.12.0 Kernel Configuration\nCONFIG_VIRTIO_FS=y\nCONFIG_FUSE_DAX={dax}\n",
        "k.config")
    ev = GuestEvidence(config=cfg)
    plain = {f.rule_id: f for f in evaluate_rules(rules, ev)}
    assert plain["CCS-TEST-101"].status is plain["CCS-TEST-102"].status is Status.FAIL
    kept = {f.rule_id: f for f in evaluate_rules(rules, ev, keep=parse_keep(["kata"]))}
    # fails only for the kept VIRTIO_FS: accepted, with a note naming it
    assert kept["CCS-TEST-101"].status is Status.ADVICE
    assert any("(--keep kata): CONFIG_VIRTIO_FS" in n for n in kept["CCS-TEST-101"].notes)
    # also fails for FUSE_DAX, which nothing keeps: still a failure
    assert kept["CCS-TEST-102"].status is expected
    # keeping something else changes nothing
    other = {f.rule_id: f.status for f in evaluate_rules(rules, ev, keep=parse_keep(["tpm"]))}
    assert other == {"CCS-TEST-101": Status.FAIL, "CCS-TEST-102": Status.FAIL}


def test_keep_names_are_checked() -> None:
    from cocoscope.errors import UsageError
    from cocoscope.rules.keep import parse_keep

    assert parse_keep(["kata,CONFIG_FOO", " tpm "]).names == ("kata", "CONFIG_FOO", "tpm")
    assert "FOO" in parse_keep(["CONFIG_FOO"]).symbols
    assert {"HYPERV", "TCG_CRB"} <= parse_keep(["azure-cvm"]).symbols
    with pytest.raises(UsageError, match="nonsense"):
        parse_keep(["nonsense"])
