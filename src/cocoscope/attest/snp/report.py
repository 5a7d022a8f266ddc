"""ATTESTATION_REPORT (versions 2-5): typed, immutable parse of the 1184 raw bytes.

Layout: AMD SEV Secure Nested Paging Firmware ABI Specification (publication 56860), Table
"ATTESTATION_REPORT Structure".
The record keeps the raw bytes: the signature is checked over ``raw[0x000:0x2A0]`` exactly as
received, never over a re-serialised struct (a re-encoder silently normalises reserved bytes).
Structural problems that make the layout meaningless (wrong size, unknown version) are input
errors; everything a verifier judges (MBZ bytes, signature algorithm, signing key) is recorded
here and checked by ``verify.py`` so ``show`` can still display an odd report.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from cocoscope.attest.snp.product import Product, TcbVersion, decode_tcb, product_from_cpuid
from cocoscope.errors import InputError

REPORT_SIZE = 0x4A0
SIGNED_END = 0x2A0  # the signature covers report[0x000:0x2A0]
SUPPORTED_VERSIONS = (2, 3, 4, 5)
ECDSA_P384_SHA384 = 1

# Reserved ranges that must be zero, by version (byte offsets, end exclusive).
_MBZ_COMMON = ((0x04C, 0x050), (0x18B, 0x1A0), (0x1EB, 0x1EC), (0x1EF, 0x1F0), (0x208, 0x2A0))
_MBZ_V2_EXTRA = ((0x188, 0x18B),)  # CPUID fields arrive with v3
_MBZ_PRE_V5 = ((0x1F8, 0x208),)  # mitigation vectors arrive with v5
_SIG_R, _SIG_S, _SIG_MBZ = 0x2A0, 0x2E8, 0x330


class SigningKey(IntEnum):
    VCEK = 0
    VLEK = 1
    NONE = 7


@dataclass(frozen=True)
class GuestPolicy:
    """The POLICY field (0x008): what the guest owner required at launch."""

    raw: int
    abi_minor: int
    abi_major: int
    smt: bool
    reserved_must_be_one: bool  # bit 17
    migrate_ma: bool
    debug: bool
    single_socket: bool
    cxl_allow: bool
    mem_aes_256_xts: bool
    rapl_dis: bool
    ciphertext_hiding_dram: bool
    page_swap_disable: bool
    reserved_high: int  # bits 63:26, must be zero

    @property
    def flags(self) -> list[str]:
        """The set policy bits by name (ABI spec, Table "GUEST_POLICY"), and the ABI minimum."""
        names = ("smt", "migrate_ma", "debug", "single_socket", "cxl_allow", "mem_aes_256_xts",
                 "rapl_dis", "ciphertext_hiding_dram", "page_swap_disable")
        return [f"ABI>={self.abi_major}.{self.abi_minor}",
                *(n.upper() for n in names if getattr(self, n))]

    @classmethod
    def decode(cls, v: int) -> GuestPolicy:
        def bit(n: int) -> bool:
            return bool(v >> n & 1)

        return cls(v, v & 0xFF, v >> 8 & 0xFF, bit(16), bit(17), bit(18), bit(19), bit(20),
                   bit(21), bit(22), bit(23), bit(24), bit(25), v >> 26)


@dataclass(frozen=True)
class PlatformInfo:
    """PLATFORM_INFO (0x040): how the host platform was configured."""

    raw: int
    smt_en: bool
    tsme_en: bool
    ecc_en: bool
    rapl_dis: bool
    ciphertext_hiding_dram_en: bool
    alias_check_complete: bool
    tio_en: bool

    @property
    def flags(self) -> list[str]:
        """The set PLATFORM_INFO bits by name."""
        names = ("smt_en", "tsme_en", "ecc_en", "rapl_dis", "ciphertext_hiding_dram_en",
                 "alias_check_complete", "tio_en")
        return [n.upper() for n in names if getattr(self, n)]

    @classmethod
    def decode(cls, v: int) -> PlatformInfo:
        return cls(v, *(bool(v >> n & 1) for n in (0, 1, 2, 3, 4, 5, 7)))


@dataclass(frozen=True)
class KeyInfo:
    """The signer-info word at 0x048."""

    raw: int
    author_key_en: bool
    mask_chip_key: bool
    signing_key: int  # 0 VCEK, 1 VLEK, 7 none; 2-6 reserved
    reserved: int  # bits 31:5, must be zero

    @classmethod
    def decode(cls, v: int) -> KeyInfo:
        return cls(v, bool(v & 1), bool(v >> 1 & 1), v >> 2 & 7, v >> 5)


@dataclass(frozen=True)
class FirmwareVersion:
    major: int
    minor: int
    build: int

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}.{self.build}"

    def as_tuple(self) -> tuple[int, int, int]:
        return (self.major, self.minor, self.build)


@dataclass(frozen=True)
class AttestationReport:
    raw: bytes
    version: int
    guest_svn: int
    policy: GuestPolicy
    family_id: bytes
    image_id: bytes
    vmpl: int
    signature_algo: int
    current_tcb_raw: bytes
    platform_info: PlatformInfo
    key_info: KeyInfo
    report_data: bytes
    measurement: bytes
    host_data: bytes
    id_key_digest: bytes
    author_key_digest: bytes
    report_id: bytes
    report_id_ma: bytes
    reported_tcb_raw: bytes
    cpuid_fam_id: int | None  # v3+
    cpuid_mod_id: int | None
    cpuid_step: int | None
    chip_id: bytes
    committed_tcb_raw: bytes
    current_fw: FirmwareVersion
    committed_fw: FirmwareVersion
    launch_tcb_raw: bytes
    launch_mit_vector: int | None  # v5
    current_mit_vector: int | None
    signature_r: int
    signature_s: int

    @property
    def signed_bytes(self) -> bytes:
        return self.raw[:SIGNED_END]

    @property
    def chip_id_masked(self) -> bool:
        return not any(self.chip_id)

    @property
    def turin_like_chip_id(self) -> bool:
        """Only the first 8 CHIP_ID bytes are set: how Turin+ reports look."""
        return any(self.chip_id[:8]) and not any(self.chip_id[8:])

    def cpuid_product(self) -> Product | None:
        if self.cpuid_fam_id is None or self.cpuid_mod_id is None:
            return None
        return product_from_cpuid(self.cpuid_fam_id, self.cpuid_mod_id)

    def tcb(self, which: str, product: Product) -> TcbVersion:
        """Decode ``current``, ``reported``, ``committed`` or ``launch`` TCB for ``product``."""
        raw: bytes = getattr(self, f"{which}_tcb_raw")
        return decode_tcb(raw, product)

    def nonzero_reserved(self) -> list[tuple[int, int]]:
        """Reserved (MBZ) ranges of this version that hold a non-zero byte."""
        ranges = list(_MBZ_COMMON)
        if self.version < 3:
            ranges += _MBZ_V2_EXTRA
        if self.version < 5:
            ranges += _MBZ_PRE_V5
        ranges.append((_SIG_MBZ, REPORT_SIZE))
        return [(a, b) for a, b in ranges if any(self.raw[a:b])]


def _u32(b: bytes, o: int) -> int:
    return int.from_bytes(b[o:o + 4], "little")


def _u64(b: bytes, o: int) -> int:
    return int.from_bytes(b[o:o + 8], "little")


def parse_report(data: bytes, *, path: str = "<report>", base: int = 0) -> AttestationReport:
    """Parse exactly one raw report; ``base`` is its offset inside ``path`` (for messages)."""
    if len(data) != REPORT_SIZE:
        raise InputError(f"an SEV-SNP report is {REPORT_SIZE} bytes, got {len(data)}", path=path)
    raw = bytes(data)
    version = _u32(raw, 0)
    if version not in SUPPORTED_VERSIONS:
        raise InputError(f"unsupported report version {version} (expected 2-5)", path=path,
                         where=f"offset {base:#x}")
    v3 = version >= 3
    v5 = version >= 5
    return AttestationReport(
        raw=raw,
        version=version,
        guest_svn=_u32(raw, 0x004),
        policy=GuestPolicy.decode(_u64(raw, 0x008)),
        family_id=raw[0x010:0x020],
        image_id=raw[0x020:0x030],
        vmpl=_u32(raw, 0x030),
        signature_algo=_u32(raw, 0x034),
        current_tcb_raw=raw[0x038:0x040],
        platform_info=PlatformInfo.decode(_u64(raw, 0x040)),
        key_info=KeyInfo.decode(_u32(raw, 0x048)),
        report_data=raw[0x050:0x090],
        measurement=raw[0x090:0x0C0],
        host_data=raw[0x0C0:0x0E0],
        id_key_digest=raw[0x0E0:0x110],
        author_key_digest=raw[0x110:0x140],
        report_id=raw[0x140:0x160],
        report_id_ma=raw[0x160:0x180],
        reported_tcb_raw=raw[0x180:0x188],
        cpuid_fam_id=raw[0x188] if v3 else None,
        cpuid_mod_id=raw[0x189] if v3 else None,
        cpuid_step=raw[0x18A] if v3 else None,
        chip_id=raw[0x1A0:0x1E0],
        committed_tcb_raw=raw[0x1E0:0x1E8],
        current_fw=FirmwareVersion(raw[0x1EA], raw[0x1E9], raw[0x1E8]),
        committed_fw=FirmwareVersion(raw[0x1EE], raw[0x1ED], raw[0x1EC]),
        launch_tcb_raw=raw[0x1F0:0x1F8],
        launch_mit_vector=_u64(raw, 0x1F8) if v5 else None,
        current_mit_vector=_u64(raw, 0x200) if v5 else None,
        # R and S are 72-byte little-endian integers (48 significant bytes for P-384).
        signature_r=int.from_bytes(raw[_SIG_R:_SIG_R + 72], "little"),
        signature_s=int.from_bytes(raw[_SIG_S:_SIG_S + 72], "little"),
    )


def guess_product(report: AttestationReport) -> tuple[Product, str]:
    """Best product guess for decoding TCBs without a certificate: CPUID, then CHIP_ID shape.

    Milan and Genoa share the TCB layout, so for a v2 report the guess only matters for Turin.
    """
    p = report.cpuid_product()
    if p is not None:
        return p, "CPUID"
    if report.turin_like_chip_id:
        return Product.TURIN, "8-byte CHIP_ID (Turin-like)"
    return Product.MILAN, "assumed Milan/Genoa TCB layout (no CPUID fields)"
