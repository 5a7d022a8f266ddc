"""End-to-end verification of the real TDX vectors at their PROVENANCE times, and rejection of
tampered quotes, certificates and collateral."""

from __future__ import annotations

import pytest

from cocoscope.attest.tdx.policy import TdxPolicy
from cocoscope.attest.tdx.quote import QuoteEvidence, parse_quote
from cocoscope.attest.tdx.verify import (
    TdxTrust,
    verify,
    verify_file,
)
from tests.attest.tdx.tdx_quote_vectors import (
    ALL_QUOTES,
    GTG_TIME,
    Q4,
    Q6,
    SPR_E4,
    TRUSTEE_TIME,
    V5_SAMPLE,
    V5_TIME,
    VALID_AT,
    forged_quote,
    gtg_v4_collateral,
    gtg_v5_collateral,
    trustee_collateral,
    trustee_collateral_current,
    utc,
)

OFFLINE = TdxPolicy(accepted_tcb=("Unknown",), allow_debug=True)
SIG_CHECKS = {"quote.signature", "qe_report.signature", "qe_report.binding", "pck.chain.root",
              "pck.chain.names", "pck.chain.signatures", "pck.chain.validity", "quote.qe_vendor"}


def failed_names(v):
    return {c.name for c in v.failed}


@pytest.mark.parametrize("path", ALL_QUOTES, ids=lambda p: p.name)
def test_signatures_and_chain_verify_at_valid_time(path):
    v = verify_file(str(path), policy=OFFLINE, time=VALID_AT[path])
    assert v.ok, [(c.name, c.detail) for c in v.failed]
    assert {c.name for c in v.checks} >= SIG_CHECKS
    assert v.facts["tcb_status"] == "Unknown"


@pytest.mark.parametrize("path", ALL_QUOTES, ids=lambda p: p.name)
def test_default_policy_without_collateral_fails_on_unknown_tcb(path):
    v = verify_file(str(path), time=VALID_AT[path])
    assert "policy.tcb_status" in failed_names(v) and not v.ok


def test_debug_td_fails_default_policy():
    v = verify_file(str(Q4), policy=TdxPolicy(accepted_tcb=('Unknown',)), time=VALID_AT[Q4])
    assert failed_names(v) == {"policy.debug"}


def test_spr_e4_expired_at_2053():
    v = verify_file(str(SPR_E4), policy=OFFLINE, time=utc('2053-07-01T00:00:00'))
    assert failed_names(v) == {"pck.chain.validity"}
    assert "2029-09-20" in next(c.detail for c in v.failed)


def test_spr_e4_with_v4_collateral(tmp_path):
    # PROVENANCE: TCB evaluation finds no matching level (go-tdx-guest zeroes SVNs to pass).
    v = verify_file(str(SPR_E4), str(gtg_v4_collateral(tmp_path)), time=GTG_TIME)
    assert v.facts["tcb_status"] == "TcbNotSupported"
    assert v.facts["qe_tcb_status"] is None or v.facts["qe_tcb_status"] == "UpToDate"
    assert failed_names(v) == {"policy.tcb_status"}
    names = {c.name for c in v.checks if c.passed}
    assert {"collateral.tcb_info.signature", "collateral.qe_identity.signature",
            "collateral.signing_chain.signatures", "pck.crl.root", "pck.crl.pck",
            "qe_report.identity", "tdx_module.identity", "collateral.tcb_info.window"} <= names


def test_v5_sample_up_to_date(tmp_path):
    v = verify_file(str(V5_SAMPLE), str(gtg_v5_collateral(tmp_path)), time=V5_TIME)
    assert v.facts["tcb_status"] == "UpToDate"
    assert v.facts["tdx_module"] == "TDX_01"
    # The stored TCB Signing certificate expired 2025-05-21 (Intel re-issued it with the same
    # key), and no v5-era QE Identity is stored: both are reported, never waved through.
    assert failed_names(v) == {"collateral.signing_chain.validity", "collateral.qe_identity"}
    assert next(c for c in v.checks if c.name == "collateral.tcb_info.signature").passed


def test_trustee_quote_6_out_of_date_as_qvl(tmp_path):
    v = verify_file(str(Q6), str(trustee_collateral(tmp_path)), time=TRUSTEE_TIME)
    # Intel QVL: OutOfDate (platform TDX level); go-tdx-guest would say UpToDate (module only).
    assert v.facts["tcb_status"] == "OutOfDate"
    assert v.facts["tdx_module"] == "TDX_03"
    assert failed_names(v) == {"collateral.signing_chain.validity", "policy.tcb_status"}
    ok = verify_file(str(Q6), str(trustee_collateral(tmp_path)), TdxPolicy(accepted_tcb=('OutOfDate',)), TRUSTEE_TIME)
    assert failed_names(ok) == {"collateral.signing_chain.validity"}


def test_trustee_quote_6_full_collateral_pass_with_reissued_signing_cert(tmp_path):
    d = trustee_collateral_current(tmp_path)
    v = verify_file(str(Q6), str(d), time=TRUSTEE_TIME)
    assert v.facts["tcb_status"] == "OutOfDate" and v.facts["qe_tcb_status"] == "UpToDate"
    assert failed_names(v) == {"policy.tcb_status"}  # only the policy: UpToDate required
    ok = verify_file(str(Q6), str(d), TdxPolicy(accepted_tcb=('OutOfDate',)), TRUSTEE_TIME)
    assert ok.ok
    assert {"collateral.signing_chain.validity", "collateral.tcb_info.signature",
            "collateral.qe_identity.signature", "qe_report.identity",
            "tdx_module.identity"} <= {c.name for c in ok.checks if c.passed}


