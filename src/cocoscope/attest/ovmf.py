"""OVMF firmware metadata shared by the SNP launch digest and the TDX MRTD.

Both measurements find what they need through a table of GUID-tagged entries that the
reset-vector code places just below the last 32 bytes of the image:

    ... [entry data][u16 entry size][GUID] ... [u16 table size][footer GUID] [32 bytes]

Entries are walked from the end; each ``size`` counts its data plus the 18-byte trailer. Two
entries hold a u32 offset, counted from the end of the image, to a metadata descriptor
``{char[4] signature, u32 length, u32 version, u32 count}`` followed by ``count`` section
descriptors: ``ASEV`` for SEV (``snp/measure/ovmf.py``), ``TDVF`` for TDX (``tdx/mrtd.py``).
This module reads the table and that common header; each platform reads its own sections.

Everything is parsed strictly: anything malformed is an ``InputError`` naming the file and the
offset, because a digest computed from a misread image is worse than no digest.
"""

from __future__ import annotations

import struct
import uuid
from dataclasses import dataclass

from cocoscope.errors import InputError

FOOTER_TABLE_GUID = uuid.UUID("96b582de-1fb2-45f7-baea-a366c55a082d")
SEV_METADATA_GUID = uuid.UUID("dc886566-984a-4798-a75e-5585a7bf67cc")
TDX_METADATA_GUID = uuid.UUID("e47a6535-984a-4798-865e-4685a7bf8ec2")
SEV_ES_RESET_BLOCK_GUID = uuid.UUID("00f771de-1a7e-4fcb-890e-68c77e2fb44e")
SEV_HASH_TABLE_GUID = uuid.UUID("7255371f-3a3b-4b04-927b-1da6efa8d454")

# Names for the entries, so --explain can label them.
KNOWN_ENTRIES = {
    FOOTER_TABLE_GUID: "footer table",
    SEV_METADATA_GUID: "SEV metadata offset",
    SEV_ES_RESET_BLOCK_GUID: "SEV-ES AP reset block",
    SEV_HASH_TABLE_GUID: "SEV hashes table",
    uuid.UUID("4c2eb361-7d9b-4cc3-8081-127c90d3d294"): "SEV secret block",
    TDX_METADATA_GUID: "TDX metadata offset",
}

# The table ends this many bytes before the end of the image (the reset vector lives there).
_FOOTER_GAP = 32
_ENTRY_TRAILER = struct.Struct("<H16s")  # u16 size, GUID (little-endian byte order)
METADATA_HEADER = struct.Struct("<4sIII")  # signature, length, version, count


@dataclass(frozen=True)
class FooterEntry:
    guid: uuid.UUID
    offset: int  # file offset of the entry's data
    data: bytes

    @property
    def name(self) -> str:
        return KNOWN_ENTRIES.get(self.guid, "unknown")


@dataclass(frozen=True)
class MetadataHeader:
    """A located, version-1 metadata descriptor; sections follow at ``sections_offset``."""

    offset: int  # file offset of the descriptor
    length: int
    count: int

    @property
    def sections_offset(self) -> int:
        return self.offset + METADATA_HEADER.size


def parse_footer_table(data: bytes, path: str) -> tuple[FooterEntry, ...]:
    """The footer GUID table; () when the image has none (not an OVMF build)."""
    footer_at = len(data) - _FOOTER_GAP - _ENTRY_TRAILER.size
    if footer_at < 0:
        return ()
    table_size, raw_guid = _ENTRY_TRAILER.unpack_from(data, footer_at)
    if uuid.UUID(bytes_le=raw_guid) != FOOTER_TABLE_GUID:
        return ()
    where = f"offset {footer_at:#x}"
    if table_size < _ENTRY_TRAILER.size:
        raise InputError(f"OVMF footer table size {table_size} is smaller than its own header",
                         path=path, where=where)
    start = footer_at - (table_size - _ENTRY_TRAILER.size)
    if start < 0:
        raise InputError(f"OVMF footer table size {table_size} runs past the start of the image",
                         path=path, where=where)
    entries: list[FooterEntry] = []
    end = footer_at  # exclusive end of the not-yet-walked part of the table
    while end - start >= _ENTRY_TRAILER.size:
        trailer_at = end - _ENTRY_TRAILER.size
        size, raw_guid = _ENTRY_TRAILER.unpack_from(data, trailer_at)
        if size < _ENTRY_TRAILER.size or end - size < start:
            raise InputError(
                f"OVMF footer table entry size {size} is outside 18..{end - start}",
                path=path, where=f"offset {trailer_at:#x}",
            )
        guid = uuid.UUID(bytes_le=raw_guid)
        if any(e.guid == guid for e in entries):
            # Two answers to one question: refuse rather than guess which one the VMM uses.
            raise InputError(f"OVMF footer table has a second entry for {guid}",
                             path=path, where=f"offset {trailer_at:#x}")
        entries.append(FooterEntry(guid, end - size, bytes(data[end - size:trailer_at])))
        end -= size
    return tuple(entries)


def find_entry(entries: tuple[FooterEntry, ...], guid: uuid.UUID) -> FooterEntry | None:
    return next((e for e in entries if e.guid == guid), None)


def locate_metadata(data: bytes, entry: FooterEntry, path: str, *, label: str,
                    signature: bytes, section_size: int) -> MetadataHeader:
    """Follow an offset-from-end entry to a version-1 descriptor with room for its sections.

    ``label`` names the metadata in messages ("SEV metadata", "TDX metadata").
    """
    if len(entry.data) < 4:
        raise InputError(f"{label} entry is shorter than its u32 offset",
                         path=path, where=f"offset {entry.offset:#x}")
    from_end = int.from_bytes(entry.data[:4], "little")
    start = len(data) - from_end
    if from_end == 0 or start < 0 or start + METADATA_HEADER.size > len(data):
        raise InputError(f"{label} offset-from-end {from_end:#x} is outside the image",
                         path=path, where=f"offset {entry.offset:#x}")
    where = f"offset {start:#x}"
    sig, length, version, count = METADATA_HEADER.unpack_from(data, start)
    if sig != signature:
        raise InputError(f"{label} signature is {sig!r}, expected {signature!r}",
                         path=path, where=where)
    if version != 1:
        raise InputError(f"{label} version {version}, expected 1", path=path, where=where)
    needed = METADATA_HEADER.size + count * section_size
    if length < needed or start + max(length, needed) > len(data):
        raise InputError(
            f"{label} length {length:#x} does not hold {count} sections or runs past the image",
            path=path, where=where,
        )
    return MetadataHeader(start, length, count)
