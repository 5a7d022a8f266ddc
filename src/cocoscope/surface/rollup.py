"""Summaries of an inventory: by interface class, by subsystem/driver, by Kconfig symbol."""

from __future__ import annotations

import posixpath
from collections import defaultdict
from dataclasses import dataclass

from cocoscope.surface.inventory import Inventory, Site


@dataclass(frozen=True)
class Row:
    key: str
    sites: int
    risky: int
    in_init: int
    derived: int  # sites that call a wrapper rather than a catalogue primitive


def subsystem(site: Site) -> str:
    """A module name when the file is built as one, else the directory (at most 3 levels)."""
    if site.module:
        return f"{posixpath.dirname(site.file)} [{site.module}]"
    parts = posixpath.dirname(site.file).split("/")
    return "/".join(parts[:3]) or "."


def _rows(sites: tuple[Site, ...], keyf: object) -> list[Row]:
    acc: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for s in sites:
        k = keyf(s)  # type: ignore[operator]
        a = acc[k]
        a[0] += 1
        a[1] += s.risky
        a[2] += s.in_init
        a[3] += s.derived
    rows = [Row(k, *v) for k, v in acc.items()]
    return sorted(rows, key=lambda r: (-r.sites, r.key))


def by_interface(inv: Inventory) -> list[Row]:
    return _rows(inv.host_sites, lambda s: s.interface)


def by_subsystem(inv: Inventory) -> list[Row]:
    return _rows(inv.host_sites, subsystem)


def by_symbol(inv: Inventory) -> list[Row]:
    """Turning a symbol off removes the sites of the files it brings in (closest symbol)."""
    return _rows(inv.host_sites, _symbol_key)


def _symbol_key(s: Site) -> str:
    if s.symbol:
        return s.symbol
    if s.file.endswith(".h"):
        return "(headers: removed with their last includer)"
    return "(always built)" if s.built else "(no config)"


def totals(inv: Inventory) -> dict[str, int]:
    host = inv.host_sites
    return {
        "sites": len(host),
        "risky": sum(s.risky for s in host),
        "in_init": sum(s.in_init for s in host),
        "derived_sites": sum(s.derived for s in host),
        "trusted_on_platform": len(inv.sites) - len(host),
        "unreachable_on_platform": sum(bool(s.unreachable) for s in host),
        "derived_sources": len(inv.derived),
        "files_scanned": inv.files_scanned,
        "headers_scanned": inv.headers_scanned,
        "files_with_parse_errors": sum(p.kind == "parse-errors" for p in inv.problems),
        "files_failed": sum(p.kind == "failed" for p in inv.problems),
        "bytes_lost_to_parse_errors": sum(p.lost_bytes for p in inv.problems),
        "bytes_scanned": inv.bytes_scanned,
        # #if blocks the config decided (untaken branches not scanned) and the ones it could
        # not (every branch scanned: the fallback)
        "conditionals_decided": int(inv.stats.get("conditionals_decided", 0)),
        "conditionals_undecided": int(inv.stats.get("conditionals_undecided", 0)),
    }
