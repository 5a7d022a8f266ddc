"""``cocoscope surface diff``: what changes between two configs or two trees.

Sites are matched by (file, function, primitive, interface, grade), never by line, so a diff of
two kernel versions is not swamped by code that merely moved.

``surface diff --baseline LABELS`` compares a new scan with a triage labels file instead: sites
are matched by triage fingerprint with a fuzzy fallback (``triage_match``), labels are carried,
and new risky sites nobody labelled make the command exit 1 (a CI gate).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from cocoscope.surface import triage, triage_match
from cocoscope.surface.grade import RISKY, Grade
from cocoscope.surface.inventory import Inventory, Site
from cocoscope.surface.triage import Record, Verdict
from cocoscope.surface.triage_fingerprint import SiteKey as TriageKey
from cocoscope.surface.triage_fingerprint import site_keys
from cocoscope.surface.triage_match import Match, Matching

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
    from cocoscope.report.envelope import render_envelope
    from cocoscope.surface.render import scan_inputs

    return render_envelope("surface diff", {
        "base": {"tree": d.base.tree, "config": d.base.config, "sites": len(d.base.host_sites)},
        "other": {"tree": d.other.tree, "config": d.other.config,
                  "sites": len(d.other.host_sites)},
        "by_interface": [{"interface": i, "base": x, "other": y} for i, x, y in d.by_interface()],
        "added": rows(d.added), "removed": rows(d.removed)}, scan_inputs(d.base, d.other))


# --- `surface diff --baseline LABELS`: a new scan against a triaged labels file -------------


@dataclass(frozen=True)
class BaselineDiff:
    """A new scan against the labels file (the baseline) of an older tree or config."""

    inventory: Inventory
    labels_path: str
    keys: tuple[TriageKey, ...]
    matching: Matching
    baseline_size: int

    @property
    def sites(self) -> tuple[Site, ...]:
        return self.inventory.host_sites

    def changed(self) -> list[Match]:
        return [m for m in self.matching.matches if m.record.grade != self.sites[m.site].grade]

    def carried(self, how: str) -> list[Match]:
        return [m for m in self.matching.matches if m.how == how and m.record.verdict]

    def gate(self) -> list[int]:
        """New risky sites nobody has triaged: a new site, or an untriaged one that turned
        risky. This is what `--baseline` exits 1 for."""
        out = [i for i in self.matching.new if self.sites[i].risky]
        out += [m.site for m in self.matching.matches if m.record.verdict is None
                and self.sites[m.site].risky and Grade(m.record.grade) not in RISKY]
        return sorted(out)

    def verdicts(self) -> dict[Site, tuple[Verdict, str]]:
        """Carried labels by site, with how they were carried (for SARIF suppressions)."""
        return {self.sites[m.site]: (m.record.verdict, m.how)
                for m in self.matching.matches if m.record.verdict is not None}


def against_baseline(inv: Inventory, labels_path: str) -> BaselineDiff:
    records = triage.load(labels_path)
    keys = tuple(site_keys(inv.host_sites, inv.tree))
    return BaselineDiff(inv, labels_path, keys, triage_match.match(records, keys),
                        len(records))


def _site_line(s: Site) -> str:
    return f"{s.file}:{s.line}  {s.function or '-'}  {s.primitive}  {s.grade.value}"


def baseline_table(d: BaselineDiff) -> str:
    labelled = sum(1 for m in d.matching.matches if m.record.verdict)
    gone_labelled = [r for r in d.matching.gone if r.verdict]
    exact, fuzzy = d.carried("exact"), d.carried("fuzzy")
    gate = d.gate()
    out = [f"baseline {d.labels_path}: {d.baseline_size} sites; now {len(d.sites)} sites in "
           f"{_label(d.inventory)}",
           f"matched {len(d.matching.matches)} (exact "
           f"{sum(m.how == 'exact' for m in d.matching.matches)}, fuzzy "
           f"{sum(m.how == 'fuzzy' for m in d.matching.matches)}), new {len(d.matching.new)}, "
           f"gone {len(d.matching.gone)}, changed grade {len(d.changed())}",
           f"labels carried {labelled} of {labelled + len(gone_labelled)} (exact {len(exact)}, "
           f"fuzzy {len(fuzzy)}); lost with their site {len(gone_labelled)}",
           f"new or newly risky sites without a label: {len(gate)}"]
    sections: list[tuple[str, list[str]]] = [
        ("New risky sites without a label (exit 1)", [_site_line(d.sites[i]) for i in gate]),
        ("Labels carried by a fuzzy match (confirm them)",
         [f"{_site_line(d.sites[m.site])}  <- {m.record.file}:{m.record.line} "
          f"{m.record.verdict.label.value if m.record.verdict else ''} (similarity {m.ratio})"
          for m in fuzzy]),
        ("Changed grade", [f"{_site_line(d.sites[m.site])}  (was {m.record.grade})"
                           for m in d.changed()]),
        ("New sites", [_site_line(d.sites[i]) for i in d.matching.new]),
        ("Gone sites", [f"{r.file}:{r.line}  {r.function or '-'}  {r.primitive}  {r.grade}"
                        + (f"  [{r.verdict.label.value}]" if r.verdict else "")
                        for r in d.matching.gone]),
    ]
    for title, rows in sections:
        if rows:
            out += ["", title] + [f"  {r}" for r in rows]
    return "\n".join(out) + "\n"


def baseline_json(d: BaselineDiff) -> str:
    def site(i: int) -> dict[str, object]:
        s = d.sites[i]
        return {"fingerprint": d.keys[i].fingerprint, "file": s.file, "line": s.line,
                "function": s.function, "primitive": s.primitive, "grade": s.grade.value,
                "risky": s.risky}

    def record(r: Record) -> dict[str, object]:
        return {"fingerprint": r.fingerprint, "file": r.file, "line": r.line,
                "function": r.function, "primitive": r.primitive, "grade": r.grade,
                "label": r.verdict.label.value if r.verdict else None}

    from cocoscope.report.envelope import file_input, render_envelope
    from cocoscope.surface.render import scan_inputs

    inputs = [file_input("labels", d.labels_path), *scan_inputs(d.inventory)]
    return render_envelope("surface diff", {
        "baseline": {"labels": d.labels_path, "sites": d.baseline_size},
        "scan": {"tree": d.inventory.tree, "config": d.inventory.config,
                 "platform": d.inventory.platform, "sites": len(d.sites)},
        "matched": [{**site(m.site), "how": m.how, "similarity": m.ratio,
                     "baseline": record(m.record)} for m in d.matching.matches],
        "new": [site(i) for i in d.matching.new],
        "gone": [record(r) for r in d.matching.gone],
        "changed_grade": [{**site(m.site), "was": m.record.grade} for m in d.changed()],
        "unlabelled_risky": [site(i) for i in d.gate()],
    }, inputs)
