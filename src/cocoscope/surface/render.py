"""Renderers of a surface inventory: table, JSON, CSV and SARIF 2.1.0."""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Mapping
from operator import attrgetter
from typing import Any

from cocoscope.surface.inventory import Inventory, Site
from cocoscope.surface.json_text import dumps_indented
from cocoscope.surface.rollup import Row, by_interface, by_subsystem, by_symbol, totals
from cocoscope.surface.triage import Verdict

SITE_FIELDS = ("file", "line", "column", "function", "primitive", "chain", "interface", "grade",
               "risky", "in_init", "in_macro", "recovered", "trust", "leaf", "msr", "built",
               "module", "symbol", "note", "unreachable", "trust_note")
_site_fields = attrgetter(*SITE_FIELDS)


def site_dict(s: Site) -> dict[str, Any]:
    d: dict[str, Any] = dict(zip(SITE_FIELDS, _site_fields(s), strict=True))
    d["chain"] = list(s.chain)
    d["grade"] = s.grade.value
    d["trust"] = s.trust.value
    d["leaf"] = f"{s.leaf:#x}" if s.leaf is not None else None
    return d


def _rows_json(rows: list[Row]) -> list[dict[str, Any]]:
    return [{"key": r.key, "sites": r.sites, "risky": r.risky, "in_init": r.in_init,
             "derived": r.derived} for r in rows]


def scan_inputs(*invs: Inventory) -> list[Any]:
    """The envelope's inputs of one or more scans: each tree (a directory: no hash) and config."""
    from cocoscope.evidence import files
    from cocoscope.report.envelope import file_input
    from cocoscope.report.model import InputRecord

    inputs: list[Any] = []
    for inv in invs:
        inputs.append(InputRecord("source", inv.tree, None, "kernel source tree"))
        if inv.config:
            inputs.append(file_input("config", inv.config, limit=files.CONFIG))
    return inputs


def to_json(inv: Inventory) -> str:
    from cocoscope.report.envelope import envelope

    inputs = scan_inputs(inv)
    doc = envelope("surface", {
        "tree": inv.tree, "config": inv.config, "platform": inv.platform,
        "totals": totals(inv),
        "by_interface": _rows_json(by_interface(inv)),
        "by_subsystem": _rows_json(by_subsystem(inv)),
        "by_symbol": _rows_json(by_symbol(inv)),
        "sites": [site_dict(s) for s in inv.sites],
        "derived_sources": [
            {"name": d.name, "file": d.defined_in, "line": d.line, "chain": list(d.chain),
             "interface": d.interface, "returns": d.returns, "out_args": list(d.out_args)}
            for d in inv.derived],
        "problems": [
            {"file": p.file, "kind": p.kind, "detail": p.detail, "lost_bytes": p.lost_bytes,
             "lost_ranges": [{"start": s, "end": e, "line": ln} for s, e, ln in p.lost_ranges]}
            for p in inv.problems],
        "timing_s": {k: round(v, 3) for k, v in inv.stats.items()
                     if not k.startswith("conditionals_")},
    }, inputs)
    return dumps_indented(doc, 1)


def to_csv(inv: Inventory) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(SITE_FIELDS)
    for s in inv.sites:
        d = site_dict(s)
        d["chain"] = " > ".join(s.chain)
        w.writerow(["" if d[f] is None else d[f] for f in SITE_FIELDS])
    return buf.getvalue()


def _summary_table(title: str, rows: list[Row], limit: int | None, what: str) -> str:
    shown = rows if limit is None else rows[:limit]
    width = max([len(what)] + [len(r.key) for r in shown])
    out = [title, f"  {what:<{width}}  {'sites':>6}  {'risky':>6}  {'__init':>6}  {'derived':>7}"]
    out += [f"  {r.key:<{width}}  {r.sites:>6}  {r.risky:>6}  {r.in_init:>6}  {r.derived:>7}"
            for r in shown]
    if limit is not None and len(rows) > limit:
        out.append(f"  ... {len(rows) - limit} more (use --format json for all)")
    return "\n".join(out)


