"""Byte-preserving blanking of kernel annotations tree-sitter-c does not know.

Annotations such as ``__iomem`` or ``__acquires(lock)`` are macros that expand to nothing (or to
attributes) in a real build; left in place they derail tree-sitter's parse of the whole
declaration. They are overwritten with spaces of the same length, so every byte offset and line
number in the neutralised text is the same as in the file.
"""

from __future__ import annotations

import re

# Expand to nothing or to attributes that do not change which calls a function makes.
_BARE = ["__iomem", "__user", "__rcu", "__force", "__must_check", "__init", "__exit", "__initdata", "__initconst", "__exitdata", "__ro_after_init", "__read_mostly", "__always_inline", "__cold", "__hot", "__maybe_unused", "__always_unused", "__percpu", "__bitwise", "__private", "__weak", "__visible", "__used", "__pure", "__noreturn", "__noclone", "noinline", "notrace", "asmlinkage", "__cpuidle", "noinstr", "__kprobes", "__ref", "__refdata", "__meminit", "__meminitdata", "__meminitconst", "__init_or_module", "__safe", "__nocast", "__kernel", "__latent_entropy", "__randomize_layout", "__packed", "__no_kcsan", "__no_sanitize_address", "__flatten", "__sched", "__lockfunc", "__irq_entry", "__head", "__attribute_const__", "__malloc", "__nonstring", "__nocfi", "__no_profile", "__noinline_for_stack", "__fastpath_inline", "__always_used", "__initrodata", "__section_nostrip", "__rcu_guarded", "__data_racy", "__no_stack_protector", "__noscs", "__inline__", "__exit_call"]

# Take a parenthesised argument list that must be blanked with them.
_WITH_ARGS = ["__acquires", "__releases", "__must_hold", "__cond_acquires", "__cond_releases", "__aligned", "__section", "__printf", "__scanf", "__alloc_size", "__assume_aligned", "__counted_by", "__free", "__cleanup", "__no_sanitize_or_inline", "__diag_ignore", "__designated_init", "__ksym", "__guarded_by"]

