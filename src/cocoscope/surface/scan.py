"""Scan orchestration: files -> pass 1 summaries -> fixpoint -> pass 2 sites -> Inventory.

Both passes run on all cores (``multiprocessing``, fork) and are cached per file content. The
parent only ever holds the compact summaries and the sites, never syntax trees, so memory stays
bounded on the whole tree.
"""

from __future__ import annotations

import dataclasses
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cocoscope.surface.cache import SCANNER_VERSION, Cache, default_dir, digest
from cocoscope.surface.catalogue import Catalogue, Flow, Trust, load_catalogue
from cocoscope.surface.cparse import parse
from cocoscope.surface.derive import Key, Source, chain, derive, resolve_in
from cocoscope.surface.files import FileSpec, header_files
from cocoscope.surface.includes import reachable_headers
from cocoscope.surface.inventory import DerivedSource, FileProblem, Inventory, Site
from cocoscope.surface.parallel import Progress, run_parallel
from cocoscope.surface.sites import RawSite, SourceRef, find_sites
from cocoscope.surface.summary import FileSummary, file_summary, int_literal

MAX_FILE_BYTES = 8 << 20  # generated tables beyond this are reported, not parsed


@dataclass(frozen=True)
class Snapshot:
    """The last run's state. Definitions are kept in a separate entry, loaded only when the
    fixpoint must be recomputed, so an unchanged re-run reads little."""

    summaries: dict[str, tuple[tuple[int, int], FileSummary]]  # path -> (stamp, summary sans defs)
    sites: dict[str, tuple[str, list[RawSite]]]  # path -> (pass 2 key, raw sites)
    # fixpoint key, sources, private definitions, names having a private definition
    derived: tuple[str, dict[Key, Source], frozenset[Key], frozenset[str]] | None
    defs_key: str  # the cache key of {path: defs} for these summaries


def _with_defs(summaries: list[FileSummary], cache: Cache, defs_key: str) -> list[FileSummary] | None:
    defs = cache.get("snapdefs", defs_key)
    if not isinstance(defs, dict):
        return None
    out = []
    for s in summaries:
        if s.path not in defs:
            return None
        out.append(dataclasses.replace(s, defs=defs[s.path]) if not s.defs else s)
    return out


# Worker state set before the pool forks: the tree, the cache and the per-pass inputs.
_STATE: dict[str, object] = {}


def _pass1(rel: str) -> FileSummary:
    tree = Path(str(_STATE["tree"]))
    cache = _STATE["cache"]
    assert isinstance(cache, Cache)
    try:
        data = (tree / rel).read_bytes()
    except OSError as exc:
        return FileSummary(rel, "", (), frozenset(), frozenset(), (), f"unreadable: {exc.strerror}")
    sha = digest(data)
    key = digest(sha, SCANNER_VERSION, str(_STATE["fingerprint"]), (rel.endswith(".c") and "c") or "h")
    hit = cache.get("p1", key)
    if isinstance(hit, FileSummary):
        return dataclasses.replace(hit, path=rel)
    if len(data) > MAX_FILE_BYTES:
        out = FileSummary(rel, sha, (), frozenset(), frozenset(), (),
                          f"larger than {MAX_FILE_BYTES >> 20} MiB, not parsed")
    else:
        try:
            globals_ = _STATE["globals"]
            assert isinstance(globals_, frozenset)
            out = file_summary(rel, sha, parse(data), globals_)
        except Exception as exc:  # one bad file must not end a whole-tree scan: list it
            out = FileSummary(rel, sha, (), frozenset(), frozenset(), (), f"analysis failed: {exc}")
    cache.put("p1", key, out)
    return out


def _pass2(job: tuple[str, str, dict[str, SourceRef]]) -> tuple[str, list[RawSite], str]:
    rel, sha, sources = job
    cache = _STATE["cache"]
    assert isinstance(cache, Cache)
    key = digest(sha, SCANNER_VERSION, repr(sorted(sources.items())))
    hit = cache.get("p2", key)
    if isinstance(hit, list):
        return rel, hit, ""
    try:
        data = (Path(str(_STATE["tree"])) / rel).read_bytes()
        if digest(data) != sha:
            return rel, [], "changed during the scan"
        sites = find_sites(parse(data), sources)
    except OSError as exc:
        return rel, [], f"unreadable: {exc.strerror}"
    except Exception as exc:  # listed as a per-file failure, never a crash of the scan
        return rel, [], f"analysis failed: {type(exc).__name__}: {exc}"
    cache.put("p2", key, sites)
    return rel, sites, ""


