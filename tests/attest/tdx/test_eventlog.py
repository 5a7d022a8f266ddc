"""CCEL event-log parsing and replay on real logs (tests/data/attestation/tdx, see its PROVENANCE)."""

from __future__ import annotations

import hashlib
import json
import struct
from pathlib import Path

import pytest

from cocoscope.attest.tdx import efi_events
from cocoscope.attest.tdx.ccel import check_log_area, parse_ccel_table
from cocoscope.attest.tdx.cmdline import (
    LOAD_OPTIONS_TAG_ID,
    find_kernel_cmdline,
    kernel_cmdline,
    match_load_options,
)
from cocoscope.attest.tdx.eventlog import (
    ALG_SHA384,
    EventLog,
    compare_rtmrs,
    parse_eventlog,
    replay,
)
from cocoscope.attest.tdx.quote import parse_quote
from cocoscope.errors import InputError, VerificationError
from tests.paths import ATTESTATION

TDX = ATTESTATION / "tdx"
TRUSTEE = TDX / "trustee" / "eventlog"
GCP = TDX / "go-tdx-guest" / "ccel"
ZERO = "0" * 96

# PROVENANCE gives trustee's expected RTMRs as prefix…suffix; unlisted RTMRs are zero.
TRUSTEE_EXPECTED = {
    "CCEL_data": [("2dc71230", "43f4"), ("0fa3be56", "d3cf"), None, None],
    "CCEL_data_ovmf": [("8566f998", "e193"), ("775b9f6b", "13c6"), ("94eaf7a7", "f34a"), None],
    "CCEL_data_grub": [("cec0a104", "bd79"), ("6c289e0c", "b670"), ("08919d01", "d31e"), None],
    "CCEL_data_gcp": [("33009807", "304f"), ("204d49f7", "1967"), None, None],
    "CCEL_data_grub_gke": [("bc994513", "544a"), ("c17cb288", "8a7b"), ("334aeba2", "eb6d"), None],
}


def _load(path: Path) -> EventLog:
    return parse_eventlog(path.read_bytes(), str(path))


@pytest.mark.parametrize("name", sorted(TRUSTEE_EXPECTED))
def test_trustee_logs_replay_to_expected_rtmrs(name: str) -> None:
    rtmrs = [r.hex() for r in replay(_load(TRUSTEE / name))]
    for got, want in zip(rtmrs, TRUSTEE_EXPECTED[name], strict=True):
        if want is None:
            assert got == ZERO
        else:
            assert got.startswith(want[0]) and got.endswith(want[1]), got


def test_gcp_log_reproduces_the_quote_whose_reportdata_is_the_nonce() -> None:
    quote = parse_quote((GCP / "cos-113-tdx-quote.dat").read_bytes())
    assert quote.body.report_data == (GCP / "nonce.dat").read_bytes()
    log = _load(GCP / "ccel_data.dat")
    assert len(log.events) == 43
    assert replay(log) == list(quote.body.rtmrs)
    result = compare_rtmrs(log, quote.body.rtmrs)
    assert result.ok and [c.name for c in result.checks] == ["rtmr0", "rtmr1", "rtmr2", "rtmr3"]


def test_mismatch_names_each_rtmr() -> None:
    quote = parse_quote((GCP / "cos-113-tdx-quote.dat").read_bytes())
    wrong = list(quote.body.rtmrs)
    wrong[0] = wrong[0][:-1] + bytes([wrong[0][-1] ^ 1])
    wrong[2] = bytes(48)
    result = compare_rtmrs(_load(GCP / "ccel_data.dat"), wrong)
    assert not result.ok
    assert [c.name for c in result.failed] == ["rtmr0", "rtmr2"]


def test_trustee_debug_quote_does_not_match_ccel_data() -> None:
    # PROVENANCE: CCEL_data's replayed RTMRs do not equal tdx_quote_4.dat's.
    quote = parse_quote((TDX / "trustee" / "tdx_quote_4.dat").read_bytes())
    assert not compare_rtmrs(_load(TRUSTEE / "CCEL_data"), quote.body.rtmrs).ok


def test_ccel_table_describes_the_gcp_log_area() -> None:
    table = parse_ccel_table((GCP / "ccel_table.dat").read_bytes(), "ccel_table.dat")
    assert (table.cc_type, table.log_area_min_length, table.oem_id) == (2, 0x40000, "INTEL")
    assert table.checksum_ok
    check_log_area(table, len((GCP / "ccel_data.dat").read_bytes()), path="ccel_data.dat")
    with pytest.raises(InputError, match="LAML"):
        check_log_area(table, 0x1000, path="x")
    with pytest.raises(InputError, match="ACPI CCEL table, not the log"):
        parse_eventlog((GCP / "ccel_table.dat").read_bytes(), "t")


def _trustee_events(name: str) -> list[dict[str, object]]:
    doc = json.loads((TRUSTEE / f"{name}_out.json").read_text())
    events: list[dict[str, object]] = doc["uefi_event_logs"]
    return events


