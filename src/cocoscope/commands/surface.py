"""`cocoscope surface`: host-input sites in the kernel source a config builds.

Three forms share one parser: ``cocoscope surface [options]`` scans;
``cocoscope surface diff [options] --against-config F | --against-source DIR`` compares the scan
with a second config and/or tree, ``surface diff --baseline LABELS`` with a triage labels file
(exit 1 on a new risky site without a label); ``cocoscope surface triage --labels F`` brings a
labels file up to the scan and records verdicts (``--set``, or a prompt on a terminal). The
optional positional MODE (``scan`` by default) keeps every spelling valid without nested
subparsers, which argparse cannot make optional.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from cocoscope.commands._common import emit
from cocoscope.errors import EXIT_FINDINGS, EXIT_OK, UsageError
from cocoscope.model.platform import CONFIDENTIAL, Platform

FORMATS = ("table", "json", "csv", "sarif", "html")


def register(sub: argparse._SubParsersAction[Any]) -> None:
    p = sub.add_parser(
        "surface",
        help="inventory the host-input sites in the kernel source a config builds",
        description="Scan the .c files a kernel config builds (tree-sitter, all cores, cached) "
        "for every place that consumes host-controlled input, graded by how the value is "
        "used. `cocoscope surface diff ... --against-config F2` compares two configs, "
        "`--against-source DIR2` two trees.",
    )
    p.add_argument("mode", nargs="?", choices=("scan", "diff", "triage"), default="scan",
                   help="scan (default), diff against a second config/tree or a labels "
                   "baseline, or triage (update and fill a labels file)")
    p.add_argument("--source", metavar="DIR", required=True, help="kernel source tree")
    p.add_argument("--config", metavar="F", help="kernel .config (plain, .gz or .xz)")
    p.add_argument("--platform", choices=[p.value for p in CONFIDENTIAL],
                   help="judge trust on this platform: sites whose value the host does not "
                   "control there (CPUID/MSRs the TDX module or PSP answers, the other "
                   "platform's hypercalls, guest-origin data) are kept with the reason but not "
                   "counted; flag code that cannot run there")
    p.add_argument("--all-files", action="store_true",
                   help="scan every .c file in the tree, not only what the config builds")
    p.add_argument("--catalogue", metavar="F", help="extra primitives (TOML, same format)")
    p.add_argument("--jobs", "-j", type=int, default=0, metavar="N",
                   help="worker processes (default: all cores)")
    p.add_argument("--no-cache", action="store_true", help="neither read nor write the cache")
    p.add_argument("--quiet", "-q", action="store_true",
                   help="no progress on stderr (by default a bar on a terminal, otherwise a "
                        "phase line every few seconds)")
    p.add_argument("--summary-only", action="store_true",
                   help="table format: print the summaries without the full inventory")
    p.add_argument("--against-config", metavar="F2", help="diff: the second config")
    p.add_argument("--against-source", metavar="DIR2", help="diff: the second tree")
    p.add_argument("--baseline", metavar="LABELS",
                   help="diff: compare with this triage labels file; exit 1 when a new risky "
                   "site has no label")
    p.add_argument("--labels", metavar="F",
                   help="triage: the labels file to update (created if missing); scan with "
                   "--format sarif: carry its labels as suppressions")
    p.add_argument("--set", metavar="FP=LABEL:REASON", action="append", default=[],
                   dest="set_labels", help="triage: label a site (excluded, trusted, wrapper, "
                   "concern); repeatable")
    p.add_argument("--who", metavar="NAME", help="triage: reviewer name (default: login name)")
    p.add_argument("--no-prompt", action="store_true",
                   help="triage: do not ask about unlabelled risky sites even on a terminal")
    p.add_argument("--format", choices=FORMATS, default="table", help="output format")
    p.add_argument("--output", "-o", metavar="FILE", help="write the report to FILE, not stdout")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from cocoscope.surface import api, diff, render
    from cocoscope.surface.catalogue import load_catalogue

    if args.jobs < 0:
        raise UsageError("--jobs must be 0 (all cores) or more")
    if args.config is None and not args.all_files:
        raise UsageError("give --config (the files it builds) or --all-files")
    catalogue = load_catalogue(args.catalogue)
    platform = Platform(args.platform) if args.platform else None
    opts: dict[str, Any] = dict(platform=platform, all_files=args.all_files,
                                catalogue=catalogue, jobs=args.jobs, use_cache=not args.no_cache,
                                quiet=args.quiet)
    _check_mode_options(args)
    if args.mode == "triage":
        return _triage(args, api.inventory(args.source, args.config, **opts))
    if args.mode == "scan":
        inv = api.inventory(args.source, args.config, **opts)
        if args.labels:
            carried = diff.against_baseline(inv, args.labels)
            text = render.to_sarif(inv, carried.verdicts())
        elif args.format == "table":
            text = render.to_table(inv, inventory=not args.summary_only)
        elif args.format == "html":
            from cocoscope.report.html import render_surface_html

            text = render_surface_html(inv)
        else:
            text = render.RENDERERS[args.format](inv)
        emit(text, args.output)
        return EXIT_OK
    if args.baseline:
        b = diff.against_baseline(api.inventory(args.source, args.config, **opts),
                                  args.baseline)
        if args.format == "sarif":
            text = render.to_sarif(b.inventory, b.verdicts())
        else:
            text = diff.baseline_table(b) if args.format == "table" else diff.baseline_json(b)
        emit(text, args.output)
        return EXIT_FINDINGS if b.gate() else EXIT_OK
    base = api.inventory(args.source, args.config, **opts)
    other = api.inventory(args.against_source or args.source,
                          args.against_config or args.config, **opts)
    d = diff.diff(base, other)
    emit(diff.to_table(d) if args.format == "table" else diff.to_json(d), args.output)
    return EXIT_OK


def _check_mode_options(args: argparse.Namespace) -> None:
    against = args.against_config or args.against_source
    triage_only = args.set_labels or args.who or args.no_prompt
    if args.mode != "diff" and (against or args.baseline):
        raise UsageError("--against-config/--against-source/--baseline belong to `surface diff`")
    if args.mode != "triage" and triage_only:
        raise UsageError("--set/--who/--no-prompt belong to `surface triage`")
    if args.mode == "triage" and not args.labels:
        raise UsageError("surface triage needs --labels F (created if missing)")
    if args.mode == "scan" and args.labels and args.format != "sarif":
        raise UsageError("a scan carries --labels only into --format sarif")
    if args.mode == "diff":
        if args.labels:
            raise UsageError("surface diff takes the labels file as --baseline")
        if bool(against) == bool(args.baseline):
            raise UsageError("surface diff needs either --baseline LABELS or "
                             "--against-config F2 / --against-source DIR2")
        if args.format not in ("table", "json") and not (args.baseline
                                                          and args.format == "sarif"):
            raise UsageError("surface diff renders as table or json (and sarif with "
                             "--baseline)")


def _triage(args: argparse.Namespace, inv: Any) -> int:
    from cocoscope.surface import triage_session

    ask = None
    if sys.stdin.isatty() and not args.no_prompt and not args.set_labels:
        def ask(prompt: str) -> str | None:
            sys.stderr.write(prompt)
            sys.stderr.flush()
            line = sys.stdin.readline()
            return line.rstrip("\n") if line else None

    out = triage_session.run(inv, args.labels, sets=args.set_labels, who=args.who, ask=ask,
                             say=lambda text: print(text, file=sys.stderr))
    emit(out.summary(args.labels, inv.host_sites), args.output)
    return EXIT_OK
