"""Report files as they arrive: raw, hex text, Azure HCL-wrapped; and the extended-report
certificate table.

Azure confidential VMs hand out the SNP report inside an HCL attestation report: a 32-byte
header starting with ``HCLA``, the hardware report at 0x20 (1184 bytes), then IGVM request data
whose ``variable_data`` (runtime claims JSON, holding the vTPM key) is bound to the report by
REPORT_DATA[0:32] == SHA-256(variable_data). The binding is what makes the runtime claims
trustworthy, so it is recorded here and checked by the verifier, never assumed.
"""

from __future__ import annotations

import hashlib
import string
import uuid
from dataclasses import dataclass

from cocoscope.attest.snp.report import REPORT_SIZE, AttestationReport, parse_report
from cocoscope.errors import InputError
from cocoscope.evidence import files

HCL_MAGIC = b"HCLA"
HCL_HEADER_SIZE = 0x20
HCL_HW_REPORT_AREA = 1184  # sized for the larger of the SNP report and the TDX TDREPORT
IGVM_REQUEST_OFFSET = HCL_HEADER_SIZE + HCL_HW_REPORT_AREA  # 0x4C0
IGVM_REQUEST_FIXED = 20
IGVM_REPORT_TYPE_SNP = 2
IGVM_REPORT_TYPE_TDX = 4
_IGVM_HASHES = {1: ("sha256", 32), 2: ("sha384", 48), 3: ("sha512", 64)}

# Extended-report certificate table GUIDs (GHCB spec; go-sev-guest abi.go).
CERT_GUIDS = {
    uuid.UUID("63da758d-e664-4564-adc5-f4b93be8accd"): "vcek",
    uuid.UUID("a8074bc2-a25a-483e-aae6-39c045a0b8a1"): "vlek",
    uuid.UUID("4ab7b379-bbac-4fe4-a02f-05aef327c782"): "ask",
    uuid.UUID("c0b406a4-a803-4952-9743-3fb6014cd0ae"): "ark",
    uuid.UUID("ecae0c0f-9502-43b1-afa2-0ae2e0d565b6"): "extra-platform-info",
}
_CERT_ENTRY = 24


@dataclass(frozen=True)
class HclRuntimeData:
    """The IGVM request data that follows the hardware report in an HCL report."""

    header_version: int
    request_type: int
    status: int
    report_type: int
    hash_type: int
    variable_data: bytes

    def binding(self, report: AttestationReport) -> tuple[bool, str]:
        """Is ``variable_data`` bound to REPORT_DATA? (ok, human-readable reason)."""
        algo = _IGVM_HASHES.get(self.hash_type)
        if algo is None:
            return False, f"unknown report_data_hash_type {self.hash_type}"
        name, size = algo
        digest = hashlib.new(name, self.variable_data).digest()
        if digest == report.report_data[:size]:
            return True, f"{name}(variable_data) == REPORT_DATA[0:{size}]"
        return False, (f"{name}(variable_data) {digest.hex()} != REPORT_DATA[0:{size}] "
                       f"{report.report_data[:size].hex()}")


@dataclass(frozen=True)
class ReportEvidence:
    path: str
    form: str  # "raw", "hex", "hcl"
    report: AttestationReport
    hcl: HclRuntimeData | None = None


@dataclass(frozen=True)
class CertTableEntry:
    guid: uuid.UUID
    offset: int
    data: bytes

    @property
    def kind(self) -> str:
        return CERT_GUIDS.get(self.guid, "unknown")


def _u32(b: bytes, o: int) -> int:
    return int.from_bytes(b[o:o + 4], "little")


_HEX = frozenset((string.hexdigits + string.whitespace).encode())


def _unhex(data: bytes, path: str) -> bytes | None:
    """Decode hex text (whitespace allowed, optional 0x); None if ``data`` is not hex text."""
    text = data.strip()
    text = text.removeprefix(b"0x")
    if not text or not all(c in _HEX for c in text):
        return None
    try:
        return bytes.fromhex(text.decode("ascii"))
    except ValueError:
        raise InputError("hex report has an odd number of digits", path=path) from None