@pytest.mark.parametrize(
    "name", ["CCEL_data", "CCEL_data_ovmf", "CCEL_data_grub", "CCEL_data_grub_gke", "CCEL_AAEL_alibabacloud"]
)
def test_events_agree_with_trustee_parser(name: str) -> None:
    """Type, MR index and SHA-384 digest of every event match trustee's parsed output."""
    log = _load(TRUSTEE / name)
    theirs = _trustee_events(name)
    assert len(log.events) == len(theirs)
    for mine, ref in zip(log.events, theirs, strict=True):
        assert mine.type_name == ref["type_name"]
        assert mine.mr_index == ref["index"]
        digests = ref["digests"]
        assert isinstance(digests, list)
        assert mine.digest(ALG_SHA384) == bytes.fromhex(digests[0]["digest"])
        assert mine.digest_covers_data() == ref["digest_matches_event"]


def test_decoded_event_data() -> None:
    log = _load(TRUSTEE / "CCEL_data_grub")
    by_type: dict[str, list[efi_events.Decoded]] = {}
    for e in log.events:
        by_type.setdefault(e.type_name, []).append(e.decoded())
    names = [v.name for v in by_type["EV_EFI_VARIABLE_DRIVER_CONFIG"] if isinstance(v, efi_events.EfiVariable)]
    assert names == ["SecureBoot", "PK", "KEK", "db", "dbx"]
    secure_boot = by_type["EV_EFI_VARIABLE_DRIVER_CONFIG"][0]
    assert isinstance(secure_boot, efi_events.EfiVariable)
    assert secure_boot.vendor_guid == "8BE4DF61-93CA-11D2-AA0D-00E098032B8C" and secure_boot.data == b"\x01"
    apps = [v for v in by_type["EV_EFI_BOOT_SERVICES_APPLICATION"] if isinstance(v, efi_events.ImageLoad)]
    assert apps[1].device_path == ("File(\\EFI\\BOOT\\fbx64.efi)",)
    assert apps[3].device_path == ("File(\\EFI\\ubuntu\\grubx64.efi)",)
    assert apps[4].device_path == ()  # the kernel, loaded from memory by grub
    assert apps[0].device_path[0] == "PciRoot(0x0)"
    assert any(p.startswith("HD(15,GPT,00F1275E-5375-43D5-9EB5-DE2ADD4C9932,0x2800,0x35000)") for p in apps[0].device_path)
    boot = [v for v in by_type["EV_EFI_VARIABLE_BOOT"] if isinstance(v, efi_events.EfiVariable)]
    boot0001 = next(v for v in boot if v.name == "Boot0001")
    assert boot0001.load_option is not None and boot0001.load_option.description == "UEFI Misc Device"
    tags = [v for v in by_type["EV_EVENT_TAG"] if isinstance(v, efi_events.TaggedEvent)]
    assert [t.description for t in tags] == ["LOADED_IMAGE::LoadOptions", "Linux initrd"]
    assert by_type["EV_EFI_ACTION"][-1] == "Exit Boot Services Returned with Success"


def test_gcp_kernel_cmdline_is_the_measured_grub_argv() -> None:
    found = find_kernel_cmdline(_load(GCP / "ccel_data.dat"))
    assert found is not None and found.loader == "grub" and found.event.number == 41
    assert found.event.rtmr == 2
    assert hashlib.sha384(found.measured).digest() == found.event.digest()
    assert found.text.startswith("BOOT_IMAGE=/syslinux/vmlinuz.A init=/usr/lib/systemd/systemd rootwait ro ")
    assert "kernel_cmdline" not in found.text and "\x00" not in found.text


def test_redhat_style_grub_cmdline() -> None:
    text = kernel_cmdline(_load(TRUSTEE / "CCEL_AAEL_alibabacloud"))
    assert text is not None
    assert text.startswith("BOOT_IMAGE=(hd0,gpt3)/boot/vmlinuz-5.10.134-19.1.al8.x86_64 root=UUID=")
    assert text.endswith("rcupdate.rcu_cpu_stall_timeout=300")
    assert "grub_kernel_cmdline" not in text


def test_td_shim_payload_info_cmdline() -> None:
    found = find_kernel_cmdline(_load(TRUSTEE / "CCEL_data"))
    assert found is not None and found.loader == "td-shim"
    assert found.text == "root=/dev/vda1 console=hvc0 rw"


@pytest.mark.parametrize("name", ["CCEL_data_ovmf", "CCEL_data_grub", "CCEL_data_grub_gke", "CCEL_data_gcp"])
def test_digest_only_cmdlines_give_none(name: str) -> None:
    # OVMF direct boot / Ubuntu grub: the kernel's EFI stub logs only the LoadOptions tag;
    # GKE boots a UKI whose .cmdline section is measured by digest.
    assert kernel_cmdline(_load(TRUSTEE / name)) is None


def test_forged_cmdline_text_is_rejected() -> None:
    data = bytearray((GCP / "ccel_data.dat").read_bytes())
    at = data.find(b"kernel_cmdline: /syslinux/vmlinuz.A init=")
    assert at > 0
    rootwait = data.find(b"rootwait", at)
    data[rootwait : rootwait + 8] = b"rootwai7"  # same length: the record stays well-formed
    log = parse_eventlog(bytes(data), "forged")
    assert replay(log) == replay(_load(GCP / "ccel_data.dat"))  # digests untouched
    with pytest.raises(VerificationError, match="does not hash"):
        kernel_cmdline(log)


