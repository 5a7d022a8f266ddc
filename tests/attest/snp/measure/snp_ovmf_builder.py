"""Builds small OVMF-shaped images (footer table, SEV metadata) for tests and the known-answer
generator. Only the structures the measurement reads are real; the rest is filler."""

from __future__ import annotations

import hashlib
import struct
import uuid

from cocoscope.attest.snp.measure.ovmf import (
    FOOTER_TABLE_GUID,
    SEV_ES_RESET_BLOCK_GUID,
    SEV_HASH_TABLE_GUID,
    SEV_METADATA_GUID,
)

# The SEV metadata of edk2-stable202405 AmdSevX64 (the sev-snp-measure fixture
# tests/fixtures/ovmf_AmdSev_suffix.bin of virtee/sev-snp-measure), as its ovmf.py reads them from
# the OVMF footer table's SEV metadata (OvmfPkg/ResetVector/X64/OvmfSevMetadata.asm).
AMDSEV_SECTIONS = (
    (0x800000, 0x9000, 1), (0x80A000, 0x3000, 1), (0x80D000, 0x1000, 2), (0x80E000, 0x1000, 3),
    (0x80F000, 0x1000, 4), (0x810000, 0x1000, 0x10), (0x811000, 0xF000, 1),
)
AMDSEV_AP_EIP = 0x80B004
# The hashes-table GPA is not in that list; 0x810C00 is the one value for which the
# fixture digests reproduce (found by trying every 4-byte-aligned offset in the page).
AMDSEV_HASHES_GPA = 0x810C00


def filler(size: int, seed: bytes = b"cocoscope") -> bytes:
    """Deterministic pseudo-random bytes, so images are reproducible without being stored."""
    out = bytearray()
    counter = 0
    while len(out) < size:
        out += hashlib.sha256(seed + counter.to_bytes(8, "little")).digest()
        counter += 1
    return bytes(out[:size])


def build_image(
    *,
    size: int = 0x4000,
    sections: tuple[tuple[int, int, int], ...] | None = AMDSEV_SECTIONS,
    ap_eip: int | None = AMDSEV_AP_EIP,
    hashes_gpa: int | None = AMDSEV_HASHES_GPA,
    extra: tuple[tuple[uuid.UUID, bytes], ...] = (),
    footer: bool = True,
    seed: bytes = b"cocoscope",
) -> bytes:
    image = bytearray(filler(size, seed))
    entries: list[tuple[uuid.UUID, bytes]] = list(extra)
    if sections is not None:
        meta_at = 0x100
        meta = struct.pack("<4sIII", b"ASEV", 16 + 12 * len(sections), 1, len(sections))
        meta += b"".join(struct.pack("<III", *s) for s in sections)
        image[meta_at:meta_at + len(meta)] = meta
        entries.append((SEV_METADATA_GUID, struct.pack("<I", size - meta_at)))
    if ap_eip is not None:
        entries.append((SEV_ES_RESET_BLOCK_GUID, struct.pack("<I", ap_eip)))
    if hashes_gpa is not None:
        entries.append((SEV_HASH_TABLE_GUID, struct.pack("<II", hashes_gpa, 0x400)))
    if footer:
        table = b"".join(data + struct.pack("<H", len(data) + 18) + guid.bytes_le
                         for guid, data in entries)
        table += struct.pack("<H", len(table) + 18) + FOOTER_TABLE_GUID.bytes_le
        end = size - 32
        image[end - len(table):end] = table
    return bytes(image)
