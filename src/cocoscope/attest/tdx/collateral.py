"""Offline Intel PCS collateral: TDX TCB Info (v3), TD QE Identity (v2), issuer chains, CRLs.

A collateral directory is classified by content, not by file name, because every tool saves
PCS responses under its own names (``tcbInfo.json``, ``sample_tcbInfo_response``, ...):
JSON with a top-level ``tcbInfo`` is TCB Info, ``enclaveIdentity`` is QE Identity; PEM
certificate chains whose first certificate is ``Intel SGX TCB Signing`` are the collateral
issuer chain; DER or PEM CRLs are told apart by issuer (Root CA CRL vs PCK CRL). Other files
are skipped and reported with the reason (``Collateral.skipped``), never silently.

PCS signs the exact bytes of the ``tcbInfo`` / ``enclaveIdentity`` JSON value, so the loader
keeps that byte span from the file rather than re-serialising the parsed object.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from cocoscope.attest.tdx import pck
from cocoscope.errors import InputError
from cocoscope.evidence import files

MAX_COLLATERAL_FILE = 4 << 20


@dataclass(frozen=True)
class TcbLevel:
    sgx_components: tuple[int, ...]  # 16 SVNs
    pcesvn: int
    tdx_components: tuple[int, ...]  # 16 SVNs
    status: str
    date: str
    advisory_ids: tuple[str, ...]


@dataclass(frozen=True)
class IsvLevel:
    """A TCB level keyed by one ISVSVN (TDX module identities, QE identity)."""

    isvsvn: int
    status: str
    date: str
    advisory_ids: tuple[str, ...]


@dataclass(frozen=True)
class ModuleIdentity:
    id: str  # "TDX_03": TEE_TCB_SVN[1] as two hex digits
    mrsigner: bytes
    attributes: int
    attributes_mask: int
    levels: tuple[IsvLevel, ...]


@dataclass(frozen=True)
class SignedJson:
    """The signed member's exact bytes and the detached signature (r||s, 64 bytes)."""

    source: str
    body: bytes
    signature: bytes


@dataclass(frozen=True)
class TcbInfo:
    signed: SignedJson
    id: str
    version: int
    issue_date: datetime
    next_update: datetime
    fmspc: bytes
    pce_id: bytes
    evaluation_number: int
    module_mrsigner: bytes
    module_attributes: int
    module_attributes_mask: int
    module_identities: tuple[ModuleIdentity, ...]
    levels: tuple[TcbLevel, ...]


@dataclass(frozen=True)
class QeIdentity:
    signed: SignedJson
    id: str
    version: int
    issue_date: datetime
    next_update: datetime
    evaluation_number: int
    miscselect: int
    miscselect_mask: int
    attributes: bytes
    attributes_mask: bytes
    mrsigner: bytes
    isvprodid: int
    levels: tuple[IsvLevel, ...]


@dataclass(frozen=True)
class Collateral:
    directory: str
    tcb_infos: tuple[TcbInfo, ...]
    qe_identity: QeIdentity | None
    signing_chain: tuple[x509.Certificate, ...] | None  # TCB Signing -> Root
    root_crl: x509.CertificateRevocationList | None
    pck_crls: tuple[x509.CertificateRevocationList, ...]
    # Files of the directory that were not used, with the reason (reported, never silent).
    skipped: tuple[tuple[str, str], ...] = ()

    def tcb_info_for(self, fmspc: bytes) -> TcbInfo | None:
        """The TCB Info for ``fmspc``; the newest evaluation data number wins if several."""
        matching = self.tcb_infos_for(fmspc)
        return matching[0] if matching else None

    def tcb_infos_for(self, fmspc: bytes) -> tuple[TcbInfo, ...]:
        """Every TCB Info for ``fmspc``, newest evaluation data number first (the verifier
        uses the first one whose signature and window check out, and reports the others)."""
        return tuple(sorted((t for t in self.tcb_infos if t.fmspc == fmspc),
                            key=lambda t: -t.evaluation_number))


# --- exact member bytes ----------------------------------------------------------------


