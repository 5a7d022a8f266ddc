"""Hand-labelled samples of surface sites (tests/data/surface/labels/) and the accuracy of a
scan against them.

A sample is JSON: the seed and commit it was drawn at, and per site the triage fingerprint,
location, the tool's grade and per-platform trust at that commit, and the reviewer's label
(host input on TDX / SNP, the correct grade, which platforms can run the code, a reason). The
labelling conventions are in that directory's README.md.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cocoscope.errors import InputError
from cocoscope.model.platform import CONFIDENTIAL
from cocoscope.surface.catalogue import Trust
from cocoscope.surface.grade import RISKY, Grade
from cocoscope.surface.inventory import Site
from cocoscope.surface.triage_fingerprint import site_keys

HOST_INPUT = tuple(t.value for t in Trust if t.host_input)  # trust values claiming host input
NOT_HOST = "-"  # grade label of a site that is host input on neither platform
RUNS = ("both", "tdx", "snp", "neither")
PLATFORMS = tuple(p.value for p in CONFIDENTIAL)  # label keys: "tdx", "snp"


@dataclass(frozen=True)
class LabelledSite:
    fingerprint: str
    file: str
    line: int
    function: str
    primitive: str
    tool_grade: str  # the grade when the sample was drawn
    host: dict[str, bool]  # platform -> the value is host-controlled there
    grade: str  # correct grade, or NOT_HOST
    runs: str  # platforms whose guests can execute the code
    reason: str
    built: bool = True  # false: an #if branch the config does not compile (host input nowhere)
    tool_trusted: tuple[str, ...] = ()  # platforms the tool called the value not host input on
    tool_unreachable: tuple[str, ...] = ()  # platforms the tool flagged unreachable, then

    def host_on(self, platform: str) -> bool:
        return self.built and self.host[platform]


@dataclass(frozen=True)
class Sample:
    name: str
    seed: int
    commit: str
    sites: tuple[LabelledSite, ...]


def load_sample(path: str | Path) -> Sample:
    try:
        doc = json.loads(Path(path).read_text())
        sites = tuple(_site(r) for r in doc["sites"])
        return Sample(doc["sample"], int(doc["seed"]), doc["drawn_from"]["commit"], sites)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InputError(f"not a labelled sample: {exc}", path=str(path)) from None


def _site(r: dict[str, Any]) -> LabelledSite:
    grades = {g.value for g in Grade} | {NOT_HOST}
    if r["grade"] not in grades or r["runs"] not in RUNS or not r["reason"]:
        raise ValueError(f"site {r['fingerprint']}: bad or missing label")
    host = {"tdx": r["host_tdx"], "snp": r["host_snp"]}
    if not all(isinstance(v, bool) for v in host.values()):
        raise ValueError(f"site {r['fingerprint']}: host_tdx/host_snp must be true or false")
    built = r.get("built", True)
    if not isinstance(built, bool):
        raise ValueError(f"site {r['fingerprint']}: built must be true or false")
    # Any recorded trust but host/checked: the tool did not call the value host input there.
    trusted = tuple(p for p in PLATFORMS
                    if r.get(f"tool_trust_{p}") not in (None, *HOST_INPUT))
    unreachable = tuple(p for p in PLATFORMS if r.get(f"tool_unreachable_{p}"))
    return LabelledSite(r["fingerprint"], r["file"], int(r["line"]), r["function"],
                        r["primitive"], r["tool_grade"], host, r["grade"], r["runs"],
                        r["reason"], built, trusted, unreachable)


@dataclass(frozen=True)
class Measurement:
    """How a scan agrees with a sample. Precision counts the sites the scan still reports."""

    sample_size: int
    matched: int  # sample sites found in the scan (by fingerprint, else file/line/primitive)
    graded: int  # matched sites that are host input on some platform
    grade_correct: int
    risky_correct: int  # risky/benign split right even where the grade is not
    claimed: dict[str, int]  # platform -> matched sites the scan calls host input there
    claimed_true: dict[str, int]  # ... of which the label agrees
    claimed_runnable: dict[str, int]  # ... host input and the code can run on that platform
    # Reachability: the scan flags a site `unreachable` on a platform (kept, not dropped).
    flagged: dict[str, int]  # platform -> claimed sites flagged unreachable there
    flagged_right: dict[str, int]  # ... of which the label agrees the code cannot run there
    live: dict[str, int]  # claimed and not flagged
    live_runnable: dict[str, int]  # ... host input there and the code can run there
    confusions: tuple[tuple[str, str, LabelledSite], ...]  # (scan grade, label, site)

    @property
    def grade_accuracy(self) -> float:
        return self.grade_correct / self.graded if self.graded else 0.0

    def precision(self, platform: str, *, reachable: bool = False) -> float:
        """Labelled host input among every site the scan claims is host input on ``platform``
        (trust host or checked), flagged unreachable or not; ``reachable``: and the code can
        run there."""
        n = self.claimed[platform]
        hits = self.claimed_runnable[platform] if reachable else self.claimed_true[platform]
        return hits / n if n else 0.0

    def precision_live(self, platform: str) -> float:
        """Among the claimed sites the scan does not flag unreachable: host input there and
        code that runs there (what a reviewer of the unflagged list reads)."""
        n = self.live[platform]
        return self.live_runnable[platform] / n if n else 0.0

    def summary(self) -> str:
        lines = [f"matched {self.matched}/{self.sample_size} sample sites",
                 f"grade accuracy {self.grade_correct}/{self.graded} = "
                 f"{self.grade_accuracy:.3f}; risky/benign right "
                 f"{self.risky_correct}/{self.graded}"]
        for p in PLATFORMS:
            lines.append(f"host-input precision {p}, all claimed sites: {self.claimed_true[p]}/"
                         f"{self.claimed[p]} = {self.precision(p):.3f} (and code that runs on "
                         f"{p}: {self.claimed_runnable[p]}/{self.claimed[p]} = "
                         f"{self.precision(p, reachable=True):.3f})")
            lines.append(f"host-input precision {p}, claimed and not flagged unreachable: "
                         f"{self.live_runnable[p]}/{self.live[p]} = {self.precision_live(p):.3f}"
                         f" (flagged unreachable {self.flagged[p]}, {self.flagged_right[p]} "
                         "right)")
        return "\n".join(lines)


def measure(sample: Sample, tree: str | Path, sites: Sequence[Site],
            trust: dict[str, Sequence[Site]]) -> Measurement:
    """Compare a scan of ``tree`` (``sites`` without a platform, ``trust[p]`` the same scan
    with --platform p, site for site) with the sample's labels."""
    keys = site_keys(sites, tree)
    by_fp = {k.fingerprint: i for i, k in enumerate(keys)}
    by_loc = {(s.file, s.line, s.primitive): i for i, s in enumerate(sites)}
    trusted = {p: {(s.file, s.line, s.column, s.primitive) for s in trust[p]
                   if not s.trust.host_input} for p in PLATFORMS}
    unreachable = {p: {(s.file, s.line, s.column, s.primitive) for s in trust[p]
                       if s.unreachable} for p in PLATFORMS}
    rows = []
    for lab in sample.sites:
        i = by_fp.get(lab.fingerprint, by_loc.get((lab.file, lab.line, lab.primitive)))
        if i is None:
            continue
        s = sites[i]
        at = (s.file, s.line, s.column, s.primitive)
        rows.append((lab, s.grade.value, {p: at in trusted[p] for p in PLATFORMS},
                     {p: at in unreachable[p] for p in PLATFORMS}))
    return _tally(len(sample.sites), rows)


