"""Collateral loading: exact signed bytes, classification by content, malformed input, fuzzing."""

from __future__ import annotations

import contextlib
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cocoscope.attest.tdx import pck
from cocoscope.attest.tdx.collateral import (
    load_collateral_dir,
    parse_qe_identity,
    parse_tcb_info,
    signature_valid,
)
from cocoscope.attest.tdx.policy import TdxPolicy
from cocoscope.attest.tdx.quote import QuoteEvidence, parse_quote
from cocoscope.attest.tdx.verify import TdxTrust, verify
from cocoscope.errors import InputError
from tests.attest.tdx.tdx_quote_vectors import GTG, GTG_TIME, SPR_E4, TRU, gtg_v4_collateral

SIGNER = pck.load_pem_chain((GTG / "tcbInfoIssuerChain.pem").read_bytes(), source="chain")[0]


@pytest.mark.parametrize("path", [GTG / "sample_tcbInfo_response", GTG / "sample_tcbinfo_response_v5",
                                  TRU / "tcbInfo.json"], ids=lambda p: p.name)
def test_tcb_info_signatures_verify_over_exact_member(path):
    info = parse_tcb_info(path.read_bytes(), source=str(path))
    assert info.signed.body.startswith(b'{"id":"TDX"') and info.signed.body.endswith(b"}")
    assert signature_valid(info.signed.body, info.signed.signature, SIGNER)
    assert info.id == "TDX" and info.version == 3


@pytest.mark.parametrize("path", [GTG / "sample_qeIdentity_response", TRU / "enclaveIdentity.json"],
                         ids=lambda p: p.name)
def test_qe_identity_signatures_verify(path):
    qe = parse_qe_identity(path.read_bytes(), source=str(path))
    assert qe.id == "TD_QE" and qe.isvprodid == 2
    assert signature_valid(qe.signed.body, qe.signed.signature, SIGNER)


def test_reformatted_json_no_longer_verifies():
    # Re-serialising the parsed member (what some libraries do) changes the signed bytes.
    raw = (TRU / "tcbInfo.json").read_bytes()
    doc = json.loads(raw)
    pretty = json.dumps(doc, indent=1).encode()
    info = parse_tcb_info(pretty, source="pretty")
    assert not signature_valid(info.signed.body, info.signed.signature, SIGNER)


def test_whitespace_around_member_is_tolerated_and_exact():
    raw = (TRU / "tcbInfo.json").read_bytes()
    spaced = raw.replace(b'{"tcbInfo":', b'{ "tcbInfo" :  ', 1).replace(b',"signature"', b' , "signature"', 1)
    info = parse_tcb_info(spaced, source="spaced")
    assert signature_valid(info.signed.body, info.signed.signature, SIGNER)


def test_duplicate_member_rejected():
    raw = (TRU / "tcbInfo.json").read_bytes()
    doc = json.loads(raw)
    dup = b'{"tcbInfo":' + json.dumps(doc["tcbInfo"]).encode() + b"," + raw[1:]
    with pytest.raises(InputError, match="duplicate"):
        parse_tcb_info(dup, source="dup")


@pytest.mark.parametrize(("edit", "message"), [
    (lambda d: d.pop("signature"), "signature"),
    (lambda d: d.__setitem__("signature", "abcd"), "signature"),
    (lambda d: d["tcbInfo"].pop("fmspc"), "fmspc"),
    (lambda d: d["tcbInfo"].__setitem__("issueDate", "soon"), "issueDate"),
    (lambda d: d["tcbInfo"]["tcbLevels"][0]["tcb"]["sgxtcbcomponents"].pop(), "16 components"),
    (lambda d: d["tcbInfo"]["tcbLevels"][0]["tcb"].__setitem__("pcesvn", "1"), "pcesvn"),
])
def test_malformed_tcb_info_names_the_field(edit, message):
    doc = json.loads((TRU / "tcbInfo.json").read_bytes())
    edit(doc)
    with pytest.raises(InputError, match=message):
        parse_tcb_info(json.dumps(doc).encode(), source="bad.json")


