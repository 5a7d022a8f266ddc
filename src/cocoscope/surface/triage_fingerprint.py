"""Fingerprints that name a host-input site across kernel versions.

A reviewer's label must follow a site when code above it moves (line numbers change on every
upgrade) and survive small edits nearby, yet never jump to a different call. The fingerprint is
therefore built from what identifies the call to a reader, not from where it is:

    file, enclosing function, primitive, the call's source line with all whitespace removed,
    and the occurrence among sites that share all four (two identical calls in one function).

The grade is deliberately not part of it: a grading change must show as "changed grade" on the
same site, not as one site gone and another new. When the line itself is edited the fingerprint
changes; ``triage_match`` then falls back to a fuzzy match on the same file/function/primitive
and reports it as fuzzy.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from cocoscope.evidence import files
from cocoscope.surface.inventory import Site

_SPACE = re.compile(rb"\s+")
_MAX_CONTEXT = 200  # characters kept of a (rare) very long line


@dataclass(frozen=True)
class SiteKey:
    """A site as triage sees it: its fingerprint and what a fuzzy match compares."""

    fingerprint: str
    file: str
    line: int
    function: str
    primitive: str
    context: str  # the call's line, whitespace removed


def normalise(line: bytes) -> str:
    """The line with comments' and layout's whitespace removed (a re-indent is no change)."""
    return _SPACE.sub(b"", line).decode("utf-8", "replace")[:_MAX_CONTEXT]


def fingerprint(file: str, function: str, primitive: str, context: str, occurrence: int) -> str:
    raw = "\0".join((file, function, primitive, context, str(occurrence)))
    return hashlib.sha256(raw.encode()).hexdigest()[:20]


class SourceLines:
    """Lines of the tree's files, each file read once (only files that hold sites)."""

    def __init__(self, tree: str | Path) -> None:
        self._tree = Path(tree)
        self._files: dict[str, list[bytes]] = {}

    def line(self, file: str, line: int) -> bytes:
        lines = self._files.get(file)
        if lines is None:
            try:
                lines = files.read_tree_file(self._tree / file).split(b"\n")
            except OSError:
                # Vanished since the scan, or not a regular file (a FIFO would block a plain
                # read): the context stays empty and the fingerprint still names the site.
                lines = []
            self._files[file] = lines
        return lines[line - 1] if 0 < line <= len(lines) else b""


def site_keys(sites: Iterable[Site], tree: str | Path) -> list[SiteKey]:
    """One key per site, in the order given; equal sites are numbered in line order."""
    src = SourceLines(tree)
    items = list(sites)
    order = sorted(range(len(items)), key=lambda i: (items[i].file, items[i].line,
                                                     items[i].column, i))
    seen: dict[tuple[str, str, str, str], int] = {}
    keys: list[SiteKey | None] = [None] * len(items)
    for i in order:
        s = items[i]
        ctx = normalise(src.line(s.file, s.line))
        ident = (s.file, s.function, s.primitive, ctx)
        seen[ident] = n = seen.get(ident, 0) + 1
        keys[i] = SiteKey(fingerprint(*ident, n), s.file, s.line, s.function, s.primitive, ctx)
    return [k for k in keys if k is not None]