def measure_recorded(sample: Sample) -> Measurement:
    """The same figures for the scanner the sample was drawn with, from the grades and trust
    recorded in the sample (every site was reported by that scanner)."""
    return _tally(len(sample.sites), [
        (lab, lab.tool_grade, {p: p in lab.tool_trusted for p in PLATFORMS},
         {p: p in lab.tool_unreachable for p in PLATFORMS}) for lab in sample.sites])


Row = tuple[LabelledSite, str, dict[str, bool], dict[str, bool]]


def _tally(size: int, rows: list[Row]) -> Measurement:
    """rows: (label, the scan's grade, trusted on platform, flagged unreachable on platform)."""
    graded = correct = risky_ok = 0
    claimed = dict.fromkeys(PLATFORMS, 0)
    claimed_true = dict.fromkeys(PLATFORMS, 0)
    claimed_run = dict.fromkeys(PLATFORMS, 0)
    flagged = dict.fromkeys(PLATFORMS, 0)
    flagged_right = dict.fromkeys(PLATFORMS, 0)
    live = dict.fromkeys(PLATFORMS, 0)
    live_run = dict.fromkeys(PLATFORMS, 0)
    confusions = []
    for lab, grade, trusted, unreachable in rows:
        for p in PLATFORMS:
            if trusted[p]:
                continue
            claimed[p] += 1
            claimed_true[p] += lab.host_on(p)
            runs_here = lab.runs in ("both", p)
            claimed_run[p] += lab.host_on(p) and runs_here
            if unreachable[p]:
                flagged[p] += 1
                flagged_right[p] += not runs_here
            else:
                live[p] += 1
                live_run[p] += lab.host_on(p) and runs_here
        if lab.grade == NOT_HOST or not lab.built:
            continue
        graded += 1
        correct += grade == lab.grade
        risky_ok += (Grade(grade) in RISKY) == (Grade(lab.grade) in RISKY)
        if grade != lab.grade:
            confusions.append((grade, lab.grade, lab))
    return Measurement(size, len(rows), graded, correct, risky_ok, claimed, claimed_true,
                       claimed_run, flagged, flagged_right, live, live_run, tuple(confusions))
