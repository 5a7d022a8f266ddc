"""Carry a labels file onto a new scan: which old record is which new site.

Exact first (same fingerprint: the call's line is unchanged, wherever it moved). Then a fuzzy
fallback for the rest, reported as fuzzy so a reviewer can confirm it:

1. same file, function and primitive, the most similar call line (difflib ratio >= 0.6) -- an
   edited line, an added argument, a renamed variable;
2. same function and primitive in another file with the same base name or a very similar line
   (ratio >= 0.85) -- a moved or renamed file.

Pairs are taken best ratio first, each record and site at most once, ties by position, so the
result does not depend on input order.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from posixpath import basename

from cocoscope.surface.triage import Record
from cocoscope.surface.triage_fingerprint import SiteKey

SAME_PLACE_RATIO = 0.6
MOVED_RATIO = 0.85


@dataclass(frozen=True)
class Match:
    record: Record
    site: int  # index into the new scan's sites
    how: str  # "exact" | "fuzzy"
    ratio: float  # line similarity (1.0 for exact)


@dataclass(frozen=True)
class Matching:
    matches: tuple[Match, ...]
    gone: tuple[Record, ...]  # records no new site matched
    new: tuple[int, ...]  # new sites no record matched

    def by_site(self) -> dict[int, Match]:
        return {m.site: m for m in self.matches}


def _ratio(a: str, b: str, floor: float) -> float:
    """Similarity of two call lines, 0.0 when cheap upper bounds already fall below floor."""
    sm = SequenceMatcher(None, a, b, autojunk=False)
    if sm.real_quick_ratio() < floor or sm.quick_ratio() < floor:
        return 0.0
    return sm.ratio()


def match(records: Sequence[Record], keys: Sequence[SiteKey]) -> Matching:
    by_fp = {k.fingerprint: i for i, k in enumerate(keys)}
    matches: list[Match] = []
    used_sites: set[int] = set()
    rest: list[Record] = []
    for r in records:
        i = by_fp.get(r.fingerprint)
        if i is not None and i not in used_sites:
            matches.append(Match(r, i, "exact", 1.0))
            used_sites.add(i)
        else:
            rest.append(r)
    free = [i for i in range(len(keys)) if i not in used_sites]
    for tier in (_same_place, _moved):
        rest, free = tier(rest, free, keys, matches)
    return Matching(tuple(sorted(matches, key=lambda m: m.site)), tuple(rest), tuple(free))


def _pair(candidates: list[tuple[float, int, int]], rest: list[Record], free: list[int],
          keys: Sequence[SiteKey], matches: list[Match]) -> tuple[list[Record], list[int]]:
    taken_r: set[int] = set()
    taken_s: set[int] = set()
    for ratio, ri, si in sorted(candidates, key=lambda c: (-c[0], c[1], c[2])):
        if ri in taken_r or si in taken_s:
            continue
        taken_r.add(ri)
        taken_s.add(si)
        matches.append(Match(rest[ri], si, "fuzzy", round(ratio, 3)))
    return ([r for n, r in enumerate(rest) if n not in taken_r],
            [s for s in free if s not in taken_s])


def _same_place(rest: list[Record], free: list[int], keys: Sequence[SiteKey],
                matches: list[Match]) -> tuple[list[Record], list[int]]:
    sites: dict[tuple[str, str, str], list[int]] = defaultdict(list)
    for i in free:
        sites[(keys[i].file, keys[i].function, keys[i].primitive)].append(i)
    cands = []
    for ri, r in enumerate(rest):
        for si in sites.get((r.file, r.function, r.primitive), ()):
            ratio = _ratio(r.context, keys[si].context, SAME_PLACE_RATIO)
            if ratio >= SAME_PLACE_RATIO:
                cands.append((ratio, ri, si))
    return _pair(cands, rest, free, keys, matches)


def _moved(rest: list[Record], free: list[int], keys: Sequence[SiteKey],
           matches: list[Match]) -> tuple[list[Record], list[int]]:
    sites: dict[tuple[str, str], list[int]] = defaultdict(list)
    for i in free:
        if keys[i].function:  # file-scope sites have nothing to follow across files
            sites[(keys[i].function, keys[i].primitive)].append(i)
    cands = []
    for ri, r in enumerate(rest):
        for si in sites.get((r.function, r.primitive), ()):
            ratio = _ratio(r.context, keys[si].context, SAME_PLACE_RATIO)
            if ratio >= MOVED_RATIO or (basename(r.file) == basename(keys[si].file)
                                        and ratio >= SAME_PLACE_RATIO):
                cands.append((ratio, ri, si))
    return _pair(cands, rest, free, keys, matches)
