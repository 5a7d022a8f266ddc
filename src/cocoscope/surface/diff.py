"""``cocoscope surface diff``: what changes between two configs or two trees.

Sites are matched by (file, function, primitive, interface, grade), never by line, so a diff of
two kernel versions is not swamped by code that merely moved.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass

from cocoscope.surface.inventory import Inventory, Site

SiteKey = tuple[str, str, str, str, str]


def _key(s: Site) -> SiteKey:
    return (s.file, s.function, s.primitive, s.interface, s.grade.value)


@dataclass(frozen=True)
class SurfaceDiff:
    base: Inventory
    other: Inventory
    added: tuple[tuple[SiteKey, int], ...]  # (site key, how many more in other)
    removed: tuple[tuple[SiteKey, int], ...]

    def by_interface(self) -> list[tuple[str, int, int]]:
        a = Counter(s.interface for s in self.base.host_sites)
        b = Counter(s.interface for s in self.other.host_sites)
        return sorted(((k, a[k], b[k]) for k in set(a) | set(b)), key=lambda r: (r[2] - r[1], r[0]))


def diff(base: Inventory, other: Inventory) -> SurfaceDiff:
    a = Counter(_key(s) for s in base.host_sites)
    b = Counter(_key(s) for s in other.host_sites)
    return SurfaceDiff(base, other, tuple(sorted((b - a).items())), tuple(sorted((a - b).items())))


def _label(inv: Inventory) -> str:
    return f"{inv.tree} {inv.config}".strip()


def to_table(d: SurfaceDiff) -> str:
    out = [f"base:  {_label(d.base)}: {len(d.base.host_sites)} sites",
           f"other: {_label(d.other)}: {len(d.other.host_sites)} sites",
           f"added {sum(n for _, n in d.added)}, removed {sum(n for _, n in d.removed)}",
           "", "By interface class (base -> other)"]
    out += [f"  {i:<22} {x:>6} -> {y:<6} ({y - x:+d})" for i, x, y in d.by_interface()]
    for title, rows, sign in (("Added", d.added, "+"), ("Removed", d.removed, "-")):
        if rows:
            out += ["", title]
            out += [f"  {sign}{n} {f}  {fn or '-'}  {p}  {i}  {g}" for (f, fn, p, i, g), n in rows]
    return "\n".join(out) + "\n"


def to_json(d: SurfaceDiff) -> str:
    def rows(items: tuple[tuple[SiteKey, int], ...]) -> list[dict[str, object]]:
        return [{"file": f, "function": fn, "primitive": p, "interface": i, "grade": g,
                 "count": n} for (f, fn, p, i, g), n in items]
    return json.dumps({
        "base": {"tree": d.base.tree, "config": d.base.config, "sites": len(d.base.host_sites)},
        "other": {"tree": d.other.tree, "config": d.other.config,
                  "sites": len(d.other.host_sites)},
        "by_interface": [{"interface": i, "base": x, "other": y} for i, x, y in d.by_interface()],
        "added": rows(d.added), "removed": rows(d.removed)}, indent=1)
