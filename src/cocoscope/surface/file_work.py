"""What a worker does with one file: pass 1's summary, pass 2's sites, and the parse made
ahead of pass 2 (``parse_ahead``), each from the cache when the file's content was seen before.
``scan`` hands these out to the workers (``parallel.Workers``) with a ``FileContext``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cocoscope.evidence.files import read_tree_file
from cocoscope.surface.cache import SCANNER_VERSION, Cache, digest
from cocoscope.surface.cparse import ParsedFile, parse
from cocoscope.surface.dataflow import FileSummary, file_summary
from cocoscope.surface.parallel import prepared
from cocoscope.surface.preproc import Defines, file_defines
from cocoscope.surface.sinks import SinkInfo
from cocoscope.surface.sites import RawSite, SourceRef, find_sites

MAX_FILE_BYTES = 8 << 20  # generated tables beyond this are reported, not parsed


@dataclass(frozen=True)
class FileContext:
    """What a worker needs to analyse one file; sent to the workers with each phase's
    function (small: paths, the cache root and a few names), so no state lives in module
    globals."""

    tree: Path
    cache: Cache
    fingerprint: str  # the catalogue's
    global_names: frozenset[str]  # catalogue globals (reads of them are sites)
    config: str = ""  # the kernel config whose #if branches are built ("" keeps every branch)
    config_key: str = ""  # a digest of its defines and of file_macros, part of cache keys
    defines_key: str = ""  # a digest of the config's defines alone
    # .c files compiled by being #included, with the macros their includer defines first
    # (FileSpec.defines; a few dozen entries)
    file_macros: dict[str, tuple[tuple[str, int], ...]] = dataclasses.field(default_factory=dict)

    def defines(self, rel: str) -> Defines | None:
        if not self.config:
            return None
        return file_defines(self.config, self.file_macros.get(rel, ()))

    def summary_inputs(self, rel: str) -> tuple[str, tuple[tuple[str, int], ...], frozenset[str]]:
        """Besides the file's content, what its pass-1 summary depends on."""
        return self.defines_key, self.file_macros.get(rel, ()), self.global_names


def summarise_file(ctx: FileContext, rel: str) -> FileSummary:
    """Pass 1 for one file, from the cache when its content was seen before (or made ahead
    by this worker while Kbuild ran: ``summary_ahead``)."""
    ahead = prepared(rel)
    if ahead is not None and ahead[0] == ctx.summary_inputs(rel):
        return ahead[1]  # type: ignore[no-any-return]
    try:
        data = read_tree_file(ctx.tree / rel)
    except OSError as exc:
        return FileSummary(rel, "", (), frozenset(), frozenset(), (), f"unreadable: {exc.strerror}")
    sha = digest(data)
    # (the file's own includer macros, not every file's: config_key would do, but changes
    # with any of them, and a file made ahead is summarised before they are known)
    key = digest(sha, SCANNER_VERSION, ctx.fingerprint, ctx.defines_key,
                 repr(ctx.file_macros.get(rel, ())), (rel.endswith(".c") and "c") or "h")
    hit = ctx.cache.get("p1", key)
    if isinstance(hit, FileSummary):
        return dataclasses.replace(hit, path=rel)
    if len(data) > MAX_FILE_BYTES:
        out = FileSummary(rel, sha, (), frozenset(), frozenset(), (),
                          f"larger than {MAX_FILE_BYTES >> 20} MiB, not parsed")
    else:
        try:
            out = file_summary(rel, sha, parse(data, ctx.defines(rel)), ctx.global_names)
        except Exception as exc:  # one bad file must not end a whole-tree scan: list it
            out = FileSummary(rel, sha, (), frozenset(), frozenset(), (), f"analysis failed: {exc}")
    ctx.cache.put("p1", key, out)
    return out


def file_sites(ctx: FileContext, job: tuple[str, str, dict[str, SourceRef], dict[str, SinkInfo]],
               ) -> tuple[str, list[RawSite], str]:
    """Pass 2 for one file: (path, raw sites, failure or "")."""
    rel, sha, sources, sinks = job
    key = digest(sha, SCANNER_VERSION, ctx.config_key, repr(sorted(sources.items())),
                 repr(sorted(sinks.items())))
    hit = ctx.cache.get("p2", key)
    if isinstance(hit, list):
        return rel, hit, ""
    try:
        ahead = prepared(rel)  # parsed by this worker while the parent ran the fixpoint
        if ahead is not None and ahead[:2] == (ctx.config_key, sha):
            parsed = ahead[2]
        else:
            data = read_tree_file(ctx.tree / rel)
            if digest(data) != sha:
                return rel, [], "changed during the scan"
            parsed = parse(data, ctx.defines(rel))
        sites = find_sites(parsed, sources, sinks)
    except OSError as exc:
        return rel, [], f"unreadable: {exc.strerror}"
    except Exception as exc:  # listed as a per-file failure, never a crash of the scan
        return rel, [], f"analysis failed: {type(exc).__name__}: {exc}"
    ctx.cache.put("p2", key, sites)
    return rel, sites, ""


def summary_ahead(ctx: FileContext, rel: str) -> tuple[str, tuple[Any, FileSummary]]:
    """A file's pass-1 summary made before pass 1 asks (``Workers.prepare``), with what it
    depends on besides the content, which pass 1's context must match."""
    return rel, (ctx.summary_inputs(rel), summarise_file(ctx, rel))


def parse_ahead(ctx: FileContext, rel: str) -> tuple[str, tuple[str, str, ParsedFile]]:
    """A file pass 2 is likely to ask for, parsed before it does (``Workers.prepare``):
    (path, (context's config key, content digest, parse)); file_sites takes it only when both
    still match."""
    data = read_tree_file(ctx.tree / rel)
    return rel, (ctx.config_key, digest(data), parse(data, ctx.defines(rel)))


def parse_again(ctx: FileContext, rel: str) -> ParsedFile | None:
    """One file parsed as pass 2 parsed it, for trust decisions that need its syntax."""
    try:
        return parse(read_tree_file(ctx.tree / rel), ctx.defines(rel))
    except (OSError, ValueError):
        return None