def _compact(s: FileSummary) -> FileSummary:
    """Share name strings across files (workers send fresh copies): a whole-tree run holds a
    few million of them."""
    return dataclasses.replace(s, called=frozenset(map(sys.intern, s.called)))


def _refs_for(summary: FileSummary, sources: dict[Key, Source], resolve: Callable[[str, str], Key],
              ) -> tuple[dict[str, SourceRef], dict[str, Key]]:
    refs: dict[str, SourceRef] = {}
    keys: dict[str, Key] = {}
    for name in summary.called | summary.globals_used:
        key = resolve(summary.path, name)
        src = sources.get(key)
        if src is None:
            continue
        refs[name] = SourceRef(name, src.returns, src.out_args, src.flow is Flow.EVENT,
                               src.flow is Flow.GLOBAL)
        keys[name] = key
    return refs, keys


def _leaf_table(summaries: list[FileSummary]) -> dict[str, int]:
    """Symbolic CPUID leaves defined in the scanned files; a name defined with two different
    values is left out rather than guessed."""
    table: dict[str, int] = {}
    clash: set[str] = set()
    for s in summaries:
        for name, value in s.leaf_constants:
            if table.setdefault(name, value) != value:
                clash.add(name)
    for name in clash:
        del table[name]
    return table


def scan(tree: Path, files: list[FileSpec], *, config: str = "", platform: str | None = None,
         catalogue: Catalogue | None = None, jobs: int = 0, cache_dir: Path | None = None,
         use_cache: bool = True, all_headers: bool = False) -> Inventory:
    """Scan ``files`` (``.c`` paths relative to ``tree``) and return the inventory."""
    cat = catalogue or load_catalogue()
    jobs = jobs or os.cpu_count() or 1
    cache = Cache((cache_dir or default_dir()) if use_cache else None)
    c_files = sorted({f.path for f in files})
    spec = {f.path: f for f in files}
    headers = header_files(tree, c_files, all_headers)
    _STATE.update(tree=str(tree), cache=cache, fingerprint=cat.fingerprint,
                  globals=frozenset(p.name for p in cat.primitives.values()
                                    if p.flow is Flow.GLOBAL))
    stats: dict[str, float] = {}
    t0 = time.monotonic()
    # One snapshot per tree/catalogue: unchanged files (same mtime and size) are not even read,
    # and an unchanged set of summaries reuses the fixpoint.
    snap_key = digest(str(tree.resolve()), SCANNER_VERSION, cat.fingerprint)
    snap = cache.get("snap", snap_key)
    if not isinstance(snap, Snapshot):
        snap = Snapshot({}, {}, None, "")
    stamps: dict[str, tuple[int, int]] = {}
    summaries: list[FileSummary] = []
    todo: list[str] = []
    from_snapshot = 0
    for rel in c_files + headers:
        try:
            st = os.stat(tree / rel)
        except OSError:
            todo.append(rel)
            continue
        stamps[rel] = (st.st_mtime_ns, st.st_size)
        old = snap.summaries.get(rel)
        if old is not None and old[0] == stamps[rel]:
            summaries.append(old[1])
            from_snapshot += 1
        else:
            todo.append(rel)
    stats["files_reparsed"] = len(todo)
    with Progress() as progress:
        for s in run_parallel(_pass1, todo, jobs, "surface: summaries", progress):
            summaries.append(_compact(s))
        stats["pass1_s"] = time.monotonic() - t0
        t1 = time.monotonic()
        derive_key = digest(cat.fingerprint, *sorted(f"{s.path}:{s.sha}" for s in summaries))
        derive_ran = not (snap.derived is not None and snap.derived[0] == derive_key)
        if not derive_ran:
            assert snap.derived is not None
            sources, private, pnames = snap.derived[1], snap.derived[2], snap.derived[3]
        else:
            if from_snapshot:
                # Unchanged files came from the snapshot without their definitions.
                full = _with_defs(summaries, cache, snap.defs_key)
                if full is None:  # the definitions entry is gone: re-read every file
                    full = list(run_parallel(_pass1, [s.path for s in summaries], jobs,
                                     "surface: summaries", progress))
                summaries = full
            sources, resolver = derive(summaries, cat)
            private, pnames = frozenset(resolver.private), frozenset(resolver.names)

        def resolve(path: str, name: str) -> Key:
            return resolve_in(private, pnames, path, name)

        stats["derive_s"] = time.monotonic() - t1
        t2 = time.monotonic()
        jobs2: list[tuple[str, str, dict[str, SourceRef]]] = []
        keymaps: dict[str, dict[str, Key]] = {}
        problems: list[FileProblem] = []
        raw_by_file: dict[str, tuple[str, list[RawSite]]] = {}
        pending: dict[str, str] = {}
        for h, b in reachable_headers(summaries, {f.path: f.built for f in files}).items():
            spec.setdefault(h, FileSpec(h, b))
        for s in summaries:
            if s.failure:
                problems.append(FileProblem(s.path, "failed", s.failure))
                continue
            if s.path not in spec:  # a header no built file includes
                continue
            if s.errors:
                problems.append(FileProblem(s.path, "parse-errors",
                                            f"{len(s.errors)} unparsed range(s)", s.errors))
            refs, keymaps[s.path] = _refs_for(s, sources, resolve)
            if not refs:
                continue
            p2key = digest(s.sha, repr(sorted(refs.items())))
            old2 = snap.sites.get(s.path)
            if old2 is not None and old2[0] == p2key:
                raw_by_file[s.path] = old2
            else:
                jobs2.append((s.path, s.sha, refs))
                pending[s.path] = p2key
        for rel, raws, failure in run_parallel(_pass2, jobs2, jobs, "surface: sites", progress):
            if failure:
                problems.append(FileProblem(rel, "failed", failure))
                continue
            raw_by_file[rel] = (pending[rel], raws)
        sites: list[Site] = []
        leaves = _leaf_table(summaries)
        for rel, (_k, raws) in raw_by_file.items():
            f = spec.get(rel, FileSpec(rel))
            for raw in raws:
                key = keymaps[rel][raw.callee]
                sites.append(_site(raw, rel, chain(sources, key), sources[key], f, cat, platform,
                                   leaves))
        stats["pass2_s"] = time.monotonic() - t2
    if todo or jobs2 or derive_ran:
        defs_key = snap.defs_key
        if derive_ran:  # every summary carries its definitions now
            defs_key = digest(derive_key, "defs")
            cache.put("snapdefs", defs_key, {s.path: s.defs for s in summaries})
            if snap.defs_key != defs_key:  # one definitions entry per snapshot, not one per run
                cache.delete("snapdefs", snap.defs_key)
        cache.put("snap", snap_key, Snapshot(
            {s.path: (stamps[s.path], dataclasses.replace(s, defs=()))
             for s in summaries if s.path in stamps and s.sha},
            raw_by_file, (derive_key, sources, private, pnames), defs_key))
    nbytes = sum(stamps[rel][1] for rel in spec if rel in stamps)  # .c files + headers reported
    derived = tuple(sorted(
        (DerivedSource(src.name, src.defined_in, src.line, chain(sources, k), src.interface.value,
                       src.returns, tuple(sorted(src.out_args)))
         for k, src in sources.items() if src.defined_in and src.name not in cat.primitives),
        key=lambda d: (d.defined_in, d.line)))
    stats["total_s"] = time.monotonic() - t0
    sites.sort(key=lambda s: (s.file, s.line, s.column, s.primitive))
    problems.sort(key=lambda p: (p.file, p.kind))
    return Inventory(str(tree), config, platform, tuple(sites), derived, tuple(problems),
                     len(c_files), nbytes, len(headers), stats)


def _site(raw: RawSite, rel: str, names: tuple[str, ...], src: Source, f: FileSpec,
          cat: Catalogue, platform: str | None, leaves: dict[str, int]) -> Site:
    trust, leaf, msr = Trust.HOST, None, ""
    if src.interface.value == "cpuid":
        if len(names) <= 1 and raw.callee.startswith("cpuid"):
            leaf = int_literal(raw.first_arg)
            if leaf is None:
                leaf = leaves.get(raw.first_arg.strip())
        trust = cat.cpuid_trust(leaf, platform)
    elif src.interface.value == "msr":
        msr = raw.first_arg if raw.first_arg.isidentifier() else ""
        trust = cat.msr_trust(msr, platform)
    return Site(rel, raw.line, raw.column, raw.function, raw.callee, names or (raw.callee,),
                src.interface.value, raw.grade, raw.in_init, raw.in_macro, raw.recovered, trust,
                leaf, msr, f.built, f.module, f.symbol)