_BARE_SET = frozenset(w.encode() for w in _BARE)
_ARGS_SET = frozenset(w.encode() for w in _WITH_ARGS)
# One cheap scan for candidate words; set membership decides (a big alternation is 4x slower).
# The scan looks for the literal `__` (a pattern that starts with `\b` is tried at every byte,
# three times slower on a whole tree); a match inside a longer word is skipped.
_WORD_RE = re.compile(rb"__[A-Za-z_]\w*")
# The annotations not spelled with `__`, found with bytes.find (faster than any pattern).
_PLAIN = tuple(w.encode() for w in _BARE if not w.startswith("__"))
_WORD_BYTES = frozenset(b"_0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
_SPACE = frozenset(b" \t\n\r")
INIT_RE = re.compile(rb"\b__(?:init|meminit)\b")
# A macro invocation at the start of a line: `build_mmio_read(readb, "b", ...)` at file scope.
# Anchored on the newline before it (a literal the scan finds fast; `^` is tried at every
# byte); the first line is matched on its own.
_LINE_CALL_RE = re.compile(rb"\n[A-Za-z_]\w*[ \t]*\(")
_FIRST_LINE_CALL_RE = re.compile(rb"[A-Za-z_]\w*[ \t]*\(")


# Every byte but a line end becomes a space (one C-level translate, not a loop per byte).
_BLANKED = bytes(b if b in (0x0A, 0x0D) else 0x20 for b in range(256))
_PAREN_RE = re.compile(rb"[()]")


def blank(buf: bytearray, start: int, end: int) -> None:
    buf[start:end] = buf[start:end].translate(_BLANKED)


def _close_paren(data: bytes, open_at: int) -> int:
    """Index one past the parenthesis matching ``data[open_at]`` (or end of data); only the
    parentheses are looked at, found by a regular expression rather than byte by byte."""
    depth = 0
    for m in _PAREN_RE.finditer(data, open_at):
        if data[m.start()] == 0x28:
            depth += 1
        else:
            depth -= 1
            if depth == 0:
                return m.end()
    return len(data)


def neutralise(data: bytes) -> bytes:
    """Return ``data`` with kernel annotations blanked; same length, same newlines."""
    buf = bytearray(data)
    for start, end in _words(data):
        word = data[start:end]
        if word in _BARE_SET:
            blank(buf, start, end)
        elif word in _ARGS_SET:
            i = end
            while i < len(data) and data[i] in _SPACE:
                i += 1
            if i < len(data) and data[i] == 0x28:
                blank(buf, start, _close_paren(data, i))
    _blank_bare_invocations(data, buf)
    _directive_comments(data, buf)
    _typeof_operands(data, buf)
    # GNU case ranges `case 1 ... 3:` and designator ranges `[0 ... 7] =`: turn `...` into
    # ` | `, a plain binary expression tree-sitter accepts, keeping both bounds visible.
    # Variadic `...` follows `,` or `(` and is left alone.
    start = data.find(b"...")
    while start != -1:
        before = data[start - 1:start] if start else b""
        after = data[start + 3:start + 4]
        if before in (b" ", b"\t") and after in (b" ", b"\t"):
            j = start - 1
            while j > 0 and data[j] in _SPACE:
                j -= 1
            if data[j] not in b",(":
                buf[start:start + 3] = b" | "
        start = data.find(b"...", start + 3)
    return bytes(buf)


# `typeof(expr)` names the type of an expression it never evaluates; tree-sitter-c takes only
# a type there, so `typeof(((S *)0)->m) v;` or `typeof(*(p)) v;` derails the whole body it
# sits in (virtio_cread's). An operand that is not a type name becomes `int` (the type the
# parse needs, `T` where only two bytes fit; calls in the operand never run, so no site is
# lost that the kernel makes).
_TYPE_NAME_RE = re.compile(rb"\s*(?:(?:struct|union|enum|const|volatile|unsigned|signed)\s+)*"
                           rb"[A-Za-z_]\w*[\s*]*")


def _typeof_operands(data: bytes, buf: bytearray) -> None:
    at = data.find(b"typeof")
    while at != -1:
        end = at + 6
        if data[end:end + 2] == b"__":
            end += 2
        start = at - 2 if data[at - 2:at] == b"__" else at
        i = end
        while i < len(data) and data[i] in _SPACE:
            i += 1
        if (start == 0 or data[start - 1] not in _WORD_BYTES) and i < len(data) \
                and data[i] == 0x28 and (end == len(data) or data[end] not in _WORD_BYTES):
            close = _close_paren(data, i)
            operand = data[i + 1:close - 1]
            if not _TYPE_NAME_RE.fullmatch(operand):
                # keep line ends and line continuations (a #define's body goes on)
                kept = bytes(b if b in (0x0A, 0x0D, 0x5C) else 0x20 for b in operand)
                name = b"int" if b"   " in kept else b"T"
                put = kept.find(b" " * len(name))
                if put != -1:
                    buf[i + 1:close - 1] = kept[:put] + name + kept[put + len(name):]
            at = data.find(b"typeof", close)
        else:
            at = data.find(b"typeof", end)


# A directive's logical line: lines continued with `\\` and the one that ends it.
_LOGICAL_LINE = re.compile(rb"(?:[^\n]*\\\n)*[^\n]*")


def _directive_comments(data: bytes, buf: bytearray) -> None:
    """Blank a `/* ... */` comment inside a multi-line preprocessor directive. tree-sitter-c
    ends a #define's body at the first `/*` (its preproc_arg token cannot hold one), so the
    rest of a macro after a comment (virtio_cread's `/* Sanity check */`, then its config
    read) spills into the file as top-level code and the macro is never seen whole. To the
    preprocessor a comment is one space and may span lines inside a directive, so each line
    end inside it is made a line continuation (`\\` on the comment byte before it). Only
    directives continued with `\\` are looked at: a comment that ends a one-line directive
    harms nothing."""
    size = len(data)
    cont = data.find(b"\\\n")
    while cont != -1:
        start = data.rfind(b"\n", 0, cont) + 1
        while start >= 2 and data[start - 2] == 0x5C:  # back to the directive's first line
            start = data.rfind(b"\n", 0, start - 1) + 1
        at = start
        while at < size and data[at] in b" \t":
            at += 1
        if at == size or data[at] != 0x23:  # `#`: not a directive (a macro's later line)
            cont = data.find(b"\\\n", cont + 2)
            continue
        line = _LOGICAL_LINE.match(data, at)
        eol = line.end() if line is not None else size
        if data.find(b"/*", at, eol) == -1:  # most macros: no comment inside
            cont = data.find(b"\\\n", eol)
            continue
        while True:
            eol = data.find(b"\n", at)
            eol = size if eol == -1 else eol
            comment = data.find(b"/*", at, eol)
            if comment != -1:
                end = data.find(b"*/", comment + 2)
                end = size if end == -1 else end + 2
                blank(buf, comment, end)
                nl = data.find(b"\n", comment, end)
                while nl != -1:
                    k = nl - 1 if data[nl - 1] != 0x0D else nl - 2
                    if k >= comment:
                        buf[k] = 0x5C
                    nl = data.find(b"\n", nl + 1, end)
                at = end
                continue
            if eol < size and eol > 0 and buf[eol - 1] == 0x5C:
                at = eol + 1
                continue
            break
        cont = data.find(b"\\\n", max(eol, cont + 2))


def _words(data: bytes) -> list[tuple[int, int]]:
    """(start, end) of every whole word that is a candidate annotation, in file order."""
    out = [(m.start(), m.end()) for m in _WORD_RE.finditer(data)
           if m.start() == 0 or data[m.start() - 1] not in _WORD_BYTES]
    size = len(data)
    for word in _PLAIN:
        at = data.find(word)
        while at != -1:
            end = at + len(word)
            if (at == 0 or data[at - 1] not in _WORD_BYTES) and \
                    (end == size or data[end] not in _WORD_BYTES):
                out.append((at, end))
            at = data.find(word, end)
    out.sort()
    return out


def _line_calls(data: bytes) -> list[int]:
    """Where each line that starts with `name(` starts."""
    out = [m.start() + 1 for m in _LINE_CALL_RE.finditer(data)]
    if _FIRST_LINE_CALL_RE.match(data):
        out.insert(0, 0)
    return out


def _blank_bare_invocations(data: bytes, buf: bytearray) -> None:
    """Blank a macro invocation that stands on its own lines without a `;` and is not a
    function's head (no `{` follows): `build_mmio_read(readq, "q", u64, "=r", :"memory")` in
    asm/io.h defines a function when expanded, but to tree-sitter it is an unterminated
    expression that swallows the `#define readq_relaxed(a) __readq(a)` lines after it into
    an ERROR node, so those macros are never seen. A line continuing a `#define` (after
    `\\`) is part of that macro's body and is left alone."""
    for start in _line_calls(data):
        if start >= 2 and data[start - 2] == 0x5C:  # `\` + newline: inside a #define
            continue
        end = _close_paren(data, data.index(b"(", start))
        eol = data.find(b"\n", end)
        if eol == -1 or data[end:eol].strip():
            continue  # `;`, `,`, an operator or anything else after it: a statement
        nxt = eol
        while nxt < len(buf) and buf[nxt] in _SPACE:
            nxt += 1
        if nxt < len(buf) and buf[nxt] in b"{;,=+-*|&?:)([<>.":
            continue  # a function definition's head, or an expression that goes on
        blank(buf, start, end)