def _member_span(text: str, key: str) -> tuple[int, int] | None:
    """Character span of the value of top-level ``key`` in a JSON object, exactly as written."""
    decoder = json.JSONDecoder()
    ws = " \t\r\n"
    i = 0
    while i < len(text) and text[i] in ws:
        i += 1
    if i >= len(text) or text[i] != "{":
        return None
    i += 1
    while True:
        while i < len(text) and text[i] in ws + ",":
            i += 1
        if i >= len(text) or text[i] == "}":
            return None
        name, i = decoder.raw_decode(text, i)
        while i < len(text) and text[i] in ws:
            i += 1
        if i >= len(text) or text[i] != ":":
            return None
        i += 1
        while i < len(text) and text[i] in ws:
            i += 1
        _value, end = decoder.raw_decode(text, i)
        if name == key:
            return i, end
        i = end


def _signed(raw: bytes, doc: dict[str, Any], key: str, source: str) -> SignedJson:
    text = raw.decode("utf-8")
    span = _member_span(text, key)
    if span is None:
        raise InputError(f"cannot locate the {key!r} member", path=source)
    sig_hex = doc.get("signature")
    try:
        sig = bytes.fromhex(sig_hex) if isinstance(sig_hex, str) else b""
    except ValueError:
        sig = b""
    if len(sig) != 64:
        raise InputError("'signature' must be 64 bytes of hex (r||s)", path=source)
    # Character offsets -> byte offsets (the body may contain non-ASCII in principle).
    start = len(text[: span[0]].encode("utf-8"))
    end = start + len(text[span[0] : span[1]].encode("utf-8"))
    return SignedJson(source, raw[start:end], sig)


# --- typed field access with InputError naming the field -------------------------------


class _Fields:
    def __init__(self, obj: Any, where: str, source: str) -> None:
        if not isinstance(obj, dict):
            raise InputError(f"{where} must be an object", path=source)
        self.obj, self.where, self.source = obj, where, source

    def err(self, key: str, what: str) -> InputError:
        return InputError(f"{self.where}.{key}: expected {what}", path=self.source)

    def integer(self, key: str) -> int:
        v = self.obj.get(key)
        if isinstance(v, bool) or not isinstance(v, int):
            raise self.err(key, "an integer")
        return v

    def string(self, key: str, default: str | None = None) -> str:
        v = self.obj.get(key, default)
        if not isinstance(v, str):
            raise self.err(key, "a string")
        return v

    def hexbytes(self, key: str, size: int | None = None) -> bytes:
        try:
            b = bytes.fromhex(self.string(key))
        except ValueError:
            raise self.err(key, "hex") from None
        if size is not None and len(b) != size:
            raise self.err(key, f"{size} bytes of hex")
        return b

    def when(self, key: str) -> datetime:
        try:
            t = datetime.fromisoformat(self.string(key).replace("Z", "+00:00"))
        except ValueError:
            raise self.err(key, "an ISO 8601 time") from None
        if t.tzinfo is None:
            raise self.err(key, "a time with a zone")
        return t

    def array(self, key: str) -> list[Any]:
        v = self.obj.get(key, [])
        if not isinstance(v, list):
            raise self.err(key, "an array")
        return v

    def sub(self, key: str) -> _Fields:
        return _Fields(self.obj.get(key), f"{self.where}.{key}", self.source)


def _svns(items: list[Any], where: str, source: str) -> tuple[int, ...]:
    if len(items) != 16:
        raise InputError(f"{where}: expected 16 components, found {len(items)}", path=source)
    return tuple(_Fields(c, where, source).integer("svn") for c in items)


def _advisories(f: _Fields) -> tuple[str, ...]:
    return tuple(str(a) for a in f.array("advisoryIDs"))


def _isv_levels(f: _Fields) -> tuple[IsvLevel, ...]:
    out = []
    for i, lv in enumerate(f.array("tcbLevels")):
        lf = _Fields(lv, f"{f.where}.tcbLevels[{i}]", f.source)
        out.append(IsvLevel(lf.sub("tcb").integer("isvsvn"), lf.string("tcbStatus"),
                            lf.string("tcbDate", ""), _advisories(lf)))
    return tuple(out)


