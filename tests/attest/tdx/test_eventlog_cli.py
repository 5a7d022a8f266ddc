"""`cocoscope attest tdx eventlog|fetch` and `cocoscope measure tdx` end to end, plus parser fuzzing."""

from __future__ import annotations

import contextlib
import json
import shutil
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cocoscope.attest.tdx import efi_events, fetch
from cocoscope.attest.tdx.ccel import parse_ccel_table
from cocoscope.attest.tdx.cmdline import find_kernel_cmdline
from cocoscope.attest.tdx.eventlog import parse_eventlog, replay
from cocoscope.cli import main
from cocoscope.errors import CocoscopeError, InputError
from tests.paths import ATTESTATION

TDX = ATTESTATION / "tdx"
GCP = TDX / "go-tdx-guest" / "ccel"
GCP_LOG = (GCP / "ccel_data.dat").read_bytes()


def test_eventlog_matches_quote(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["attest", "tdx", "eventlog", str(GCP / "ccel_data.dat"),
                 "--quote", str(GCP / "cos-113-tdx-quote.dat"), "--ccel-table", str(GCP / "ccel_table.dat")])
    out = capsys.readouterr().out
    assert code == 0
    assert "every RTMR matches" in out and "RTMR0 3fa2f61f" in out
    assert "kernel command line (grub, event 41): BOOT_IMAGE=/syslinux/vmlinuz.A" in out


def test_eventlog_mismatch_exits_4_naming_rtmrs(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["attest", "tdx", "eventlog", str(TDX / "trustee" / "eventlog" / "CCEL_data"),
                 "--quote", str(TDX / "trustee" / "tdx_quote_4.dat")])
    out = capsys.readouterr().out
    assert code == 4
    assert "MISMATCH in RTMR0, RTMR1" in out


def test_eventlog_json(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["attest", "tdx", "eventlog", str(TDX / "trustee" / "eventlog" / "CCEL_data_grub"),
                 "--format", "json"])
    doc = json.loads(capsys.readouterr().out)
    assert code == 0
    assert len(doc["events"]) == 37 and doc["rtmrs"][0].startswith("cec0a104")
    first_var = next(e for e in doc["events"] if e["type"] == "EV_EFI_VARIABLE_DRIVER_CONFIG")
    assert first_var["decoded"]["variable"] == "SecureBoot" and first_var["rtmr"] == 0
    assert doc["kernel_cmdline"] is None


