"""Fetching a report on a (fake) live guest, and the `attest snp` command line end to end."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from cocoscope.attest.snp.evidence import load_evidence
from cocoscope.attest.snp.fetch import TSM_REPORT, fetch_configfs, fetch_report
from cocoscope.cli import main
from cocoscope.errors import InputError, VerificationError
from tests.attest.snp.snp_vectors import GUID, VECTORS, cert_table, pem_certs

GO = VECTORS["go-sev-guest"]
NONCE = "0102030405"  # the go-sev-guest report's REPORT_DATA


def fake_kernel(report: bytes, *, provider: str = "sev_guest", aux: bytes | None = None
                ) -> Callable[[str], None]:
    """A stand-in for configfs: creating the entry makes the attribute files appear."""
    def make_entry(path: str) -> None:
        os.mkdir(path)
        Path(path, "provider").write_text(provider + "\n")
        Path(path, "outblob").write_bytes(report)
        Path(path, "generation").write_text("1\n")
        if aux is not None:
            Path(path, "auxblob").write_bytes(aux)
    return make_entry


def tsm_root(tmp_path: Path) -> Path:
    (tmp_path / TSM_REPORT).mkdir(parents=True)
    return tmp_path


def test_configfs_fetch_returns_report_with_nonce(tmp_path: Path) -> None:
    root = tsm_root(tmp_path)
    raw = GO.report.read_bytes()
    got = fetch_configfs(bytes.fromhex(NONCE), str(root), make_entry=fake_kernel(raw), vmpl=0)
    assert got.report == raw and got.source == "configfs-tsm" and got.certs is None
    (entry,) = (root / TSM_REPORT).iterdir()
    assert (entry / "inblob").read_bytes() == bytes.fromhex(NONCE).ljust(64, b"\0")
    assert (entry / "privlevel").read_text() == "0"


def test_configfs_refuses_a_report_without_our_nonce(tmp_path: Path) -> None:
    root = tsm_root(tmp_path)
    with pytest.raises(VerificationError, match="nonce"):
        fetch_configfs(b"\x09", str(root), make_entry=fake_kernel(GO.report.read_bytes()))


def test_configfs_refuses_other_providers(tmp_path: Path) -> None:
    root = tsm_root(tmp_path)
    with pytest.raises(InputError, match="tdx_guest"):
        fetch_configfs(b"\x01", str(root),
                       make_entry=fake_kernel(GO.report.read_bytes(), provider="tdx_guest"))


def test_configfs_generation_race_is_detected(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                              ) -> None:
    from cocoscope.evidence import files

    root = tsm_root(tmp_path)
    real_read = files.read_input
    counter = iter(range(1000))

    def racing_read(path: str, kind: files.InputKind) -> bytes:
        if path.endswith("generation"):
            return str(next(counter)).encode()  # changes on every read
        return real_read(path, kind)

    monkeypatch.setattr(files, "read_input", racing_read)
    with pytest.raises(InputError, match="generation kept changing"):
        fetch_configfs(bytes.fromhex(NONCE), str(root),
                       make_entry=fake_kernel(GO.report.read_bytes()))


def test_configfs_short_outblob_is_input_error(tmp_path: Path) -> None:
    root = tsm_root(tmp_path)
    with pytest.raises(InputError, match="1184 bytes"):
        fetch_configfs(b"\x01", str(root), make_entry=fake_kernel(b"\x02" * 100))


def test_no_interface(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no SEV-SNP attestation interface"):
        fetch_report(b"\x01", str(tmp_path))


def test_sev_guest_device_that_is_not_a_device(tmp_path: Path) -> None:
    (tmp_path / "dev").mkdir()
    (tmp_path / "dev" / "sev-guest").write_bytes(b"")
    with pytest.raises(InputError, match="request failed"):
        fetch_report(b"\x01", str(tmp_path))


def test_nonce_too_long(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="at most 64"):
        fetch_configfs(bytes(65), str(tsm_root(tmp_path)))


def test_cli_fetch_then_verify(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                               capsys: pytest.CaptureFixture[str]) -> None:
    """fetch -> report.bin + certificates from the auxblob -> verify: the real round trip."""
    from cocoscope.attest.snp import fetch

    ask, ark = pem_certs(GO.chain)  # type: ignore[arg-type]
    aux = cert_table([(GUID["vcek"], GO.vek.read_bytes()), (GUID["ask"], ask), (GUID["ark"], ark)])
    root = tsm_root(tmp_path / "guest")
    kernel = fake_kernel(GO.report.read_bytes(), aux=aux)
    real = fetch.fetch_configfs
    monkeypatch.setattr(fetch, "fetch_configfs",
                        lambda nonce, root, vmpl=None: real(nonce, root, vmpl=vmpl,
                                                            make_entry=kernel))
    out, certs = tmp_path / "report.bin", tmp_path / "certs"
    rc = main(["attest", "snp", "fetch", "--nonce", NONCE, "-o", str(out), "--certs-out",
               str(certs), "--root", str(root)])
    assert rc == 0 and out.read_bytes() == GO.report.read_bytes()
    assert sorted(p.name for p in certs.iterdir()) == ["ark.der", "ask.der", "vcek.der"]
    args = ["attest", "snp", "verify", str(out), "--certs", str(certs), "--time",
            "2023-01-01T00:00:00Z", "--nonce", NONCE]
    assert main(args) == 4  # DEBUG=1
    assert "policy.debug" in capsys.readouterr().out
    # Authentic, but no reference measurement: not the unqualified VERIFIED, exit 1.
    assert main([*args, "--allow-debug"]) == 1
    first = capsys.readouterr().out.splitlines()[0]
    assert first.endswith(": AUTHENTIC, NOT APPRAISED")
    measurement = load_evidence(str(out)).report.measurement.hex()  # SOURCES.md: b07af962...
    assert main([*args, "--allow-debug", "--measurement", measurement]) == 0
    assert capsys.readouterr().out.splitlines()[0].endswith(": VERIFIED")


def test_cli_fetch_without_host_certs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from cocoscope.attest.snp import fetch

    root = tsm_root(tmp_path / "guest")
    kernel = fake_kernel(GO.report.read_bytes())
    real = fetch.fetch_configfs
    monkeypatch.setattr(fetch, "fetch_configfs",
                        lambda nonce, root, vmpl=None: real(nonce, root, vmpl=vmpl,
                                                            make_entry=kernel))
    rc = main(["attest", "snp", "fetch", "--nonce", NONCE, "-o", str(tmp_path / "r.bin"),
               "--certs-out", str(tmp_path / "c"), "--root", str(root)])
    assert rc == 3 and (tmp_path / "r.bin").exists()


def test_cli_show_and_verify_formats(capsys: pytest.CaptureFixture[str]) -> None:
    vlek = VECTORS["trustee-vlek"]
    assert main(["attest", "snp", "show", str(vlek.report), "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["command"] == "attest snp show" and doc["inputs"][0]["kind"] == "evidence"
    doc = doc["report"]
    assert doc["version"] == 3 and doc["key_info"]["signing_key"] == "VLEK"
    assert doc["reported_tcb"] == {"raw": "04000000000018d9", "bl": 4, "tee": 0, "snp": 24,
                                   "ucode": 217}
    assert main(["attest", "snp", "show", str(VECTORS["virtee-milan"].report)]) == 0
    assert "measurement:" in capsys.readouterr().out
    base = ["attest", "snp", "verify", str(vlek.report), "--certs", str(vlek.vek),
            "--permit-provisional-firmware"]  # COMMITTED ucode 219 < CURRENT 220
    assert main([*base, "--time", "2025-06-01T00:00:00Z", "--format", "json"]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert doc["ok"] is True and doc["authentic"] is True
    assert doc["verdict"] == "authentic-not-appraised" and doc["measurement_checked"] is False
    assert "measurement" in doc["reference_values"]["not_checked"]
    assert main([*base, "--format", "json"]) == 4  # now: the VLEK has expired
    doc = json.loads(capsys.readouterr().out)
    assert doc["failed"] == ["chain.vlek"]
    assert main([*base, "--time", "2025-06-01", "--vmpl", "0", "--min-tcb", "snp=30"]) == 4
    out = capsys.readouterr().out
    assert "policy.vmpl" in out and "policy.min_tcb.snp" in out


def test_cli_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.bin"
    bad.write_bytes(b"\x01" * 10)
    assert main(["attest", "snp", "show", str(bad)]) == 3
    assert str(bad) in capsys.readouterr().err
    assert main(["attest", "snp", "verify", str(GO.report), "--time", "yesterday"]) == 2
    assert main(["attest", "snp", "verify", str(GO.report), "--min-tcb", "snp"]) == 2
    assert main(["attest", "snp", "verify", str(GO.report), "--certs", str(bad)]) == 3
    assert main(["attest", "snp", "verify", str(tmp_path / "missing")]) == 3
