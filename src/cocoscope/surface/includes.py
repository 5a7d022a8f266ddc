"""Which scanned headers the built files include, directly or through other headers.

A header's own sites (calls in its inline functions and macro bodies) are reported once, at the
header, when a built file reaches it; ``built`` is "y" when some built-in file reaches it, else
"m" (files.include_targets resolves an include).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from cocoscope.evidence.files import read_tree_file
from cocoscope.surface.cache import SCANNER_VERSION, Cache, digest
from cocoscope.surface.dataflow import FileSummary
from cocoscope.surface.files import include_targets
from cocoscope.surface.literals import visible_constants
from cocoscope.surface.preproc import Defines, includer_defines


def reachable_headers(summaries: Iterable[FileSummary], built: dict[str, str],
                      target: Callable[[str, str], str] | None = None) -> dict[str, str]:
    """Header path -> "y" | "m" (or "" without a config) for every scanned header a scanned
    ``.c`` file includes; ``target`` resolves an include (pass 1's IncludeFollower.target,
    which has resolved most of them already), by default among the scanned headers."""
    by_path = {s.path: s for s in summaries}
    if target is None:
        known = {p for p in by_path if not p.endswith(".c")}

        def target(path: str, spelled: str) -> str:
            found = include_targets(path, spelled, known)
            return found[0] if found else ""
    out: dict[str, str] = {}
    # Built-in files first, so a header reached from both is marked "y".
    for level in ("y", "m", ""):
        queue = deque(p for p, b in built.items() if b == level and p in by_path)
        seen: set[str] = set()
        while queue:
            cur = queue.popleft()
            for inc in by_path[cur].includes:
                header = target(cur, inc)
                if not header or header in seen or header in out or header not in by_path:
                    continue
                seen.add(header)
                out[header] = level  # "" when the files came without a config
                queue.append(header)
    return out


# The generic fallbacks an architecture header overrides: x86's asm/io.h does `#define inb_p
# inb_p` (:314) and then `#include <asm-generic/io.h>` (:345), whose `#ifndef inb_p` fallback
# is then not compiled. Only this directory follows that convention for certain.
GENERIC = "include/asm-generic/"


def generic_header_macros(summaries: Sequence[FileSummary], read: Callable[[str], bytes],
                          cache: Cache | None = None, defines: Defines | None = None,
                          defines_key: str = "") -> dict[str, tuple[tuple[str, int], ...]]:
    """``include/asm-generic/`` headers that exactly one scanned file includes (once, outside
    any conditional but its include guard): header -> the macros that includer certainly
    defines before its ``#include`` (``preproc.includer_defines``). Every compilation reaches such a header through that one
    line, so it sees those macros; a header with any other includer gets none. With the
    config's ``defines`` (``defines_key`` a digest of them), what the includer defines under
    a conditional the config decides counts too (`#ifdef CONFIG_X86_64`)."""
    spelled_generic = GENERIC[len("include/"):]
    # Only `asm-generic/...` spellings, or any include made by a file in that directory, can
    # resolve into it. Resolving against the generic headers alone can only add includers
    # (a quoted name found next to its includer instead), which leaves more headers alone.
    known: dict[str, str] = {}  # generic header -> sha
    sha: dict[str, str] = {}  # every file that may include one -> sha
    candidates: list[tuple[str, Sequence[str]]] = []
    for s in summaries:
        if s.path.startswith(GENERIC):
            known[s.path] = s.sha
            incs: Sequence[str] = s.includes
        else:
            incs = [i for i in s.includes if spelled_generic in i]
            if not incs:
                continue
        sha[s.path] = s.sha
        candidates.append((s.path, incs))
    includers: dict[str, list[tuple[str, str]]] = {}
    generic = set(known)
    for path, incs in candidates:
        for inc in incs:
            for target in include_targets(path, inc, generic):
                includers.setdefault(target, []).append((path, inc))
    single = sorted((header, incs[0]) for header, incs in includers.items() if len(incs) == 1)
    # The answer depends only on the contents of those pairs (reading ~100 files costs more
    # than the rest of this): kept in the cache under their digests.
    key = digest("generic-header-macros", SCANNER_VERSION, defines_key,
                 *(f"{h}:{known[h]}:{i}:{sha[i]}:{spelled}"
                                            for h, (i, spelled) in single))
    hit = cache.get("generic-headers", key) if cache is not None else None
    if isinstance(hit, dict):
        return hit
    out: dict[str, tuple[tuple[str, int], ...]] = {}
    for header, (includer, spelled) in single:
        try:
            macros = includer_defines(read(includer), spelled, read(header), defines)
        except OSError:
            continue
        if macros:
            out[header] = macros
    if cache is not None:
        cache.put("generic-headers", key, out)
    return out


def file_constants(tree: Path, summary: FileSummary, known: set[str],
                   ) -> tuple[tuple[str, int], ...]:
    """The integer macros a file can name: its own and those of the scanned headers it
    includes directly (literals.visible_constants). Read again from the tree, only for the
    few files that call a source whose out-argument a command argument can switch off."""
    def read(rel: str) -> bytes:
        try:
            return read_tree_file(tree / rel)
        except OSError:
            return b""
    headers = [read(t) for inc in summary.includes for t in include_targets(summary.path, inc, known)]
    return visible_constants(read(summary.path), headers)
