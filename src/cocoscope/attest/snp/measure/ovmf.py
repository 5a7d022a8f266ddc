"""OVMF firmware image as the SEV launch code sees it: the footer table and the SEV metadata.

The footer GUID table and the metadata header are shared with TDX (``cocoscope.attest.ovmf``).
The SEV metadata entry points at an ``ASEV`` descriptor followed by ``{u32 gpa, u32 size,
u32 type}`` section descriptors; those, and the SEV entries (AP reset block, hashes table),
are read here. Anything malformed is an ``InputError`` naming the file and the offset.
"""

from __future__ import annotations

import struct
import uuid
from dataclasses import dataclass
from enum import IntEnum

from cocoscope.attest.ovmf import (
    FOOTER_TABLE_GUID,
    KNOWN_ENTRIES,
    SEV_ES_RESET_BLOCK_GUID,
    SEV_HASH_TABLE_GUID,
    SEV_METADATA_GUID,
    FooterEntry,
    locate_metadata,
    parse_footer_table,
)
from cocoscope.errors import InputError

__all__ = ["FOOTER_TABLE_GUID", "SEV_ES_RESET_BLOCK_GUID", "SEV_HASH_TABLE_GUID",
           "SEV_METADATA_GUID", "FooterEntry", "MetadataSection", "OvmfImage", "SectionType",
           "parse_ovmf"]

FOUR_GIB = 1 << 32
PAGE_SIZE = 0x1000

_SECTION = struct.Struct("<III")  # gpa, size, type


class SectionType(IntEnum):
    """SEV metadata section types (edk2 OvmfSevMetadata.asm)."""

    SNP_SEC_MEM = 1
    SNP_SECRETS = 2
    CPUID = 3
    SVSM_CAA = 4
    SNP_KERNEL_HASHES = 0x10


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


def _parse_metadata(
    data: bytes, entry: FooterEntry, path: str
) -> tuple[int, tuple[MetadataSection, ...]]:
    header = locate_metadata(data, entry, path, label="SEV metadata", signature=b"ASEV",
                             section_size=_SECTION.size)
    start, count = header.offset, header.count
    sections = []
    for i in range(count):
        at = header.sections_offset + i * _SECTION.size
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