def to_table(inv: Inventory, *, inventory: bool = True) -> str:
    t = totals(inv)
    head = (f"host-input sites: {t['sites']} ({t['risky']} risky, {t['in_init']} in __init code, "
            f"{t['derived_sites']} through {t['derived_sources']} derived sources) in "
            f"{t['files_scanned']} files; platform {inv.platform or 'any'}")
    if t["trusted_on_platform"]:
        kinds = Counter(s.trust.value for s in inv.sites if not s.trust.host_input)
        head += (f"; {t['trusted_on_platform']} sites not host input on this platform left out ("
                 + ", ".join(f"{n} {k}" for k, n in sorted(kinds.items()))
                 + "; trust_note in --format json/csv says why)")
    parts = [head,
             _summary_table("\nBy interface class", by_interface(inv), None, "interface"),
             _summary_table("\nBy subsystem / driver", by_subsystem(inv), 30, "subsystem"),
             _summary_table("\nBy Kconfig symbol (turning it off removes these sites)",
                            by_symbol(inv), 30, "symbol")]
    if inv.problems:
        lost = t["bytes_lost_to_parse_errors"]
        parts.append(f"\nFiles with problems: {t['files_with_parse_errors']} with parse errors "
                     f"({lost} of {t['bytes_scanned']} bytes unparsed; sites there graded "
                     f"'unknown'), {t['files_failed']} failed")
        parts += [f"  {p.file}: {p.detail}" for p in inv.problems if p.kind == "failed"]
    if inventory:
        parts.append("\nInventory (file:line  function  primitive [chain]  interface  grade)")
        for s in inv.host_sites:
            via = f" [{' > '.join(s.chain)}]" if s.derived else ""
            flags = "".join((" __init" if s.in_init else "", " macro" if s.in_macro else "",
                             f" {s.built}" if s.built else "",
                             f" (unreachable: {s.unreachable})" if s.unreachable else ""))
            parts.append(f"  {s.file}:{s.line}  {s.function or '-'}  {s.primitive}{via}  "
                         f"{s.interface}  {s.grade.value}{flags}")
    return "\n".join(parts) + "\n"


def to_sarif(inv: Inventory,
             verdicts: Mapping[Site, tuple[Verdict, str]] | None = None) -> str:
    """SARIF through the shared builder (report/sarif.py): SRCROOT is the tree. ``verdicts``
    (triage labels by site, with "exact"/"fuzzy") become external suppressions for excluded/
    trusted/wrapper -- status underReview when carried by a fuzzy match -- and a ``triage``
    property for every label."""
    from cocoscope.finding import Severity
    from cocoscope.report.sarif import SarifResult, SarifRule, sarif_log

    interfaces = sorted({s.interface for s in inv.sites})
    rules = [SarifRule(id=f"host-input/{i}", name=f"HostInput{i.title().replace('-', '')}",
                       short=f"guest code consumes host-controlled input ({i})",
                       severity=Severity.LOW, tags=("host-input", i),
                       properties={"interface": i}) for i in interfaces]
    results = []
    seen: dict[tuple[str, ...], int] = {}
    for s in inv.host_sites:
        # Stable across edits elsewhere in the file (no line numbers): the n-th use of this
        # primitive with this grade in this function.
        ident = (s.file, s.function, s.primitive, s.grade.value)
        seen[ident] = seen.get(ident, 0) + 1
        via = f" via {' > '.join(s.chain)}" if s.derived else ""
        props = {k: v for k, v in site_dict(s).items() if v not in (None, "")}
        verdict, how = (verdicts or {}).get(s, (None, ""))
        if verdict is not None:
            props["triage"] = {"label": verdict.label.value, "reason": verdict.reason,
                               "carried": how}
        suppressed = (f"{verdict.label.value}: {verdict.reason} ({verdict.who}, {verdict.when})"
                      if verdict is not None and verdict.label.suppresses else None)
        results.append(SarifResult(
            rule_id=f"host-input/{s.interface}",
            message=f"{s.function or 'file scope'}: host input from {s.primitive}{via} used as "
                    f"{s.grade.value}",
            fingerprint=(*ident, str(seen[ident])), path=s.file, line=s.line, column=s.column,
            level="warning" if s.risky else "note", suppressed=suppressed,
            suppression_status="accepted" if how == "exact" else "underReview",
            properties=props))
    notes = [{"level": "warning" if p.kind == "failed" else "note",
              "message": {"text": f"{p.file}: {p.detail}"},
              "locations": [{"physicalLocation": {"artifactLocation": {
                  "uri": p.file, "uriBaseId": "SRCROOT"}}}]} for p in inv.problems]
    doc = sarif_log("cocoscope-surface", rules, results, fingerprint_key="cocoscopeSurface/v1",
                    root=inv.tree, notifications=notes)
    return dumps_indented(doc, 1)


RENDERERS = {"table": to_table, "json": to_json, "csv": to_csv, "sarif": to_sarif}
