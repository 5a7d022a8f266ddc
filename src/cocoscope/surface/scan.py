"""Scan orchestration: files -> pass 1 summaries -> fixpoint -> pass 2 sites -> Inventory.

Both passes run on all cores (``parallel.Workers``: forked processes that serve both passes;
what they do with one file is in ``file_work``) and are cached per file content; the
snapshot bookkeeping that lets an unchanged re-run skip them lives in ``cache.TreeSnapshot``.
The parent only ever holds the compact summaries and the sites, never syntax trees, so memory
stays bounded on the whole tree.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import os
import sys
import time
from collections import deque
from collections.abc import Callable, Iterator
from functools import partial
from operator import itemgetter
from pathlib import Path

from cocoscope.evidence.files import read_tree_file
from cocoscope.model.platform import Platform
from cocoscope.surface.cache import (
    SCANNER_VERSION,
    Cache,
    Derived,
    TreeSnapshot,
    default_dir,
    digest,
)
from cocoscope.surface.catalogue import Catalogue, Flow, load_catalogue
from cocoscope.surface.dataflow import FileSummary
from cocoscope.surface.derive import Key, Source, chain, derive, resolve_in
from cocoscope.surface.file_work import (
    FileContext,
    file_sites,
    parse_again,
    parse_ahead,
    summarise_file,
    summary_ahead,
)
from cocoscope.surface.files import (
    FileSpec,
    IncludeFollower,
    always_read_headers,
    header_files,
)
from cocoscope.surface.includes import file_constants, generic_header_macros, reachable_headers
from cocoscope.surface.inventory import DerivedSource, FileProblem, Inventory, Site
from cocoscope.surface.parallel import Workers
from cocoscope.surface.preproc import config_defines
from cocoscope.surface.progress import Progress
from cocoscope.surface.sinks import SinkInfo, derive_sinks
from cocoscope.surface.sites import RawSite, SourceRef
from cocoscope.surface.trust import TrustJudge, constants


def _compact(s: FileSummary) -> FileSummary:
    """Share name strings across files (workers send fresh copies): a whole-tree run holds a
    few million of them."""
    return dataclasses.replace(s, called=frozenset(map(sys.intern, s.called)))


def _refs_for(summary: FileSummary, sources: dict[Key, Source], resolve: Callable[[str, str], Key],
              source_names: frozenset[str]) -> tuple[dict[str, SourceRef], dict[str, Key]]:
    """The sources the file's callees and globals resolve to; ``source_names`` are the names
    of ``sources``' keys (a name no source has resolves to none: not resolved at all)."""
    refs: dict[str, SourceRef] = {}
    keys: dict[str, Key] = {}
    # The intersections run in C over the smaller set: a file calls hundreds of names, a few
    # of which are sources.
    for name in (source_names & summary.called) | (source_names & summary.globals_used):
        key = resolve(summary.path, name)
        src = sources.get(key)
        if src is None:
            continue
        refs[name] = SourceRef(name, src.returns, src.out_args, src.flow is Flow.EVENT,
                               src.flow is Flow.GLOBAL, src.guards, src.counts)
        keys[name] = key
    return refs, keys


def _sinks_for(summary: FileSummary, sinks: dict[Key, SinkInfo],
               resolve: Callable[[str, str], Key], sink_names: frozenset[str],
               ) -> dict[str, SinkInfo]:
    """The derived sinks (sinks.py) the file's callees resolve to (``sink_names``: the names
    of ``sinks``' keys)."""
    return {name: sinks[key] for name in sink_names & summary.called
            if (key := resolve(summary.path, name)) in sinks}