def test_directory_classification():
    col = load_collateral_dir(str(GTG))
    assert {t.fmspc.hex() for t in col.tcb_infos} == {"50806f000000", "90c06f000000"}
    assert col.qe_identity is not None and col.signing_chain is not None
    assert col.root_crl is not None and len(col.pck_crls) == 1


def test_missing_pieces_fail_closed(tmp_path):
    d = tmp_path / "empty"
    d.mkdir()
    v = verify(QuoteEvidence("<quote>", parse_quote(SPR_E4.read_bytes())), TdxTrust(load_collateral_dir(str(d))), TdxPolicy(), GTG_TIME)
    failed = {c.name for c in v.failed}
    assert {"collateral.signing_chain", "collateral.qe_identity", "collateral.tcb_info"} <= failed


def test_revoked_intermediate_and_expired_crl(tmp_path):
    d = gtg_v4_collateral(tmp_path)
    v = verify(QuoteEvidence("<quote>", parse_quote(SPR_E4.read_bytes())), TdxTrust(load_collateral_dir(str(d))), TdxPolicy(), GTG_TIME.replace(year=2024, month=6))
    crl = {c.name: c for c in v.checks}
    assert not crl["pck.crl.pck"].passed and "expired" in crl["pck.crl.pck"].detail


def test_crl_from_wrong_issuer_fails(tmp_path):
    q = parse_quote(SPR_E4.read_bytes())
    certs = pck.load_pem_chain(q.signature.pck_chain_pem, source="q")
    root_crl = pck.load_crl((GTG / "rootcrl.der").read_bytes(), source="rootcrl")
    # The Root CA CRL presented as if it were the PCK CA's CRL.
    c = pck.check_crl("pck.crl.pck", root_crl, certs[1], certs[0], GTG_TIME)
    assert not c.passed and "issuer" in c.detail


_TCB = (TRU / "tcbInfo.json").read_bytes()


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, len(_TCB) - 1), st.integers(0, 255)), max_size=4))
def test_fuzz_tcb_info(edits):
    data = bytearray(_TCB)
    for off, val in edits:
        data[off] = val
    with contextlib.suppress(InputError):
        parse_tcb_info(bytes(data), source="fuzz")


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=512))
def test_fuzz_qe_identity_and_crl(data):
    with contextlib.suppress(InputError):
        parse_qe_identity(b'{"enclaveIdentity":' + data, source="fuzz")
    with contextlib.suppress(InputError):
        pck.load_crl(b"\x30" + data, source="fuzz")
    with contextlib.suppress(InputError):
        pck.load_pem_chain(b"-----BEGIN CERTIFICATE-----\n" + data + b"\n-----END CERTIFICATE-----",
                           source="fuzz")


_QUOTE = SPR_E4.read_bytes()
_SD = 0x27C  # signature data of a v4 quote
# Bytes whose change must be detected: quote signature and attestation key, then QE report,
# its signature, auth-data size and auth data. (The certification-data size fields are not
# covered by any signature in the format; a change that still parses is harmless.)
_PROTECTED = {*range(_SD, _SD + 128), *range(_SD + 134, _SD + 134 + 384 + 64 + 2 + 32)}


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.integers(0, len(_QUOTE) - 1), st.integers(0, 255)),
                min_size=1, max_size=4))
def test_fuzz_verify_mutated_quote(edits):
    data = bytearray(_QUOTE)
    for off, val in edits:
        data[off] = val
    try:
        q = parse_quote(bytes(data))
    except InputError:
        return
    v = verify(QuoteEvidence("<quote>", q), TdxTrust(), TdxPolicy(accepted_tcb=('Unknown',)), GTG_TIME)
    changed = {i for i in range(len(data)) if data[i] != _QUOTE[i]}
    if changed & (_PROTECTED | set(range(0x278))):
        assert not v.ok, sorted(changed)


