"""The kernel command line is placed by the boot chain's structure, not by an unsigned label.

Red-team cases on the real logs in tests/data: an event's type and data are not covered by the
RTMRs, so a relabelled or edited event still replays to the quote's RTMRs; what must not
happen is a command line the guest did not boot.
"""

from __future__ import annotations

import hashlib
import json
import struct
from pathlib import Path

import pytest

from cocoscope.attest.tdx import efi_events
from cocoscope.attest.tdx.cmdline import (
    check_expected_cmdline,
    locate_kernel_cmdline,
    unquote_grub_argv,
)
from cocoscope.attest.tdx.eventlog import ALG_SHA384, EventLog, parse_eventlog, replay
from cocoscope.cli import main
from cocoscope.errors import VerificationError
from tests.paths import ATTESTATION

GCP = ATTESTATION / "tdx" / "go-tdx-guest" / "ccel"
GCP_LOG, GCP_QUOTE = GCP / "ccel_data.dat", GCP / "cos-113-tdx-quote.dat"
TRUSTEE = ATTESTATION / "tdx" / "trustee" / "eventlog"
GCP_CMDLINE_START = "BOOT_IMAGE=/syslinux/vmlinuz.A init=/usr/lib/systemd/systemd rootwait ro "


def _load(path: Path) -> tuple[bytes, EventLog]:
    data = path.read_bytes()
    return data, parse_eventlog(data, str(path))


def _with_data(path: Path, number: int, new_data: bytes) -> bytes:
    """The log at ``path`` with event ``number``'s data replaced; digests and MR untouched."""
    data, log = _load(path)
    out = bytearray(data[: log.events[0].offset])
    for e in log.events:
        if e.number != number:
            out += data[e.offset : e.offset + _record_size(e)]
            continue
        out += struct.pack("<III", e.mr_index, e.event_type, len(e.digests))
        for alg, digest in e.digests:
            out += struct.pack("<H", alg) + digest
        out += struct.pack("<I", len(new_data)) + new_data
    return bytes(out + data[log.end :])


def _record_size(e: object) -> int:
    digests = e.digests  # type: ignore[attr-defined]
    return 12 + sum(2 + len(d) for _, d in digests) + 4 + len(e.data)  # type: ignore[attr-defined]


def _event_with(log: EventLog, needle: bytes) -> int:
    (number,) = [e.number for e in log.events if e.data.startswith(needle)]
    return number


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


# --- the honest logs ---------------------------------------------------------------------


@pytest.mark.parametrize(("name", "loader", "event"), [
    ("go-tdx-guest grub", "grub", 41),
    ("trustee alibaba RHEL grub", "grub", 81),
    ("trustee td-shim", "td-shim", 5),
])
def test_real_logs_place_the_command_line(name: str, loader: str, event: int) -> None:
    path = {"go-tdx-guest grub": GCP_LOG, "trustee alibaba RHEL grub": TRUSTEE / "CCEL_AAEL_alibabacloud",
            "trustee td-shim": TRUSTEE / "CCEL_data"}[name]
    search = locate_kernel_cmdline(_load(path)[1])
    assert search.found is not None
    assert (search.found.loader, search.found.event.number) == (loader, event)
    assert "follows" in search.reason


# --- relabelled events -------------------------------------------------------------------


