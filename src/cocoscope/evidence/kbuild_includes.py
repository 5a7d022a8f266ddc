"""C files compiled by being #included from a built C file (kernel/sched/build_policy.c
includes idle.c, rt.c, ...): Kbuild does not list them, but the compiler builds them."""

from __future__ import annotations

import posixpath
import re
from dataclasses import replace
from pathlib import Path

from cocoscope.evidence.kbuild import BuiltFile
from cocoscope.evidence.kbuild_make import Diag

# Quoted includes only: an angle-bracket .c include is found in the -I directories, which the
# kernel does not use for .c files.
_INCLUDE_C = re.compile(rb'^[ \t]*#[ \t]*include[ \t]*"([^"\n]+\.c)"', re.M)
MAX_INCLUDE_DEPTH = 8


def included_files(tree: Path, files: dict[str, BuiltFile],
                   diags: list[Diag]) -> list[tuple[str, BuiltFile]]:
    """Add to ``files`` every C file reached through ``#include "x.c"``, as built like the
    file that includes it (``included_from`` says which). The include may sit under an #if that
    is off; that is not evaluated, so this errs towards listing a file. Returns the included
    files that are not in the tree (generated at build time) with their includer."""
    missing: list[tuple[str, BuiltFile]] = []
    pending = [(f, 0) for f in files.values()]
    while pending:
        f, depth = pending.pop()
        try:
            data = (tree / f.path).read_bytes()
        except OSError as exc:
            diags.append(Diag(f.path, 0, f"cannot read: {exc.strerror or exc}"))
            continue
        if b'.c"' not in data:
            continue
        for m in _INCLUDE_C.finditer(data):
            name = m.group(1).decode("utf-8", "replace")
            rel = posixpath.normpath(posixpath.join(posixpath.dirname(f.path), name))
            if rel in files:
                continue
            if not (tree / rel).is_file():
                missing.append((rel, f))
                continue
            child = replace(f, path=rel, included_from=f.included_from or f.path)
            files[rel] = child
            if depth + 1 < MAX_INCLUDE_DEPTH:
                pending.append((child, depth + 1))
    return missing