def test_v5_sample_with_reissued_signing_cert(tmp_path):
    from tests.attest.tdx.tdx_quote_vectors import GTG, REISSUED_CHAIN, collateral_dir

    d = collateral_dir(tmp_path, GTG / "sample_tcbinfo_response_v5", REISSUED_CHAIN)
    v = verify_file(str(V5_SAMPLE), str(d), time=V5_TIME)
    assert v.facts["tcb_status"] == "UpToDate"
    assert failed_names(v) == {"collateral.qe_identity"}  # no v5-era QE Identity is stored


def test_trustee_collateral_outside_window(tmp_path):
    v = verify_file(str(Q6), str(trustee_collateral(tmp_path)), time=utc('2025-12-15T00:00:00'))
    assert {"collateral.tcb_info.window", "collateral.qe_identity.window"} <= failed_names(v)


def test_collateral_for_another_fmspc(tmp_path):
    v = verify_file(str(Q6), str(gtg_v4_collateral(tmp_path)), time=TRUSTEE_TIME)
    assert "collateral.tcb_info" in failed_names(v)
    assert v.facts["tcb_status"] == "Unknown"


def test_root_with_same_name_other_key_fails():
    q = parse_quote(forged_quote(SPR_E4.read_bytes()))
    v = verify(QuoteEvidence("<quote>", q), TdxTrust(), OFFLINE, GTG_TIME)
    assert failed_names(v) == {"pck.chain.root"}  # every signature in it is valid


# --- single-byte flips ----------------------------------------------------------------


def _verify_bytes(data, at, policy=OFFLINE, collateral=None):
    from cocoscope.errors import InputError

    try:
        q = parse_quote(data)
    except InputError:
        return None  # rejected as malformed
    return verify(QuoteEvidence("<quote>", q), TdxTrust(collateral), policy, at)


def _offsets(start, end, step):
    return sorted({*range(start, end, step), end - 1})


@pytest.mark.parametrize("path", [SPR_E4, V5_SAMPLE], ids=lambda p: p.name)
def test_flips_in_signed_regions_rejected(path):
    raw = path.read_bytes()
    q = parse_quote(raw)
    sd = len(q.signed_bytes) + 4
    regions = {
        "header+body": (0, len(q.signed_bytes), 5),
        "quote signature": (sd, sd + 64, 3),
        "attestation key": (sd + 64, sd + 128, 3),
        "qe report": (sd + 134, sd + 134 + 384, 7),
        "qe report signature": (sd + 518, sd + 582, 3),
        "qe auth data": (sd + 584, sd + 616, 2),
    }
    for region, (start, end, step) in regions.items():
        for off in _offsets(start, end, step):
            tampered = bytearray(raw)
            tampered[off] ^= 0x01
            v = _verify_bytes(bytes(tampered), VALID_AT[path])
            assert v is None or not v.ok, f"{region} flip at {off:#x} accepted"


def test_flips_in_every_certificate_rejected():
    import base64
    import re

    raw = SPR_E4.read_bytes()
    blocks = list(re.finditer(rb"-----BEGIN CERTIFICATE-----\n(.+?)-----END", raw, re.S))
    assert len(blocks) == 3
    for block in blocks:
        der = base64.b64decode(block.group(1))
        for off in _offsets(0, len(der), 11):
            bad = bytearray(der)
            bad[off] ^= 0x01
            b64 = base64.b64encode(bytes(bad))
            pem = b"\n".join(b64[i : i + 64] for i in range(0, len(b64), 64)) + b"\n"
            assert len(pem) == len(block.group(1))
            data = raw[: block.start(1)] + pem + raw[block.end(1) :]
            v = _verify_bytes(data, GTG_TIME)
            assert v is None or not v.ok, f"cert flip at DER offset {off} accepted"


def test_flips_in_collateral_signed_bytes_and_signatures_rejected(tmp_path):
    from cocoscope.attest.tdx.collateral import load_collateral_dir

    d = trustee_collateral(tmp_path)
    for name in ("tcbInfo.json", "enclaveIdentity.json"):
        path = d / name
        original = path.read_bytes()
        check = "collateral.tcb_info.signature" if name == "tcbInfo.json" \
            else "collateral.qe_identity.signature"
        body_end = original.index(b',"signature"')
        sig_start = original.index(b'"signature":"') + len(b'"signature":"')
        offsets = [*_offsets(original.index(b":") + 1, body_end, 97), *range(sig_start, sig_start + 128, 9)]
        for off in offsets:
            bad = bytearray(original)
            # Change to another character of the same class so JSON and hex stay well-formed
            # (a case change of a hex digit in the signature would not change its value).
            c = chr(bad[off])
            if off >= sig_start or c in "0123456789abcdefABCDEF":
                bad[off] = ord("0123456789abcdef"[(int(c, 16) + 1) % 16]) if c in "0123456789abcdefABCDEF" else bad[off]
            elif c.isalpha():
                bad[off] = ord(c.swapcase())
            if bad == bytearray(original):
                continue
            path.write_bytes(bytes(bad))
            try:
                col = load_collateral_dir(str(d))
            except Exception as exc:  # malformed collateral must be an InputError
                from cocoscope.errors import InputError

                assert isinstance(exc, InputError)
                continue
            v = verify(QuoteEvidence("<quote>", parse_quote(Q6.read_bytes())), TdxTrust(col), TdxPolicy(accepted_tcb=None), TRUSTEE_TIME)
            assert check in failed_names(v), f"{name} flip at {off} accepted"
        path.write_bytes(original)
