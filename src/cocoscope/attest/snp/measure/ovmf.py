"""OVMF firmware image as the SEV launch code sees it: the GUIDed footer table and SEV metadata.

QEMU and the measurement both find what they need through a table of GUID-tagged entries
that the reset-vector code places just below the last 32 bytes of the image:

    ... [entry data][u16 entry size][GUID] ... [u16 table size][footer GUID] [32 bytes]

Entries are walked from the end; each ``size`` counts its data plus the 18-byte trailer. The
SEV metadata entry points (as an offset from the end of the image) at an ``ASEV`` header
followed by ``{u32 gpa, u32 size, u32 type}`` section descriptors.

Everything here is parsed strictly: anything malformed is an ``InputError`` naming the file
and the offset, because a digest computed from a misread image is worse than no digest.
"""

from __future__ import annotations

import struct
import uuid
from dataclasses import dataclass
from enum import IntEnum

from cocoscope.errors import InputError

FOUR_GIB = 1 << 32
PAGE_SIZE = 0x1000

FOOTER_TABLE_GUID = uuid.UUID("96b582de-1fb2-45f7-baea-a366c55a082d")
SEV_METADATA_GUID = uuid.UUID("dc886566-984a-4798-a75e-5585a7bf67cc")
SEV_ES_RESET_BLOCK_GUID = uuid.UUID("00f771de-1a7e-4fcb-890e-68c77e2fb44e")
SEV_HASH_TABLE_GUID = uuid.UUID("7255371f-3a3b-4b04-927b-1da6efa8d454")

# Names for entries that carry no measurement meaning, so --explain can label them.
KNOWN_ENTRIES = {
    FOOTER_TABLE_GUID: "footer table",
    SEV_METADATA_GUID: "SEV metadata offset",
    SEV_ES_RESET_BLOCK_GUID: "SEV-ES AP reset block",
    SEV_HASH_TABLE_GUID: "SEV hashes table",
    uuid.UUID("4c2eb361-7d9b-4cc3-8081-127c90d3d294"): "SEV secret block",
    uuid.UUID("e47a6535-984a-4798-865e-4685a7bf8ec2"): "TDX metadata offset",
}

# The table ends this many bytes before the end of the image (the reset vector lives there).
_FOOTER_GAP = 32
_ENTRY_TRAILER = struct.Struct("<H16s")  # u16 size, GUID (little-endian byte order)
_METADATA_HEADER = struct.Struct("<4sIII")  # 'ASEV', size, version, num_items
_SECTION = struct.Struct("<III")  # gpa, size, type


class SectionType(IntEnum):
    """SEV metadata section types (edk2 OvmfSevMetadata.asm)."""

    SNP_SEC_MEM = 1
    SNP_SECRETS = 2
    CPUID = 3
    SVSM_CAA = 4
    SNP_KERNEL_HASHES = 0x10


@dataclass(frozen=True)
class FooterEntry:
    guid: uuid.UUID
    offset: int  # file offset of the entry's data
    data: bytes

    @property
    def name(self) -> str:
        return KNOWN_ENTRIES.get(self.guid, "unknown")


@dataclass(frozen=True)
class MetadataSection:
    gpa: int
    size: int
    type: SectionType
    offset: int  # file offset of the descriptor, for messages


