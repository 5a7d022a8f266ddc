"""MRTD from TDVF metadata: constructed firmware images and Debian's OVMF.fd.

No known-answer MRTD exists offline for Debian's build (the published tdx-measure value is for
Ubuntu's ovmf_2025.02-3ubuntu2 OVMF.fd, which is not available here), so the expected values
below are computed by an independent, deliberately naive implementation in this file.
"""

from __future__ import annotations

import contextlib
import hashlib
import struct
import uuid
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cocoscope.attest.ovmf import TDX_METADATA_GUID
from cocoscope.attest.tdx.mrtd import (
    PageOrder,
    compute_mrtd,
    parse_tdvf_metadata,
)
from cocoscope.errors import InputError

FOOTER_GUID = uuid.UUID("96b582de-1fb2-45f7-baea-a366c55a082d")
FOUR_GIB = 1 << 32


def footer(entries: list[tuple[uuid.UUID, bytes]]) -> bytes:
    """The OVMF GUIDed footer table as it sits 32 bytes before the end of the image."""
    body = b"".join(data + struct.pack("<H", len(data) + 18) + guid.bytes_le for guid, data in entries)
    return body + struct.pack("<H", len(body) + 18) + FOOTER_GUID.bytes_le


def build_tdvf(
    sections: list[tuple[int, int, int, int, int, int]], size: int = 0x6000, seed: bytes = b"tdvf"
) -> bytes:
    """Image of ``size`` bytes: filler, TDVF descriptor at 0x100, footer table at the end."""
    image = bytearray()
    counter = 0
    while len(image) < size:
        image += hashlib.sha256(seed + counter.to_bytes(4, "little")).digest()
        counter += 1
    del image[size:]
    desc = struct.pack("<4sIII", b"TDVF", 16 + 32 * len(sections), 1, len(sections))
    desc += b"".join(struct.pack("<IIQQII", *s) for s in sections)
    image[0x100 : 0x100 + len(desc)] = desc
    table = footer([(TDX_METADATA_GUID, struct.pack("<I", size - 0x100))])
    image[size - 32 - len(table) : size - 32] = table
    return bytes(image)