def scan(tree: Path, files: list[FileSpec] | Callable[[], list[FileSpec]], *, config: str = "",
         platform: Platform | None = None, catalogue: Catalogue | None = None, jobs: int = 0,
         cache_dir: Path | None = None, use_cache: bool = True, all_headers: bool = False,
         quiet: bool = False) -> Inventory:
    """Scan ``files`` (``.c`` paths relative to ``tree``), or those a callable returns, and
    return the inventory; progress goes to stderr unless ``quiet``. A callable (Kbuild, half
    a second on the cloud config) runs while the workers summarise the headers every config
    reads (files.always_read_headers)."""
    cat = catalogue or load_catalogue()
    jobs = jobs or os.cpu_count() or 1
    cache = Cache((cache_dir or default_dir()) if use_cache else None)
    defines_key = digest(*(f"{k}={v}" for k, v in sorted(config_defines(config).macros.items()))
                         ) if config else ""
    ctx = FileContext(tree, cache, cat.fingerprint,
                      frozenset(p.name for p in cat.primitives.values() if p.flow is Flow.GLOBAL),
                      config, defines_key=defines_key)
    with Progress(quiet=quiet) as progress, _long_lived_heap(), Workers(jobs) as workers:
        if callable(files):
            if config and not all_headers:
                workers.start()
                workers.prepare(partial(summary_ahead, ctx), always_read_headers(tree))
            files = files()
        c_files = sorted({f.path for f in files})
        spec = {f.path: f for f in files}
        headers = header_files(tree, c_files, all_headers)
        file_macros = {f.path: f.defines for f in files if f.defines}
        config_key = digest(defines_key, repr(sorted(file_macros.items()))) if config else ""
        ctx = dataclasses.replace(ctx, config_key=config_key, file_macros=file_macros)
        # One snapshot per tree/catalogue/config: unchanged files (same mtime and size) are not
        # even read, and an unchanged set of summaries reuses the fixpoint.
        snap = TreeSnapshot(cache, tree, digest(cat.fingerprint, config_key))
        stats: dict[str, float] = {}
        t0 = time.monotonic()
        follower = IncludeFollower(headers, bool(config) and not all_headers)
        summaries, read = _pass1(ctx, snap, c_files + headers, follower, workers, progress)
        if config:
            ctx, summaries = _generic_headers(ctx, summaries)
        workers.prepare(partial(parse_ahead, ctx),
                        _likely_pass2(summaries, read, spec, frozenset(cat.primitives),
                                      snap.stamps))
        reparsed = len(read)
        stats["files_reparsed"] = reparsed
        stats["pass1_s"] = time.monotonic() - t0
        t1 = time.monotonic()
        summaries, derived, derive_ran = _fixpoint(ctx, snap, summaries, cat, workers, progress)
        gc.freeze()  # the fixpoint's result too: full collections need not walk it again
        sources = derived[1]
        stats["derive_s"] = time.monotonic() - t1
        t2 = time.monotonic()
        for h, b in reachable_headers(summaries, {f.path: f.built for f in files},
                                         follower.target).items():
            spec.setdefault(h, FileSpec(h, b))
        raw_by_file, keymaps, problems, parsed2 = _pass2(ctx, snap, summaries, spec, derived,
                                                         workers, progress)
        workers.close()
        judge = TrustJudge(cat, platform, sources, raw_by_file, keymaps, derived[2], derived[3],
                           constants(summaries), partial(parse_again, ctx), ctx.cache,
                           digest(SCANNER_VERSION, ctx.fingerprint, ctx.config_key)
                           if use_cache else "")
        sites = [_site(raw, rel, keymaps[rel][raw.callee], sources, spec.get(rel, FileSpec(rel)),
                       cat, platform, judge)
                 for rel, (_k, raws) in raw_by_file.items() for raw in raws]
        stats["pass2_s"] = time.monotonic() - t2
    if use_cache and (reparsed or parsed2 or derive_ran):  # (building one costs 0.4 s)
        snap.save(summaries, raw_by_file, derived, derive_ran)
    nbytes = sum(snap.stamps[rel][1] for rel in spec if rel in snap.stamps)  # .c + headers reported
    derived_sources = tuple(sorted(
        (DerivedSource(src.name, src.defined_in, src.line, chain(sources, k), src.interface.value,
                       src.returns, tuple(sorted(src.out_args)))
         for k, src in sources.items() if src.defined_in and src.name not in cat.primitives),
        key=lambda d: (d.defined_in, d.line)))
    reported = [s for s in summaries if s.path in spec]
    stats["conditionals_decided"] = sum(s.conditionals[0] for s in reported)
    stats["conditionals_undecided"] = sum(s.conditionals[1] for s in reported)
    stats["total_s"] = time.monotonic() - t0
    sites.sort(key=lambda s: (s.file, s.line, s.column, s.primitive))
    problems.sort(key=lambda p: (p.file, p.kind))
    return Inventory(str(tree), config, platform, tuple(sites), derived_sources, tuple(problems),
                     len(c_files), nbytes, len(summaries) - len(c_files), stats)


def _generic_headers(ctx: FileContext, summaries: list[FileSummary],
                     ) -> tuple[FileContext, list[FileSummary]]:
    """Headers of include/asm-generic/ read with the macros their one includer defines first
    (includes.generic_header_macros: x86's asm/io.h `#define inb_p inb_p` turns off the
    generic `#ifndef inb_p` fallback): summarised again with them, and every later step
    (pass 2, trust's parse) sees them through the context."""
    extra = generic_header_macros(summaries, lambda rel: read_tree_file(ctx.tree / rel),
                                  ctx.cache, ctx.defines(""), ctx.config_key)
    if not extra:
        return ctx, summaries
    macros = {**ctx.file_macros, **extra}
    ctx = dataclasses.replace(ctx, file_macros=macros, config_key=digest(
        ctx.config_key, repr(sorted(extra.items()))))
    return ctx, [summarise_file(ctx, s.path) if s.path in extra else s for s in summaries]