def parse_hcl(data: bytes, *, path: str) -> ReportEvidence:
    if len(data) < IGVM_REQUEST_OFFSET + IGVM_REQUEST_FIXED:
        raise InputError(f"HCL report truncated: {len(data)} bytes, need at least "
                         f"{IGVM_REQUEST_OFFSET + IGVM_REQUEST_FIXED}", path=path)
    o = IGVM_REQUEST_OFFSET
    report_type = _u32(data, o + 8)
    if report_type == IGVM_REPORT_TYPE_TDX:
        raise InputError("HCL report carries a TDX report, not an SEV-SNP report", path=path,
                         where=f"offset {o + 8:#x}")
    if report_type != IGVM_REPORT_TYPE_SNP:
        raise InputError(f"HCL report type {report_type} is not SNP ({IGVM_REPORT_TYPE_SNP})",
                         path=path, where=f"offset {o + 8:#x}")
    var_size = _u32(data, o + 16)
    start = o + IGVM_REQUEST_FIXED
    if start + var_size > len(data):
        raise InputError(f"HCL variable data ({var_size} bytes) runs past the end of the file",
                         path=path, where=f"offset {o + 16:#x}")
    hcl = HclRuntimeData(
        header_version=_u32(data, 4), request_type=_u32(data, 12), status=_u32(data, 16),
        report_type=report_type, hash_type=_u32(data, o + 12),
        variable_data=bytes(data[start:start + var_size]),
    )
    report = parse_report(data[HCL_HEADER_SIZE:HCL_HEADER_SIZE + REPORT_SIZE], path=path,
                          base=HCL_HEADER_SIZE)
    return ReportEvidence(path, "hcl", report, hcl)


def parse_evidence(data: bytes, *, path: str = "<report>") -> ReportEvidence:
    """Recognise a raw report, hex text of one, or an Azure HCL report (raw or hex)."""
    form = "raw"
    if len(data) != REPORT_SIZE and not data.startswith(HCL_MAGIC):
        decoded = _unhex(data, path)
        if decoded is None:
            raise InputError(f"not an SEV-SNP report: {len(data)} bytes, expected {REPORT_SIZE} "
                             "raw bytes, hex text, or an HCL report starting with 'HCLA'",
                             path=path)
        data, form = decoded, "hex"
    if data.startswith(HCL_MAGIC):
        ev = parse_hcl(data, path=path)
        return ev if form == "raw" else ReportEvidence(path, "hcl-hex", ev.report, ev.hcl)
    return ReportEvidence(path, form, parse_report(data, path=path))


def load_evidence(path: str) -> ReportEvidence:
    return parse_evidence(files.read_input(path, files.REPORT), path=path)


def looks_like_cert_table(data: bytes) -> bool:
    return len(data) >= _CERT_ENTRY and uuid.UUID(bytes=bytes(data[:16])) in CERT_GUIDS


def parse_cert_table(data: bytes, *, path: str = "<certs>") -> tuple[CertTableEntry, ...]:
    """Entries of {GUID(16), offset u32, length u32}, ended by an all-zero entry.

    GUIDs are stored as raw 16 bytes in RFC 4122 (big-endian) order, as the kernel copies them.
    """
    entries: list[CertTableEntry] = []
    pos = 0
    while True:
        if pos + _CERT_ENTRY > len(data):
            raise InputError("certificate table has no terminating all-zero entry", path=path,
                             where=f"offset {pos:#x}")
        head = data[pos:pos + _CERT_ENTRY]
        if not any(head):
            break
        guid = uuid.UUID(bytes=bytes(head[:16]))
        off, length = _u32(head, 16), _u32(head, 20)
        if off < pos + _CERT_ENTRY or off + length > len(data):
            raise InputError(f"certificate table entry {guid} points outside the blob "
                             f"(offset {off:#x}, length {length})", path=path,
                             where=f"offset {pos:#x}")
        entries.append(CertTableEntry(guid, off, bytes(data[off:off + length])))
        pos += _CERT_ENTRY
    return tuple(entries)
