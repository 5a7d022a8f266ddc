"""`cocoscope surface triage`: bring a labels file up to a scan and fill in verdicts.

The file is rewritten from the current scan: every current site gets a record, labels are carried
from the old file (exact or fuzzy, ``triage_match``), then ``--set FP=label:reason`` entries are
applied and, on a terminal, the reviewer is asked about each risky site still without a label.
"""

from __future__ import annotations

import datetime
import getpass
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from cocoscope.errors import UsageError
from cocoscope.surface import triage
from cocoscope.surface.inventory import Inventory, Site
from cocoscope.surface.triage import Label, Record, Verdict
from cocoscope.surface.triage_fingerprint import SourceLines, site_keys
from cocoscope.surface.triage_match import match

_SHORT = {"e": Label.EXCLUDED, "t": Label.TRUSTED, "w": Label.WRAPPER, "c": Label.CONCERN}


@dataclass(frozen=True)
class Outcome:
    records: tuple[Record, ...]
    carried_exact: int
    carried_fuzzy: int
    dropped: tuple[Record, ...]  # labelled records whose site is gone
    set_now: int  # verdicts given in this run (--set or prompt)

    @property
    def labelled(self) -> int:
        return sum(r.verdict is not None for r in self.records)

    def summary(self, path: str, sites: Sequence[Site]) -> str:
        risky_open = sum(1 for r, s in zip(self.records, sites, strict=True)
                         if r.verdict is None and s.risky)
        lines = [f"{path}: {len(self.records)} sites, {self.labelled} labelled "
                 f"(carried {self.carried_exact} exact, {self.carried_fuzzy} fuzzy; "
                 f"{self.set_now} new), {risky_open} risky sites without a label"]
        if self.dropped:
            lines.append(f"{len(self.dropped)} labels dropped with their site (gone from this "
                         "scan):")
            lines += [f"  {r.file}:{r.line} {r.function or '-'} {r.primitive} "
                      f"[{r.verdict.label.value if r.verdict else ''}]" for r in self.dropped]
        return "\n".join(lines) + "\n"


def now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def reviewer(who: str | None) -> str:
    if who:
        return who
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return os.environ.get("USER", "unknown")


def parse_set(spec: str, who: str, when: str) -> tuple[str, Verdict]:
    """``FP=label:reason`` (label may be abbreviated to its first letter)."""
    fp, sep, rest = spec.partition("=")
    label, sep2, reason = rest.partition(":")
    label = label.strip().lower()
    chosen = _SHORT.get(label) or next((x for x in Label if x.value == label), None)
    if not sep or not sep2 or not fp.strip() or chosen is None or not reason.strip():
        raise UsageError(f"--set {spec!r}: expected FINGERPRINT=LABEL:REASON with LABEL one of "
                         + ", ".join(x.value for x in Label))
    return fp.strip(), Verdict(chosen, reason.strip(), who, when)


Ask = Callable[[str], str | None]  # prompt -> answer line, None at end of input


def run(inv: Inventory, labels: str, *, sets: Sequence[str] = (), who: str | None = None,
        ask: Ask | None = None, say: Callable[[str], None] = print) -> Outcome:
    sites = inv.host_sites
    keys = site_keys(sites, inv.tree)
    old = triage.load(labels) if Path(labels).exists() else []
    m = match(old, keys)
    by_site = m.by_site()
    records = [triage.Record.of(k, s.grade.value,
                                by_site[i].record.verdict if i in by_site else None)
               for i, (k, s) in enumerate(zip(keys, sites, strict=True))]
    exact = sum(1 for x in m.matches if x.how == "exact" and x.record.verdict)
    fuzzy = sum(1 for x in m.matches if x.how == "fuzzy" and x.record.verdict)
    name, when = reviewer(who), now()
    index = {k.fingerprint: i for i, k in enumerate(keys)}
    given = 0
    for spec in sets:
        fp, verdict = parse_set(spec, name, when)
        if fp not in index:
            raise UsageError(f"--set: no site with fingerprint {fp} in this scan "
                             "(see `surface diff --baseline ... --format json`)")
        records[index[fp]] = records[index[fp]].with_verdict(verdict)
        given += 1
    if ask is not None:
        given += _prompt(records, sites, inv.tree, name, ask, say, lambda: triage.save(
            labels, records))
    triage.save(labels, records)
    return Outcome(tuple(records), exact, fuzzy,
                   tuple(r for r in m.gone if r.verdict is not None), given)


def _prompt(records: list[Record], sites: Sequence[Site], tree: str, who: str, ask: Ask,
            say: Callable[[str], None], checkpoint: Callable[[], None]) -> int:
    """Ask about each risky site without a label; saves after every answer."""
    todo = [i for i, (r, s) in enumerate(zip(records, sites, strict=True))
            if r.verdict is None and s.risky]
    src = SourceLines(tree)
    given = 0
    for n, i in enumerate(todo, 1):
        s = sites[i]
        code = src.line(s.file, s.line).decode("utf-8", "replace").strip()
        say(f"\n[{n}/{len(todo)}] {s.file}:{s.line}  {s.function or '-'}  {s.primitive} "
            f"({' > '.join(s.chain)})  {s.interface}  {s.grade.value}\n    {code}")
        while True:
            answer = ask("label [e]xcluded [t]rusted [w]rapper [c]oncern, [s]kip, [q]uit: ")
            if answer is None or answer.strip().lower() == "q":
                return given
            choice = answer.strip().lower()
            if choice == "s":
                break
            if choice[:1] in _SHORT:
                reason = ask("reason: ")
                if reason is None:
                    return given
                if not reason.strip():
                    say("a reason is required")
                    continue
                records[i] = records[i].with_verdict(
                    Verdict(_SHORT[choice[:1]], reason.strip(), who, now()))
                given += 1
                checkpoint()
                break
            say("answer e, t, w, c, s or q")
    return given
