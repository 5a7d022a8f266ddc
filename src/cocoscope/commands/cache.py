"""`cocoscope cache list|clear`: the certificates and collateral kept for offline verification."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from typing import Any

from cocoscope.commands._common import emit
from cocoscope.errors import EXIT_OK

KINDS = {"all": "", "kds": "kds/", "pcs": "pcs/"}


def register(sub: argparse._SubParsersAction[Any]) -> None:
    p = sub.add_parser("cache", help="list or clear cached AMD KDS / Intel PCS collateral")
    actions = p.add_subparsers(dest="cache_action", metavar="ACTION", required=True)
    ls = actions.add_parser("list", help="what is cached, from where, and until when it is fresh")
    ls.add_argument("--format", choices=("text", "json"), default="text")
    ls.add_argument("--output", "-o", metavar="FILE")
    ls.set_defaults(func=run_list)
    clear = actions.add_parser("clear", help="remove cached items")
    clear.add_argument("--kind", choices=tuple(KINDS), default="all",
                       help="only AMD KDS or only Intel PCS items (default: all)")
    clear.set_defaults(func=run_clear)


def run_list(args: argparse.Namespace) -> int:
    from cocoscope.attest.fetch.cache import Cache

    cache = Cache()
    now = datetime.now(UTC)
    rows = [{"key": e.key, "url": e.url, "fetched_at": e.fetched_at.isoformat(),
             "valid_until": e.valid_until.isoformat() if e.valid_until else None,
             "fresh_now": e.fresh_at(now), "size": len(e.body), "path": e.path}
            for e in cache.entries()]
    if args.format == "json":
        from cocoscope.report.envelope import render_envelope

        emit(render_envelope("cache list", {"cache": str(cache.root), "entries": rows}),
             args.output)
        return EXIT_OK
    lines = [f"collateral cache {cache.root}: {len(rows)} item(s)"]
    for r in rows:
        state = "fresh" if r["fresh_now"] else "stale"
        lines.append(f"  {r['key']}\n    {state}, valid until {r['valid_until'] or '-'}; "
                     f"fetched {r['fetched_at']} from {r['url']}")
    emit("\n".join(lines), args.output)
    return EXIT_OK


def run_clear(args: argparse.Namespace) -> int:
    from cocoscope.attest.fetch.cache import Cache

    cache = Cache()
    n = cache.clear(KINDS[args.kind])
    print(f"cocoscope: removed {n} cached item(s) from {cache.root}", file=sys.stderr)
    return EXIT_OK
