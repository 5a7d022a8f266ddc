"""Intel certificate chains (PCK and TCB Signing) to the pinned Intel SGX Root CA, CRLs, and
the SGX extensions of a PCK leaf certificate.

The root is pinned by the SHA-256 of its DER encoding. Intel's pre-production and QVL-sample
roots carry the very same subject name with a different key, so a name comparison would
accept them; only the fingerprint is trusted.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from importlib import resources

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

from cocoscope.attest import der as asn1
from cocoscope.attest.result import Check, failed, passed
from cocoscope.errors import InputError

INTEL_SGX_ROOT_CA_SHA256 = "44a0196b2b99f889b8e149e95b807a350e7424964399e885a7cbb8ccfab674d3"
ROOT_CN = "Intel SGX Root CA"
PCK_CA_CNS = ("Intel SGX PCK Platform CA", "Intel SGX PCK Processor CA")
PCK_LEAF_CN = "Intel SGX PCK Certificate"
TCB_SIGNING_CN = "Intel SGX TCB Signing"

SGX_EXTENSIONS_OID = x509.ObjectIdentifier("1.2.840.113741.1.13.1")

# What cryptography raises for malformed certificate or CRL content, eagerly or lazily.
CERT_ERRORS: tuple[type[Exception], ...] = (
    ValueError, TypeError, IndexError, UnsupportedAlgorithm, x509.InvalidVersion,
)

_VERIFY_ERRORS: tuple[type[Exception], ...] = (*CERT_ERRORS, InvalidSignature)

_PEM_BEGIN = b"-----BEGIN CERTIFICATE-----"
_PEM_END = b"-----END CERTIFICATE-----"


@lru_cache(maxsize=1)
def pinned_root() -> x509.Certificate:
    """The Intel SGX Root CA shipped as package data, checked against the pinned fingerprint."""
    pem = resources.files("cocoscope.attest.tdx").joinpath("data/intel_sgx_root_ca.pem").read_bytes()
    cert = x509.load_pem_x509_certificate(pem)
    if fingerprint(cert) != INTEL_SGX_ROOT_CA_SHA256:  # a tampered installation must not verify
        raise InputError("packaged Intel SGX Root CA does not match the pinned fingerprint")
    return cert


def fingerprint(cert: x509.Certificate) -> str:
    return hashlib.sha256(cert.public_bytes(Encoding.DER)).hexdigest()


_CN_OID = bytes.fromhex("550403")


def subject_cn(cert: x509.Certificate) -> str:
    """Subject CN read from the TBS DER directly.

    Building ``cert.subject`` costs about as much as an ECDSA verification in cryptography
    (a Python object per attribute), and each quote's chain needs three names.
    """
    tbs = asn1.single(cert.tbs_certificate_bytes, asn1.SEQUENCE, "TBSCertificate")
    fields = asn1.items(tbs, "TBSCertificate")
    subject = fields[5 if fields[0][0] == asn1.CONTEXT_0 else 4][1]
    for _set_tag, rdn in asn1.items(subject, "subject"):
        for _seq_tag, atv in asn1.items(rdn, "subject"):
            parts = asn1.items(atv, "subject")
            if len(parts) == 2 and parts[0] == (asn1.OID, _CN_OID):
                return parts[1][1].decode("utf-8", "replace")
    return ""


_issuer_cn = lru_cache(maxsize=32)(subject_cn)


def common_name(name: x509.Name) -> str:
    attrs = name.get_attributes_for_oid(NameOID.COMMON_NAME)
    value = attrs[0].value if attrs else ""
    return value if isinstance(value, str) else value.decode("utf-8", "replace")


def load_pem_chain(data: bytes, *, source: str) -> tuple[x509.Certificate, ...]:
    """Every PEM certificate in ``data`` in order (NUL padding and text between are ignored)."""
    blocks = []
    pos = data.find(_PEM_BEGIN)
    while pos >= 0:  # plain find: a lazy regex over 4 KiB costs more than parsing a certificate
        end = data.find(_PEM_END, pos)
        if end < 0:
            break
        blocks.append(data[pos : end + len(_PEM_END)])
        pos = data.find(_PEM_BEGIN, end)
    if not blocks:
        raise InputError("no PEM certificate found", path=source)
    certs = []
    for i, block in enumerate(blocks):
        try:
            # Issuer certificates (Intel's root and two PCK CAs) recur in every quote: their
            # parse is cached by exact PEM bytes. Signatures are still verified each time.
            certs.append(x509.load_pem_x509_certificate(block) if i == 0
                         else _load_issuer_cert(block))  # leaf key type: checked by callers
        except CERT_ERRORS as exc:
            raise InputError(f"certificate {i} is not valid X.509: {exc}", path=source) from None
    return tuple(certs)


def _load_cert(block: bytes) -> x509.Certificate:
    cert = x509.load_pem_x509_certificate(block)
    # Other fields are decoded lazily by cryptography; callers that read them catch
    # ValueError/UnsupportedAlgorithm (see verify.py) so a malformed one cannot escape.
    if not isinstance(cert.public_key(), ec.EllipticCurvePublicKey):
        raise ValueError("public key is not ECDSA")
    return cert


_load_issuer_cert = lru_cache(maxsize=32)(_load_cert)


def load_crl(data: bytes, *, source: str) -> x509.CertificateRevocationList:
    try:
        if data.lstrip().startswith(b"-----BEGIN"):
            crl = x509.load_pem_x509_crl(data)
        else:
            crl = x509.load_der_x509_crl(data)
        _ = (crl.issuer, crl.last_update_utc, crl.next_update_utc,
             [(r.serial_number, r.revocation_date_utc) for r in crl])  # decoded lazily otherwise
        return crl
    except CERT_ERRORS as exc:
        raise InputError(f"not a valid CRL: {exc}", path=source) from None


def _label(cert: x509.Certificate) -> str:
    """Subject CN for messages; a malformed subject must not turn a failure into a crash."""
    try:
        return subject_cn(cert)
    except CERT_ERRORS:
        return "certificate with a malformed subject"


def _issued_by(cert: x509.Certificate, issuer: x509.Certificate) -> str | None:
    """None if ``issuer`` signed ``cert`` (name and ECDSA signature), else the reason."""
    try:
        cert.verify_directly_issued_by(issuer)
    except _VERIFY_ERRORS as exc:
        return f"{_label(cert)!r} not signed by {_label(issuer)!r}: {exc or 'bad signature'}"
    return None


def _valid_at(cert: x509.Certificate, at: datetime) -> str | None:
    if at < cert.not_valid_before_utc:
        return f"{_label(cert)!r} not valid before {cert.not_valid_before_utc:%Y-%m-%dT%H:%M:%SZ}"
    if at > cert.not_valid_after_utc:
        return f"{_label(cert)!r} expired {cert.not_valid_after_utc:%Y-%m-%dT%H:%M:%SZ}"
    return None


def check_chain(
    certs: tuple[x509.Certificate, ...],
    *,
    name: str,
    at: datetime,
    leaf_cn: tuple[str, ...],
    intermediate_cn: tuple[str, ...] | None = None,
) -> list[Check]:
    """Check leaf[-> intermediate] -> root: pinned root, subject names, signatures, validity.

    ``certs`` is leaf first, root last, as Intel ships them (quote type-5 data, PCS headers).
    """
    length = 3 if intermediate_cn else 2
    if len(certs) != length:
        return [failed(f"{name}.structure", f"expected {length} certificates, found {len(certs)}")]
    root = certs[-1]
    checks: list[Check] = []
    # Byte equality with the packaged root, whose own SHA-256 is checked against the pin.
    if root == pinned_root():
        checks.append(passed(f"{name}.root", f"Intel SGX Root CA, sha256 {INTEL_SGX_ROOT_CA_SHA256}"))
    else:
        checks.append(failed(f"{name}.root", f"root sha256 {fingerprint(root)} is not the pinned "
                                             "Intel SGX Root CA"))
    try:
        # Issuer names are cached per certificate (they recur); the leaf's is read each time.
        names = [subject_cn(certs[0]), *(_issuer_cn(c) for c in certs[1:])]
    except CERT_ERRORS as exc:
        return [*checks, failed(f"{name}.names", f"malformed subject: {exc}")]
    expected_cn = [leaf_cn, *([intermediate_cn] if intermediate_cn else []), (ROOT_CN,)]
    bad_names = [f"{cn!r} (expected {' or '.join(repr(e) for e in want)})"
                 for cn, want in zip(names, expected_cn, strict=True) if cn not in want]
    checks.append(failed(f"{name}.names", "; ".join(bad_names)) if bad_names
                  else passed(f"{name}.names", " -> ".join(names)))
    problems = [p for p in (_issued_by(certs[i], certs[i + 1]) for i in range(len(certs) - 1)) if p]
    checks.append(failed(f"{name}.signatures", "; ".join(problems)) if problems
                  else passed(f"{name}.signatures", f"{len(certs) - 1} signature(s) verified"))
    expired = [p for p in (_valid_at(c, at) for c in certs) if p]
    checks.append(failed(f"{name}.validity", f"at {at:%Y-%m-%dT%H:%M:%SZ}: " + "; ".join(expired))
                  if expired else passed(f"{name}.validity", f"all valid at {at:%Y-%m-%dT%H:%M:%SZ}"))
    return checks


def check_crl(
    name: str,
    crl: x509.CertificateRevocationList,
    issuer: x509.Certificate,
    subject: x509.Certificate,
    at: datetime,
) -> Check:
    """CRL issued and signed by ``issuer``, current at ``at``, not listing ``subject``."""
    if crl.issuer != issuer.subject:
        return failed(name, f"CRL issuer {common_name(crl.issuer)!r} is not "
                            f"{common_name(issuer.subject)!r}")
    pub = issuer.public_key()
    if not isinstance(pub, ec.EllipticCurvePublicKey) or not crl.is_signature_valid(pub):
        return failed(name, f"CRL signature does not verify with {common_name(issuer.subject)!r}")
    if at < crl.last_update_utc:
        return failed(name, f"CRL not yet valid at {at:%Y-%m-%dT%H:%M:%SZ}")
    if crl.next_update_utc is None or at > crl.next_update_utc:
        return failed(name, f"CRL expired (nextUpdate {crl.next_update_utc}) at {at:%Y-%m-%dT%H:%M:%SZ}")
    revoked = crl.get_revoked_certificate_by_serial_number(subject.serial_number)
    if revoked is not None:
        return failed(name, f"{common_name(subject.subject)!r} serial {subject.serial_number:#x} "
                            f"revoked on {revoked.revocation_date_utc:%Y-%m-%d}")
    return passed(name, f"{common_name(subject.subject)!r} not revoked "
                        f"({len(list(crl))} entries, next update {crl.next_update_utc:%Y-%m-%d})")


# --- SGX extensions of the PCK leaf (1.2.840.113741.1.13.1) ------------------------------


@dataclass(frozen=True)
class PckExtensions:
    ppid: bytes
    tcb_components: tuple[int, ...]  # 16 SGX TCB component SVNs
    pcesvn: int
    cpusvn: bytes
    pce_id: bytes
    fmspc: bytes
    sgx_type: int


# DER content octets of the OID 1.2.840.113741.1.13.1; sub-arcs below 128 are single bytes,
# so fields are looked up by raw OID bytes without decoding every OID to text.
_SGX_OID_RAW = bytes.fromhex("2a864886f84d010d01")


def _oid(*arcs: int) -> bytes:
    return _SGX_OID_RAW + bytes(arcs)


_PPID, _TCB, _PCE_ID, _FMSPC, _SGX_TYPE = (_oid(n) for n in (1, 2, 3, 4, 5))
_TCB_COMPONENTS = tuple(_oid(2, i) for i in range(1, 17))
_PCESVN, _CPUSVN = _oid(2, 17), _oid(2, 18)


def _int(item: tuple[int, bytes] | None, what: str) -> int:
    if item is None or item[0] not in (asn1.INTEGER, asn1.ENUMERATED):
        raise ValueError(f"{what} missing or not an INTEGER")
    return asn1.unsigned(item[1], what)


def _octets(item: tuple[int, bytes] | None, what: str, size: int) -> bytes:
    if item is None or item[0] != asn1.OCTET_STRING or len(item[1]) != size:
        raise ValueError(f"{what} missing or not a {size}-byte OCTET STRING")
    return item[1]


def pck_extensions(cert: x509.Certificate, *, source: str) -> PckExtensions:
    """Decode FMSPC, PCE-ID, TCB components, PCESVN, CPUSVN from a PCK leaf certificate."""
    try:
        ext = cert.extensions.get_extension_for_oid(SGX_EXTENSIONS_OID).value
    except x509.ExtensionNotFound:
        raise InputError("PCK certificate has no SGX extensions (1.2.840.113741.1.13.1)",
                         path=source) from None
    except CERT_ERRORS as exc:
        raise InputError(f"malformed PCK certificate extensions: {exc}", path=source) from None
    if not isinstance(ext, x509.UnrecognizedExtension):
        raise InputError("unexpected SGX extension type", path=source)
    try:
        top = asn1.single(ext.value, asn1.SEQUENCE, "SGX extensions")
        fields = asn1.oid_pairs(top, "SGX extensions")
        tcb_item = fields.get(_TCB)
        if tcb_item is None or tcb_item[0] != asn1.SEQUENCE:
            raise ValueError("TCB missing")
        tcb = asn1.oid_pairs(tcb_item[1], "SGX TCB")
        comps = tuple(_int(tcb.get(key), "TCB component") for key in _TCB_COMPONENTS)
        return PckExtensions(
            ppid=_octets(fields.get(_PPID), "PPID", 16),
            tcb_components=comps,
            pcesvn=_int(tcb.get(_PCESVN), "PCESVN"),
            cpusvn=_octets(tcb.get(_CPUSVN), "CPUSVN", 16),
            pce_id=_octets(fields.get(_PCE_ID), "PCE-ID", 2),
            fmspc=_octets(fields.get(_FMSPC), "FMSPC", 6),
            sgx_type=_int(fields.get(_SGX_TYPE), "SGX type"),
        )
    except ValueError as exc:
        raise InputError(f"malformed PCK SGX extensions: {exc}", path=source) from None