def parse_tcb_info(raw: bytes, *, source: str) -> TcbInfo:
    doc = _load_json(raw, source)
    signed = _signed(raw, doc, "tcbInfo", source)
    # Fields come from the signed bytes themselves, so what is evaluated is what was signed.
    f = _Fields(_load_json(signed.body, source), "tcbInfo", source)
    levels = []
    for i, lv in enumerate(f.array("tcbLevels")):
        lf = _Fields(lv, f"tcbInfo.tcbLevels[{i}]", source)
        tcb = lf.sub("tcb")
        levels.append(TcbLevel(
            sgx_components=_svns(tcb.array("sgxtcbcomponents"), tcb.where, source),
            pcesvn=tcb.integer("pcesvn"),
            tdx_components=_svns(tcb.array("tdxtcbcomponents"), tcb.where, source),
            status=lf.string("tcbStatus"), date=lf.string("tcbDate", ""), advisory_ids=_advisories(lf),
        ))
    modules = []
    for i, m in enumerate(f.array("tdxModuleIdentities")):
        mf = _Fields(m, f"tcbInfo.tdxModuleIdentities[{i}]", source)
        modules.append(ModuleIdentity(
            id=mf.string("id").upper(), mrsigner=mf.hexbytes("mrsigner", 48),
            attributes=int.from_bytes(mf.hexbytes("attributes", 8), "big"),
            attributes_mask=int.from_bytes(mf.hexbytes("attributesMask", 8), "big"),
            levels=_isv_levels(mf),
        ))
    module = f.sub("tdxModule")
    return TcbInfo(
        signed=signed, id=f.string("id"), version=f.integer("version"),
        issue_date=f.when("issueDate"), next_update=f.when("nextUpdate"),
        fmspc=f.hexbytes("fmspc", 6), pce_id=f.hexbytes("pceId", 2),
        evaluation_number=f.integer("tcbEvaluationDataNumber"),
        module_mrsigner=module.hexbytes("mrsigner", 48),
        module_attributes=int.from_bytes(module.hexbytes("attributes", 8), "big"),
        module_attributes_mask=int.from_bytes(module.hexbytes("attributesMask", 8), "big"),
        module_identities=tuple(modules), levels=tuple(levels),
    )


def parse_qe_identity(raw: bytes, *, source: str) -> QeIdentity:
    doc = _load_json(raw, source)
    signed = _signed(raw, doc, "enclaveIdentity", source)
    f = _Fields(_load_json(signed.body, source), "enclaveIdentity", source)
    return QeIdentity(
        signed=signed, id=f.string("id"), version=f.integer("version"),
        issue_date=f.when("issueDate"), next_update=f.when("nextUpdate"),
        evaluation_number=f.integer("tcbEvaluationDataNumber"),
        miscselect=int.from_bytes(f.hexbytes("miscselect", 4), "big"),
        miscselect_mask=int.from_bytes(f.hexbytes("miscselectMask", 4), "big"),
        attributes=f.hexbytes("attributes", 16), attributes_mask=f.hexbytes("attributesMask", 16),
        mrsigner=f.hexbytes("mrsigner", 32), isvprodid=f.integer("isvprodid"), levels=_isv_levels(f),
    )


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in pairs:
        if k in out:  # a second copy could hide behind the signed one
            raise ValueError(f"duplicate key {k!r}")
        out[k] = v
    return out


def _load_json(raw: bytes, source: str) -> dict[str, Any]:
    try:
        doc = json.loads(raw.decode("utf-8"), object_pairs_hook=_no_duplicates)
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 (byte {exc.start})", path=source) from None
    except json.JSONDecodeError as exc:
        raise InputError(f"invalid JSON: {exc.msg}", path=source, where=f"line {exc.lineno}") from None
    except (ValueError, RecursionError) as exc:
        raise InputError(f"invalid JSON: {exc}", path=source) from None
    if not isinstance(doc, dict):
        raise InputError("expected a JSON object", path=source)
    return doc


