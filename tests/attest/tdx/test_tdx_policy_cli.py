"""TDX policy (file and flags) and the `attest tdx show|verify` commands with their exit codes."""

from __future__ import annotations

import dataclasses
import json
import pathlib
import re

import pytest

from cocoscope.attest.policy import load_policy
from cocoscope.attest.tdx.policy import TdxPolicy, appraise
from cocoscope.attest.tdx.quote import parse_quote
from cocoscope.cli import main
from cocoscope.errors import InputError
from tests.attest.tdx.tdx_quote_vectors import (
    COS,
    Q4,
    Q6,
    SPR_E4,
    TRUSTEE_TIME,
    VALID_AT,
    trustee_collateral,
)

BODY = parse_quote(SPR_E4.read_bytes()).body


def names(checks, status="fail"):
    return {c.name for c in checks if c.status.value == status}


def test_default_policy_checks_only_debug_and_tcb():
    checks = appraise(TdxPolicy(), BODY, "UpToDate")
    assert {c.name for c in checks} == {"policy.debug", "policy.tcb_status"}
    assert all(c.passed for c in checks)


def test_every_field_pass_and_fail():
    b = BODY
    good = TdxPolicy(mrtd=(b.mrtd,), rtmr0=b.rtmrs[0], rtmr1=b.rtmrs[1], rtmr2=b.rtmrs[2],
                     rtmr3=b.rtmrs[3], mrconfigid=b.mrconfigid, mrowner=b.mrowner,
                     mrownerconfig=b.mrownerconfig, report_data=b.report_data,
                     nonce=b.report_data[:8], sept_ve_disable=False, pks=True, kl=False,
                     perfmon=False, xfam=(b.xfam,), min_tee_tcb_svn=b.tee_tcb_svn,
                     accepted_tcb=("UpToDate",), mrseam=(b.mrseam,))
    checks = appraise(good, b, "UpToDate")
    assert len(checks) == 19 and all(c.passed for c in checks)
    flip = bytes(48)
    bad = TdxPolicy(mrtd=(flip,), rtmr0=flip, rtmr1=flip, rtmr2=flip, rtmr3=b"\x01" * 48,
                    mrconfigid=b"\x01" * 48, mrowner=b"\x01" * 48, mrownerconfig=b"\x01" * 48,
                    report_data=bytes(64), nonce=b"\x00", allow_debug=False, sept_ve_disable=True,
                    pks=False, kl=True, perfmon=True, xfam=(0x3,),
                    min_tee_tcb_svn=bytes([9]) + bytes(15), accepted_tcb=("UpToDate",),
                    mrseam=(flip,))
    debug_td = dataclasses.replace(b, td_attributes=b.td_attributes | 1)  # allow_debug=False fails it
    assert names(appraise(bad, debug_td, "OutOfDate")) == {c.name for c in checks}


def test_min_tee_tcb_svn_wrong_length_fails_closed():
    (c,) = [c for c in appraise(TdxPolicy(min_tee_tcb_svn=b"\x01"), BODY, "UpToDate")
            if c.name == "policy.min_tee_tcb_svn"]
    assert not c.passed


def test_policy_file_toml_with_tdx_table(tmp_path):
    p = tmp_path / "p.toml"
    p.write_text(f'[tdx]\nmrtd = ["{BODY.mrtd.hex()}"]\naccepted_tcb = ["UpToDate", "Unknown"]\n'
                 f'xfam = [{BODY.xfam}]\nallow_debug = false\n')
    pol = load_policy(TdxPolicy, str(p))
    assert pol.mrtd == (BODY.mrtd,) and pol.accepted_tcb == ("UpToDate", "Unknown")
    p.write_text("[tdx]\nmrdt = 'aa'\n")
    with pytest.raises(InputError, match="mrdt"):
        load_policy(TdxPolicy, str(p))


