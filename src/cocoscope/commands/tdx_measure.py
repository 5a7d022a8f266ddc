"""`cocoscope measure tdx --ovmf F`: the MRTD a TD built from this TDVF firmware reports."""

from __future__ import annotations

import argparse
from typing import Any

from cocoscope.commands._common import add_output_options, emit


def register(sub: argparse._SubParsersAction[Any]) -> None:
    p = sub.add_parser(
        "tdx", help="expected Intel TDX MRTD of a TDVF (OVMF) firmware image",
        description="Replay the TDH.MEM.PAGE.ADD and TDH.MR.EXTEND operations a VMM performs "
        "for the sections in the firmware's TDVF metadata and print the MRTD the quote should "
        "carry. RTMRs depend on the VMM, memory size and boot chain: use the event log.",
    )
    p.add_argument("--ovmf", required=True, metavar="F", help="TDVF firmware image (OVMF.fd)")
    p.add_argument("--page-order", choices=("single-pass", "two-pass"), default="single-pass",
                   help="how the VMM orders PAGE.ADD and MR.EXTEND: single-pass (upstream KVM, "
                   "default) extends each page after adding it; two-pass adds a section's pages first")
    p.add_argument("--explain", action="store_true", help="show the metadata sections and operations")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--match", metavar="QUOTE", help="which page order reproduces this TDX "
                   "quote's MRTD (the quote's signature is not checked)")
    g.add_argument("--target", metavar="HEX", help="which page order reproduces this MRTD")
    p.add_argument("--policy-out", metavar="FILE",
                   help="add the MRTD to [tdx] mrtd of this policy file (created or merged), "
                   "the reference value `attest tdx verify --policy` checks")
    add_output_options(p, ("text", "json"))
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from cocoscope.attest.tdx.mrtd import PageOrder, compute_mrtd
    from cocoscope.errors import EXIT_OK
    from cocoscope.evidence import files

    image = files.read_input(args.ovmf, files.FIRMWARE)
    if args.match is not None or args.target is not None:
        if args.policy_out:
            from cocoscope.errors import UsageError

            raise UsageError("--policy-out writes a computed MRTD; it does not combine with "
                             "--match/--target")
        return _match(args, image)
    order = PageOrder(args.page_order)
    result = compute_mrtd(image, args.ovmf, order)
    other_order = PageOrder.TWO_PASS if order is PageOrder.SINGLE_PASS else PageOrder.SINGLE_PASS
    other = compute_mrtd(image, args.ovmf, other_order).mrtd if args.explain else None
    if args.policy_out:
        from cocoscope.attest.reference import write_reference

        write_reference(args.policy_out, "tdx", {"mrtd": result.mrtd})
    if args.format == "json":
        doc: dict[str, Any] = {"file": args.ovmf, "size": len(image), "mrtd": result.mrtd.hex(),
                               "page_order": order.value}
        if other is not None:
            doc["mrtd_" + other_order.value.replace("-", "_")] = other.hex()
            doc["metadata_offset"] = result.metadata.descriptor_offset
            doc["sections"] = [
                {"index": m.section.index, "type": m.section.type_name, "gpa": m.section.gpa,
                 "memory_size": m.section.memory_size, "data_offset": m.section.data_offset,
                 "raw_size": m.section.raw_size, "attributes": list(m.section.attribute_names),
                 "page_adds": m.page_adds, "mr_extends": m.mr_extends}
                for m in result.sections
            ]
        from cocoscope.commands._attest_json import document

        emit(document("measure tdx", doc, [
            ("firmware", args.ovmf, files.FIRMWARE),
            ("evidence", getattr(args, "match", None), files.QUOTE)]), args.output)
        return EXIT_OK
    lines = []
    if args.explain:
        lines.append(f"{args.ovmf}: {len(image)} bytes, TDVF metadata at offset "
                     f"{result.metadata.descriptor_offset:#x}, {len(result.sections)} sections")
        lines.append(f"{'#':>2} {'type':<13} {'GPA':>18} {'mem size':>10} {'file off':>10} "
                     f"{'raw size':>10}  {'attributes':<18} {'PAGE.ADD':>8} {'MR.EXTEND':>9}")
        for m in result.sections:
            s = m.section
            lines.append(f"{s.index:>2} {s.type_name:<13} {s.gpa:#18x} {s.memory_size:#10x} "
                         f"{s.data_offset:#10x} {s.raw_size:#10x}  "
                         f"{','.join(s.attribute_names) or '-':<18} {m.page_adds:>8} {m.mr_extends:>9}")
        lines.append(f"{result.page_adds} TDH.MEM.PAGE.ADD and {result.mr_extends} TDH.MR.EXTEND "
                     f"records hashed in metadata order, {order.value}")
        assert other is not None
        lines.append(f"({other_order.value} order would give MRTD {other.hex()})")
    lines.append(f"MRTD {result.mrtd.hex()}")
    emit("\n".join(lines), args.output)
    return EXIT_OK


def _match(args: argparse.Namespace, image: bytes) -> int:
    """Try every page order the VMMs use; MRTD depends only on the firmware and that order."""
    from cocoscope.attest.tdx.mrtd import PageOrder, compute_mrtd
    from cocoscope.attest.tdx.quote import parse_quote
    from cocoscope.commands._common import hexstr
    from cocoscope.errors import EXIT_OK, EXIT_VERIFY, UsageError
    from cocoscope.evidence import files

    if args.explain:
        raise UsageError("--explain does not combine with --match/--target")
    if args.match is not None:
        quote = parse_quote(files.read_input(args.match, files.QUOTE),
                            source=args.match)
        target = quote.body.mrtd
    else:
        target = hexstr(args.target, what="--target")
        if len(target) != 48:
            raise UsageError(f"--target must be 48 bytes (96 hex digits), got {len(target)}")
    tried = {order: compute_mrtd(image, args.ovmf, order).mrtd for order in PageOrder}
    matches = [order for order, mrtd in tried.items() if mrtd == target]
    if args.format == "json":
        doc = {"target": target.hex(), "quote": args.match, "quote_verified": False,
               "firmware": args.ovmf,
               "tried": [{"page_order": o.value, "mrtd": m.hex()} for o, m in tried.items()],
               "matches": [{"page_order": o.value,
                            "command": f"cocoscope measure tdx --ovmf {args.ovmf} "
                                       f"--page-order {o.value}"} for o in matches]}
        from cocoscope.commands._attest_json import document

        emit(document("measure tdx", doc, [
            ("firmware", args.ovmf, files.FIRMWARE),
            ("evidence", getattr(args, "match", None), files.QUOTE)]), args.output)
        return EXIT_OK if matches else EXIT_VERIFY
    source = f"MRTD of {args.match}" if args.match else "given with --target"
    lines = [f"target MRTD {target.hex()}", f"            ({source})"]
    if args.match:
        lines.append("            the quote's signature was NOT verified: use `cocoscope attest "
                     "tdx verify` with a reference-value policy for that")
    for order, mrtd in tried.items():
        mark = "MATCH" if order in matches else "no   "
        lines.append(f"{mark} {order.value:<12} {mrtd.hex()}")
    if matches:
        lines.append(f"reproduce: cocoscope measure tdx --ovmf {args.ovmf} "
                     f"--page-order {matches[0].value}")
    else:
        lines.append("NO MATCH with either page order. Usual causes: a different TDVF build "
                     "(the exact image the VMM loaded is needed), a VMM that adds pages in "
                     "another order or measures other sections, or td-shim instead of TDVF.")
    emit("\n".join(lines), args.output)
    return EXIT_OK if matches else EXIT_VERIFY