def load_collateral_dir(directory: str) -> Collateral:
    """Read and classify every regular file in ``directory`` (not recursive)."""
    try:
        names = sorted(os.listdir(directory))
    except OSError as exc:
        raise InputError(f"cannot read collateral directory: {exc.strerror or exc}",
                         path=directory) from None
    tcb_infos: list[TcbInfo] = []
    qe: QeIdentity | None = None
    chain: tuple[x509.Certificate, ...] | None = None
    root_crl = None
    pck_crls = []
    skipped: list[tuple[str, str]] = []
    for name in names:
        path = os.path.join(directory, name)
        if not os.path.isfile(path):
            skipped.append((path, "not a regular file"))
            continue
        if os.path.getsize(path) > MAX_COLLATERAL_FILE:
            skipped.append((path, f"larger than {MAX_COLLATERAL_FILE} bytes"))
            continue
        raw = files.read_input(path, files.COLLATERAL)
        if raw.startswith(b"\xef\xbb\xbf"):
            skipped.append((path, "starts with a UTF-8 byte-order mark (save it without one)"))
            continue
        head = raw.lstrip()[:64]
        if head.startswith(b"{"):
            if b'"tcbInfo"' in raw:
                tcb_infos.append(parse_tcb_info(raw, source=path))
            elif b'"enclaveIdentity"' in raw:
                if qe is not None:
                    raise InputError("more than one QE Identity in the directory", path=path)
                qe = parse_qe_identity(raw, source=path)
            else:
                skipped.append((path, "JSON without tcbInfo or enclaveIdentity"))
        elif head.startswith(b"-----BEGIN CERTIFICATE"):
            certs = pck.load_pem_chain(raw, source=path)
            try:  # loaded once, so decode every lazily parsed field now (errors are input errors)
                _ = [(c.subject, c.issuer, c.serial_number, c.not_valid_before_utc,
                      c.not_valid_after_utc) for c in certs]
                first_cn = pck.subject_cn(certs[0])
            except pck.CERT_ERRORS as exc:
                raise InputError(f"malformed certificate: {exc}", path=path) from None
            if first_cn == pck.TCB_SIGNING_CN:
                if chain is not None and chain != certs:
                    raise InputError("two different TCB Signing issuer chains", path=path)
                chain = certs
            elif any(pck.subject_cn(c) == pck.TCB_SIGNING_CN for c in certs[1:]):
                skipped.append((path, "certificate chain in the wrong order: the TCB Signing "
                                      "certificate must come first, then the root"))
            else:
                skipped.append((path, f"certificates, but not a TCB Signing chain (first: "
                                      f"{first_cn!r})"))
        elif head.startswith(b"-----BEGIN X509 CRL") or head[:1] == b"\x30":
            try:
                crl = pck.load_crl(raw, source=path)
            except InputError:
                if head[:1] == b"\x30":  # binary that is not a CRL (e.g. a quote)
                    skipped.append((path, "DER that is not a CRL"))
                    continue
                raise
            if pck.common_name(crl.issuer) == pck.ROOT_CN:
                root_crl = crl
            else:
                pck_crls.append(crl)
        else:
            skipped.append((path, "not collateral (neither JSON, PEM nor DER)"))
    return Collateral(directory, tuple(tcb_infos), qe, chain, root_crl, tuple(pck_crls),
                      tuple(skipped))


@lru_cache(maxsize=64)
def signature_valid(body: bytes, signature: bytes, signer: x509.Certificate) -> bool:
    """ECDSA P-256/SHA-256 over ``body``; cached because warm collateral is verified once."""
    key = signer.public_key()
    if not isinstance(key, ec.EllipticCurvePublicKey) or len(signature) != 64:
        return False
    der = encode_dss_signature(int.from_bytes(signature[:32], "big"),
                               int.from_bytes(signature[32:], "big"))
    try:
        key.verify(der, body, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        return False
    return True