@contextlib.contextmanager
def _long_lived_heap() -> Iterator[None]:
    """While scanning, what the scan keeps (summaries, the fixpoint) is moved out of the
    garbage collector's view with ``gc.freeze()`` once made: otherwise every full collection
    walks millions of summary tuples again (the fixpoint allocates a lot), and every forked
    worker touches, hence copies, the pages holding them. Nothing frozen is ever garbage
    before the scan ends; ``unfreeze`` hands it all back."""
    try:
        yield
    finally:
        gc.unfreeze()


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """The fixpoint builds ~10^6 tuples and lists that live until it ends (the resolver's
    table, the indexes by callee) and no reference cycles: with the collector on, each full
    collection walks all of them again (1.5 -> 1.3 s CPU for the step on the cloud tree). What
    little cyclic garbage there is waits for the next collection after it. What was made is
    frozen before the collector runs again: otherwise its first young collection walks all of
    it (62 ms of the parent's serial time after the fixpoint)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if enabled:
            gc.enable()


_FREEZE_EVERY = 512  # summaries received between two gc.freeze() calls in pass 1


def _pass1(ctx: FileContext, snap: TreeSnapshot, paths: list[str], follower: IncludeFollower,
           workers: Workers, progress: Progress) -> tuple[list[FileSummary], set[str]]:
    """Every file's summary (unchanged files from the snapshot) and which were re-read;
    a header the follower holds back is read once some summary includes it."""
    summaries: list[FileSummary] = []

    def to_read(rels: list[str]) -> list[str]:
        """Of ``rels``, those to summarise; unchanged ones come from the snapshot, and the
        headers they include are taken in turn."""
        out = []
        pending = deque(rels)
        while pending:
            rel = pending.popleft()
            old = snap.unchanged_summary(rel)
            if old is None:
                out.append(rel)
            else:
                summaries.append(old)
                pending.extend(follower.included(rel, old.includes))
        return out

    def more(s: FileSummary) -> list[str]:
        return to_read(follower.included(s.path, s.includes))

    todo = to_read(follower.first(paths))
    read: set[str] = set()
    # Paused too: what the parent makes meanwhile (summaries, the follower's tables) lives on,
    # so its collections (~0.4 s CPU, taken from the workers' two cores) found no garbage.
    with _collector_paused():
        for n, s in enumerate(workers.map(partial(summarise_file, ctx), todo,
                                          "surface: summaries", progress, more, key=str),
                             start=1):  # (a path's key: itself)
            summaries.append(_compact(s))
            read.add(s.path)
            if n % _FREEZE_EVERY == 0:
                gc.freeze()
    gc.freeze()
    return summaries, read


# What the workers parse ahead for pass 2 while the parent runs the fixpoint (Workers.prepare),
# in bytes of source: about what one worker parses in the second or so that takes (a parse
# held in memory is ~25x its source).
AHEAD_BYTES = 8 << 20


def _likely_pass2(summaries: list[FileSummary], read: set[str], spec: dict[str, FileSpec],
                  primitives: frozenset[str], stamps: dict[str, tuple[int, int]]) -> list[str]:
    """Built files read in this run that call a catalogue primitive or name a catalogue
    global: pass 2 parses nearly all of them (unchanged ones it takes from the snapshot).
    Largest first, within AHEAD_BYTES."""
    likely = sorted(((stamps[s.path][1], s.path) for s in summaries
                     if s.path in read and s.path in spec and s.path in stamps and not s.failure
                     and (s.globals_used or not primitives.isdisjoint(s.called))), reverse=True)
    budget = AHEAD_BYTES
    out = []
    for size, rel in likely:
        if size <= budget:
            budget -= size
            out.append(rel)
    return out


def _fixpoint(ctx: FileContext, snap: TreeSnapshot, summaries: list[FileSummary],
              cat: Catalogue, workers: Workers, progress: Progress,
              ) -> tuple[list[FileSummary], Derived, bool]:
    """The derived sources: the last run's when no summary changed, else recomputed (after
    putting back the definitions of summaries that came from the snapshot)."""
    derive_key = digest(cat.fingerprint, *sorted(f"{s.path}:{s.sha}" for s in summaries))
    reused = snap.derived(derive_key)
    if reused is not None:
        return summaries, reused, False
    if snap.reused:
        full = snap.with_defs(summaries)
        if full is None:  # the definitions entry is gone: re-read every file
            full = list(workers.map(partial(summarise_file, ctx), [s.path for s in summaries],
                                    "surface: summaries", progress))
        summaries = full
    with _collector_paused():
        sources, resolver = derive(summaries, cat)
        sinks = derive_sinks(resolver, sources)
    # Only names some source or sink has are resolved later (pass 2's maps, the trust judge's
    # enclosing functions, whose keys count only when they are sources): the rest of the
    # ~90,000 private definitions would only make the snapshot bigger to load.
    wanted = {k[1] for k in sources} | {k[1] for k in sinks}
    derived = (derive_key, sources, frozenset(k for k in resolver.private if k[1] in wanted),
               frozenset(resolver.names & wanted), sinks)
    return summaries, derived, True


def _pass2(ctx: FileContext, snap: TreeSnapshot, summaries: list[FileSummary],
           spec: dict[str, FileSpec], derived: Derived, workers: Workers, progress: Progress,
           ) -> tuple[dict[str, tuple[str, list[RawSite]]], dict[str, dict[str, Key]],
                      list[FileProblem], int]:
    """Raw sites of every reported file that calls a source (unchanged ones from the
    snapshot), each file's callee -> source key map, the problems, and how many were parsed."""
    sources, private, pnames, sinks = derived[1], derived[2], derived[3], derived[4]

    def resolve(path: str, name: str) -> Key:
        return resolve_in(private, pnames, path, name)

    jobs2: list[tuple[str, str, dict[str, SourceRef], dict[str, SinkInfo]]] = []
    keymaps: dict[str, dict[str, Key]] = {}
    problems: list[FileProblem] = []
    raw_by_file: dict[str, tuple[str, list[RawSite]]] = {}
    pending: dict[str, str] = {}
    known = {s.path for s in summaries if not s.path.endswith(".c")}
    source_names = frozenset(k[1] for k in sources)
    sink_names = frozenset(k[1] for k in sinks)
    for s in summaries:
        if s.failure:
            problems.append(FileProblem(s.path, "failed", s.failure))
            continue
        if s.path not in spec:  # a header no built file includes
            continue
        if s.errors:
            problems.append(FileProblem(s.path, "parse-errors",
                                        f"{len(s.errors)} unparsed range(s)", s.errors))
        refs, keymaps[s.path] = _refs_for(s, sources, resolve, source_names)
        if any(r.counts for r in refs.values()):  # rare: the file's macros decide them
            consts = _file_constants(ctx, s, known, derived[0])
            refs = {n: dataclasses.replace(r, constants=consts) if r.counts else r
                    for n, r in refs.items()}
        if not refs:
            continue
        file_sinks = _sinks_for(s, sinks, resolve, sink_names)
        p2key = digest(s.sha, repr(sorted(refs.items())), repr(sorted(file_sinks.items())))
        old = snap.sites(s.path, p2key)
        if old is not None:
            raw_by_file[s.path] = old
        else:
            jobs2.append((s.path, s.sha, refs, file_sinks))
            pending[s.path] = p2key
    for rel, raws, failure in workers.map(partial(file_sites, ctx), jobs2, "surface: sites",
                                          progress, key=itemgetter(0)):
        if failure:
            problems.append(FileProblem(rel, "failed", failure))
            continue
        raw_by_file[rel] = (pending[rel], raws)
    return raw_by_file, keymaps, problems, len(jobs2)


