"""Content-addressed result cache: a re-run after one edited file re-parses about that file.

Entries are pickles of the scanner's own frozen records, named by a hash of the file content,
the scanner version and whatever else the result depends on; a stale entry is simply never
looked up again. Writes go through a temporary file and ``os.replace`` so concurrent workers
and interrupted runs never leave a torn entry.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import io
import os
import pickle
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from cocoscope.evidence.files import read_tree_file
from cocoscope.surface.dataflow import FileSummary
from cocoscope.surface.derive import Key, Source
from cocoscope.surface.sites import RawSite

# A cache entry larger than this is not ours (the cloud config's largest, the definitions
# entry, is 30 MB).
_ENTRY_LIMIT = 1 << 30

# Bump when the extraction or grading logic changes what a cached entry would contain.
SCANNER_VERSION = "surface-28-lead-1"


def default_dir() -> Path:
    base = os.environ.get("COCOSCOPE_CACHE")
    root = Path(base) if base else Path.home() / ".cache" / "cocoscope"
    return root / "surface"


def digest(*parts: bytes | str) -> str:
    h = hashlib.blake2b(digest_size=20)
    for p in parts:
        h.update(p.encode() if isinstance(p, str) else p)
        h.update(b"\0")
    return h.hexdigest()


class Cache:
    def __init__(self, root: Path | None) -> None:
        self.root = root

    def _path(self, kind: str, key: str) -> Path:
        assert self.root is not None
        return self.root / kind / key[:2] / f"{key}.pkl"

    def get(self, kind: str, key: str) -> Any:
        data = self._read(kind, key)
        if data is None:
            return None
        try:
            return pickle.loads(data)
        except (pickle.UnpicklingError, EOFError, AttributeError, ImportError, ValueError,
                TypeError, IndexError, KeyError):  # (what a corrupt pickle raises)
            return None

    def _read(self, kind: str, key: str) -> bytes | None:
        """An entry's bytes; None when it is missing or not a regular file (a FIFO left in
        the cache would block a plain open) or larger than any entry we write."""
        if self.root is None:
            return None
        try:
            return read_tree_file(self._path(kind, key), limit=_ENTRY_LIMIT)
        except OSError:
            return None

    def put(self, kind: str, key: str, value: Any) -> None:
        self._write(kind, key, lambda fh: pickle.dump(value, fh, protocol=pickle.HIGHEST_PROTOCOL))

    def put_items(self, kind: str, key: str, items: dict[str, Any]) -> None:
        """Write a large dict (the snapshot's definitions: ~10^6 objects) as its length, then
        one pickle per item. One pickle of the whole dict memoises every object it writes:
        on the cloud config that memo took 1.4 s and ~190 MB more memory at the end of a
        cold scan, one pickle per item 0.5 s and none (they share little: a name string at
        most, which a reader then holds once per item)."""
        def dump(fh: BinaryIO) -> None:
            pickle.dump(len(items), fh, protocol=pickle.HIGHEST_PROTOCOL)
            for item in items.items():
                pickle.dump(item, fh, protocol=pickle.HIGHEST_PROTOCOL)
        self._write(kind, key, dump)

    def _write(self, kind: str, key: str, dump: Callable[[BinaryIO], None]) -> None:
        if self.root is None:
            return
        path = self._path(kind, key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            with open(tmp, "wb") as fh:
                dump(fh)
            os.replace(tmp, path)
        except OSError:
            pass  # a read-only or full cache only costs speed, never correctness

    def get_items(self, kind: str, key: str) -> dict[str, Any] | None:
        """What ``put_items`` wrote; None when the entry is missing, torn or not such."""
        data = self._read(kind, key)
        if data is None:
            return None
        fh = io.BytesIO(data)
        try:
            n = pickle.load(fh)
            if not isinstance(n, int):
                return None
            out = {}
            for _ in range(n):  # (a torn entry ends in EOFError, however large n says)
                k, v = pickle.load(fh)
                out[k] = v
            return out
        except (pickle.UnpicklingError, EOFError, AttributeError, ImportError, ValueError,
                TypeError, IndexError, KeyError):
            return None

    def delete(self, kind: str, key: str) -> None:
        if self.root is None or not key:
            return
        # Already gone (another run replaced it) or a read-only cache: harmless either way.
        with contextlib.suppress(OSError):
            self._path(kind, key).unlink()


# The fixpoint's result: its key, sources, private definitions, names having a private one
# (both only of names some source or sink has: no other name is ever resolved), and the derived
# sinks (sinks.py).
Derived = tuple[str, dict[Key, Source], frozenset[Key], frozenset[str],
                dict[Key, tuple[tuple[int, str], ...]]]


# Part of the snapshot's key: what a snapshot holds changed (2: a summary keeps only the callee
# names some source or sink has, the definitions entry holds (defs, called) per file; 3: that
# entry is written by Cache.put_items).
_SNAPSHOT_FORMAT = "3"


@dataclass(frozen=True)
class Snapshot:
    """The last run's state. Definitions and the full callee sets are kept in a separate
    entry, loaded only when the fixpoint must be recomputed, so an unchanged re-run reads
    little: while the fixpoint is reused, the names that are sources or sinks are the same,
    and pass 2 looks up no other callee (scan._refs_for, _sinks_for)."""

    # path -> (stamp, summary without defs and with only the callees that are sources or sinks)
    summaries: dict[str, tuple[tuple[int, int], FileSummary]]
    sites: dict[str, tuple[str, list[RawSite]]]  # path -> (pass 2 key, raw sites)
    derived: Derived | None
    defs_key: str  # the cache key of {path: (defs, called)} for these summaries


class TreeSnapshot:
    """Bookkeeping of one tree's snapshot across a scan: which files are unchanged since the
    last run (same mtime and size: not even read), whether the fixpoint and a file's sites can
    be reused, and writing the new snapshot back (one definitions entry per tree)."""

    def __init__(self, cache: Cache, tree: Path, catalogue_fingerprint: str) -> None:
        self._cache = cache
        self._tree = tree
        self._key = digest(str(tree.resolve()), SCANNER_VERSION, catalogue_fingerprint,
                           _SNAPSHOT_FORMAT)
        old = cache.get("snap", self._key)
        self._old = old if isinstance(old, Snapshot) else Snapshot({}, {}, None, "")
        self.stamps: dict[str, tuple[int, int]] = {}
        self.reused = 0  # summaries taken from the snapshot (they come without definitions)
        self._reused_ids: set[int] = set()  # ... which are these objects (held by self._old)

    def unchanged_summary(self, rel: str) -> FileSummary | None:
        """The last run's summary of ``rel`` if the file's mtime and size did not change."""
        try:
            st = os.stat(self._tree / rel)
        except OSError:
            return None
        self.stamps[rel] = (st.st_mtime_ns, st.st_size)
        old = self._old.summaries.get(rel)
        if old is not None and old[0] == self.stamps[rel]:
            self.reused += 1
            self._reused_ids.add(id(old[1]))
            return old[1]
        return None

    def derived(self, derive_key: str) -> Derived | None:
        d = self._old.derived
        return d if d is not None and d[0] == derive_key else None

    def with_defs(self, summaries: list[FileSummary]) -> list[FileSummary] | None:
        """Reused summaries with their definitions and callees put back; None when the entry
        is gone."""
        defs = self._cache.get_items("snapdefs", self._old.defs_key)
        if defs is None:
            return None
        out = []
        for s in summaries:
            if id(s) not in self._reused_ids:
                out.append(s)  # read afresh: complete
                continue
            if s.path not in defs:
                return None
            s_defs, called = defs[s.path]
            out.append(dataclasses.replace(s, defs=s_defs, called=called))
        return out

    def sites(self, rel: str, pass2_key: str) -> tuple[str, list[RawSite]] | None:
        old = self._old.sites.get(rel)
        return old if old is not None and old[0] == pass2_key else None

    def save(self, summaries: list[FileSummary], sites: dict[str, tuple[str, list[RawSite]]],
             derived: Derived, derive_ran: bool) -> None:
        """Write the new snapshot; when the fixpoint ran, every summary carries definitions."""
        defs_key = self._old.defs_key
        if derive_ran:
            defs_key = digest(derived[0], "defs", _SNAPSHOT_FORMAT)
            self._cache.put_items("snapdefs", defs_key,
                                  {s.path: (s.defs, s.called) for s in summaries})
            if self._old.defs_key != defs_key:  # one definitions entry per snapshot
                self._cache.delete("snapdefs", self._old.defs_key)
        wanted = {k[1] for k in derived[1]} | {k[1] for k in derived[4]}
        self._cache.put("snap", self._key, Snapshot(
            {s.path: (self.stamps[s.path],
                      dataclasses.replace(s, defs=(), called=s.called & wanted))
             for s in summaries if s.path in self.stamps and s.sha},
            sites, derived, defs_key))
