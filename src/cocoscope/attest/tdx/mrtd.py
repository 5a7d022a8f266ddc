"""MRTD from a TDVF (OVMF built with TDX support): the build-time measurement of the TD.

The TDX module keeps MRTD as one running SHA-384 (not an extend chain) over 128-byte
records that the VMM's SEAMCALLs feed it while it builds the TD:

* TDH.MEM.PAGE.ADD for every 4 KiB page of every section that is not PAGE_AUG:
  ``"MEM.PAGE.ADD"`` NUL-padded to 16 bytes, the page GPA (u64 LE), zeros to 128 bytes;
* TDH.MR.EXTEND for every 256-byte chunk of every page of an MR_EXTEND section:
  ``"MR.EXTEND"`` padded to 16, the chunk GPA, zeros to 128, then the chunk's 256 bytes.

The order of the two is the VMM's choice and changes MRTD (``PageOrder``): upstream KVM
extends each page right after adding it; older stacks add a section's pages, then extend them.

The sections come from the TDVF metadata (located through the OVMF footer table by
``cocoscope.attest.ovmf``): the descriptor ``{'TDVF', u32 length, u32 version = 1, u32 count}``
is followed by ``count`` 32-byte sections ``{u32 data offset, u32 raw size, u64 GPA, u64 memory size, u32 type, u32 attributes}``.
Bytes of a section beyond its raw data are zero (TD_HOB and TEMP_MEM have no raw data).
"""

from __future__ import annotations

import hashlib
import itertools
import struct
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from cocoscope.attest.ovmf import TDX_METADATA_GUID, find_entry, locate_metadata, parse_footer_table
from cocoscope.errors import InputError

PAGE_SIZE = 0x1000
CHUNK_SIZE = 256
ATTR_MR_EXTEND = 0x1
ATTR_PAGE_AUG = 0x2

SECTION_TYPES = {
    0: "BFV",
    1: "CFV",
    2: "TD_HOB",
    3: "TEMP_MEM",
    4: "PERM_MEM",
    5: "PAYLOAD",
    6: "PAYLOAD_PARAM",
}

_SECTION = struct.Struct("<IIQQII")
_PAGE_ADD = b"MEM.PAGE.ADD".ljust(16, b"\x00")
_MR_EXTEND = b"MR.EXTEND".ljust(16, b"\x00")
_RECORD_PAD = bytes(128 - 16 - 8)
# Guest-physical addresses are below 2^52 on every TDX platform; larger values are corrupt.
_MAX_GPA = 1 << 52
# Real TDVF images declare a few MiB of sections (OVMF: ~4 MiB, all below 4 GiB). The limits
# keep a corrupt size field from turning one run into hours of hashing.
MAX_ADDED_BYTES = 1 << 32
MAX_EXTENDED_BYTES = 256 << 20


@dataclass(frozen=True)
class TdvfSection:
    index: int
    data_offset: int
    raw_size: int
    gpa: int
    memory_size: int
    type: int
    attributes: int
    descriptor_offset: int  # file offset of this section's descriptor, for messages

    @property
    def type_name(self) -> str:
        return SECTION_TYPES.get(self.type, f"type {self.type}")

    @property
    def pages(self) -> int:
        return self.memory_size // PAGE_SIZE

    @property
    def page_added(self) -> bool:
        return not self.attributes & ATTR_PAGE_AUG

    @property
    def extended(self) -> bool:
        return bool(self.attributes & ATTR_MR_EXTEND)

    @property
    def attribute_names(self) -> tuple[str, ...]:
        names = []
        if self.extended:
            names.append("MR_EXTEND")
        if not self.page_added:
            names.append("PAGE_AUG")
        return tuple(names)


@dataclass(frozen=True)
class TdvfMetadata:
    path: str
    descriptor_offset: int
    version: int
    sections: tuple[TdvfSection, ...]


@dataclass(frozen=True)
class SectionMeasurement:
    section: TdvfSection
    page_adds: int
    mr_extends: int


@dataclass(frozen=True)
class MrtdResult:
    mrtd: bytes
    metadata: TdvfMetadata
    sections: tuple[SectionMeasurement, ...]
    order: PageOrder

    @property
    def page_adds(self) -> int:
        return sum(s.page_adds for s in self.sections)

    @property
    def mr_extends(self) -> int:
        return sum(s.mr_extends for s in self.sections)


def parse_tdvf_metadata(image: bytes, path: str) -> TdvfMetadata:
    """Locate and validate the TDVF metadata; InputError names the file and offset."""
    # Only the footer table: a firmware's SEV metadata (checked strictly for SNP) is no concern
    # of the TDX measurement.
    entries = parse_footer_table(image, path)
    if not entries:
        raise InputError("no OVMF footer GUID table at the end of the image (not an OVMF build)", path=path)
    entry = find_entry(entries, TDX_METADATA_GUID)
    if entry is None:
        raise InputError("OVMF footer table has no TDX metadata entry (firmware built without TDX)", path=path)
    header = locate_metadata(image, entry, path, label="TDX metadata", signature=b"TDVF",
                             section_size=_SECTION.size)
    start, count, where = header.offset, header.count, f"offset {header.offset:#x}"
    if count == 0:
        raise InputError("TDVF metadata has no sections", path=path, where=where)
    sections = []
    for i in range(count):
        at = header.sections_offset + i * _SECTION.size
        data_offset, raw_size, gpa, memory_size, kind, attributes = _SECTION.unpack_from(image, at)
        sec = TdvfSection(i, data_offset, raw_size, gpa, memory_size, kind, attributes, at)
        _check_section(sec, len(image), path)
        sections.append(sec)
    _check_overlaps(sections, path)
    added = sum(s.memory_size for s in sections if s.page_added)
    extended = sum(s.memory_size for s in sections if s.extended)
    if added > MAX_ADDED_BYTES or extended > MAX_EXTENDED_BYTES:
        raise InputError(
            f"TDVF sections add {added:#x} bytes and extend {extended:#x} bytes, above the "
            f"{MAX_ADDED_BYTES:#x}/{MAX_EXTENDED_BYTES:#x} this tool accepts (corrupt metadata?)",
            path=path,
            where=where,
        )
    return TdvfMetadata(path, start, 1, tuple(sections))  # locate_metadata accepts only version 1