def _file_constants(ctx: FileContext, s: FileSummary, known: set[str], derive_key: str,
                    ) -> tuple[tuple[str, int], ...]:
    """includes.file_constants, kept in the cache: it reads the file and its headers again,
    and depends only on their contents, which the fixpoint's key covers (every summary's
    path and digest), so an unchanged re-run reads none of them."""
    key = digest("file-constants", SCANNER_VERSION, ctx.config_key, derive_key, s.path)
    hit = ctx.cache.get("consts", key)
    if isinstance(hit, tuple):
        return hit
    consts = file_constants(ctx.tree, s, known)
    ctx.cache.put("consts", key, consts)
    return consts


def _site(raw: RawSite, rel: str, key: Key, sources: dict[Key, Source], f: FileSpec,
          cat: Catalogue, platform: Platform | None, judge: TrustJudge) -> Site:
    src = sources[key]
    verdict = judge.site(raw, rel, key)
    return Site(rel, raw.line, raw.column, raw.function, raw.callee,
                chain(sources, key) or (raw.callee,), src.interface.value, raw.grade,
                raw.in_init, raw.in_macro, raw.recovered, verdict.trust, verdict.leaf,
                verdict.msr, f.built, f.module, f.symbol, raw.note,
                cat.unreachable_reason(rel, platform), verdict.note)