def test_systemd_load_options_cmdline() -> None:
    text = "console=ttyS0 root=/dev/vda2"
    utf16 = (text + "\x00").encode("utf-16-le")
    log = parse_eventlog(_spec_header() + _event(3, efi_events.EV_IPL, utf16), "sd")
    found = find_kernel_cmdline(log)
    assert found is not None and (found.loader, found.text) == ("systemd", text)


def _spec_header() -> bytes:
    spec = b"Spec ID Event03\x00" + struct.pack("<IBBBBI", 0, 0, 2, 0, 2, 1) + struct.pack("<HH", ALG_SHA384, 48) + b"\x00"
    return struct.pack("<II", 0, efi_events.EV_NO_ACTION) + bytes(20) + struct.pack("<I", len(spec)) + spec


def _event(mr: int, etype: int, data: bytes, digest: bytes | None = None) -> bytes:
    d = hashlib.sha384(data).digest() if digest is None else digest
    return struct.pack("<III", mr, etype, 1) + struct.pack("<H", ALG_SHA384) + d + struct.pack("<I", len(data)) + data


def test_built_log_replays_by_hand() -> None:
    a, b = hashlib.sha384(b"a").digest(), hashlib.sha384(b"b").digest()
    log = parse_eventlog(
        _spec_header()
        + _event(1, efi_events.EV_EFI_ACTION, b"a")
        + _event(4, efi_events.EV_EVENT_TAG, b"b")
        + _event(2, efi_events.EV_NO_ACTION, b"ignored")
        + b"\xff" * 64,
        "built",
    )
    want0 = hashlib.sha384(bytes(48) + a).digest()
    want3 = hashlib.sha384(bytes(48) + b).digest()
    assert replay(log) == [want0, bytes(48), bytes(48), want3]
    assert [e.rtmr for e in log.events] == [0, 3, None]


@pytest.mark.parametrize(
    ("blob", "message"),
    [
        (b"", "truncated"),
        (b"\x00" * 31, "truncated"),
        (struct.pack("<II", 0, 4) + bytes(24), "EV_NO_ACTION"),
        (struct.pack("<II", 0, 3) + bytes(20) + struct.pack("<I", 4) + b"junk", "Spec ID"),
    ],
)
def test_bad_headers(blob: bytes, message: str) -> None:
    with pytest.raises(InputError, match=message):
        parse_eventlog(blob, "bad")


def test_bad_events_name_the_offset() -> None:
    head = _spec_header()
    with pytest.raises(InputError, match=rf"offset {len(head) + 8:#x}.*0 digests"):
        parse_eventlog(head + struct.pack("<III", 1, 5, 0) + bytes(8), "bad")
    with pytest.raises(InputError, match="not in the Spec ID"):
        parse_eventlog(head + struct.pack("<IIIH", 1, 5, 1, 0x000B) + bytes(40), "bad")
    with pytest.raises(InputError, match="truncated"):
        parse_eventlog(head + _event(1, 5, b"abc")[:-2], "bad")
    log = parse_eventlog(head + _event(0, 5, b"x"), "bad")
    with pytest.raises(InputError, match="CC MR index 0"):
        replay(log)
    log = parse_eventlog(head + _event(7, 5, b"x"), "bad")
    with pytest.raises(InputError, match="CC MR index 7"):
        replay(log)


def test_load_options_digest_matches_a_given_cmdline() -> None:
    line = "root=/dev/vda1 console=hvc0 initrd=initrd"
    tag = struct.pack("<II", LOAD_OPTIONS_TAG_ID, 26) + b"LOADED_IMAGE::LoadOptions\x00"
    for measured in (line.encode("utf-16-le"), (line + "\x00").encode("utf-16-le")):
        digest = hashlib.sha384(measured).digest()
        log = parse_eventlog(_spec_header() + _event(3, efi_events.EV_EVENT_TAG, tag, digest), "lo")
        assert kernel_cmdline(log) is None  # the text is not in the log
        event = match_load_options(log, line)
        assert event is not None and event.number == 1
        assert match_load_options(log, line + " ") is None


def test_real_load_options_events_do_not_match_a_wrong_line() -> None:
    log = _load(TRUSTEE / "CCEL_data_ovmf")
    assert match_load_options(log, "console=hvc0") is None


def test_event_count_is_capped(monkeypatch: pytest.MonkeyPatch) -> None:
    from cocoscope.attest.tdx import eventlog

    monkeypatch.setattr(eventlog, "MAX_EVENTS", 3)
    body = b"".join(_event(1, efi_events.EV_EFI_ACTION, b"x") for _ in range(4))
    assert len(parse_eventlog(_spec_header() + body[: len(body) * 3 // 4], "ok").events) == 3
    with pytest.raises(InputError, match="more than 3 events"):
        parse_eventlog(_spec_header() + body, "many")
