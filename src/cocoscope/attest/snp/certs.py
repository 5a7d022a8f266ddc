"""AMD KDS certificates: loading, the pinned roots, and the ARK -> ASK/ASVK -> VCEK/VLEK chain.

Trust starts only at the ARKs shipped in ``roots/`` whose SHA-256 equals a pin below: a
certificate called "ARK-Milan" proves nothing by its name. Every link is RSASSA-PSS with SHA-384,
MGF1-SHA-384 and a 48-byte salt; the outer and the signed (TBS) AlgorithmIdentifier must both be
exactly that, because the outer one is not covered by the signature.

VCEK/VLEK certificates carry serial number 0, which ``cryptography`` loads with a deprecation
warning; the warning is silenced at the one place certificates are parsed so it never reaches
the user (and an ``-W error`` run does not turn it into a crash).
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import os
import re
import warnings
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from importlib import resources

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes
from cryptography.x509.oid import NameOID

from cocoscope.attest import der as asn1
from cocoscope.attest.snp.evidence import looks_like_cert_table, parse_cert_table
from cocoscope.attest.snp.product import Product, product_from_name
from cocoscope.errors import InputError
from cocoscope.evidence import files

# SHA-256 of the DER ARK certificates (identical in go-sev-guest, virtee/sev and trustee).
ARK_PINS = {
    Product.MILAN: "69d063b45344d26a2e94e1f4210de49ef555308287d4c174445c95639a540bcd",
    Product.GENOA: "4c6598d19c18719c5dfd4a7d335f674e5bfe1d8f800cea2cf270c10d103db2f1",
    Product.TURIN: "1f084161a44bb6d93778a904877d4819cafa5d05ef4193b2ded9dd9c73dd3f6a",
}
# The shipped ASKs/ASVKs; pinned too so a damaged package fails loudly instead of silently.
INTERMEDIATE_PINS = {
    "67d303bd3905fd38db8b20e0793699870e7fa612eaad5dec358293fd8c0bac1b",  # SEV-Milan
    "5464738c1546aed5f2cecf1dc98c5c960a92e8913238a61711bc90ec6e828521",  # SEV-Genoa
    "5b77ef5fe7a7a004fd9032668fba9d0fda22f88c4442069a479636a6ae3b3185",  # SEV-Turin
    "c5e081f59b7efab1fe2f8b505e159704e72f29cab7ef7cf628a05a42439082f5",  # SEV-VLEK-Milan
    "197e610743a917d6b9bb982a5a9226ccc0a15b611be0619e626aca9151457372",  # SEV-VLEK-Genoa
    "104e10a8bd060a3c20a434261a57d0588fd65a88915b4f65b08bdecaf8df1a3c",  # SEV-VLEK-Turin
}

# RSASSA-PSS(SHA-384, MGF1-SHA-384, salt 48), with and without the explicit default trailerField.
_PSS_PARAMS = ("a00f300d06096086480165030402020500a11c301a06092a864886f70d010108300d0609608648"
               "0165030402020500a203020130")
AMD_PSS_ALGORITHMS = frozenset({
    bytes.fromhex("304106092a864886f70d01010a3034" + _PSS_PARAMS),
    bytes.fromhex("304606092a864886f70d01010a3039" + _PSS_PARAMS + "a303020101"),
})
PSS_SHA384 = padding.PSS(mgf=padding.MGF1(hashes.SHA384()), salt_length=48)

_KDS = "1.3.6.1.4.1.3704.1"
OID_STRUCT_VERSION = f"{_KDS}.1"
OID_PRODUCT_NAME = f"{_KDS}.2"
OID_SPL = {f"{_KDS}.3.1": "bl", f"{_KDS}.3.2": "tee", f"{_KDS}.3.3": "snp",
           f"{_KDS}.3.4": "spl_4", f"{_KDS}.3.5": "spl_5", f"{_KDS}.3.6": "spl_6",
           f"{_KDS}.3.7": "spl_7", f"{_KDS}.3.8": "ucode", f"{_KDS}.3.9": "fmc"}
OID_HWID = f"{_KDS}.4"
OID_CSP_ID = f"{_KDS}.5"

_PEM_BLOCK = re.compile(rb"-----BEGIN CERTIFICATE-----(.*?)-----END CERTIFICATE-----", re.S)


def _signature_algorithms(der: bytes) -> tuple[bytes, bytes]:
    """(algorithm inside the TBS, outer algorithm) as raw DER."""
    tag, start, end = asn1.read(der, 0, what="certificate")
    if tag != asn1.SEQUENCE or end != len(der):
        raise ValueError("certificate is not one DER SEQUENCE")
    _, tbs_start, tbs_end = asn1.read(der, start, end, "certificate")
    _, _, alg_end = asn1.read(der, tbs_end, end, "certificate")
    outer = der[tbs_end:alg_end]
    tag, sig_start, sig_end = asn1.read(der, alg_end, end, "certificate")
    # The BIT STRING's unused-bits count must be 0: a parser that ignores it would accept
    # two encodings of one certificate.
    if (tag != asn1.BIT_STRING or sig_end != end or sig_start == sig_end
            or der[sig_start] != 0):
        raise ValueError("signature is not a whole-byte BIT STRING ending the certificate")
    pos = tbs_start
    tag, _, stop = asn1.read(der, pos, tbs_end, "TBSCertificate")
    if tag == asn1.CONTEXT_0:  # explicit version
        pos = stop
    _, _, pos = asn1.read(der, pos, tbs_end, "TBSCertificate")  # serialNumber
    _, _, inner_end = asn1.read(der, pos, tbs_end, "TBSCertificate")
    return der[pos:inner_end], outer


@dataclass(frozen=True)
class VekExtensions:
    """The AMD KDS extensions of a VCEK or VLEK certificate."""

    struct_version: int | None
    product_name: str | None
    spls: dict[str, int]
    hwid: bytes | None
    csp_id: str | None


@dataclass(frozen=True, eq=False)  # identity hashing: cheap keys for the signature cache
class AmdCert:
    der: bytes
    cert: x509.Certificate
    source: str  # "file.pem#2", "certs.bin[vcek]"

    @cached_property
    def fingerprint(self) -> str:
        return hashlib.sha256(self.der).hexdigest()

    @cached_property
    def common_name(self) -> str:
        attrs = self.cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        value = attrs[0].value if attrs else ""
        return value if isinstance(value, str) else value.decode("latin-1")

    @cached_property
    def role(self) -> tuple[str, Product | None]:
        """("ark"|"ask"|"asvk"|"vcek"|"vlek"|"other", product); a hint for selection only."""
        cn = self.common_name
        if cn in ("SEV-VCEK", "SEV-VLEK"):
            return cn[4:].lower(), None
        for prefix, role in (("ARK-", "ark"), ("SEV-VLEK-", "asvk"), ("SEV-", "ask")):
            if cn.startswith(prefix):
                return role, product_from_name(cn[len(prefix):])
        return "other", None

    @cached_property
    def public_key(self) -> CertificatePublicKeyTypes:
        return self.cert.public_key()

    def extensions(self) -> VekExtensions:
        """The KDS extensions (decoded once per certificate); ValueError if malformed."""
        got = self._extensions
        if isinstance(got, str):
            raise ValueError(got)
        return got

    @cached_property
    def _extensions(self) -> VekExtensions | str:
        try:
            return self._decode_extensions()
        except ValueError as exc:
            return str(exc)

    def _decode_extensions(self) -> VekExtensions:
        struct_version = product = csp = None
        hwid: bytes | None = None
        spls: dict[str, int] = {}
        try:
            exts = list(self.cert.extensions)
        except (ValueError, x509.DuplicateExtension) as exc:
            raise ValueError(f"extensions do not parse: {exc}") from None
        for ext in exts:
            oid = ext.oid.dotted_string
            if not oid.startswith(_KDS + ".") or not isinstance(ext.value, x509.UnrecognizedExtension):
                continue
            raw = ext.value.value
            if oid == OID_STRUCT_VERSION:
                struct_version = int.from_bytes(asn1.single(raw, asn1.INTEGER, oid), "big")
            elif oid == OID_PRODUCT_NAME:
                product = asn1.single(raw, asn1.IA5_STRING, oid).decode("ascii")
            elif oid in OID_SPL:
                spls[OID_SPL[oid]] = int.from_bytes(asn1.single(raw, asn1.INTEGER, oid), "big",
                                                    signed=True)
            elif oid == OID_HWID:
                # Raw bytes on real VCEKs; some tools wrap them in an OCTET STRING.
                wrapped = len(raw) in (66, 10) and raw[0] == 0x04 and raw[1] == len(raw) - 2
                hwid = raw[2:] if wrapped else raw
            elif oid == OID_CSP_ID:
                csp = asn1.single(raw, asn1.IA5_STRING, oid).decode("ascii")
        return VekExtensions(struct_version, product, spls, hwid, csp)


@functools.lru_cache(maxsize=512)
def parse_der(der: bytes, source: str) -> AmdCert:
    """Parse one DER certificate (cached: the same bytes are parsed once per process)."""
    try:
        _signature_algorithms(der)  # structural check: exactly one well-formed SEQUENCE
        with warnings.catch_warnings():
            # AMD VCEK/VLEK serial 0 (RFC 5280 wants positive) draws a deprecation warning, and
            # damaged names draw UserWarnings; neither is for the user: a damaged certificate
            # fails its signature check and is reported as such.
            warnings.simplefilter("ignore")
            cert = x509.load_der_x509_certificate(der)
            # cryptography decodes some fields lazily; touch each one used later so a
            # malformed certificate is refused here, as input, and not mid-verification.
            c = AmdCert(der, cert, source)
            _ = (cert.subject, cert.issuer, cert.not_valid_before_utc, cert.not_valid_after_utc,
                 cert.signature, cert.tbs_certificate_bytes, c.public_key, c.role,
                 list(cert.extensions))
    except (ValueError, x509.InvalidVersion, x509.DuplicateExtension,
            UnsupportedAlgorithm) as exc:
        raise InputError(f"not a valid X.509 certificate: {exc}", path=source) from None
    return c


def parse_cert_blob(data: bytes, source: str) -> list[AmdCert]:
    """Certificates in one blob: PEM (any number), an SNP certificate table, or one DER."""
    if b"-----BEGIN CERTIFICATE-----" in data:
        out = []
        for n, m in enumerate(_PEM_BLOCK.finditer(data), 1):
            try:
                der = base64.b64decode(b"".join(m.group(1).split()), validate=True)
            except binascii.Error:
                raise InputError(f"PEM certificate {n} is not valid base64", path=source) from None
            out.append(parse_der(der, f"{source}#{n}"))
        if not out:
            raise InputError("unterminated PEM certificate", path=source)
        return out
    if looks_like_cert_table(data):
        return [parse_der(e.data, f"{source}[{e.kind}]")
                for e in parse_cert_table(data, path=source)
                if e.kind in ("vcek", "vlek", "ask", "ark")]
    return [parse_der(bytes(data), source)]


def load_certs(paths: list[str]) -> tuple[list[AmdCert], list[str]]:
    """Load certificate files and directories: (certificates, ignored directory entries)."""
    certs: list[AmdCert] = []
    ignored: list[str] = []
    for path in paths:
        if os.path.isdir(path):
            found = 0
            for name in sorted(os.listdir(path)):
                full = os.path.join(path, name)
                if not os.path.isfile(full):
                    continue
                try:
                    got = parse_cert_blob(files.read_input(full, files.CERTIFICATE), full)
                except InputError:
                    ignored.append(full)  # a report or README next to the certificates
                    continue
                certs += got
                found += len(got)
            if not found:
                raise InputError("no certificates found in directory", path=path)
        else:
            certs += parse_cert_blob(files.read_input(path, files.CERTIFICATE), path)
    return certs, ignored


@functools.cache
def shipped_certs() -> tuple[AmdCert, ...]:
    """The AMD certificates in the package, each checked against its pin."""
    out: list[AmdCert] = []
    pins = set(ARK_PINS.values()) | INTERMEDIATE_PINS
    for product in Product:
        ref = resources.files("cocoscope.attest.snp") / "roots" / f"{product.value.lower()}.pem"
        for c in parse_cert_blob(ref.read_bytes(), f"<shipped {product.value}>"):
            if c.fingerprint in pins:
                out.append(c)
    return tuple(out)


def pinned_ark(product: Product) -> AmdCert | None:
    for c in shipped_certs():
        if c.fingerprint == ARK_PINS[product]:
            return c
    return None


def shipped_intermediate(subject: x509.Name) -> AmdCert | None:
    for c in shipped_certs():
        if c.role[0] in ("ask", "asvk") and c.cert.subject == subject:
            return c
    return None


@functools.lru_cache(maxsize=512)
def signature_problem(child: AmdCert, parent: AmdCert) -> str | None:
    """Why ``parent`` did not sign ``child`` with AMD's PSS profile, or None if it did.

    Cached: signatures do not depend on the verification time, so a warm cache leaves only the
    (cheap) validity-window checks to repeat.
    """
    try:
        inner, outer = _signature_algorithms(child.der)
    except ValueError as exc:
        return str(exc)
    if inner != outer:
        return "outer signature algorithm differs from the signed one"
    if inner not in AMD_PSS_ALGORITHMS:
        return "signature algorithm is not RSASSA-PSS SHA-384 / MGF1-SHA-384 / salt 48"
    if child.cert.issuer != parent.cert.subject:
        return f"issuer {child.cert.issuer.rfc4514_string()} is not {parent.common_name}"
    key = parent.public_key
    if not isinstance(key, rsa.RSAPublicKey):
        return f"{parent.common_name} key is not RSA"
    try:
        key.verify(child.cert.signature, child.cert.tbs_certificate_bytes, PSS_SHA384,
                   hashes.SHA384())
    except InvalidSignature:
        return f"signature does not verify with the {parent.common_name} key"
    return None


def validity_problem(c: AmdCert, at: datetime) -> str | None:
    nb, na = c.cert.not_valid_before_utc, c.cert.not_valid_after_utc
    if at < nb:
        return f"not valid before {nb.isoformat()} (checked at {at.isoformat()})"
    if at > na:
        return f"expired {na.isoformat()} (checked at {at.isoformat()})"
    return None


def is_p384(c: AmdCert) -> bool:
    key = c.public_key
    return isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP384R1)