def _check_section(sec: TdvfSection, image_size: int, path: str) -> None:
    where = f"offset {sec.descriptor_offset:#x}"
    label = f"TDVF section {sec.index} ({sec.type_name})"
    if sec.type not in SECTION_TYPES:
        raise InputError(f"{label} has an unknown type", path=path, where=where)
    if sec.attributes & ~(ATTR_MR_EXTEND | ATTR_PAGE_AUG):
        raise InputError(f"{label} has unknown attribute bits {sec.attributes:#x}", path=path, where=where)
    if sec.gpa % PAGE_SIZE or sec.memory_size % PAGE_SIZE or sec.memory_size == 0:
        # The SEAMCALLs work on whole pages; such a section cannot be built.
        raise InputError(
            f"{label} GPA {sec.gpa:#x} size {sec.memory_size:#x} is not whole 4 KiB pages", path=path, where=where
        )
    if sec.gpa + sec.memory_size > _MAX_GPA:
        raise InputError(f"{label} ends above the 52-bit guest-physical address space", path=path, where=where)
    if sec.raw_size > sec.memory_size:
        raise InputError(
            f"{label} raw size {sec.raw_size:#x} exceeds its memory size {sec.memory_size:#x}", path=path, where=where
        )
    if sec.data_offset + sec.raw_size > image_size:
        raise InputError(
            f"{label} raw data {sec.data_offset:#x}+{sec.raw_size:#x} runs past the {image_size:#x}-byte image",
            path=path,
            where=where,
        )
    if sec.extended and not sec.page_added:
        raise InputError(f"{label} is both MR_EXTEND and PAGE_AUG (only added pages can be extended)", path=path, where=where)


def _check_overlaps(sections: list[TdvfSection], path: str) -> None:
    ordered = sorted(sections, key=lambda s: s.gpa)
    for prev, cur in itertools.pairwise(ordered):
        if cur.gpa < prev.gpa + prev.memory_size:
            # TDH.MEM.PAGE.ADD refuses a page twice, so such firmware never launches.
            raise InputError(
                f"TDVF sections {prev.index} and {cur.index} overlap at GPA {cur.gpa:#x}",
                path=path,
                where=f"offset {cur.descriptor_offset:#x}",
            )


class PageOrder(StrEnum):
    """In which order the VMM issues the SEAMCALLs for one section (MRTD depends on it)."""

    # Upstream KVM (Linux >= 6.16, KVM_TDX_INIT_MEM_REGION via gmem post-populate): each
    # page's TDH.MEM.PAGE.ADD is followed by that page's TDH.MR.EXTENDs.
    SINGLE_PASS = "single-pass"
    # Older VMM stacks: all PAGE.ADDs of a section first, then all its MR.EXTENDs
    # (virtee/tdx-measure and dstack-mr call this "two-pass add pages").
    TWO_PASS = "two-pass"


def _page_add(h: Any, sec: TdvfSection, page: int) -> int:
    if not sec.page_added:
        return 0
    h.update(_PAGE_ADD + (sec.gpa + page * PAGE_SIZE).to_bytes(8, "little") + _RECORD_PAD)
    return 1


def _mr_extend(h: Any, sec: TdvfSection, raw: bytes, page: int) -> int:
    if not sec.extended:
        return 0
    gpa = sec.gpa + page * PAGE_SIZE
    content = raw[page * PAGE_SIZE : (page + 1) * PAGE_SIZE].ljust(PAGE_SIZE, b"\x00")
    for chunk in range(0, PAGE_SIZE, CHUNK_SIZE):
        h.update(_MR_EXTEND + (gpa + chunk).to_bytes(8, "little") + _RECORD_PAD)
        h.update(content[chunk : chunk + CHUNK_SIZE])
    return PAGE_SIZE // CHUNK_SIZE


def compute_mrtd(
    image: bytes, path: str = "<firmware>", order: PageOrder = PageOrder.SINGLE_PASS
) -> MrtdResult:
    metadata = parse_tdvf_metadata(image, path)
    h = hashlib.sha384()
    measured = []
    for sec in metadata.sections:
        raw = image[sec.data_offset : sec.data_offset + sec.raw_size]
        adds = extends = 0
        if order is PageOrder.SINGLE_PASS:
            for page in range(sec.pages):
                adds += _page_add(h, sec, page)
                extends += _mr_extend(h, sec, raw, page)
        else:
            for page in range(sec.pages):
                adds += _page_add(h, sec, page)
            for page in range(sec.pages):
                extends += _mr_extend(h, sec, raw, page)
        measured.append(SectionMeasurement(sec, adds, extends))
    return MrtdResult(h.digest(), metadata, tuple(measured), order)