@dataclass(frozen=True)
class OvmfImage:
    """A parsed firmware image; ``path`` is only used to name the file in messages."""

    path: str
    data: bytes
    entries: tuple[FooterEntry, ...]
    metadata: tuple[MetadataSection, ...] | None  # None: the image has no SEV metadata entry
    metadata_offset: int | None

    @property
    def gpa(self) -> int:
        """Guest physical address of the first byte: the image is mapped to end at 4 GiB."""
        return FOUR_GIB - len(self.data)

    def entry(self, guid: uuid.UUID) -> FooterEntry | None:
        for e in self.entries:
            if e.guid == guid:
                return e
        return None

    def _u32_entry(self, guid: uuid.UUID) -> int | None:
        e = self.entry(guid)
        if e is None:
            return None
        if len(e.data) < 4:
            raise InputError(
                f"{KNOWN_ENTRIES[guid]} entry has {len(e.data)} data bytes, expected at least 4",
                path=self.path, where=f"offset {e.offset:#x}",
            )
        return int.from_bytes(e.data[:4], "little")

    @property
    def sev_es_reset_eip(self) -> int | None:
        """Where application processors start (the SEV-ES reset block), if the image has one."""
        return self._u32_entry(SEV_ES_RESET_BLOCK_GUID)

    @property
    def sev_hashes_table_gpa(self) -> int | None:
        """Where QEMU places the kernel/initrd/cmdline hashes table; 0 means "not supported"."""
        return self._u32_entry(SEV_HASH_TABLE_GUID)

    def sections_of(self, kind: SectionType) -> tuple[MetadataSection, ...]:
        return tuple(s for s in self.metadata or () if s.type == kind)


def parse_ovmf(data: bytes, path: str) -> OvmfImage:
    entries = parse_footer_table(data, path)
    meta_entry = next((e for e in entries if e.guid == SEV_METADATA_GUID), None)
    metadata: tuple[MetadataSection, ...] | None = None
    metadata_offset: int | None = None
    if meta_entry is not None:
        metadata_offset, metadata = _parse_metadata(data, meta_entry, path)
    return OvmfImage(path, data, entries, metadata, metadata_offset)


def parse_footer_table(data: bytes, path: str) -> tuple[FooterEntry, ...]:
    """The OVMF footer GUID table alone; shared with TDX (MRTD), which needs no SEV metadata."""
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
            # Two answers to one question: refuse rather than guess which one QEMU uses.
            raise InputError(f"OVMF footer table has a second entry for {guid}",
                             path=path, where=f"offset {trailer_at:#x}")
        entries.append(FooterEntry(guid, end - size, bytes(data[end - size:trailer_at])))
        end -= size
    return tuple(entries)


def _parse_metadata(
    data: bytes, entry: FooterEntry, path: str
) -> tuple[int, tuple[MetadataSection, ...]]:
    if len(entry.data) < 4:
        raise InputError("SEV metadata entry is shorter than its u32 offset",
                         path=path, where=f"offset {entry.offset:#x}")
    from_end = int.from_bytes(entry.data[:4], "little")
    start = len(data) - from_end
    if from_end == 0 or start < 0 or start + _METADATA_HEADER.size > len(data):
        raise InputError(f"SEV metadata offset-from-end {from_end:#x} is outside the image",
                         path=path, where=f"offset {entry.offset:#x}")
    where = f"offset {start:#x}"
    sig, size, version, count = _METADATA_HEADER.unpack_from(data, start)
    if sig != b"ASEV":
        raise InputError(f"SEV metadata signature is {sig!r}, expected b'ASEV'", path=path, where=where)
    if version != 1:
        raise InputError(f"SEV metadata version {version}, expected 1", path=path, where=where)
    needed = _METADATA_HEADER.size + count * _SECTION.size
    if size < needed or start + size > len(data):
        raise InputError(
            f"SEV metadata size {size:#x} does not hold {count} sections or runs past the image",
            path=path, where=where,
        )
    sections = []
    for i in range(count):
        at = start + _METADATA_HEADER.size + i * _SECTION.size
        gpa, length, kind = _SECTION.unpack_from(data, at)
        try:
            section_type = SectionType(kind)
        except ValueError:
            raise InputError(f"SEV metadata section {i} has unknown type {kind:#x}",
                             path=path, where=f"offset {at:#x}") from None
        if gpa % PAGE_SIZE or length % PAGE_SIZE or length == 0:
            # The PSP measures whole pages; an unaligned section cannot be launched.
            raise InputError(
                f"SEV metadata section {i} ({section_type.name}) gpa {gpa:#x} size {length:#x} "
                "is not whole 4 KiB pages",
                path=path, where=f"offset {at:#x}",
            )
        sections.append(MetadataSection(gpa, length, section_type, at))
    return start, tuple(sections)
