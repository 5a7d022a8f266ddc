"""Reference values from the tool's own measurements (issue 8.3): measure -> policy -> verify.

No firmware image in the repository is the one the real reports and quotes were launched with,
so the round trip is shown in two halves on the real evidence: the policy that `measure` writes
for Debian's OVMF makes verification fail naming the field, and the same writer given the
evidence's own launch measurement (what `measure` prints for the right image) makes it pass.
The TDX event log half is complete: go-tdx-guest's CCEL log replays to its own quote.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from cocoscope.attest.reference import merge, to_toml, write_reference
from cocoscope.attest.snp.evidence import load_evidence as load_report
from cocoscope.attest.tdx.quote import load_evidence as load_quote
from cocoscope.cli import main
from cocoscope.errors import InputError
from tests.paths import ATTESTATION

SNP = ATTESTATION / "snp" / "virtee-sev"
REPORT, VCEK, SNP_TIME = SNP / "report_milan.hex", SNP / "vcek_milan.der", "2024-01-01T00:00:00Z"
CCEL = ATTESTATION / "tdx" / "go-tdx-guest" / "ccel"
QUOTE, LOG, TDX_TIME = CCEL / "cos-113-tdx-quote.dat", CCEL / "ccel_data.dat", "2025-01-01T00:00:00Z"
OTHER_LOG = ATTESTATION / "tdx" / "trustee" / "eventlog" / "CCEL_data"


def _verify_snp(policy: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict]:  # type: ignore[type-arg]
    code = main(["attest", "snp", "verify", str(REPORT), "--certs", str(VCEK), "--time",
                 SNP_TIME, "--policy", str(policy), "--format", "json"])
    return code, json.loads(capsys.readouterr().out)


def _verify_tdx(policy: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict]:  # type: ignore[type-arg]
    code = main(["attest", "tdx", "verify", str(QUOTE), "--time", TDX_TIME, "--accept-tcb",
                 "Unknown", "--policy", str(policy), "--format", "json"])
    return code, json.loads(capsys.readouterr().out)


def test_measure_snp_policy_out_fails_other_evidence_naming_the_field(
        tmp_path: Path, ovmf_fd: Path, capsys: pytest.CaptureFixture[str]) -> None:
    policy = tmp_path / "policy.toml"
    assert main(["measure", "snp", "--ovmf", str(ovmf_fd), "--vcpus", "2", "--vcpu-type",
                 "EPYC-v4", "--policy-out", str(policy)]) == 0
    digest = capsys.readouterr().out.strip()
    assert tomllib.loads(policy.read_text())["snp"]["measurement"] == [digest]
    code, doc = _verify_snp(policy, capsys)
    assert code == 4 and doc["failed"] == ["policy.measurement"]
    detail = next(c["detail"] for c in doc["checks"] if c["name"] == "policy.measurement")
    assert load_report(str(REPORT)).report.measurement.hex() in detail


def test_snp_reference_value_round_trip(tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text('[snp]\nvmpl = 0\n\n[tdx]\nallow_debug = false\n')
    assert _verify_snp(policy, capsys)[0] == 1  # authentic, not appraised
    write_reference(str(policy), "snp", {"measurement": bytes(48)})  # another accepted build
    assert _verify_snp(policy, capsys)[0] == 4
    write_reference(str(policy), "snp", {"measurement": load_report(str(REPORT)).report.measurement})
    doc = tomllib.loads(policy.read_text())
    assert len(doc["snp"]["measurement"]) == 2 and doc["snp"]["vmpl"] == 0
    assert doc["tdx"] == {"allow_debug": False}  # the rest of the file is kept
    code, out = _verify_snp(policy, capsys)
    assert code == 0 and out["verdict"] == "verified" and out["measurement_checked"]
    assert "policy.measurement" in out["reference_values"]["checked"]


def test_measure_tdx_and_eventlog_policy_out_round_trip(
        tmp_path: Path, ovmf_fd: Path, capsys: pytest.CaptureFixture[str]) -> None:
    policy = tmp_path / "policy.json"
    assert main(["measure", "tdx", "--ovmf", str(ovmf_fd), "--policy-out", str(policy)]) == 0
    debian_mrtd = capsys.readouterr().out.split()[-1]
    assert json.loads(policy.read_text()) == {"tdx": {"mrtd": [debian_mrtd]}}  # JSON stays JSON
    code, doc = _verify_tdx(policy, capsys)
    assert code == 4 and doc["failed"] == ["policy.mrtd"]

    # RTMRs from the known-good log of this boot, and the quote's own MRTD as a reference.
    assert main(["attest", "tdx", "eventlog", str(LOG), "--policy-out", str(policy),
                 "--format", "json"]) == 0
    capsys.readouterr()
    write_reference(str(policy), "tdx", {"mrtd": load_quote(str(QUOTE)).quote.body.mrtd})
    tdx = json.loads(policy.read_text())["tdx"]
    assert len(tdx["mrtd"]) == 2 and set(tdx) == {"mrtd", "rtmr0", "rtmr1", "rtmr2"}
    code, doc = _verify_tdx(policy, capsys)
    assert code == 0 and doc["verdict"] == "verified", doc["failed"]
    assert {"policy.mrtd", "policy.rtmr0", "policy.rtmr1", "policy.rtmr2"} <= set(
        doc["reference_values"]["checked"])
    assert doc["reference_values"]["not_checked"] == ["rtmr3", "mrconfigid", "mrowner",
                                                      "mrownerconfig", "report_data", "nonce"]

    # A log of another boot gives other RTMRs: verification fails naming them.
    assert main(["attest", "tdx", "eventlog", str(OTHER_LOG), "--policy-out",
                 str(policy), "--format", "json"]) in (0, 4)
    capsys.readouterr()
    code, doc = _verify_tdx(policy, capsys)
    assert code == 4 and {"policy.rtmr0", "policy.rtmr1"} <= set(doc["failed"])


def test_eventlog_policy_out_refused_when_log_does_not_replay_to_the_quote(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    policy = tmp_path / "p.toml"
    code = main(["attest", "tdx", "eventlog", str(OTHER_LOG), "--quote", str(QUOTE),
                 "--policy-out", str(policy)])
    assert code == 4 and not policy.exists()
    assert "no reference values written" in capsys.readouterr().err


def test_merge_rules() -> None:
    assert merge({}, "snp", {"measurement": "aa"}) == {"snp": {"measurement": ["aa"]}}
    flat = merge({"vmpl": 0}, "snp", {"measurement": "aa"})
    assert flat == {"vmpl": 0, "measurement": ["aa"]}  # a flat file stays flat
    again = merge({"snp": {"measurement": "aa"}}, "snp", {"measurement": "aa"})
    assert again == {"snp": {"measurement": ["aa"]}}  # no duplicate entries
    replaced = merge({"tdx": {"rtmr1": "aa"}}, "tdx", {"rtmr1": "bb"})
    assert replaced == {"tdx": {"rtmr1": "bb"}}
    text = to_toml({"snp": {"measurement": ["aa"], "min_tcb": {"bl": 3}}, "tdx": {"kl": True}})
    assert tomllib.loads(text) == {"snp": {"measurement": ["aa"], "min_tcb": {"bl": 3}},
                                   "tdx": {"kl": True}}


def test_policy_out_never_writes_a_policy_the_verifier_refuses(tmp_path: Path) -> None:
    flat_tdx = tmp_path / "p.toml"
    flat_tdx.write_text('mrtd = ["' + "ab" * 48 + '"]\n')
    before = flat_tdx.read_text()
    with pytest.raises(InputError, match="merged policy would not load: unknown key 'mrtd'"):
        write_reference(str(flat_tdx), "snp", {"measurement": bytes(48)})
    assert flat_tdx.read_text() == before
    broken = tmp_path / "b.json"
    broken.write_text('{"snp": {"vmpl": null}}')
    with pytest.raises(InputError, match="null"):
        write_reference(str(broken), "snp", {"measurement": bytes(48)})
