"""OVMF footer table and SEV metadata parsing; refusal of firmware that has no SNP metadata."""

from __future__ import annotations

import struct
import uuid
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cocoscope.attest.snp.measure import (
    LaunchConfig,
    Mode,
    VmmType,
    boot_hashes,
    measure,
    parse_ovmf,
)
from cocoscope.attest.snp.measure.ovmf import (
    SEV_ES_RESET_BLOCK_GUID,
    SEV_METADATA_GUID,
    SectionType,
)
from cocoscope.errors import InputError
from tests.attest.snp.measure.snp_ovmf_builder import AMDSEV_SECTIONS, build_image

SNP = LaunchConfig(Mode.SNP, vcpus=2, vcpu_sig=0x800F12)


def test_debian_ovmf_layout(ovmf_fd: Path) -> None:
    image = parse_ovmf(ovmf_fd.read_bytes(), str(ovmf_fd))
    assert image.gpa == 0xFFC00000
    assert image.sev_es_reset_eip == 0x80B004
    assert image.sev_hashes_table_gpa == 0  # OvmfPkgX64: no measured direct boot
    assert image.metadata is not None
    assert [(s.gpa, s.size, s.type) for s in image.metadata] == [
        (0x800000, 0x9000, SectionType.SNP_SEC_MEM), (0x80A000, 0x3000, SectionType.SNP_SEC_MEM),
        (0x80D000, 0x1000, SectionType.SNP_SECRETS), (0x80E000, 0x1000, SectionType.CPUID),
        (0x80F000, 0x1000, SectionType.SVSM_CAA), (0x810000, 0x10000, SectionType.SNP_SEC_MEM),
    ]
    assert {e.name for e in image.entries} >= {"SEV metadata offset", "TDX metadata offset"}


def test_builder_image_round_trips() -> None:
    image = parse_ovmf(build_image(), "amdsev.fd")
    assert image.metadata is not None
    assert tuple((s.gpa, s.size, int(s.type)) for s in image.metadata) == AMDSEV_SECTIONS
    assert image.sev_hashes_table_gpa == 0x810C00


def test_refuses_firmware_with_footer_but_no_snp_metadata() -> None:
    # The shape sev-snp-measure 0.0.13 silently prints a digest for: a footer table with an
    # SEV-ES reset block but no SEV metadata entry, hence no secrets/CPUID pages.
    image = parse_ovmf(build_image(sections=None), "no-metadata.fd")
    assert image.entries and image.metadata is None
    with pytest.raises(InputError, match="no SEV metadata") as exc:
        measure(image, SNP)
    assert exc.value.path == "no-metadata.fd"


def test_refuses_metadata_with_no_sections() -> None:
    with pytest.raises(InputError, match="no sections"):
        measure(parse_ovmf(build_image(sections=()), "empty.fd"), SNP)


def test_refuses_image_without_footer_table() -> None:
    image = parse_ovmf(build_image(footer=False), "plain.fd")
    assert image.entries == ()
    with pytest.raises(InputError, match="no OVMF GUIDed footer table"):
        measure(image, SNP)
    with pytest.raises(InputError, match="AP reset block"):
        measure(image, LaunchConfig(Mode.SEV_ES, vcpus=1))


def test_plain_sev_measures_any_image_without_a_kernel() -> None:
    # Plain SEV measures only the bytes; there is no metadata it could be missing.
    m = measure(parse_ovmf(build_image(footer=False), "plain.fd"), LaunchConfig(Mode.SEV))
    assert len(m.digest) == 32


def test_more_than_one_vcpu_needs_an_ap_reset_eip() -> None:
    with pytest.raises(InputError, match="AP reset EIP is 0"):
        measure(parse_ovmf(build_image(ap_eip=0), "x.fd"), SNP)
    with pytest.raises(InputError, match="no SEV-ES AP reset block"):
        measure(parse_ovmf(build_image(ap_eip=None), "x.fd"), SNP)


def _patched(offset: int, value: bytes, **kw: object) -> bytes:
    data = bytearray(build_image(**kw))  # type: ignore[arg-type]
    data[offset:offset + len(value)] = value
    return bytes(data)


