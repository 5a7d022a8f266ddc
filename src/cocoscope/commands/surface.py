"""`cocoscope surface`: host-input sites in the kernel source a config builds.

Two forms share one parser: ``cocoscope surface [options]`` scans, and
``cocoscope surface diff [options] --against-config F | --against-source DIR`` compares the scan
with a second config and/or tree. The optional positional MODE (``scan`` by default) keeps both
spellings valid without nested subparsers, which argparse cannot make optional.
"""

from __future__ import annotations

import argparse
from typing import Any

from cocoscope.commands._common import emit
from cocoscope.errors import EXIT_OK, UsageError
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
    p.add_argument("mode", nargs="?", choices=("scan", "diff"), default="scan",
                   help="scan (default) or diff against a second config/tree")
    p.add_argument("--source", metavar="DIR", required=True, help="kernel source tree")
    p.add_argument("--config", metavar="F", help="kernel .config (plain, .gz or .xz)")
    p.add_argument("--platform", choices=[p.value for p in CONFIDENTIAL],
                   help="drop CPUID/MSR reads this platform's CoCo firmware makes trustworthy")
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
    if args.mode == "scan":
        if args.against_config or args.against_source:
            raise UsageError("--against-config/--against-source belong to `surface diff`")
        inv = api.inventory(args.source, args.config, **opts)
        if args.format == "table":
            text = render.to_table(inv, inventory=not args.summary_only)
        elif args.format == "html":
            from cocoscope.report.html import render_surface_html

            text = render_surface_html(inv)
        else:
            text = render.RENDERERS[args.format](inv)
        emit(text, args.output)
        return EXIT_OK
    if not (args.against_config or args.against_source):
        raise UsageError("surface diff needs --against-config F2 and/or --against-source DIR2")
    if args.format not in ("table", "json"):
        raise UsageError("surface diff renders as table or json")
    base = api.inventory(args.source, args.config, **opts)
    other = api.inventory(args.against_source or args.source,
                          args.against_config or args.config, **opts)
    d = diff.diff(base, other)
    emit(diff.to_table(d) if args.format == "table" else diff.to_json(d), args.output)
    return EXIT_OK
