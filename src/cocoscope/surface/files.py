"""Which files a scan reads: the config's built .c files (Kbuild), every .c file, and the
headers whose inline functions and macros can wrap primitives.

Include paths resolve the way x86 kbuild's ``-I`` list does for the common cases: ``"foo.h"``
next to the including file first, then ``include/`` and ``arch/x86/include/``.
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from cocoscope.evidence.files import read_tree_file
from cocoscope.evidence.kbuild.records import BuiltFile
from cocoscope.surface.preproc import Defines, config_defines, includer_defines

HEADER_ROOTS = ("include/linux", "include/asm-generic", "include/acpi", "include/net",
                "include/xen", "include/hyperv", "include/clocksource", "include/video",
                "arch/x86/include")
# With a config, a header under these roots is read only when a scanned file includes it,
# directly or through other headers: one no built file includes is not compiled, and its
# definitions must not stand for a name a built file calls (1,451 of the cloud config's 5,668
# headers; 2 s of a cold scan's CPU). They are reached by `#include <linux/...>`, which
# resolves for certain. Headers of include/asm-generic (reached through kbuild's generated
# asm/ wrappers, which a source tree does not have), of arch/x86/include and next to a built
# file (reached through Makefile -I flags too) are read whether or not an include is seen.
ON_DEMAND_ROOTS = ("include/linux/", "include/net/", "include/acpi/", "include/xen/",
                   "include/hyperv/", "include/clocksource/", "include/video/")
_SYSTEM_ROOTS = ("include/", "arch/x86/include/", "include/uapi/", "arch/x86/include/uapi/")
# Headers this large are data tables (test vectors, register maps), not wrappers.
MAX_HEADER_BYTES = 1 << 20


@dataclass(frozen=True)
class FileSpec:
    path: str  # relative to the tree
    built: str = ""  # "y" | "m" | ""
    module: str = ""
    symbol: str = ""
    # Macros the one file that #includes this .c file defines before doing so
    # (preproc.includer_defines): part of what the compiler sees of it.
    defines: tuple[tuple[str, int], ...] = ()


def header_files(tree: Path, c_files: Iterable[str], all_files: bool) -> list[str]:
    """Headers whose inline functions and macros can wrap primitives for these .c files."""
    dirs: set[str] = set()
    if all_files:
        dirs.add("")
    else:
        dirs.update(HEADER_ROOTS)
        dirs.update(os.path.dirname(c) for c in c_files)
    return _headers_in(tree, dirs)


def always_read_headers(tree: Path) -> list[str]:
    """With a config, the headers of HEADER_ROOTS read whatever the built files include (not
    under ON_DEMAND_ROOTS); known before Kbuild says which .c files are built."""
    return _headers_in(tree, {d for d in HEADER_ROOTS if not (d + "/").startswith(ON_DEMAND_ROOTS)})


def _headers_in(tree: Path, dirs: set[str]) -> list[str]:
    out: set[str] = set()
    for d in sorted(dirs):
        base = tree / d
        if not base.is_dir():
            continue
        walker = base.rglob("*.h") if d in HEADER_ROOTS or d == "" else base.glob("*.h")
        for p in walker:
            rel = p.relative_to(tree).as_posix()
            if "/uapi/" in rel or rel.startswith("arch/x86/include/generated"):
                continue
            try:
                if p.stat().st_size <= MAX_HEADER_BYTES:
                    out.add(rel)
            except OSError:
                continue
    return sorted(out)


def files_for_config(tree: Path, config_path: str) -> list[FileSpec]:
    """The ``.c`` files the config builds, with y/m, module and Kconfig symbol (Kbuild)."""
    from cocoscope.evidence.dotconfig import load_config
    from cocoscope.evidence.kbuild import resolve

    result = resolve(tree, load_config(config_path))
    d = config_defines(config_path)
    return [FileSpec(f.path, f.built, f.module or "", f.symbol or "",
                     _includer_macros(tree, f, d)) for f in result.files]


def _includer_macros(tree: Path, f: BuiltFile, d: Defines) -> tuple[tuple[str, int], ...]:
    """For a .c file compiled only by being #included from one built file: the macros that
    file certainly defines first. Several includers may define different ones: nothing."""
    if f.included_from is None or len(f.includers) != 1:
        return ()
    includer = f.includers[0]
    spelled = posixpath.relpath(f.path, posixpath.dirname(includer))
    try:
        return includer_defines(read_tree_file(tree / includer), spelled,
                                read_tree_file(tree / f.path), d)
    except OSError:
        return ()


def all_c_files(tree: Path) -> list[FileSpec]:
    """Every ``.c`` file in the tree, user-space ones under tools/ and scripts/ included: a
    whole-tree run is a robustness check as much as an inventory."""
    return [FileSpec(p.relative_to(tree).as_posix()) for p in sorted(tree.rglob("*.c"))]


def include_targets(path: str, spelled: str, known: set[str]) -> list[str]:
    """The file of ``known`` that `#include` ``spelled`` (with its quotes or brackets) in
    ``path`` reads: [] when none is known, one at most."""
    name = spelled[1:-1] if len(spelled) >= 2 else spelled
    if spelled.startswith('"'):
        local = posixpath.normpath(posixpath.join(posixpath.dirname(path), name))
        if local in known:
            return [local]
    for root in _SYSTEM_ROOTS:
        cand = root + name
        if cand in known:
            return [cand]
    return []


class IncludeFollower:
    """Which of ``headers`` a scan reads from the start, and which only once a file it read
    includes them (``follow``: with a config; ON_DEMAND_ROOTS)."""

    def __init__(self, headers: list[str], follow: bool) -> None:
        self._known = set(headers)
        self._waiting = {h for h in headers if h.startswith(ON_DEMAND_ROOTS)} if follow \
            else set()
        self._memo: dict[tuple[str, str], str] = {}  # (directory or "", spelled) -> target

    def first(self, paths: list[str]) -> list[str]:
        """The ones of ``paths`` read whether or not an include names them."""
        return [p for p in paths if p not in self._waiting]

    def included(self, path: str, includes: tuple[str, ...]) -> list[str]:
        """Headers ``path``'s includes reach that were waiting (each is handed out once)."""
        if not self._waiting:
            return []
        out = []
        for spelled in includes:
            target = self.target(path, spelled)
            if target in self._waiting:
                self._waiting.discard(target)
                out.append(target)
        return out

    def target(self, path: str, spelled: str) -> str:
        """The header `#include` ``spelled`` in ``path`` reads ("" when none is known),
        remembered: a `<...>` include reads the same header from every file."""
        key = (posixpath.dirname(path) if spelled.startswith('"') else "", spelled)
        found = self._memo.get(key)
        if found is None:
            targets = include_targets(path, spelled, self._known)
            found = self._memo[key] = targets[0] if targets else ""
        return found
