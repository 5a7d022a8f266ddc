"""Intel TDX quote v4 / v5 parser (TDX 1.0 and 1.5 TD report bodies).

Layouts follow Intel DCAP's sgx_quote_4.h / sgx_quote_5.h and the Intel TDX DCAP Quoting Library
API specification (quote format appendix). Every multi-byte integer is
little-endian; the signatures inside are big-endian r||s. The parser keeps the raw bytes of
every signed region so that verification hashes exactly what was signed, never a
re-serialisation. Any structural problem raises ``InputError`` naming the offset.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from cocoscope.errors import InputError
from cocoscope.evidence import files

HEADER_SIZE = 48
TDX10_BODY_SIZE = 584
TDX15_BODY_SIZE = 648
QE_REPORT_SIZE = 384
ECDSA_SIG_SIZE = 64
ECDSA_KEY_SIZE = 64

TEE_TYPE_TDX = 0x81
ATT_KEY_ECDSA_P256 = 2
CERT_DATA_QE_REPORT = 6
CERT_DATA_PCK_CHAIN = 5
# v5 body types: 1 = SGX enclave report, 2 = TDX 1.0 TD report, 3 = TDX 1.5 TD report.
BODY_TYPE_TDX10 = 2
BODY_TYPE_TDX15 = 3
INTEL_QE_VENDOR_ID = bytes.fromhex("939a7233f79c4ca9940a0db3957f0607")

# Refuse absurd inputs early; real quotes are 5-8 KiB.
MAX_QUOTE_SIZE = 1 << 20


@dataclass(frozen=True)
class QuoteHeader:
    version: int
    att_key_type: int
    tee_type: int
    reserved: bytes  # 4 bytes; qe_svn/pce_svn in SGX v3, unused in v4/v5
    qe_vendor_id: bytes
    user_data: bytes


@dataclass(frozen=True)
class TdReportBody:
    """The TD report body (sgx_report2_body_t / _v1_5_t) that the quote signs."""

    tee_tcb_svn: bytes  # 16 bytes; [0] module minor SVN, [1] module major version
    mrseam: bytes
    mrsignerseam: bytes
    seam_attributes: int
    td_attributes: int
    xfam: int
    mrtd: bytes
    mrconfigid: bytes
    mrowner: bytes
    mrownerconfig: bytes
    rtmrs: tuple[bytes, bytes, bytes, bytes]
    report_data: bytes
    tee_tcb_svn2: bytes | None = None  # TDX 1.5 only
    mrservicetd: bytes | None = None  # TDX 1.5 only


@dataclass(frozen=True)
class QeReport:
    """SGX REPORT body of the quoting enclave (384 bytes)."""

    raw: bytes
    cpu_svn: bytes
    misc_select: int
    attributes: bytes  # 16 bytes: flags || xfrm
    mrenclave: bytes
    mrsigner: bytes
    isv_prod_id: int
    isv_svn: int
    report_data: bytes


@dataclass(frozen=True)
class SignatureData:
    quote_signature: bytes  # r||s big-endian
    attestation_key: bytes  # raw X||Y of the P-256 attestation key
    qe_report: QeReport
    qe_report_signature: bytes
    qe_auth_data: bytes
    pck_chain_pem: bytes  # leaf, intermediate, root as concatenated PEM


@dataclass(frozen=True)
class Quote:
    header: QuoteHeader
    body_type: int  # BODY_TYPE_TDX10 for v4 quotes
    body: TdReportBody
    signature: SignatureData
    signed_bytes: bytes  # header || (v5 type, size) || body: what the attestation key signed
    trailing: bytes  # bytes after the declared signature data; not signed, reported
    size: int

    @property
    def tdx_version(self) -> str:
        return "1.5" if self.body_type == BODY_TYPE_TDX15 else "1.0"


class _Reader:
    """Bounds-checked cursor over the quote; errors carry the absolute offset."""

    def __init__(self, data: bytes, source: str) -> None:
        self.data = data
        self.source = source
        self.pos = 0

    def fail(self, message: str, at: int | None = None) -> InputError:
        off = self.pos if at is None else at
        return InputError(message, path=self.source, where=f"offset {off:#x}")

    def take(self, n: int, what: str) -> bytes:
        if n < 0 or self.pos + n > len(self.data):
            raise self.fail(
                f"truncated quote: {what} needs {n} bytes, {len(self.data) - self.pos} left"
            )
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk

    def u16(self, what: str) -> int:
        value: int = struct.unpack("<H", self.take(2, what))[0]
        return value

    def u32(self, what: str) -> int:
        value: int = struct.unpack("<I", self.take(4, what))[0]
        return value


def _u64(b: bytes) -> int:
    return int.from_bytes(b, "little")


def _parse_header(r: _Reader) -> QuoteHeader:
    version = r.u16("header.version")
    if version not in (4, 5):
        raise r.fail(f"unsupported quote version {version} (expected 4 or 5)", 0)
    att_key_type = r.u16("header.att_key_type")
    if att_key_type != ATT_KEY_ECDSA_P256:
        raise r.fail(f"attestation key type {att_key_type} is not ECDSA P-256 (2)", 2)
    tee_type = r.u32("header.tee_type")
    if tee_type != TEE_TYPE_TDX:
        raise r.fail(f"TEE type {tee_type:#x} is not TDX (0x81)", 4)
    reserved = r.take(4, "header.reserved")
    vendor = r.take(16, "header.qe_vendor_id")
    user = r.take(20, "header.user_data")
    return QuoteHeader(version, att_key_type, tee_type, reserved, vendor, user)


def parse_body(raw: bytes, body_type: int = BODY_TYPE_TDX10) -> TdReportBody:
    """Decode a TD report body; ``raw`` must have the size that ``body_type`` implies."""
    expected = TDX15_BODY_SIZE if body_type == BODY_TYPE_TDX15 else TDX10_BODY_SIZE
    if len(raw) != expected:
        raise ValueError(f"TD report body of type {body_type} is {expected} bytes, got {len(raw)}")
    rtmr = tuple(raw[0x148 + 48 * i : 0x178 + 48 * i] for i in range(4))
    return TdReportBody(
        tee_tcb_svn=raw[0x000:0x010],
        mrseam=raw[0x010:0x040],
        mrsignerseam=raw[0x040:0x070],
        seam_attributes=_u64(raw[0x070:0x078]),
        td_attributes=_u64(raw[0x078:0x080]),
        xfam=_u64(raw[0x080:0x088]),
        mrtd=raw[0x088:0x0B8],
        mrconfigid=raw[0x0B8:0x0E8],
        mrowner=raw[0x0E8:0x118],
        mrownerconfig=raw[0x118:0x148],
        rtmrs=(rtmr[0], rtmr[1], rtmr[2], rtmr[3]),
        report_data=raw[0x208:0x248],
        tee_tcb_svn2=raw[0x248:0x258] if body_type == BODY_TYPE_TDX15 else None,
        mrservicetd=raw[0x258:0x288] if body_type == BODY_TYPE_TDX15 else None,
    )


def parse_qe_report(raw: bytes) -> QeReport:
    return QeReport(
        raw=raw,
        cpu_svn=raw[0:16],
        misc_select=int.from_bytes(raw[16:20], "little"),
        attributes=raw[48:64],
        mrenclave=raw[64:96],
        mrsigner=raw[128:160],
        isv_prod_id=int.from_bytes(raw[256:258], "little"),
        isv_svn=int.from_bytes(raw[258:260], "little"),
        report_data=raw[320:384],
    )


def _parse_signature_data(r: _Reader, end: int) -> SignatureData:
    sig = r.take(ECDSA_SIG_SIZE, "quote signature")
    key = r.take(ECDSA_KEY_SIZE, "attestation key")
    cert_type_at = r.pos
    cert_type = r.u16("certification data type")
    if cert_type != CERT_DATA_QE_REPORT:
        raise r.fail(
            f"certification data type {cert_type} is not 6 (QE report certification data)",
            cert_type_at,
        )
    outer_size = r.u32("certification data size")
    outer_end = r.pos + outer_size
    if outer_end > end:
        raise r.fail(f"certification data size {outer_size} runs past the signature data")
    qe_raw = r.take(QE_REPORT_SIZE, "QE report")
    qe_sig = r.take(ECDSA_SIG_SIZE, "QE report signature")
    auth_size = r.u16("QE auth data size")
    auth = r.take(auth_size, "QE auth data")
    inner_type_at = r.pos
    inner_type = r.u16("PCK certification data type")
    if inner_type != CERT_DATA_PCK_CHAIN:
        raise r.fail(
            f"inner certification data type {inner_type} is not 5 (PCK certificate chain)",
            inner_type_at,
        )
    chain_size = r.u32("PCK certificate chain size")
    if r.pos + chain_size > outer_end:
        raise r.fail(f"PCK certificate chain size {chain_size} runs past the certification data")
    chain = r.take(chain_size, "PCK certificate chain")
    # Some generators pad the chain with NULs up to the declared size; PEM parsing copes.
    return SignatureData(sig, key, parse_qe_report(qe_raw), qe_sig, auth, chain)


# TD_ATTRIBUTES bits by name: Intel TDX Module ABI specification (TD_ATTRIBUTES), spelled as
# Linux arch/x86/include/asm/shared/tdx.h (TDX_ATTR_*_BIT, 6.14 and later) spells them.
TD_ATTRIBUTE_BITS = {0: "DEBUG", 4: "HGS_PLUS_PROF", 5: "PERF_PROF", 6: "PMT_PROF",
                     16: "ICSSD", 27: "LASS", 28: "SEPT_VE_DISABLE", 29: "MIGRATABLE",
                     30: "PKS", 31: "KL", 62: "TPA", 63: "PERFMON"}


def td_attribute_names(value: int) -> list[str]:
    """The set TD_ATTRIBUTES bits by name (an unnamed bit as "bit N"), lowest first."""
    return [TD_ATTRIBUTE_BITS.get(n, f"bit {n}") for n in range(64) if value >> n & 1]


def is_tdx_quote(data: bytes) -> bool:
    """Cheap sniff for callers that accept several evidence types: version 4/5, ECDSA P-256
    attestation key, TEE type TDX. Parsing may still fail; this only routes."""
    return (len(data) >= HEADER_SIZE and data[0:2] in (b"\x04\x00", b"\x05\x00")
            and data[2:4] == b"\x02\x00" and data[4:8] == b"\x81\x00\x00\x00")


def parse_quote(data: bytes, *, source: str = "<quote>") -> Quote:
    """Parse a TDX quote (v4, or v5 with a TDX 1.0 or 1.5 body).

    Bytes after the declared signature data are tolerated (real quotes carry 39+ of them) and
    returned in ``Quote.trailing``; they are not covered by any signature.
    """
    if len(data) > MAX_QUOTE_SIZE:
        raise InputError(f"quote is larger than {MAX_QUOTE_SIZE} bytes", path=source)
    r = _Reader(bytes(data), source)
    header = _parse_header(r)
    if header.version == 4:
        body_type = BODY_TYPE_TDX10
        body_raw = r.take(TDX10_BODY_SIZE, "TD report body")
    else:
        type_at = r.pos
        body_type = r.u16("body type")
        if body_type not in (BODY_TYPE_TDX10, BODY_TYPE_TDX15):
            raise r.fail(f"quote v5 body type {body_type} is not a TD report (2 or 3)", type_at)
        size_at = r.pos
        body_size = r.u32("body size")
        want = TDX15_BODY_SIZE if body_type == BODY_TYPE_TDX15 else TDX10_BODY_SIZE
        if body_size != want:
            raise r.fail(f"body type {body_type} needs body size {want}, got {body_size}", size_at)
        body_raw = r.take(body_size, "TD report body")
    signed_end = r.pos
    sig_len = r.u32("signature data length")
    sig_start = r.pos
    end = sig_start + sig_len
    if end > len(r.data):
        raise r.fail(
            f"signature data length {sig_len} exceeds the {len(r.data) - sig_start} bytes left",
            sig_start - 4,
        )
    signature = _parse_signature_data(r, end)
    if r.pos > end:
        raise r.fail(f"signature data overruns its declared length {sig_len}", sig_start - 4)
    return Quote(
        header=header,
        body_type=body_type,
        body=parse_body(body_raw, body_type),
        signature=signature,
        signed_bytes=r.data[:signed_end],
        trailing=r.data[end:],
        size=len(r.data),
    )


@dataclass(frozen=True)
class QuoteEvidence:
    """A quote as the verifier takes it: parsed, with the file it came from (for messages)."""

    path: str
    quote: Quote


def load_evidence(path: str) -> QuoteEvidence:
    data = files.read_input(path, files.QUOTE)
    return QuoteEvidence(path, parse_quote(data, source=path))
