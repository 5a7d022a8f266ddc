"""`cocoscope audit --evidence` and `--cmdline-from-eventlog` on the real vectors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cocoscope.cli import main
from tests.paths import ATTESTATION

ATT = ATTESTATION
SNP = ATT / "snp"
TDX = ATT / "tdx"


def _attest_finding(doc: dict) -> dict:  # type: ignore[type-arg]
    row = doc["threats"][0]
    assert row["threat"] == "guest-malicious-configuration"
    return next(f for f in row["findings"] if f["rule_id"] == "CCS-ATTEST-001")


# The MEASUREMENT of virtee's report_milan.hex (PROVENANCE: 7a1e5c26...).
MILAN_MEASUREMENT = ("7a1e5c266c0108dbc9bb94fa926951320940915d0aafb42464bd88b579ea158d"
                     "3e1a0dc39b2c60bd95b9c480cd81841f")


def _audit_milan(capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    code = main(["audit", "--evidence", str(SNP / "virtee-sev" / "report_milan.hex"),
                 "--certs", str(SNP / "virtee-sev" / "vcek_milan.der"),
                 "--certs", str(SNP / "virtee-sev" / "cert_chain_milan"),
                 "--time", "2024-01-01T00:00:00Z", "--format", "json", *extra])
    return code, json.loads(capsys.readouterr().out)


def test_snp_report_verifies_into_the_matrix(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text(f'measurement = "{MILAN_MEASUREMENT}"\n')
    code, doc = _audit_milan(capsys, "--policy", str(policy))
    f = _attest_finding(doc)
    assert f["status"] == "pass" and f["location"]["kind"] == "evidence"
    assert "matched the reference value" in f["message"]
    assert "snp-report verified" in doc["threats"][0]["facts"]["attestation"]
    assert "remote-attestation" not in doc["threats"][0]["mitigations"]["missing"]
    assert code == 0


def test_authentic_report_without_reference_measurement_is_not_a_pass(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A valid signature shows the platform signed *something*: without a reference value the
    configuration row is not mitigated (issue 8.2), whatever else passed."""
    code, doc = _audit_milan(capsys)
    f = _attest_finding(doc)
    assert f["status"] == "unknown" and "not checked against a reference value" in f["message"]
    assert "not checked" in doc["threats"][0]["facts"]["attestation"]
    policy = tmp_path / "wrong.toml"
    policy.write_text(f'measurement = "{"00" * 48}"\n')
    code, doc = _audit_milan(capsys, "--policy", str(policy))
    f = _attest_finding(doc)
    assert code == 4 and f["status"] == "fail" and "policy.measurement" in f["message"]


def test_snp_debug_report_fails_default_policy(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["audit", "--evidence", str(SNP / "go-sev-guest" / "attestation.bin"),
                 "--certs", str(SNP / "go-sev-guest" / "vcek.testcer"),
                 "--certs", str(SNP / "go-sev-guest" / "milan.testcer"),
                 "--time", "2023-01-01T00:00:00Z", "--format", "json"])
    f = _attest_finding(json.loads(capsys.readouterr().out))
    assert code == 4 and f["status"] == "fail" and "debug" in f["message"]


@pytest.mark.parametrize(("quote", "expected"), [("go-tdx-guest/tdx_prod_quote_SPR_E4.dat", 0),
                                                 ("trustee/tdx_quote_4.dat", 4)])
def test_tdx_quote_offline(quote: str, expected: int, tmp_path: Path,
                           capsys: pytest.CaptureFixture[str]) -> None:
    from cocoscope.attest.tdx.quote import load_evidence

    mrtd = load_evidence(str(TDX / quote)).quote.body.mrtd.hex()  # the reference value
    policy = tmp_path / "policy.toml"
    policy.write_text(f'[tdx]\naccepted_tcb = ["Unknown"]\nmrtd = ["{mrtd}"]\n')
    code = main(["audit", "--evidence", str(TDX / quote), "--policy", str(policy),
                 "--time", "2024-06-01T00:00:00Z", "--format", "json"])
    f = _attest_finding(json.loads(capsys.readouterr().out))
    assert code == expected
    assert (f["status"] == "pass") is (expected == 0)
    if expected:
        assert "policy.debug" in f["message"]


def test_tdx_default_policy_needs_collateral(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["audit", "--evidence", str(TDX / "go-tdx-guest" / "tdx_prod_quote_SPR_E4.dat"),
                 "--time", "2024-06-01T00:00:00Z", "--format", "json"])
    f = _attest_finding(json.loads(capsys.readouterr().out))
    assert code == 4 and "Unknown" in f["message"]


def test_cmdline_from_eventlog_feeds_the_rules(capsys: pytest.CaptureFixture[str]) -> None:
    log = TDX / "trustee" / "eventlog" / "CCEL_data"
    main(["audit", "--cmdline-from-eventlog", str(log), "--format", "json", "--show", "all"])
    doc = json.loads(capsys.readouterr().out)
    assert doc["inputs"][0]["kind"] == "cmdline" and doc["inputs"][0]["path"] == str(log)
    consoles = [f for t in doc["threats"] for f in t["findings"]
                if "console=hvc0" in f["message"]]
    assert consoles, "the measured console=hvc0 reached the command-line rules"


def test_policy_without_evidence_is_usage_error(tmp_path: Path) -> None:
    p = tmp_path / "p.toml"
    p.write_text("")
    assert main(["audit", "--config", "x", "--policy", str(p)]) == 2


def test_garbage_evidence_is_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"\x00" * 100)
    assert main(["audit", "--evidence", str(junk)]) == 3
    assert str(junk) in capsys.readouterr().err