@pytest.mark.parametrize(("data", "message", "where"), [
    (_patched(0x100, b"XSEV"), "signature", "offset 0x100"),
    (_patched(0x108, struct.pack("<I", 2)), "version 2", "offset 0x100"),
    (_patched(0x104, struct.pack("<I", 0x20)), "does not hold 7 sections", "offset 0x100"),
    (_patched(0x110 + 8, struct.pack("<I", 7)), "unknown type 0x7", "offset 0x110"),
    (_patched(0x110, struct.pack("<I", 0x800001)), "not whole 4 KiB pages", "offset 0x110"),
    (build_image(extra=((SEV_METADATA_GUID, b"\0\0\0\0"),)), "second entry", "offset"),
    (build_image(extra=((uuid.uuid4(), b"x"),), sections=None, ap_eip=None, hashes_gpa=None)
     [:-50] + struct.pack("<H", 0xFFFF) + build_image()[-48:], "runs past the start", "offset"),
])
def test_malformed_metadata_names_file_and_offset(data: bytes, message: str, where: str) -> None:
    with pytest.raises(InputError, match=message) as exc:
        measure(parse_ovmf(data, "bad.fd"), SNP)
    assert exc.value.path == "bad.fd"
    assert exc.value.where is not None and exc.value.where.startswith(where)


def test_metadata_offset_outside_image() -> None:
    data = build_image(sections=None, extra=((SEV_METADATA_GUID, struct.pack("<I", 0x9000)),))
    with pytest.raises(InputError, match="outside the image"):
        parse_ovmf(data, "bad.fd")


def test_footer_entry_with_impossible_size() -> None:
    data = build_image(sections=None, hashes_gpa=None,
                       extra=((SEV_ES_RESET_BLOCK_GUID, b""),), ap_eip=None)
    # Shrink the only entry's size below its own 18-byte trailer.
    at = len(data) - 32 - 18 - 18
    data = data[:at] + struct.pack("<H", 3) + data[at + 2:]
    with pytest.raises(InputError, match="entry size 3") as exc:
        parse_ovmf(data, "bad.fd")
    assert exc.value.where == f"offset {at:#x}"


# --- fuzzing: garbage, mutated and truncated images give a digest or an InputError only ---------

_SEED_IMAGE = build_image(size=0x2000)
_FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _measure_all_modes(data: bytes) -> None:
    for config in (SNP, LaunchConfig(Mode.SEV_ES, vcpus=2, vmm=VmmType.EC2),
                   LaunchConfig(Mode.SNP, vcpus=1, vmm=VmmType.GCE,
                                hashes=boot_hashes(b"k", None, None))):
        try:
            measure(parse_ovmf(data, "fuzz.fd"), config)
        except InputError as exc:
            assert exc.path == "fuzz.fd"


@_FUZZ
@given(st.binary(max_size=0x3000))
def test_fuzz_garbage(data: bytes) -> None:
    _measure_all_modes(data)


@_FUZZ
@given(st.lists(st.tuples(st.sampled_from([*range(0x100, 0x1A0), *range(0x2000 - 0x100, 0x2000)]),
                          st.integers(0, 255)), max_size=8),
       st.integers(0, 0x2000))
def test_fuzz_mutated_and_truncated(flips: list[tuple[int, int]], cut: int) -> None:
    data = bytearray(_SEED_IMAGE)
    for at, value in flips:
        data[at] = value
    _measure_all_modes(bytes(data))
    _measure_all_modes(bytes(data[cut:]))  # truncated from the front keeps the footer at the end
    _measure_all_modes(bytes(data[:cut]))


def test_vcpu_signatures_follow_cpuid_encoding() -> None:
    from cocoscope.attest.snp.measure.vmsa import VCPU_SIGNATURES, cpu_signature

    assert {VCPU_SIGNATURES[n] for n in ("EPYC", "EPYC-v4", "EPYC-IBPB")} == {0x800F12}
    assert VCPU_SIGNATURES["EPYC-Rome-v3"] == cpu_signature(23, 49, 0) == 0x830F10
    assert VCPU_SIGNATURES["EPYC-Milan-v2"] == cpu_signature(25, 1, 1) == 0xA00F11
    assert VCPU_SIGNATURES["EPYC-Genoa"] == cpu_signature(25, 17, 0) == 0xA10F10
    assert VCPU_SIGNATURES["EPYC-Turin"] == cpu_signature(26, 0, 0) == 0xB00F00
    assert cpu_signature(6, 0x8F, 8) == 0x806F8  # family <= 0xF has no extended family
