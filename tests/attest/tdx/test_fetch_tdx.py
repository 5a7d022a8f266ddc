"""Live-guest evidence retrieval against a fake /sys + /dev tree."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from cocoscope.attest.tdx import fetch
from cocoscope.attest.tdx.eventlog import replay
from cocoscope.errors import InputError, VerificationError
from tests.paths import ATTESTATION

GCP = ATTESTATION / "tdx" / "go-tdx-guest" / "ccel"


def fake_guest(tmp_path: Path, *, provider: str = "tdx_guest", entry: str = "mine") -> Path:
    """A TDX guest root: configfs-tsm entry already holding the GCP quote, and the CCEL files."""
    report = tmp_path / fetch.TSM_REPORT_DIR / entry
    report.mkdir(parents=True)
    (report / "provider").write_text(provider + "\n")
    (report / "generation").write_text("7\n")
    shutil.copy(GCP / "cos-113-tdx-quote.dat", report / "outblob")
    (report / "inblob").write_bytes(b"")
    tables = tmp_path / "sys/firmware/acpi/tables"
    (tables / "data").mkdir(parents=True)
    shutil.copy(GCP / "ccel_table.dat", tables / "CCEL")
    shutil.copy(GCP / "ccel_data.dat", tables / "data" / "CCEL")
    return tmp_path


def test_quote_from_configfs(tmp_path: Path) -> None:
    root = fake_guest(tmp_path)
    nonce = (GCP / "nonce.dat").read_bytes()
    got = fetch.fetch_quote(root, nonce, entry="mine")
    assert got.quote == (GCP / "cos-113-tdx-quote.dat").read_bytes()
    assert (got.provider, got.generation) == ("tdx_guest", 7)
    assert (root / fetch.TSM_REPORT_DIR / "mine" / "inblob").read_bytes() == nonce
    assert (root / fetch.TSM_REPORT_DIR / "mine").is_dir()  # a reused entry is kept


def test_stale_outblob_is_rejected(tmp_path: Path) -> None:
    root = fake_guest(tmp_path)
    with pytest.raises(VerificationError, match="REPORTDATA is not the nonce"):
        fetch.fetch_quote(root, b"\x01" * 64, entry="mine")


def test_wrong_provider(tmp_path: Path) -> None:
    root = fake_guest(tmp_path, provider="sev_guest")
    with pytest.raises(InputError, match="provider is 'sev_guest'"):
        fetch.fetch_quote(root, b"n", entry="mine")


def test_fresh_entry_is_created_and_removed(tmp_path: Path) -> None:
    base = tmp_path / fetch.TSM_REPORT_DIR
    base.mkdir(parents=True)
    # A plain directory has no provider file: the error must come out, and no entry is left.
    with pytest.raises(InputError, match="cannot read provider"):
        fetch.fetch_quote(tmp_path, b"nonce")
    assert list(base.iterdir()) == []


def test_no_configfs(tmp_path: Path) -> None:
    assert not fetch.configfs_available(tmp_path)
    with pytest.raises(InputError, match="configfs-tsm is not available"):
        fetch.fetch_quote(tmp_path, b"nonce")


@pytest.mark.parametrize("nonce", [b"", b"x" * 65])
def test_nonce_size(nonce: bytes) -> None:
    with pytest.raises(InputError, match=r"1\.\.64 bytes"):
        fetch.report_data(nonce)


def test_short_nonce_is_zero_padded() -> None:
    assert fetch.report_data(b"\xab") == b"\xab" + bytes(63)


def test_tdreport_via_ioctl(tmp_path: Path) -> None:
    dev = tmp_path / fetch.TDX_GUEST_DEV
    dev.parent.mkdir()
    dev.write_bytes(b"")
    seen = {}

    def fake_ioctl(fd: int, request: int, buf: bytearray, mutate: bool) -> int:
        seen["request"] = request
        report = bytearray(1024)
        report[0] = 0x81
        report[128:192] = buf[:64]
        buf[64:] = report
        return 0

    report = fetch.fetch_tdreport(tmp_path, b"\x42" * 64, ioctl=fake_ioctl)
    assert len(report) == 1024 and report[128:192] == b"\x42" * 64
    assert seen["request"] == 0xC4405401  # _IOWR('T', 1, 1088-byte struct tdx_report_req)

    def lying_ioctl(fd: int, request: int, buf: bytearray, mutate: bool) -> int:
        buf[64:] = bytes(1024)
        return 0

    with pytest.raises(VerificationError, match="REPORTDATA"):
        fetch.fetch_tdreport(tmp_path, b"\x42" * 64, ioctl=lying_ioctl)


def test_tdreport_on_a_regular_file_fails_cleanly(tmp_path: Path) -> None:
    dev = tmp_path / fetch.TDX_GUEST_DEV
    dev.parent.mkdir()
    dev.write_bytes(b"")
    with pytest.raises(InputError, match="TDX_CMD_GET_REPORT0 failed"):
        fetch.fetch_tdreport(tmp_path, b"n")
    with pytest.raises(InputError, match="cannot open"):
        fetch.fetch_tdreport(tmp_path / "nowhere", b"n")


def test_ccel_from_sysfs(tmp_path: Path) -> None:
    root = fake_guest(tmp_path)
    ccel = fetch.fetch_ccel(root)
    assert ccel.table.cc_type == 2 and len(ccel.log.events) == 43
    assert replay(ccel.log)[0].hex().startswith("3fa2f61f")
    (root / fetch.CCEL_DATA).write_bytes((GCP / "ccel_data.dat").read_bytes()[:0x1000])
    with pytest.raises(InputError, match="LAML"):
        fetch.fetch_ccel(root)
    (root / fetch.CCEL_TABLE).unlink()
    with pytest.raises(InputError, match="cannot read ACPI CCEL table"):
        fetch.fetch_ccel(root)