def test_eventlog_bad_input_exits_3(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "log"
    bad.write_bytes(GCP_LOG[:0x1a0 + 100])  # cut inside the PK variable event
    assert main(["attest", "tdx", "eventlog", str(bad)]) == 3
    err = capsys.readouterr().err
    assert str(bad) in err and "offset 0x" in err and "truncated" in err
    assert main(["attest", "tdx", "eventlog", str(tmp_path / "missing")]) == 3


def test_forged_cmdline_is_flagged(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    forged = bytearray(GCP_LOG)
    at = forged.find(b"kernel_cmdline: ") + 16
    forged[at : at + 1] = b"X"
    path = tmp_path / "forged"
    path.write_bytes(bytes(forged))
    code = main(["attest", "tdx", "eventlog", str(path), "--quote", str(GCP / "cos-113-tdx-quote.dat")])
    out = capsys.readouterr().out
    # The digests, and so the RTMRs, are intact; the command line is not: exit 4 (issue 8.5).
    assert code == 4
    assert "every RTMR matches the replay" in out
    assert "kernel command line: NOT TRUSTED" in out


def test_fetch_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    entry = tmp_path / fetch.TSM_REPORT_DIR / "e1"
    entry.mkdir(parents=True)
    (entry / "provider").write_text("tdx_guest\n")
    (entry / "generation").write_text("1\n")
    shutil.copy(GCP / "cos-113-tdx-quote.dat", entry / "outblob")
    tables = tmp_path / "sys/firmware/acpi/tables"
    (tables / "data").mkdir(parents=True)
    shutil.copy(GCP / "ccel_table.dat", tables / "CCEL")
    shutil.copy(GCP / "ccel_data.dat", tables / "data" / "CCEL")
    out, log = tmp_path / "q.bin", tmp_path / "ccel.bin"
    nonce = (GCP / "nonce.dat").read_bytes().hex()
    code = main(["attest", "tdx", "fetch", "--nonce", nonce, "-o", str(out), "--eventlog-out", str(log),
                 "--root", str(tmp_path), "--tsm-entry", "e1"])
    assert code == 0
    assert out.read_bytes() == (GCP / "cos-113-tdx-quote.dat").read_bytes()
    assert log.read_bytes() == GCP_LOG
    assert main(["attest", "tdx", "eventlog", str(log), "--quote", str(out)]) == 0


def test_fetch_without_quote_interface(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["attest", "tdx", "fetch", "--nonce", "00", "-o", str(tmp_path / "q"),
                 "--root", str(tmp_path)]) == 3
    assert "not a TDX guest" in capsys.readouterr().err
    (tmp_path / "dev").mkdir()
    (tmp_path / "dev" / "tdx_guest").write_bytes(b"")
    assert main(["attest", "tdx", "fetch", "--nonce", "00", "-o", str(tmp_path / "q"),
                 "--root", str(tmp_path)]) == 3
    assert "TDX_CMD_GET_REPORT0" in capsys.readouterr().err
    assert main(["attest", "tdx", "fetch", "--nonce", "zz", "-o", "q", "--root", str(tmp_path)]) == 3


def test_measure_tdx(ovmf_fd: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["measure", "tdx", "--ovmf", str(ovmf_fd), "--explain", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert len(doc["mrtd"]) == 96
    assert doc["sections"][0]["type"] == "BFV" and doc["sections"][0]["attributes"] == ["MR_EXTEND"]
    assert doc["page_order"] == "single-pass" and doc["mrtd_two_pass"] != doc["mrtd"]
    assert main(["measure", "tdx", "--ovmf", str(ovmf_fd)]) == 0
    assert capsys.readouterr().out.strip() == f"MRTD {doc['mrtd']}"
    assert main(["measure", "tdx", "--ovmf", str(ovmf_fd), "--page-order", "two-pass"]) == 0
    assert capsys.readouterr().out.strip() == f"MRTD {doc['mrtd_two_pass']}"


def test_measure_tdx_bad_firmware(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fw = tmp_path / "fw.fd"
    fw.write_bytes(bytes(4096))
    assert main(["measure", "tdx", "--ovmf", str(fw)]) == 3
    assert "no OVMF footer" in capsys.readouterr().err


# --- fuzzing: truncated or garbage input gives InputError only ---------------------------------


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=0x4700))
def test_fuzz_truncated_log(cut: int) -> None:
    try:
        log = parse_eventlog(GCP_LOG[:cut], "cut")
    except InputError:
        return
    replay(log)  # a cut that lands on an event boundary is a valid shorter log


@settings(max_examples=300, deadline=None)
@given(st.binary(min_size=1, max_size=64), st.integers(min_value=0, max_value=0x4700))
def test_fuzz_garbage_in_log(garbage: bytes, at: int) -> None:
    data = bytearray(GCP_LOG[:0x4800])
    data[at : at + len(garbage)] = garbage
    try:
        log = parse_eventlog(bytes(data), "fuzz")
        replay(log)
        for e in log.events:
            e.decoded()
        find_kernel_cmdline(log)
    except CocoscopeError:
        pass


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_fuzz_random_bytes(blob: bytes) -> None:
    for parser in (parse_eventlog, parse_ccel_table):
        with contextlib.suppress(InputError):
            parser(blob, "rand")


@settings(max_examples=400, deadline=None)
@given(
    st.sampled_from([*sorted(efi_events.EVENT_TYPE_NAMES), 0x12345]),
    st.one_of(
        st.binary(max_size=300),
        # structured prefixes so the decoders get past their first length checks
        st.builds(lambda b: bytes(16) + b, st.binary(max_size=200)),
        st.builds(lambda b: bytes(32) + b"\x04\x04" + b, st.binary(max_size=100)),
    ),
)
def test_fuzz_event_data_decoding_never_raises(event_type: int, data: bytes) -> None:
    efi_events.decode(event_type, data)
    efi_events.device_path_text(data)
    efi_events.decode_load_option(data)
