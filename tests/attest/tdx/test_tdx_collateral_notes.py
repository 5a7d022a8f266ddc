"""Messages that match what happened (issue 8.7): collateral files skipped and why, a CRL given
but not applicable, two TCB Infos for one FMSPC (the one that verifies is used, the other
reported)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from cocoscope.attest.tdx.collateral import load_collateral_dir
from cocoscope.attest.tdx.policy import TdxPolicy
from cocoscope.attest.tdx.verify import verify_file
from tests.attest.tdx.tdx_quote_vectors import (
    GTG,
    Q6,
    TRU,
    TRUSTEE_TIME,
    trustee_collateral_current,
)

OUT_OF_DATE = TdxPolicy(accepted_tcb=("OutOfDate",))


def _notes(v: object) -> list[str]:
    return list(v.facts.get("collateral_notes", []))  # type: ignore[attr-defined]


def test_skipped_files_are_reported_with_the_reason(tmp_path: Path) -> None:
    d = trustee_collateral_current(tmp_path)
    (d / "bom.json").write_bytes(b"\xef\xbb\xbf" + (TRU / "enclaveIdentity.json").read_bytes())
    pems = (GTG / "tcbInfoIssuerChain.pem").read_text().split("-----END CERTIFICATE-----")
    reversed_chain = pems[1].strip() + "\n-----END CERTIFICATE-----\n" + pems[0].strip() + \
        "\n-----END CERTIFICATE-----\n"
    (d / "chain-root-first.pem").write_text(reversed_chain)
    (d / "README.txt").write_text("saved from PCS\n")
    (d / "other.json").write_text('{"hello": 1}')
    col = load_collateral_dir(str(d))
    reasons = {Path(p).name: why for p, why in col.skipped}
    assert "byte-order mark" in reasons["bom.json"]
    assert "wrong order" in reasons["chain-root-first.pem"]
    assert "not collateral" in reasons["README.txt"]
    assert "without tcbInfo or enclaveIdentity" in reasons["other.json"]
    v = verify_file(str(Q6), str(d), OUT_OF_DATE, TRUSTEE_TIME)
    assert v.ok  # the usable files still verify
    notes = _notes(v)
    assert any("bom.json: skipped: starts with a UTF-8 byte-order mark" in n for n in notes)
    assert any("chain-root-first.pem: skipped: certificate chain in the wrong order" in n
               for n in notes)


def test_crl_given_but_not_applicable(tmp_path: Path) -> None:
    d = trustee_collateral_current(tmp_path)
    key = ec.generate_private_key(ec.SECP256R1())
    issuer = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Intel SGX PCK Processor CA")])
    crl = (x509.CertificateRevocationListBuilder().issuer_name(issuer)
           .last_update(TRUSTEE_TIME - timedelta(days=1))
           .next_update(TRUSTEE_TIME + timedelta(days=1)).sign(key, hashes.SHA256()))
    (d / "processor.crl").write_bytes(crl.public_bytes(serialization.Encoding.DER))
    v = verify_file(str(Q6), str(d), OUT_OF_DATE, TRUSTEE_TIME)
    assert v.facts["revocation"] == "not checked (CRL given but not applicable)"
    assert any("PCK CRL from 'Intel SGX PCK Processor CA' given but not applicable" in n and
               "'Intel SGX PCK Platform CA'" in n for n in _notes(v))
    (tmp_path / "b").mkdir()
    plain = verify_file(str(Q6), str(trustee_collateral_current(tmp_path / "b")), OUT_OF_DATE,
                        TRUSTEE_TIME)
    assert plain.facts["revocation"] == "not checked (no CRLs given)"


def test_two_tcb_infos_for_one_fmspc_use_the_one_that_verifies(tmp_path: Path) -> None:
    d = trustee_collateral_current(tmp_path)
    newer = (TRU / "tcbInfo.json").read_bytes().replace(b'"tcbEvaluationDataNumber":17',
                                                        b'"tcbEvaluationDataNumber":18')
    (d / "tcbInfo-newer-unsigned.json").write_bytes(newer)  # signature no longer covers it
    v = verify_file(str(Q6), str(d), OUT_OF_DATE, TRUSTEE_TIME)
    assert v.ok, [c for c in v.failed]
    assert v.facts["tcb_status"] == "OutOfDate"
    (note,) = [n for n in _notes(v) if "TCB Info" in n]
    assert "tcbInfo-newer-unsigned.json" in note and "evaluation 18" in note
    assert "not used" in note and "does not verify" in note
