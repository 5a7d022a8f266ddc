"""C files compiled by being #included from a built C file (kernel/sched/build_policy.c
includes idle.c, rt.c, ...): Kbuild does not list them, but the compiler builds them."""

from __future__ import annotations

import posixpath
import re
from dataclasses import replace
from pathlib import Path

from cocoscope.evidence.dotconfig import KernelConfig, Tristate
from cocoscope.evidence.files import read_tree_file
from cocoscope.evidence.kbuild.records import BuiltFile, Diagnostic

# Quoted includes only: an angle-bracket .c include is found in the -I directories, which the
# kernel does not use for .c files.
_INCLUDE_C = re.compile(r'#[ \t]*include[ \t]*"([^"\n]+\.c)"')
_DIRECTIVE = re.compile(r"^[ \t]*#[ \t]*(if|ifdef|ifndef|elif|else|endif|include)\b(.*)$", re.M)
_CONFIG_TEST = re.compile(
    r"\b(IS_ENABLED|IS_BUILTIN|IS_MODULE|IS_REACHABLE|defined)\s*\(\s*(CONFIG_\w+)\s*\)"
    r"|\bdefined\s+(CONFIG_\w+)")
_BOOLEAN = re.compile(r"[01()!&|\s]*")
MAX_INCLUDE_DEPTH = 8
MAX_CONDITION = 2000  # characters; a real #if is under 200, longer ones are left unknown


def included_files(tree: Path, config: KernelConfig, files: dict[str, BuiltFile],
                   diags: list[Diagnostic]) -> list[tuple[str, BuiltFile]]:
    """Add to ``files`` every C file reached through ``#include "x.c"``, as built like the
    file that includes it (``included_from`` says which). Includes under an ``#if`` on config
    symbols alone (``#ifdef CONFIG_X``, ``IS_ENABLED(CONFIG_X) && ...``) are taken or not as
    the config says; under any other condition they are taken, so this errs towards listing
    a file. Returns the included files that are not in the tree (generated at build time)
    with their includer."""
    missing: list[tuple[str, BuiltFile]] = []
    pending = [(f, 0) for f in files.values()]
    while pending:
        f, depth = pending.pop()
        try:
            data = read_tree_file(tree / f.path)
        except OSError as exc:
            diags.append(Diagnostic(f.path, 0, f"cannot read: {exc.strerror or exc}"))
            continue
        if b'.c"' not in data:
            continue
        for name in _active_c_includes(data.decode("utf-8", "replace"), config):
            rel = posixpath.normpath(posixpath.join(posixpath.dirname(f.path), name))
            if rel in files:
                seen = files[rel]
                if seen.included_from is not None and f.path not in seen.includers:
                    files[rel] = replace(seen, includers=(*seen.includers, f.path))
                continue
            if not (tree / rel).is_file():
                missing.append((rel, f))
                continue
            child = replace(f, path=rel, included_from=f.included_from or f.path,
                            includers=(f.path,))
            files[rel] = child
            if depth + 1 < MAX_INCLUDE_DEPTH:
                pending.append((child, depth + 1))
    return missing


def _active_c_includes(text: str, config: KernelConfig) -> list[str]:
    """Quoted .c includes not excluded by a config-only preprocessor condition."""
    found: list[str] = []
    # Per nesting level: (this branch is on, some earlier branch was taken).
    stack: list[tuple[bool, bool]] = []
    for m in _DIRECTIVE.finditer(text):
        word, rest = m.group(1), m.group(2).split("//")[0].split("/*")[0].strip()
        if word in ("if", "ifdef", "ifndef"):
            value = _condition(word, rest, config)
            stack.append((value is not False, value is True))
        elif word == "elif" and stack:
            _, taken = stack[-1]
            value = _condition("if", rest, config)
            on = not taken and value is not False
            stack[-1] = (on, taken or value is True)
        elif word == "else" and stack:
            _, taken = stack[-1]
            stack[-1] = (not taken, True)
        elif word == "endif" and stack:
            stack.pop()
        elif word == "include" and all(on for on, _ in stack):
            inc = _INCLUDE_C.match(m.group(0).strip())
            if inc:
                found.append(inc.group(1))
    return found


def _condition(word: str, expr: str, config: KernelConfig) -> bool | None:
    """True/False when ``expr`` depends on config symbols only, else None (unknown)."""
    def tristate(sym: str) -> Tristate:
        return config.tristate(sym)

    if word in ("ifdef", "ifndef"):
        name = expr.split()[0] if expr.split() else ""
        if not name.startswith("CONFIG_"):
            return None
        # autoconf.h defines CONFIG_X for y (and CONFIG_X_MODULE for m).
        on = tristate(name) is Tristate.YES or (
            name.endswith("_MODULE") and tristate(name[:-7]) is Tristate.MODULE)
        return on if word == "ifdef" else not on

    def replace_test(m: re.Match[str]) -> str:
        macro, sym = m.group(1) or "defined", m.group(2) or m.group(3)
        t = tristate(sym)
        if macro in ("defined", "IS_BUILTIN"):
            on = t is Tristate.YES
        elif macro == "IS_MODULE":
            on = t is Tristate.MODULE
        else:
            on = t in (Tristate.YES, Tristate.MODULE)
        return "1" if on else "0"

    reduced = _CONFIG_TEST.sub(replace_test, expr)
    if (not reduced.strip() or len(reduced) > MAX_CONDITION or not _BOOLEAN.fullmatch(reduced)
            or "CONFIG_" in reduced):
        return None
    py = reduced.replace("&&", " and ").replace("||", " or ").replace("!", " not ")
    try:
        return bool(eval(py, {"__builtins__": {}}, {}))  # only 0/1, and/or/not, parens
    except (SyntaxError, RecursionError, MemoryError):
        return None