def test_relabelled_grub_command_is_not_trusted(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # "grub_cmd: set timeout=0" relabelled "kernel_cmdline: set timeout=0": the text after the
    # label still hashes to the digest and every RTMR still replays to the quote.
    _, log = _load(GCP_LOG)
    n = _event_with(log, b"grub_cmd: set timeout=0")
    forged = _with_data(GCP_LOG, n, b"kernel_cmdline: set timeout=0\x00")
    assert replay(parse_eventlog(forged, "forged")) == replay(log)
    with pytest.raises(VerificationError, match="label was changed"):
        locate_kernel_cmdline(parse_eventlog(forged, "forged"))
    path = tmp_path / "relabelled"
    path.write_bytes(forged)
    code, out, _ = _run(capsys, "attest", "tdx", "eventlog", str(path), "--quote", str(GCP_QUOTE))
    assert code == 4
    assert "every RTMR matches the replay" in out
    assert "kernel command line: NOT TRUSTED" in out and "set timeout=0" in out
    assert "kernel command line (grub" not in out
    # The audit never audits that line: the log is refused as a verification failure.
    code, out, err = _run(capsys, "audit", "--cmdline-from-eventlog", str(path))
    assert code == 4 and "label was changed" in err


def test_relabelled_last_grub_command_after_the_real_command_line(tmp_path: Path) -> None:
    # RHEL-style grub: the initrd command after the real command line relabelled as
    # "grub_kernel_cmdline" must not win as "the last command line".
    _, log = _load(TRUSTEE / "CCEL_AAEL_alibabacloud")
    n = _event_with(log, b"grub_cmd initrd ")
    text = log.events[n - 1].data.split(b"\x00", 1)[0][len(b"grub_cmd "):]
    forged = _with_data(TRUSTEE / "CCEL_AAEL_alibabacloud", n, b"grub_kernel_cmdline " + text + b"\x00")
    with pytest.raises(VerificationError, match="does not agree with grub's linux command in event 79"):
        locate_kernel_cmdline(parse_eventlog(forged, "forged"))


def test_real_command_line_relabelled_away_gives_unknown(capsys: pytest.CaptureFixture[str],
                                                         tmp_path: Path) -> None:
    _, log = _load(GCP_LOG)
    n = _event_with(log, b"kernel_cmdline: ")
    text = log.events[n - 1].data[len(b"kernel_cmdline: "):]
    forged = _with_data(GCP_LOG, n, b"grub_cmd: " + text)
    search = locate_kernel_cmdline(parse_eventlog(forged, "forged"))
    assert search.found is None and "not followed by its kernel command line" in search.reason
    path = tmp_path / "hidden"
    path.write_bytes(forged)
    code, out, _ = _run(capsys, "attest", "tdx", "eventlog", str(path), "--quote", str(GCP_QUOTE))
    assert code == 0 and "kernel command line: unknown: grub's last linux command (event 39)" in out


def test_relabelled_td_shim_record_is_not_trusted(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # td-shim's td_hob record (RTMR0) renamed td_payload_info: the value still hashes, and
    # main used to report an empty kernel command line.
    path0 = TRUSTEE / "CCEL_data"
    _, log = _load(path0)
    hob = log.events[0]
    assert hob.data.startswith(b"td_hob\x00")
    forged = _with_data(path0, hob.number, b"td_payload_info\x00" + hob.data[16:])
    assert replay(parse_eventlog(forged, "forged")) == replay(log)
    with pytest.raises(VerificationError, match="only in RTMR1 right after the td_payload"):
        locate_kernel_cmdline(parse_eventlog(forged, "forged"))
    path = tmp_path / "tdshim"
    path.write_bytes(forged)
    code, out, _ = _run(capsys, "attest", "tdx", "eventlog", str(path))
    assert code == 4 and "NOT TRUSTED" in out


# --- edited text -------------------------------------------------------------------------


def test_edited_linux_command_is_not_trusted() -> None:
    data = bytearray(GCP_LOG.read_bytes())
    at = data.find(b"grub_cmd: linux /syslinux/vmlinuz.A")
    rootwait = data.find(b"rootwait", at)
    data[rootwait : rootwait + 8] = b"rootwai7"
    log = parse_eventlog(bytes(data), "edited")
    assert replay(log) == replay(_load(GCP_LOG)[1])
    with pytest.raises(VerificationError, match="linux command does not hash"):
        locate_kernel_cmdline(log)


def test_edited_command_line_json_names_the_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = bytearray(GCP_LOG.read_bytes())
    at = data.find(b"kernel_cmdline: /syslinux") + len(b"kernel_cmdline: /syslinux")
    data[at : at + 1] = b"X"
    path = tmp_path / "edited"
    path.write_bytes(bytes(data))
    code, out, _ = _run(capsys, "attest", "tdx", "eventlog", str(path), "--quote", str(GCP_QUOTE),
                        "--format", "json")
    doc = json.loads(out)
    assert code == 4 and doc["quote"]["ok"] is True
    assert doc["kernel_cmdline"] is None and "does not hash" in doc["kernel_cmdline_error"]
    assert len(doc["events"]) == 43 and doc["events"][40]["number"] == 41


# --- structure and ambiguity (built logs) ---------------------------------------------


def _spec_header() -> bytes:
    spec = (b"Spec ID Event03\x00" + struct.pack("<IBBBBI", 0, 0, 2, 0, 2, 1)
            + struct.pack("<HH", ALG_SHA384, 48) + b"\x00")
    return struct.pack("<II", 0, efi_events.EV_NO_ACTION) + bytes(20) + struct.pack("<I", len(spec)) + spec


def _grub(label: bytes, text: bytes) -> bytes:
    data = label + text + b"\x00"
    digest = hashlib.sha384(text).digest()
    return (struct.pack("<III", 3, efi_events.EV_IPL, 1) + struct.pack("<H", ALG_SHA384) + digest
            + struct.pack("<I", len(data)) + data)


def test_quoted_arguments_agree_with_the_linux_command() -> None:
    log = parse_eventlog(_spec_header()
                         + _grub(b"grub_cmd: ", b'linux /vmlinuz dyndbg=file a.c +p x="y"')
                         + _grub(b"kernel_cmdline: ", b'/vmlinuz "dyndbg=file a.c +p" x=\\"y\\"'), "q")
    found = locate_kernel_cmdline(log).found
    assert found is not None and found.text == 'BOOT_IMAGE=/vmlinuz "dyndbg=file a.c +p" x=\\"y\\"'


def test_command_line_disagreeing_with_the_linux_command_is_not_trusted() -> None:
    log = parse_eventlog(_spec_header() + _grub(b"grub_cmd: ", b"linux /vmlinuz ro")
                         + _grub(b"kernel_cmdline: ", b"/vmlinuz ro init=/bin/sh"), "d")
    with pytest.raises(VerificationError, match="does not agree"):
        locate_kernel_cmdline(log)


def test_a_later_linux_command_without_its_command_line_is_ambiguous() -> None:
    log = parse_eventlog(_spec_header() + _grub(b"grub_cmd: ", b"linux /a ro")
                         + _grub(b"kernel_cmdline: ", b"/a ro") + _grub(b"grub_cmd: ", b"linux /b rw"), "l")
    search = locate_kernel_cmdline(log)
    assert search.found is None and "event 3" in search.reason


def test_two_loaders_are_ambiguous() -> None:
    utf16 = "console=ttyS0\x00".encode("utf-16-le")
    sd = (struct.pack("<III", 3, efi_events.EV_IPL, 1) + struct.pack("<H", ALG_SHA384)
          + hashlib.sha384(utf16).digest() + struct.pack("<I", len(utf16)) + utf16)
    log = parse_eventlog(_spec_header() + _grub(b"grub_cmd: ", b"linux /a ro")
                         + _grub(b"kernel_cmdline: ", b"/a ro") + sd, "two")
    search = locate_kernel_cmdline(log)
    assert search.found is None and "more than one loader" in search.reason


@pytest.mark.parametrize(("text", "argv"), [
    ("/vmlinuz ro", ["/vmlinuz", "ro"]),
    ('/vmlinuz "a b" c=\\"d\\"', ["/vmlinuz", "a b", 'c="d"']),
    ("/v x\\\\y", ["/v", "x\\y"]),
    ('/v "ab"', None),  # grub quotes only arguments with a space
    ("/v a\"b", None),  # an unescaped quote is not grub's output
    ("/v ", None),
])
def test_unquote_grub_argv(text: str, argv: list[str] | None) -> None:
    assert unquote_grub_argv(text) == argv


# --- the owner's expected command line -----------------------------------------------


def test_expected_cmdline_checked_where_measured(capsys: pytest.CaptureFixture[str]) -> None:
    _, log = _load(GCP_LOG)
    found = locate_kernel_cmdline(log).found
    assert found is not None and found.text.startswith(GCP_CMDLINE_START)
    assert check_expected_cmdline(log, found.text).passed
    assert check_expected_cmdline(log, found.text.removeprefix("BOOT_IMAGE=")).passed
    assert not check_expected_cmdline(log, found.text + " init=/bin/sh").passed
    code, out, _ = _run(capsys, "attest", "tdx", "eventlog", str(GCP_LOG), "--cmdline", found.text)
    assert code == 0 and "PASS  expected command line" in out
    code, out, _ = _run(capsys, "attest", "tdx", "eventlog", str(GCP_LOG), "--cmdline", "ro quiet")
    assert code == 4 and "FAIL  expected command line" in out


def test_expected_cmdline_against_a_digest_only_log() -> None:
    # OVMF direct boot: the EFI stub measured LoadOptions as a digest; a wrong line fails.
    _, log = _load(TRUSTEE / "CCEL_data_ovmf")
    assert locate_kernel_cmdline(log).found is None
    check = check_expected_cmdline(log, "console=hvc0")
    assert not check.passed and "measured nowhere" in (check.detail or "")


def test_audit_on_a_digest_only_log_leaves_the_cmdline_unknown(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(capsys, "audit", "--cmdline-from-eventlog", str(TRUSTEE / "CCEL_data_ovmf"),
                          "--format", "json")
    assert code in (0, 1), err
    doc = json.loads(out)
    text = json.dumps(doc)
    assert "command line not known from the event log" in text
