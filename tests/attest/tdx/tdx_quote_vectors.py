"""Shared helpers for the TDX quote tests: the real vectors (tests/data/attestation/tdx/PROVENANCE), the times at
which they are valid, collateral directories assembled from them, and quote rebuilding for
tampering and forged-chain tests."""

from __future__ import annotations

import shutil
import struct
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from cocoscope.attest.tdx.quote import Quote, parse_quote
from tests.paths import ATTESTATION

TDX = ATTESTATION / "tdx"
GTG = TDX / "go-tdx-guest"
TRU = TDX / "trustee"

SPR_E4 = GTG / "tdx_prod_quote_SPR_E4.dat"
V5_SAMPLE = GTG / "quote_v5_sample.dat"
COS = GTG / "ccel" / "cos-113-tdx-quote.dat"
Q4 = TRU / "tdx_quote_4.dat"
Q5 = TRU / "tdx_quote_5.dat"
Q6 = TRU / "tdx_quote_6.dat"
ALL_QUOTES = (SPR_E4, V5_SAMPLE, COS, Q4, Q5, Q6)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# A time inside every certificate's window (the PROVENANCE validity times).
GTG_TIME = utc("2023-07-01T01:00:00")  # go-tdx-guest's own test time; v4 collateral window
V5_TIME = utc("2026-02-03T00:00:00")  # go-tdx-guest v5 test time; v5 TCB Info window
TRUSTEE_TIME = utc("2025-11-01T00:00:00")  # trustee TCB Info / QE Identity window
VALID_AT = {SPR_E4: GTG_TIME, V5_SAMPLE: V5_TIME, COS: utc("2025-01-01T00:00:00"),
            Q4: utc("2025-01-01T00:00:00"), Q5: utc("2025-01-01T00:00:00"), Q6: TRUSTEE_TIME}


def collateral_dir(tmp: Path, *files: Path) -> Path:
    d = tmp / "collateral"
    d.mkdir(exist_ok=True)
    for f in files:
        shutil.copy(f, d / f.name)
    return d


def gtg_v4_collateral(tmp: Path) -> Path:
    return collateral_dir(tmp, GTG / "sample_tcbInfo_response", GTG / "sample_qeIdentity_response",
                          GTG / "tcbInfoIssuerChain.pem", GTG / "rootcrl.der", GTG / "pckcrl")


def gtg_v5_collateral(tmp: Path) -> Path:
    # No v5-era QE Identity or CRLs are stored; the v4-era ones are outside this window.
    return collateral_dir(tmp, GTG / "sample_tcbinfo_response_v5", GTG / "tcbInfoIssuerChain.pem")


# Intel's re-issued TCB Signing certificate (same key, valid 2025-05-06 .. 2032-05-06) + root.
REISSUED_CHAIN = TDX / "tcb_signing_chain_2025.pem"


def trustee_collateral_current(tmp: Path) -> Path:
    """trustee's TCB Info and QE Identity with the issuer chain valid at their issue time."""
    return collateral_dir(tmp, TRU / "tcbInfo.json", TRU / "enclaveIdentity.json", REISSUED_CHAIN)


def trustee_collateral(tmp: Path) -> Path:
    # trustee ships no issuer chain; the TCB Signing key is the one in go-tdx-guest's chain.
    return collateral_dir(tmp, TRU / "tcbInfo.json", TRU / "enclaveIdentity.json",
                          GTG / "tcbInfoIssuerChain.pem")


def flip(data: bytes, offset: int, mask: int = 0x01) -> bytes:
    b = bytearray(data)
    b[offset] ^= mask
    return bytes(b)


def raw_sig(key: ec.EllipticCurvePrivateKey, data: bytes) -> bytes:
    r, s = decode_dss_signature(key.sign(data, ec.ECDSA(hashes.SHA256())))
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def assemble(q: Quote, *, quote_sig: bytes, att_key: bytes, qe_report: bytes, qe_sig: bytes,
             auth: bytes, chain: bytes, signed: bytes | None = None) -> bytes:
    """Rebuild quote bytes from parts (no trailing bytes)."""
    inner = qe_report + qe_sig + struct.pack("<H", len(auth)) + auth
    inner += struct.pack("<HI", 5, len(chain)) + chain
    sig_data = quote_sig + att_key + struct.pack("<HI", 6, len(inner)) + inner
    return (signed or q.signed_bytes) + struct.pack("<I", len(sig_data)) + sig_data


def _cert(subject: x509.Name, issuer: x509.Name, key: ec.EllipticCurvePrivateKey,
          signer: ec.EllipticCurvePrivateKey, ca: bool,
          extra: x509.Extension[x509.ExtensionType] | None = None) -> x509.Certificate:
    now = datetime(2020, 1, 1, tzinfo=UTC)
    b = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer)
         .public_key(key.public_key()).serial_number(x509.random_serial_number())
         .not_valid_before(now).not_valid_after(now + timedelta(days=365 * 29))
         .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if extra is not None:
        b = b.add_extension(extra.value, critical=extra.critical)
    return b.sign(signer, hashes.SHA256())


def forged_quote(real: bytes) -> bytes:
    """The real quote re-signed end to end under a home-made root named 'Intel SGX Root CA'.

    Every signature and binding in it is valid; only the pinned root fingerprint can reject it.
    """
    q = parse_quote(real)
    real_certs = x509.load_pem_x509_certificates(q.signature.pck_chain_pem.rstrip(b"\0"))
    keys = [ec.generate_private_key(ec.SECP256R1()) for _ in range(4)]
    root_k, ca_k, leaf_k, att_k = keys
    root = _cert(real_certs[2].subject, real_certs[2].subject, root_k, root_k, True)
    ca = _cert(real_certs[1].subject, root.subject, ca_k, root_k, True)
    sgx_ext = real_certs[0].extensions.get_extension_for_oid(
        x509.ObjectIdentifier("1.2.840.113741.1.13.1"))
    leaf = _cert(real_certs[0].subject, ca.subject, leaf_k, ca_k, False, sgx_ext)
    chain = b"".join(c.public_bytes(Encoding.PEM) for c in (leaf, ca, root))
    att_raw = att_k.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)[1:]
    import hashlib

    auth = q.signature.qe_auth_data
    rep = bytearray(q.signature.qe_report.raw)
    rep[320:352] = hashlib.sha256(att_raw + auth).digest()
    rep[352:384] = bytes(32)
    return assemble(q, quote_sig=raw_sig(att_k, q.signed_bytes), att_key=att_raw,
                    qe_report=bytes(rep), qe_sig=raw_sig(leaf_k, bytes(rep)), auth=auth,
                    chain=chain)
