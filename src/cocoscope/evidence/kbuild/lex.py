"""Lexing for the Kbuild make interpreter: logical lines, comments, brackets, and how make
tells an assignment from a rule."""

from __future__ import annotations

import re
from collections.abc import Iterator


def logical_lines(text: str, first_line: int) -> Iterator[tuple[int, str]]:
    """Join backslash-continued lines (make replaces backslash-newline and the whitespace
    around it by one space) and yield (first line number, text)."""
    physical = text.split("\n")
    i = 0
    while i < len(physical):
        start = i
        line = physical[i]
        while continued(line) and i + 1 < len(physical):
            i += 1
            line = line[:-1].rstrip() + " " + physical[i].lstrip()
        if continued(line):
            line = line[:-1]
        i += 1
        yield first_line + start, line


def continued(line: str) -> bool:
    # An odd number of trailing backslashes continues the line; "\\" is a literal backslash.
    stripped = line.rstrip("\\")
    return (len(line) - len(stripped)) % 2 == 1


def strip_comment(line: str) -> str:
    i = line.find("#")
    while i >= 0:
        if i == 0 or line[i - 1] != "\\":
            return line[:i]
        i = line.find("#", i + 1)
    return line.replace("\\#", "#")


def collect_define(lines: Iterator[tuple[int, str]]) -> str:
    body: list[str] = []
    depth = 1
    for _, raw in lines:
        w = raw.strip().split(None, 1)
        if w and w[0] == "define":
            depth += 1
        elif w and w[0] == "endef":
            depth -= 1
            if depth == 0:
                break
        body.append(raw)
    return "\n".join(body)


def matching(text: str, open_at: int) -> int:
    """Index of the bracket closing the one at ``open_at`` (make counts only the same kind)."""
    opener = text[open_at]
    closer = ")" if opener == "(" else "}"
    depth = 0
    for i in range(open_at, len(text)):
        c = text[i]
        if c == opener:
            depth += 1
        elif c == closer:
            depth -= 1
            if depth == 0:
                return i
    return -1


def top_level_chars(text: str, chars: str) -> Iterator[int]:
    """Offsets of ``chars`` outside any ( ) or { } nesting: make splits a line or a function's
    arguments only there (a ':' or ',' inside $(...) belongs to the reference)."""
    depth = 0
    for i, c in enumerate(text):
        if c in "({":
            depth += 1
        elif c in ")}":
            depth -= 1
        elif depth == 0 and c in chars:
            yield i


def top_level(text: str, char: str) -> int:
    return next(top_level_chars(text, char), -1)


def classify(line: str) -> tuple[str, str, str, str]:
    """("assign", lhs, op, rhs), ("rule", ...) or ("other", ...) by the first top-level
    ':' or '=' as make does."""
    i = next(top_level_chars(line, ":="), -1)
    if i < 0:
        return "other", line, "", ""
    if line[i] == ":":
        rest = line[i:]
        for op in (":::=", "::=", ":="):
            if rest.startswith(op):
                return "assign", line[:i], op, line[i + len(op):].strip()
        return "rule", line[:i], ":", line[i + 1:]
    if i > 0 and line[i - 1] in "+?!":
        return "assign", line[:i - 1], line[i - 1] + "=", line[i + 1:].strip()
    return "assign", line[:i], "=", line[i + 1:].strip()


def cond_args(arg: str) -> tuple[str, str] | None:
    if arg.startswith("("):
        end = matching(arg, 0)
        if end < 0 or arg[end + 1:].strip():
            return None
        inner = arg[1:end]
        comma = top_level(inner, ",")
        if comma < 0:
            return None
        return inner[:comma], inner[comma + 1:]
    m = re.fullmatch(r"""(["'])(.*?)\1\s+(["'])(.*?)\3""", arg)
    return (m.group(2), m.group(4)) if m else None
