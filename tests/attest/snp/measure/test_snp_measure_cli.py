"""`cocoscope measure snp`: output forms, --explain golden files, exit codes."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from cocoscope.cli import main
from tests.attest.snp.measure.snp_ovmf_builder import build_image, filler
from tests.paths import ATTESTATION, DATA

KAT = {json.dumps({k: v for k, v in r.items() if k != "expected"}, sort_keys=True): r["expected"]
       for r in json.loads((DATA / "snp_measure" / "kat.json").read_text())["cases"]}
APPEND = "console=ttyS0 root=/dev/vda1 ro"
# Set COCOSCOPE_UPDATE_GOLDEN=1 to rewrite the golden files after a deliberate format change.
UPDATE = os.environ.get("COCOSCOPE_UPDATE_GOLDEN") == "1"


def kat(**row: object) -> str:
    return KAT[json.dumps(row, sort_keys=True)]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["measure", "snp", *argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture()
def amdsev(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "amdsev.fd").write_bytes(build_image())
    (tmp_path / "vmlinuz").write_bytes(filler(300_000, b"kernel"))
    (tmp_path / "initrd.img").write_bytes(filler(70_001, b"initrd"))
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture()
def debian(ovmf_fd: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(ovmf_fd.parent)  # so --explain shows the stable name OVMF.fd
    return ovmf_fd


def test_text_digest(debian: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--ovmf", "OVMF.fd", "--vcpus", "4", "--vcpu-type", "EPYC-Milan")
    assert code == 0
    assert out == kat(firmware="OVMF.fd", mode="snp", vcpus=4, vcpu_type="EPYC-Milan") + "\n"


def test_json_digest_and_vmm_flags(debian: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--ovmf", "OVMF.fd", "--vcpus", "2", "--vmm-type", "gce",
                       "--guest-features", "0x21", "--format", "json")
    assert code == 0
    doc = json.loads(out)  # the command's body inside the one JSON envelope
    assert doc["command"] == "measure snp" and doc["inputs"][0]["kind"] == "firmware"
    assert {k: doc[k] for k in ("mode", "digest")} == {"mode": "snp", "digest": kat(
        firmware="OVMF.fd", mode="snp", vcpus=2, vmm="gce", guest_features="0x21")}


def test_direct_boot_seves_and_sev(amdsev: Path, capsys: pytest.CaptureFixture[str]) -> None:
    boot = ["--ovmf", "amdsev.fd", "--kernel", "vmlinuz", "--initrd", "initrd.img",
            "--append", APPEND]
    _, out, _ = run(capsys, *boot, "--mode", "seves", "--vcpus", "2", "--vcpu-type", "EPYC-v4")
    assert out.strip() == kat(firmware="synthetic-amdsev", mode="seves", vcpus=2,
                              vcpu_type="EPYC-v4", kernel=True, initrd=True, append=APPEND)
    _, out, _ = run(capsys, *boot, "--mode", "sev")
    assert out.strip() == kat(firmware="synthetic-amdsev", mode="sev", kernel=True, initrd=True,
                              append=APPEND)


def test_ovmf_hash_round_trip(debian: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, ovmf_hash, _ = run(capsys, "--ovmf", "OVMF.fd", "--mode", "snp:ovmf-hash")
    assert ovmf_hash.strip() == kat(firmware="OVMF.fd", mode="snp:ovmf-hash")
    _, out, _ = run(capsys, "--ovmf", "OVMF.fd", "--vcpus", "1", "--vcpu-type", "EPYC",
                    "--snp-ovmf-hash", ovmf_hash.strip())
    assert out.strip() == kat(firmware="OVMF.fd", mode="snp", vcpus=1, vcpu_type="EPYC")


@pytest.mark.parametrize(("name", "argv", "expected"), [
    ("explain_debian_ovmf_qemu.txt",
     ["--ovmf", "OVMF.fd", "--vcpus", "3", "--vcpu-type", "EPYC-v4", "--guest-features", "0x21"],
     kat(firmware="OVMF.fd", mode="snp", vcpus=3, vcpu_type="EPYC-v4", guest_features="0x21")),
    ("explain_debian_ovmf_ec2.txt", ["--ovmf", "OVMF.fd", "--vcpus", "2", "--vmm-type", "ec2"],
     kat(firmware="OVMF.fd", mode="snp", vcpus=2, vmm="ec2", guest_features="0x1")),
])
def test_explain_golden_debian(name: str, argv: list[str], expected: str, debian: Path,
                               capsys: pytest.CaptureFixture[str]) -> None:
    _check_golden(capsys, name, argv, expected)


def test_explain_golden_direct_boot(amdsev: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _check_golden(capsys, "explain_amdsev_direct_boot_gce.txt",
                  ["--ovmf", "amdsev.fd", "--kernel", "vmlinuz", "--initrd", "initrd.img",
                   "--append", APPEND, "--vcpus", "3", "--vmm-type", "gce",
                   "--vcpu-type", "EPYC-Milan", "--guest-features", "0x21"],
                  kat(firmware="synthetic-amdsev", mode="snp", vcpus=3, vmm="gce",
                      vcpu_type="EPYC-Milan", kernel=True, initrd=True, append=APPEND,
                      guest_features="0x21"))


def _check_golden(capsys: pytest.CaptureFixture[str], name: str, argv: list[str],
                  expected: str) -> None:
    code, out, _ = run(capsys, *argv, "--explain")
    assert code == 0
    golden = DATA / "snp_measure" / name
    if UPDATE:
        golden.write_text(out)
    assert out == golden.read_text()
    # The explained digest is sev-snp-measure's, and so is the last step's running digest.
    assert out.splitlines()[-1] == f"digest: {expected}"
    assert out.splitlines()[-2] == f"      -> {expected}"
    _, plain, _ = run(capsys, *argv)
    assert plain == expected + "\n"


def test_explain_json_lists_every_step(debian: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, "--ovmf", "OVMF.fd", "--vcpus", "2", "--vmm-type", "ec2",
                    "--format", "json", "--explain")
    doc = json.loads(out)
    assert [s["page_type"] for s in doc["steps"]] == [
        "NORMAL", "ZERO", "ZERO", "SECRETS", "ZERO", "ZERO", "CPUID", "VMSA", "VMSA"]
    assert doc["steps"][-1]["digest"] == doc["digest"] == kat(
        firmware="OVMF.fd", mode="snp", vcpus=2, vmm="ec2", guest_features="0x1")
    assert [v["cs_attrib"] for v in doc["vmsas"]] == [0x9A, 0x9B]


@pytest.mark.parametrize(("argv", "code", "message"), [
    (["--ovmf", "missing.fd", "--vcpus", "1", "--vcpu-type", "EPYC"], 3, "not found"),
    (["--ovmf", "amdsev.fd", "--vcpus", "1"], 2, "--vcpu-type or --vcpu-sig"),
    (["--ovmf", "amdsev.fd", "--vcpu-type", "EPYC"], 2, "--vcpus is required"),
    (["--ovmf", "amdsev.fd", "--vcpus", "1", "--vcpu-type", "EPYC", "--initrd", "initrd.img"], 2,
     "need --kernel"),
    (["--ovmf", "amdsev.fd", "--vcpus", "0", "--vcpu-type", "EPYC"], 2, "at least 1"),
    (["--ovmf", "amdsev.fd", "--vcpus", "1", "--vcpu-sig", "zz"], 2, "not a hex number"),
    (["--ovmf", "amdsev.fd", "--vcpus", "1", "--vcpu-type", "EPYC", "--snp-ovmf-hash", "00"], 2,
     "48 bytes"),
    (["--ovmf", "vmlinuz", "--vcpus", "1", "--vcpu-type", "EPYC"], 3, "not a whole number"),
])
def test_errors(argv: list[str], code: int, message: str, amdsev: Path,
                capsys: pytest.CaptureFixture[str]) -> None:
    got, out, err = run(capsys, *argv)
    assert (got, out) == (code, "")
    assert message in err and "Traceback" not in err


def test_refusal_exit_code(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fw = tmp_path / "no-metadata.fd"
    fw.write_bytes(build_image(sections=None))
    code, out, err = run(capsys, "--ovmf", str(fw), "--vcpus", "1", "--vcpu-type", "EPYC-v4")
    assert (code, out) == (3, "")
    assert f"{fw}: no SEV metadata" in err and "refusing" in err


def test_explain_golden_seves_direct_boot(amdsev: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _check_golden(capsys, "explain_amdsev_direct_boot_seves.txt",
                  ["--ovmf", "amdsev.fd", "--kernel", "vmlinuz", "--initrd", "initrd.img",
                   "--append", APPEND, "--mode", "seves", "--vcpus", "2", "--vcpu-type", "EPYC-v4"],
                  kat(firmware="synthetic-amdsev", mode="seves", vcpus=2, vcpu_type="EPYC-v4",
                      kernel=True, initrd=True, append=APPEND))


def test_sev_snp_measure_fixture_row_through_the_cli(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    # Row 1 of sev-snp-measure's expected_digests.json, driven as its CLI would be: its
    # '/dev/null' kernel and initrd are empty regular files here (cocoscope reads regular files
    # only), from the AmdSev fixture's firmware digest (see test_snp_measure_kat).
    fixtures = ATTESTATION / "measure" / "sev-snp-measure" / "expected_digests.json"
    cases = json.loads(fixtures.read_text())["cases"]
    ovmf_hash = next(c["expected"] for c in cases if c["mode"] == "snp:ovmf-hash")
    case = cases[0]
    assert (case["append"], case["vmm"], case["vcpus"]) == ("console=ttyS0 loglevel=7", "QEMU", 1)
    fw = tmp_path / "amdsev-suffix-metadata.fd"
    fw.write_bytes(build_image(size=0x1000))
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    code, out, _ = run(capsys, "--ovmf", str(fw), "--kernel", str(empty), "--initrd",
                       str(empty), "--append", case["append"], "--vcpus", "1", "--vcpu-type",
                       case["vcpu_type"], "--guest-features", case["guest_features"],
                       "--snp-ovmf-hash", ovmf_hash)
    assert (code, out) == (0, case["expected"] + "\n")