def _pem(der: bytes) -> bytes:
    import base64

    b64 = base64.b64encode(der)
    return (b"-----BEGIN CERTIFICATE-----\n" + b"\n".join(b64[i : i + 64] for i in range(0, len(b64), 64))
            + b"\n-----END CERTIFICATE-----\n")


def test_flips_in_collateral_signing_chain_rejected(tmp_path):
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding

    chain = x509.load_pem_x509_certificates((GTG / "tcbInfoIssuerChain.pem").read_bytes())
    ders = [c.public_bytes(Encoding.DER) for c in chain]
    d = gtg_v4_collateral(tmp_path)
    q = parse_quote(SPR_E4.read_bytes())
    for which, der in enumerate(ders):
        for off in range(0, len(der), 13):
            bad = bytearray(der)
            bad[off] ^= 0x01
            parts = [bytes(bad) if i == which else x for i, x in enumerate(ders)]
            (d / "tcbInfoIssuerChain.pem").write_bytes(b"".join(_pem(p) for p in parts))
            try:
                col = load_collateral_dir(str(d))
            except InputError:
                continue
            v = verify(QuoteEvidence("<quote>", q), TdxTrust(col), TdxPolicy(accepted_tcb=None), GTG_TIME)
            assert not v.ok, f"signing-chain cert {which} flip at {off} accepted"


def test_flips_in_crl_signatures_rejected():
    q = parse_quote(SPR_E4.read_bytes())
    certs = pck.load_pem_chain(q.signature.pck_chain_pem, source="q")
    for name, issuer, subject in (("rootcrl.der", certs[2], certs[1]), ("pckcrl", certs[1], certs[0])):
        der = (GTG / name).read_bytes()
        assert pck.check_crl("crl", pck.load_crl(der, source=name), issuer, subject, GTG_TIME).passed
        for off in range(len(der) - 64, len(der), 3):  # the signature BIT STRING at the end
            bad = bytearray(der)
            bad[off] ^= 0x01
            try:
                crl = pck.load_crl(bytes(bad), source=name)
            except InputError:
                continue
            assert not pck.check_crl("crl", crl, issuer, subject, GTG_TIME).passed, (name, off)


def test_forged_collateral_under_same_name_root_gives_no_status(tmp_path):
    from datetime import timedelta

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import Encoding

    from tests.attest.tdx.tdx_quote_vectors import Q6, TRUSTEE_TIME, raw_sig, trustee_collateral

    real = x509.load_pem_x509_certificates((GTG / "tcbInfoIssuerChain.pem").read_bytes())
    root_k, sign_k = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())

    def cert(subject, issuer, key, signer):
        start = TRUSTEE_TIME - timedelta(days=30)
        return (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer)
                .public_key(key.public_key()).serial_number(1).not_valid_before(start)
                .not_valid_after(start + timedelta(days=365)).sign(signer, hashes.SHA256()))

    root = cert(real[1].subject, real[1].subject, root_k, root_k)
    signing = cert(real[0].subject, root.subject, sign_k, root_k)
    d = trustee_collateral(tmp_path)
    (d / "tcbInfoIssuerChain.pem").write_bytes(signing.public_bytes(Encoding.PEM) + root.public_bytes(Encoding.PEM))
    # Every level claims UpToDate, correctly signed by the forged TCB Signing key.
    raw = (TRU / "tcbInfo.json").read_bytes()
    body = parse_tcb_info(raw, source="t").signed.body.replace(b'"OutOfDate"', b'"UpToDate"')
    (d / "tcbInfo.json").write_bytes(b'{"tcbInfo":' + body + b',"signature":"'
                                     + raw_sig(sign_k, body).hex().encode() + b'"}')
    v = verify(QuoteEvidence("<quote>", parse_quote(Q6.read_bytes())), TdxTrust(load_collateral_dir(str(d))), TdxPolicy(accepted_tcb=('UpToDate',)), TRUSTEE_TIME)
    failed = {c.name for c in v.failed}
    assert {"collateral.signing_chain.root", "collateral.tcb_info.signature",
            "policy.tcb_status"} <= failed
    assert v.facts["tcb_status"] == "Unknown"