def _run(capsys, *argv):
    code = main(["attest", "tdx", *argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_cli_verify_offline_ok(capsys):
    args = ["verify", str(COS), "--time", "2025-01-01T00:00:00Z", "--accept-tcb", "Unknown",
            "--nonce", (COS.parent / "nonce.dat").read_bytes().hex()]
    code, out, _ = _run(capsys, *args)
    # One renderer for SNP and TDX: the verdict on the first line, each check as STATUS name.
    # No reference MRTD: authentic, but not the unqualified VERIFIED (exit 1).
    assert code == 1 and out.splitlines()[0].endswith(": AUTHENTIC, NOT APPRAISED")
    assert re.search(r"^  PASS +policy\.nonce ", out, re.M)
    assert "not checked (no reference value): mrtd, rtmr0" in out
    mrtd = parse_quote(COS.read_bytes()).body.mrtd.hex()
    code, out, _ = _run(capsys, *args, "--mrtd", mrtd)
    assert code == 0 and out.splitlines()[0].endswith(": VERIFIED")
    assert "reference values checked: mrtd, nonce, debug" in out


def test_cli_verify_debug_td_exit_4_names_check(capsys):
    code, out, err = _run(capsys, "verify", str(Q4), "--time", "2025-01-01T00:00:00Z",
                          "--accept-tcb", "Unknown")
    assert code == 4 and out.splitlines()[0].endswith(": FAILED")
    assert "check(s) failed: policy.debug" in out and "policy.debug" in err
    code, _, _ = _run(capsys, "verify", str(Q4), "--time", "2025-01-01T00:00:00Z",
                      "--accept-tcb", "Unknown", "--allow-debug")
    assert code == 1  # authentic; no reference MRTD given


def test_cli_verify_default_without_collateral_fails(capsys):
    code, out, _ = _run(capsys, "verify", str(SPR_E4), "--time", "2023-07-01T01:00:00Z")
    assert code == 4 and "policy.tcb_status" in out


def test_cli_verify_json_with_collateral(capsys, tmp_path):
    code, out, _ = _run(capsys, "verify", str(Q6), "--collateral-dir", str(trustee_collateral(tmp_path)),
                        "--time", TRUSTEE_TIME.isoformat(), "--format", "json")
    doc = json.loads(out)
    assert code == 4 and doc["ok"] is False and doc["facts"]["tcb_status"] == "OutOfDate"
    assert {c["name"] for c in doc["checks"] if c["status"] == "fail"} == {
        "collateral.signing_chain.validity", "policy.tcb_status"}


def test_cli_flags_mismatch(capsys):
    code, out, _ = _run(capsys, "verify", str(SPR_E4), "--time", "2023-07-01T01:00:00Z",
                        "--accept-tcb", "Unknown", "--mrtd", "00" * 48, "--rtmr3", "11" * 48)
    assert code == 4 and "policy.mrtd" in out and "policy.rtmr3" in out


@pytest.mark.parametrize(("argv", "code"), [
    (["verify", "/nonexistent.dat"], 3),
    (["verify", str(SPR_E4), "--time", "yesterday"], 2),
    (["verify", str(SPR_E4), "--mrtd", "zz"], 3),
    (["verify", str(SPR_E4), "--collateral-dir", "/nonexistent-dir"], 3),
    (["show", "/nonexistent.dat"], 3),
])
def test_cli_errors_have_exit_codes(capsys, argv, code):
    got, out, err = _run(capsys, *argv)
    assert got == code and out == "" and "error" in err and "Traceback" not in err


def test_cli_show_text_and_truncated(capsys, tmp_path):
    code, out, _ = _run(capsys, "show", str(SPR_E4))
    assert code == 0 and "rtmrs[0]: 2927da70" in out and "trailing_bytes: 39" in out
    t = tmp_path / "t.dat"
    t.write_bytes(SPR_E4.read_bytes()[:700])
    code, out, err = _run(capsys, "show", str(t))
    assert code == 3 and str(t) in err and "offset" in err


def test_valid_at_table_is_consistent():
    assert set(VALID_AT) >= {SPR_E4, Q4, Q6, COS}


def test_misspelt_tcb_status_fails_closed(capsys):
    with pytest.raises(InputError, match="key 'accepted_tcb': unknown status 'uptodate'"):
        TdxPolicy(accepted_tcb=("uptodate",))
    code, _, err = _run(capsys, "verify", str(SPR_E4), "--accept-tcb", "UpToDate,Outofdate")
    assert code == 2 and "Outofdate" in err


@pytest.mark.parametrize("status", ["TcbInfoInvalid", "QeIdentityInvalid", "TdxModuleMismatch",
                                    "TcbNotSupported", "UnrecognizedStatus"])
def test_policy_cannot_accept_an_evaluation_failure(status: str, tmp_path: pathlib.Path) -> None:
    # These say the collateral could not be evaluated; accepting them would pass invalid
    # collateral. A platform TCB level (OutOfDate, Revoked, Unknown) stays the owner's choice.
    p = tmp_path / "policy.toml"
    p.write_text(f'[tdx]\naccepted_tcb = ["UpToDate", "{status}"]\n')
    with pytest.raises(InputError, match="evaluation failure, never acceptable"):
        load_policy(TdxPolicy, str(p))
