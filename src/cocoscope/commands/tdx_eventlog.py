"""`cocoscope attest tdx eventlog LOG [--quote Q]` and `cocoscope attest tdx fetch`."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from cocoscope.commands._common import add_output_options, hexstr
from cocoscope.errors import EXIT_OK, EXIT_VERIFY, CocoscopeError, InputError
from cocoscope.evidence import files


def register(sub: argparse._SubParsersAction[Any]) -> None:
    p = sub.add_parser(
        "eventlog", help="replay a CCEL event log into RTMR0-3 (and compare with a quote)",
        description="List the events of a TDX CCEL log (the log area, e.g. "
        "/sys/firmware/acpi/tables/data/CCEL), the replayed RTMRs and the measured kernel command "
        "line. Exit 4 when an RTMR does not match --quote, when the command line in the log is NOT "
        "TRUSTED (its text does not hash to its digest, or a command-line label sits where the "
        "boot chain never writes one), or when --cmdline is not what was measured.",
    )
    p.add_argument("log", metavar="LOG")
    p.add_argument("--quote", metavar="Q", help="TDX quote whose RTMRs the replay must reproduce")
    p.add_argument("--ccel-table", metavar="T", help="ACPI CCEL table to check the log area against")
    p.add_argument("--policy-out", metavar="F", help="add the replayed RTMR0-2 of this known-good "
                   "log to [tdx] of this policy file (created or merged; not with a --quote "
                   "the log does not replay to)")
    p.add_argument("--cmdline", metavar="TEXT",
                   help="expected kernel command line (as /proc/cmdline shows it): exit 4 unless "
                   "it is the one measured where the boot chain measures it")
    add_output_options(p, ("text", "json"))
    p.set_defaults(func=run_eventlog)

    f = sub.add_parser(
        "fetch", help="get a quote (configfs-tsm) and the CCEL log from the running TDX guest",
        description="Writes the nonce as REPORTDATA through configfs-tsm and saves the quote. "
        "Without configfs-tsm, /dev/tdx_guest only yields a TDREPORT (not a quote); it is "
        "saved with --tdreport-out and the command exits 3.",
    )
    f.add_argument("--nonce", required=True, metavar="HEX", help="REPORTDATA, 1-64 bytes (zero-padded)")
    f.add_argument("-o", "--output", required=True, metavar="FILE", help="where to write the quote")
    f.add_argument("--eventlog-out", metavar="F", help="also save the CCEL log area here")
    f.add_argument("--tdreport-out", metavar="F", help="save the TDREPORT when no quote interface exists")
    f.add_argument("--tsm-entry", metavar="NAME", help="reuse this configfs-tsm report entry")
    f.add_argument("--root", default="/", metavar="DIR", help="filesystem root (tests use a fake tree)")
    f.set_defaults(func=run_fetch)


def _event_dict(event: Any) -> dict[str, Any]:
    from cocoscope.attest.tdx.eventlog import ALG_NAMES

    return {
        "number": event.number, "offset": event.offset, "mr_index": event.mr_index,
        "rtmr": event.rtmr, "type": event.type_name, "type_value": event.event_type,
        "digests": {ALG_NAMES.get(a, f"{a:#06x}"): d.hex() for a, d in event.digests},
        "digest_covers_data": event.digest_covers_data(),
        "decoded": _decoded(event.decoded()), "data": event.data.hex(),
    }


def _decoded(value: Any) -> Any:
    from cocoscope.attest.tdx import efi_events as ev

    if isinstance(value, ev.EfiVariable):
        out: dict[str, Any] = {"variable": value.name, "vendor_guid": value.vendor_guid,
                               "data": value.data.hex(), "data_length": len(value.data)}
        if value.load_option is not None:
            out["load_option"] = {"description": value.load_option.description,
                                  "attributes": value.load_option.attributes,
                                  "device_path": list(value.load_option.device_path)}
        return out
    if isinstance(value, ev.ImageLoad):
        return {"image_location": value.location, "image_length": value.length,
                "device_path": list(value.device_path)}
    if isinstance(value, ev.TaggedEvent):
        return {"tag_id": value.tag_id, "description": value.description}
    return value


def _short(value: Any) -> str:
    """One-line text of decoded data for the table."""
    from cocoscope.attest.tdx import efi_events as ev

    if isinstance(value, ev.EfiVariable):
        text = f"{value.name} ({len(value.data)} bytes)"
        if value.name == "SecureBoot" and len(value.data) == 1:
            text = f"SecureBoot = {value.data[0]}"
        if value.load_option is not None:
            text += f" {value.load_option.description!r} " + "/".join(value.load_option.device_path)
        return text
    if isinstance(value, ev.ImageLoad):
        return "/".join(value.device_path) or f"image in memory at {value.location:#x}"
    if isinstance(value, ev.TaggedEvent):
        return f"tag {value.tag_id:#x} {value.description}"
    if value is None:
        return ""
    text = str(value).replace("\n", "\\n")
    return text if len(text) <= 160 else text[:157] + "..."


def _write_stream(output: str | None, chunks: Iterable[str]) -> None:
    """Write the report piece by piece (a large log's report is never one string in memory)."""
    if output in (None, "-"):
        for chunk in chunks:
            sys.stdout.write(chunk)
        return
    assert output is not None
    try:
        with open(output, "w", encoding="utf-8") as fh:
            for chunk in chunks:
                fh.write(chunk)
    except OSError as exc:
        raise InputError(f"cannot write output: {exc.strerror or exc}", path=output) from None


def _json_chunks(doc: dict[str, Any], events: Iterable[Any]) -> Iterator[str]:
    """``json.dumps(doc, indent=2)`` with doc["events"] filled from ``events`` one at a time."""
    marker = "\x00events\x00"
    head, tail = json.dumps({**doc, "events": marker}, indent=2).split(json.dumps(marker), 1)
    yield head + "["
    first = True
    for e in events:
        body = json.dumps(_event_dict(e), indent=2).replace("\n", "\n    ")
        yield ("\n    " if first else ",\n    ") + body
        first = False
    yield ("\n  ]" if not first else "]") + tail + "\n"


def _text_chunks(log: Any, head: list[str], tail: list[str]) -> Iterator[str]:
    for line in head:
        yield line + "\n"
    for e in log.events:
        digest = e.digest()
        rtmr = "-" if e.rtmr is None else str(e.rtmr)
        yield (f"{e.number:>4} {e.offset:#8x} {rtmr:>4}  {e.type_name:<34} "
               f"{(digest.hex()[:16] if digest else '-'):<16}  {_short(e.decoded())}\n")
    for line in tail:
        yield line + "\n"


def _write_rtmr_references(path: str, rtmrs: Any, verification: Any) -> None:
    from cocoscope.attest.reference import rtmr_references, write_reference
    from cocoscope.errors import VerificationError

    if verification is not None and not verification.ok:
        raise VerificationError("the log does not replay to the quote's RTMRs: no reference "
                                "values written", path=path)
    write_reference(path, "tdx", rtmr_references(rtmrs))


def run_eventlog(args: argparse.Namespace) -> int:
    from cocoscope.attest.result import Check
    from cocoscope.attest.tdx.ccel import check_log_area, parse_ccel_table
    from cocoscope.attest.tdx.cmdline import check_expected_cmdline, locate_kernel_cmdline
    from cocoscope.attest.tdx.eventlog import compare_rtmrs, parse_eventlog, replay
    from cocoscope.attest.tdx.quote import parse_quote

    data = files.read_input(args.log, files.EVENT_LOG)
    if args.ccel_table:
        table = parse_ccel_table(files.read_input(args.ccel_table, files.CCEL_TABLE), args.ccel_table)
        check_log_area(table, len(data), path=args.log)
    from cocoscope.report.envelope import file_input

    inputs = [file_input("eventlog", args.log, data)]  # hashed from the bytes parsed
    log = parse_eventlog(data, args.log)
    del data  # the events hold what they need
    rtmrs = replay(log)
    verification = None
    if args.quote:
        raw_quote = files.read_input(args.quote, files.QUOTE)
        inputs.append(file_input("evidence", args.quote, raw_quote))
        quote = parse_quote(raw_quote, source=args.quote)
        verification = compare_rtmrs(log, quote.body.rtmrs, subject=args.quote)
    if args.policy_out:
        _write_rtmr_references(args.policy_out, rtmrs, verification)
    cmdline_error = None
    cmdline_check: Check | None = None
    try:
        search = locate_kernel_cmdline(log)
        cmdline, cmdline_reason = search.found, search.reason
        if args.cmdline is not None:
            cmdline_check = check_expected_cmdline(log, args.cmdline)
    except CocoscopeError as exc:
        cmdline, cmdline_reason, cmdline_error = None, "", exc.render()
    untrusted = cmdline_error is not None or (cmdline_check is not None and not cmdline_check.passed)

    if args.format == "json":
        doc: dict[str, Any] = {
            "file": args.log, "size": log.size, "log_end": log.end,
            "spec_id": {"version": ".".join(map(str, log.spec_id.spec_version)),
                        "algorithms": {f"{a:#06x}": s for a, s in log.spec_id.digest_sizes}},
            "events": None,
            "rtmrs": [r.hex() for r in rtmrs],
            "kernel_cmdline": None if cmdline is None else {
                "text": cmdline.text, "loader": cmdline.loader, "event": cmdline.event.number},
            "kernel_cmdline_reason": cmdline_reason or None,
        }
        if cmdline_error:
            doc["kernel_cmdline_error"] = cmdline_error
        if cmdline_check is not None:
            doc["cmdline_check"] = {"expected": args.cmdline, "status": cmdline_check.status.value,
                                    "detail": cmdline_check.detail}
        if verification is not None:
            doc["quote"] = {"file": args.quote, "ok": verification.ok,
                            "checks": [{"name": c.name, "status": c.status.value, "detail": c.detail}
                                       for c in verification.checks]}
        from cocoscope.report.envelope import envelope

        _write_stream(args.output, _json_chunks(envelope("attest tdx eventlog", doc, inputs),
                                                log.events))
    else:
        head = [f"{args.log}: {len(log.events)} events ({len(log.measured)} measured), "
                f"log ends at offset {log.end:#x} of {log.size}",
                f"{'#':>4} {'offset':>8} {'RTMR':>4}  {'type':<34} {'sha384':<16}  data"]
        tail = [""] + [f"RTMR{i} {r.hex()}" for i, r in enumerate(rtmrs)]
        if cmdline is not None:
            tail.append(f"kernel command line ({cmdline.loader}, event {cmdline.event.number}): {cmdline.text}")
        elif cmdline_error:
            tail.append(f"kernel command line: NOT TRUSTED: {cmdline_error}")
        else:
            tail.append(f"kernel command line: unknown: {cmdline_reason}")
        if cmdline_check is not None:
            tail.append(f"{cmdline_check.status.value.upper():<5} expected command line: {cmdline_check.detail}")
        if verification is not None:
            tail.append("")
            for c in verification.checks:
                tail.append(f"{c.status.value.upper():<5} {c.name}" + ("" if c.passed else f": {c.detail}"))
            tail.append(f"{args.quote}: " + ("every RTMR matches the replay" if verification.ok else
                        "MISMATCH in " + ", ".join(c.name.upper() for c in verification.failed)))
        _write_stream(args.output, _text_chunks(log, head, tail))
    if (verification is not None and not verification.ok) or untrusted:
        return EXIT_VERIFY
    return EXIT_OK


def run_fetch(args: argparse.Namespace) -> int:
    from cocoscope.attest.tdx import fetch

    root = Path(args.root)
    nonce = hexstr(args.nonce, what="--nonce")
    if fetch.configfs_available(root) or args.tsm_entry:
        got = fetch.fetch_quote(root, nonce, entry=args.tsm_entry)
        files.write_output(args.output, got.quote, "quote")
        print(f"quote ({len(got.quote)} bytes, provider {got.provider}, generation "
              f"{got.generation}) written to {args.output}", file=sys.stderr)
    elif (root / fetch.TDX_GUEST_DEV).exists():
        report = fetch.fetch_tdreport(root, nonce)
        where = ""
        if args.tdreport_out:
            files.write_output(args.tdreport_out, report, "TDREPORT")
            where = f"; TDREPORT saved to {args.tdreport_out}"
        raise InputError(
            "no quote interface: configfs-tsm is absent and /dev/tdx_guest only returns a "
            f"TDREPORT (TDX_CMD_GET_REPORT0), which is not a signed quote{where}",
            path=str(root / fetch.TSM_REPORT_DIR),
        )
    else:
        raise InputError("not a TDX guest: neither configfs-tsm nor /dev/tdx_guest exists",
                         path=str(root))
    if args.eventlog_out:
        ccel = fetch.fetch_ccel(root)
        files.write_output(args.eventlog_out, ccel.data, "event log")
        print(f"CCEL log ({len(ccel.log.events)} events) written to {args.eventlog_out}", file=sys.stderr)
    return EXIT_OK

