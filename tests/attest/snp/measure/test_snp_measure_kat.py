"""Bit-identical to sev-snp-measure 0.0.13: its own fixture digests and our Debian OVMF matrix."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from cocoscope.attest.snp.measure import (
    LaunchConfig,
    Mode,
    VmmType,
    boot_hashes,
    measure,
    parse_ovmf,
    vcpu_signature,
)
from cocoscope.errors import InputError
from tests.attest.snp.measure.snp_ovmf_builder import build_image, filler
from tests.paths import ATTESTATION, DATA

KAT = json.loads((DATA / "snp_measure" / "kat.json").read_text())
SYNTH_APPEND = "console=ttyS0 root=/dev/vda1 ro"


@pytest.fixture(scope="module")
def firmware(ovmf_fd: Path) -> dict[str, bytes]:
    images = {
        "OVMF.fd": ovmf_fd.read_bytes(),
        "OVMF_CODE_4M.fd": (ovmf_fd.parents[1] / "OVMF" / "OVMF_CODE_4M.fd").read_bytes(),
        "synthetic-amdsev": build_image(),
    }
    for name, data in images.items():
        # A different Debian build would make every row fail; say so plainly instead.
        assert hashlib.sha256(data).hexdigest() == KAT["_firmware_sha256"][name], (
            f"{name} is not the build kat.json was generated from; rerun make_snp_kat.py")
    return images


def config_of(row: dict[str, object]) -> LaunchConfig:
    vmm = VmmType(str(row.get("vmm", "qemu")).lower())
    hashes = None
    if row.get("kernel"):
        kernel = filler(300_000, b"kernel") if row["firmware"] == "synthetic-amdsev" else b""
        initrd = filler(70_001, b"initrd") if row.get("initrd") else None
        hashes = boot_hashes(kernel, initrd, row.get("append"))  # type: ignore[arg-type]
    return LaunchConfig(
        mode=Mode(str(row["mode"])),
        vcpus=int(row.get("vcpus", 1)),  # type: ignore[call-overload]
        vcpu_sig=vcpu_signature(str(row["vcpu_type"])) if "vcpu_type" in row else 0,
        vmm=vmm,
        guest_features=int(str(row.get("guest_features", "0x1")), 16),
        hashes=hashes,
    )


def test_kat_matrix_is_broad() -> None:
    rows = KAT["cases"]
    assert len({r.get("vcpu_type") for r in rows} - {None}) == 16
    assert {r.get("vmm", "QEMU") for r in rows} == {"QEMU", "ec2", "gce"}
    assert {r["mode"] for r in rows} == {"snp", "seves", "sev", "snp:ovmf-hash"}
    assert {r.get("vcpus") for r in rows} >= {1, 2, 3, 4, 8, 16, 32, 64, 255}


@pytest.mark.parametrize("row", KAT["cases"], ids=lambda r: "-".join(
    str(r.get(k, "")) for k in ("firmware", "mode", "vmm", "vcpus", "vcpu_type", "guest_features")))
def test_matches_sev_snp_measure(row: dict[str, object], firmware: dict[str, bytes]) -> None:
    image = parse_ovmf(firmware[str(row["firmware"])], str(row["firmware"]))
    assert measure(image, config_of(row)).digest.hex() == row["expected"]


# --- sev-snp-measure's own test fixtures -------------------------------------------------------
#
# Its fixture binaries (ovmf_AmdSev_suffix.bin, ovmf_OvmfX64_suffix.bin: the last 4 KiB of two
# edk2-stable202405 builds; svsm.bin, svsm_ovmf.fd) are in neither its PyPI sdist nor tests/data.
# The AmdSev fixture's digest after its firmware page is a row of the table ("snp:ovmf-hash"),
# and its SEV metadata, reset EIP and hashes-table GPA are known, so every SNP row of that
# fixture is reproduced from that digest on an image with the same metadata. Rows that need the
# firmware bytes themselves (SEV/SEV-ES SHA-256 over the image, OvmfX64, SVSM) cannot be.

FIXTURES = json.loads((ATTESTATION / "measure" / "sev-snp-measure" / "expected_digests.json")
                      .read_text())["cases"]
AMDSEV_OVMF_HASH = next(c["expected"] for c in FIXTURES if c["mode"] == "snp:ovmf-hash")


def _reproducible(case: dict[str, object]) -> bool:
    return case["mode"] == "snp" and case["ovmf"] == "ovmf_AmdSev_suffix.bin"


def test_fixture_rows_not_reproducible_are_exactly_those_needing_missing_binaries() -> None:
    rest = [(c["mode"], str(c["ovmf"]).split()[0]) for c in FIXTURES if not _reproducible(c)]
    assert sorted(rest) == sorted([
        ("snp:ovmf-hash", "ovmf_AmdSev_suffix.bin"),
        ("snp", "ovmf_OvmfX64_suffix.bin"), ("snp", "ovmf_OvmfX64_suffix.bin"),
        ("snp", "ovmf_OvmfX64_suffix.bin"),
        ("seves", "ovmf_AmdSev_suffix.bin"), ("seves", "ovmf_AmdSev_suffix.bin"),
        ("sev", "ovmf_AmdSev_suffix.bin"), ("sev", "ovmf_AmdSev_suffix.bin"),
        ("sev", "ovmf_OvmfX64_suffix.bin"),
        ("snp:svsm", "svsm_ovmf.fd"), ("snp:svsm", "svsm_ovmf.fd"),
    ])


@pytest.mark.parametrize("case", [c for c in FIXTURES if _reproducible(c)],
                         ids=lambda c: f"{c.get('vmm')}-{c['vcpus']}-{c['guest_features']}-"
                                       f"{'k' if c.get('kernel') else 'nok'}-{c['expected'][:8]}")
def test_sev_snp_measure_fixture(case: dict[str, object]) -> None:
    image = parse_ovmf(build_image(size=0x1000), "ovmf_AmdSev_suffix.bin (metadata only)")
    hashes = None
    if case.get("kernel"):  # '/dev/null' kernel and initrd: empty files
        hashes = boot_hashes(b"", b"" if case.get("initrd") else None, case.get("append"))  # type: ignore[arg-type]
    vmm = VmmType(str(case["vmm"]).lower())
    sig = vcpu_signature(str(case["vcpu_type"])) if case.get("vcpu_type") else 0
    config = LaunchConfig(Mode.SNP, int(case["vcpus"]), sig, vmm,  # type: ignore[call-overload]
                          int(str(case["guest_features"]), 16), hashes,
                          bytes.fromhex(str(case.get("snp_ovmf_hash") or AMDSEV_OVMF_HASH)))
    assert measure(image, config).digest.hex() == case["expected"]


def test_ovmfx64_with_kernel_is_refused_like_the_fixture(ovmf_fd: Path) -> None:
    # The fixture's OvmfX64 row expects an error; Debian's OVMF.fd is the same OvmfPkgX64 build.
    (case,) = [c for c in FIXTURES if c.get("expected_error")]
    assert "SNP_KERNEL_HASHES" in str(case["expected_error"])
    image = parse_ovmf(ovmf_fd.read_bytes(), "OVMF.fd")
    with pytest.raises(InputError, match="SNP_KERNEL_HASHES"):
        measure(image, LaunchConfig(Mode.SNP, 1, vcpu_signature("EPYC-v4"), VmmType.QEMU, 0x21,
                                    boot_hashes(b"", b"", "")))