def naive_mrtd(
    image: bytes, sections: list[tuple[int, int, int, int, int, int]], two_pass: bool = False
) -> bytes:
    """Spells out every 128-byte SEAMCALL buffer, then hashes the concatenation once."""
    records: list[bytes] = []
    for off, raw, gpa, mem, _kind, attrs in sections:
        content = image[off : off + raw] + bytes(mem - raw)
        adds: list[list[bytes]] = []
        extends: list[list[bytes]] = []
        for page in range(mem // 4096):
            page_gpa = gpa + page * 4096
            adds.append([])
            extends.append([])
            if not attrs & 2:
                adds[-1].append(b"MEM.PAGE.ADD" + bytes(4) + struct.pack("<Q", page_gpa) + bytes(104))
            if attrs & 1:
                for chunk in range(16):
                    at = page * 4096 + chunk * 256
                    extends[-1].append(b"MR.EXTEND" + bytes(7) + struct.pack("<Q", page_gpa + chunk * 256) + bytes(104))
                    extends[-1].append(content[at : at + 256])
        if two_pass:
            records += [r for page in adds for r in page] + [r for page in extends for r in page]
        else:
            for page_adds, page_extends in zip(adds, extends, strict=True):
                records += page_adds + page_extends
    return hashlib.sha384(b"".join(records)).digest()


# BFV (extended), CFV (added only), TD_HOB, TEMP_MEM with PAGE_AUG (neither)
SECTIONS = [
    (0x2000, 0x3000, FOUR_GIB - 0x3000, 0x3000, 0, 1),
    (0x1000, 0x1000, FOUR_GIB - 0x4000, 0x1000, 1, 0),
    (0, 0, 0x809000, 0x2000, 2, 0),
    (0, 0, 0x800000, 0x1000, 3, 2),
]


def test_constructed_image_matches_naive_reference() -> None:
    image = build_tdvf(SECTIONS)
    result = compute_mrtd(image, "built.fd")
    assert result.mrtd == naive_mrtd(image, SECTIONS)
    two_pass = compute_mrtd(image, "built.fd", PageOrder.TWO_PASS)
    assert two_pass.mrtd == naive_mrtd(image, SECTIONS, two_pass=True)
    assert two_pass.mrtd != result.mrtd  # the BFV has 3 pages: the orders interleave differently
    assert [(s.page_adds, s.mr_extends) for s in result.sections] == [(3, 48), (1, 0), (2, 0), (0, 0)]
    assert result.metadata.sections[3].attribute_names == ("PAGE_AUG",)


def test_single_page_by_hand() -> None:
    sections = [(0x1000, 0x1000, 0xFFFFF000, 0x1000, 0, 1)]
    image = build_tdvf(sections, size=0x3000)
    page = image[0x1000:0x2000]
    h = hashlib.sha384()
    h.update(b"MEM.PAGE.ADD\0\0\0\0" + (0xFFFFF000).to_bytes(8, "little") + bytes(104))
    for i in range(16):
        h.update(b"MR.EXTEND\0\0\0\0\0\0\0" + (0xFFFFF000 + 256 * i).to_bytes(8, "little") + bytes(104))
        h.update(page[256 * i : 256 * (i + 1)])
    assert compute_mrtd(image).mrtd == h.digest()


def test_orders_agree_when_no_section_has_two_pages_extended() -> None:
    sections = [(0x1000, 0x1000, 0xFFFFF000, 0x1000, 0, 1), (0, 0, 0x800000, 0x3000, 3, 0)]
    image = build_tdvf(sections, size=0x3000)
    assert compute_mrtd(image).mrtd == compute_mrtd(image, order=PageOrder.TWO_PASS).mrtd


def test_every_measured_byte_matters() -> None:
    image = build_tdvf(SECTIONS)
    base = compute_mrtd(image).mrtd
    flipped = bytearray(image)
    flipped[0x2000 + 0x1234] ^= 1  # inside the extended BFV
    assert compute_mrtd(bytes(flipped)).mrtd != base
    unmeasured = bytearray(image)
    unmeasured[0x1000 + 5] ^= 1  # CFV content is added, not extended: MRTD unchanged
    assert compute_mrtd(bytes(unmeasured)).mrtd == base
    moved = [list(s) for s in SECTIONS]
    moved[2][2] += 0x1000  # a different TD_HOB GPA changes the PAGE.ADD records
    assert compute_mrtd(build_tdvf([tuple(s) for s in moved])).mrtd != base  # type: ignore[misc]


def test_debian_ovmf(ovmf_fd: Path) -> None:
    image = ovmf_fd.read_bytes()
    result = compute_mrtd(image, str(ovmf_fd))
    secs = result.metadata.sections
    bfv = secs[0]
    assert (bfv.type_name, bfv.extended, bfv.page_added) == ("BFV", True, True)
    assert bfv.gpa + bfv.memory_size == FOUR_GIB  # the firmware volume is mapped to end at 4 GiB
    assert bfv.data_offset + bfv.raw_size == len(image)
    cfv = next(s for s in secs if s.type_name == "CFV")
    assert not cfv.extended  # the variable store goes into RTMR0, not MRTD
    assert {s.type_name for s in secs} >= {"BFV", "CFV", "TD_HOB", "TEMP_MEM"}
    assert result.mr_extends == bfv.memory_size // 256
    triples = [(s.data_offset, s.raw_size, s.gpa, s.memory_size, s.type, s.attributes) for s in secs]
    assert result.mrtd == naive_mrtd(image, triples)
    assert compute_mrtd(image, str(ovmf_fd), PageOrder.TWO_PASS).mrtd == naive_mrtd(image, triples, two_pass=True)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda s: s.__setitem__(0, (0x2000, 0x3000, FOUR_GIB - 0x3000 + 1, 0x3000, 0, 1)), "whole 4 KiB pages"),
        (lambda s: s.__setitem__(0, (0x2000, 0x9000, FOUR_GIB - 0x9000, 0x9000, 0, 1)), "runs past"),
        (lambda s: s.__setitem__(0, (0x2000, 0x3000, FOUR_GIB - 0x3000, 0x2000, 0, 1)), "exceeds its memory size"),
        (lambda s: s.__setitem__(0, (0x2000, 0x3000, FOUR_GIB - 0x3000, 0x3000, 9, 1)), "unknown type"),
        (lambda s: s.__setitem__(0, (0x2000, 0x3000, FOUR_GIB - 0x3000, 0x3000, 0, 3)), "both MR_EXTEND and PAGE_AUG"),
        (lambda s: s.__setitem__(0, (0x2000, 0x3000, FOUR_GIB - 0x3000, 0x3000, 0, 8)), "attribute bits"),
        (lambda s: s.__setitem__(1, (0x1000, 0x1000, FOUR_GIB - 0x1000, 0x1000, 1, 0)), "overlap"),
        (lambda s: s.__setitem__(2, (0, 0, 1 << 40, 1 << 40, 3, 0)), "above the"),
        (lambda s: s.__setitem__(2, (0, 0, 1 << 40, 1 << 30, 3, 1)), "above the"),
    ],
)
def test_bad_sections(mutate, message: str) -> None:  # type: ignore[no-untyped-def]
    sections = list(SECTIONS)
    mutate(sections)
    with pytest.raises(InputError, match=message):
        compute_mrtd(build_tdvf(sections), "bad.fd")


def test_not_tdx_firmware() -> None:
    with pytest.raises(InputError, match="no OVMF footer"):
        compute_mrtd(bytes(0x4000), "zeros.fd")
    image = bytearray(bytes(0x4000))
    table = footer([(uuid.UUID("00f771de-1a7e-4fcb-890e-68c77e2fb44e"), bytes(4))])
    image[0x4000 - 32 - len(table) : 0x4000 - 32] = table
    with pytest.raises(InputError, match="no TDX metadata"):
        compute_mrtd(bytes(image), "snp-only.fd")
    bad_sig = bytearray(build_tdvf(SECTIONS))
    bad_sig[0x100:0x104] = b"TDVX"
    with pytest.raises(InputError, match=r"offset 0x100: TDX metadata signature|TDVF"):
        parse_tdvf_metadata(bytes(bad_sig), "x.fd")


@settings(max_examples=300, deadline=None)
@given(
    st.binary(max_size=512),
    # half the examples hit the descriptor and section table at 0x100
    st.one_of(st.integers(min_value=0x100, max_value=0x190), st.integers(min_value=0, max_value=0x5FFF)),
)
def test_fuzz_only_input_errors(garbage: bytes, at: int) -> None:
    image = bytearray(build_tdvf(SECTIONS))
    image[at : at + len(garbage)] = garbage
    del image[0x6000:]
    with contextlib.suppress(InputError):
        compute_mrtd(bytes(image), "fuzz.fd")


@settings(max_examples=100, deadline=None)
@given(st.integers(min_value=0, max_value=0x5FFF))
def test_fuzz_truncated_images(cut: int) -> None:
    image = build_tdvf(SECTIONS)
    with pytest.raises(InputError):
        compute_mrtd(image[:cut], "cut.fd")