def _attest(doc: dict, rid: str) -> dict:  # type: ignore[type-arg]
    return next(f for f in doc["threats"][0]["findings"] if f["rule_id"] == rid)


def test_eventlog_cmdline_bound_to_quote(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from cocoscope.attest.tdx.quote import load_evidence

    gcp = TDX / "go-tdx-guest" / "ccel"
    mrtd = load_evidence(str(gcp / "cos-113-tdx-quote.dat")).quote.body.mrtd.hex()
    policy = tmp_path / "p.toml"
    policy.write_text(f'[tdx]\naccepted_tcb = ["Unknown"]\nmrtd = "{mrtd}"\n')
    code = main(["audit", "--cmdline-from-eventlog", str(gcp / "ccel_data.dat"),
                 "--evidence", str(gcp / "cos-113-tdx-quote.dat"), "--policy", str(policy),
                 "--time", "2025-01-01T00:00:00Z", "--format", "json", "--fail-on", "critical"])
    doc = json.loads(capsys.readouterr().out)
    assert _attest(doc, "CCS-ATTEST-002")["status"] == "pass"
    assert _attest(doc, "CCS-ATTEST-001")["status"] == "pass"
    assert code == 0
    # A log from another boot does not replay to this quote: verification failure.
    code = main(["audit", "--cmdline-from-eventlog", str(TDX / "trustee" / "eventlog" / "CCEL_data"),
                 "--evidence", str(gcp / "cos-113-tdx-quote.dat"), "--policy", str(policy),
                 "--time", "2025-01-01T00:00:00Z", "--format", "json"])
    doc = json.loads(capsys.readouterr().out)
    assert code == 4 and _attest(doc, "CCS-ATTEST-002")["status"] == "fail"


def test_eventlog_cmdline_without_quote_is_unbound(capsys: pytest.CaptureFixture[str]) -> None:
    main(["audit", "--cmdline-from-eventlog", str(TDX / "trustee" / "eventlog" / "CCEL_data"),
          "--format", "json"])
    f = _attest(json.loads(capsys.readouterr().out), "CCS-ATTEST-002")
    assert f["status"] == "unknown" and "not bound" in f["message"]


def test_attestation_rules_are_data() -> None:
    """CCS-ATTEST-001/002 come from a pack, so `rules list`, waivers and docs see them."""
    from cocoscope.rules import load_builtin_rules
    from cocoscope.rules.conditions import Attestation

    rules = {r.id: r for r in load_builtin_rules()}
    assert rules["CCS-ATTEST-001"].origin == "packs/attestation.toml"
    assert rules["CCS-ATTEST-001"].pass_if == Attestation("evidence-verified")
    assert rules["CCS-ATTEST-002"].applies_if == Attestation("cmdline-from-eventlog")
    assert rules["CCS-ATTEST-002"].pass_if == Attestation("eventlog-bound")


def test_attestation_condition_three_valued() -> None:
    from cocoscope.evidence.guest import AttestationOutcome, GuestEvidence
    from cocoscope.finding import LocationKind
    from cocoscope.rules.conditions import ConditionError, parse

    cond = parse({"attestation": "evidence-verified"})
    assert cond.evaluate(GuestEvidence()) is None  # not examined: unknown, never a pass
    assert cond.location(GuestEvidence()) is None
    for ok in (True, False, None):
        ev = GuestEvidence(attestation={"evidence-verified": AttestationOutcome(ok, "why", "q")})
        assert cond.evaluate(ev) is ok
        assert cond.describe(ev) == "why"
        loc = cond.location(ev)
        assert loc is not None and loc.path == "q" and loc.kind is LocationKind.EVIDENCE
    with pytest.raises(ConditionError, match="attestation"):
        parse({"attestation": "signed"})


def test_no_evidence_leaves_attest_001_unknown(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    main(["audit", "--cmdline", "console=hvc0", "--format", "json", "--show", "all"])
    doc = json.loads(capsys.readouterr().out)
    f = _attest(doc, "CCS-ATTEST-001")
    assert f["status"] == "unknown" and "no attestation evidence given" in f["message"]
    assert _attest(doc, "CCS-ATTEST-002")["status"] == "not-applicable"
    assert doc["threats"][0]["facts"]["attestation"] == "not checked (no --evidence given)"


def test_waiver_on_attest_rule_keeps_exit_4(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    """A waiver can close the finding, but a verification failure still exits 4."""
    w = tmp_path / "w.toml"
    w.write_text('[[waiver]]\nid = "CCS-ATTEST-001"\nrationale = "lab guest"\n'
                 'expires = 2999-12-31\n')
    code = main(["audit", "--evidence", str(SNP / "go-sev-guest" / "attestation.bin"),
                 "--certs", str(SNP / "go-sev-guest" / "vcek.testcer"),
                 "--certs", str(SNP / "go-sev-guest" / "milan.testcer"),
                 "--time", "2023-01-01T00:00:00Z", "--waivers", str(w), "--format", "json"])
    f = _attest_finding(json.loads(capsys.readouterr().out))
    assert code == 4 and f["status"] == "waived"


@pytest.mark.parametrize(("argv", "needle"), [
    (["--certs", "x.pem"], "--certs and --collateral-dir need --evidence"),
    (["--evidence", str(TDX / "trustee" / "tdx_quote_4.dat"), "--certs", "x"], "--certs is for SNP"),
    (["--evidence", str(SNP / "virtee-sev" / "report_milan.hex"), "--collateral-dir", "."],
     "--collateral-dir is for TDX"),
])
def test_trust_inputs_must_match_the_evidence(argv: list[str], needle: str,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", *argv]) == 2
    assert needle in capsys.readouterr().err
