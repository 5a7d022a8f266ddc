"""Pass 1's half of literals.py: the condition under which a function writes through a
pointer parameter (Def.counts), what a wrapper passes on to a callee's condition
(Def.passes), and the fixpoint's combination of the two (derive.py)."""

from __future__ import annotations

import re
from collections.abc import Set as AbstractSet

from cocoscope.surface.cparse import Node
from cocoscope.surface.literals import (
    Expr,
    Lookup,
    compile_expr,
    evaluate,
    parameters,
    substitute,
)

_CONSTANT_NAME = re.compile(r"[A-Z_][A-Z0-9_]*")
_WORD = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")
_ASSIGN_OPS = (b"+=", b"-=", b"*=", b"/=", b"%=", b"&=", b"|=", b"^=", b"<<=", b">>=", b"++", b"--")


def _count_writes(span: bytes, name: bytes) -> int:
    """literals.writes_of's count, by looking around each occurrence of ``name`` (a few per
    function) rather than compiling a pattern per name: assigned (`=`, `+=`, ...),
    incremented or decremented, or its address taken (`(&x`, `, &x`, `= &x`, `*)&x`)."""
    count, at = 0, span.find(name)
    while at >= 0:
        end = at + len(name)
        if (at == 0 or span[at - 1] not in _WORD) and (end == len(span) or span[end] not in _WORD):
            after = span[end:end + 8].lstrip()
            before = span[max(0, at - 8):at].rstrip()
            if (after[:1] == b"=" and after[1:2] != b"=") or after.startswith(_ASSIGN_OPS) or \
                    before.endswith((b"++", b"--")) or (
                        before.endswith(b"&") and not before.endswith(b"&&") and
                        before[:-1].rstrip()[-1:] in (b"(", b",", b"=", b";", b"{", b"}", b"?",
                                                      b":", b"!", b")")):
                count += 1
        at = span.find(name, end)
    return count


class Names:
    """How pass 1 reads a name in a condition: an unmodified integer parameter is that
    parameter, a local assigned once in its declaration is its initialiser (`receive =
    (command >> 8) & 0xf`), an all-capital name a constant resolved at the call."""

    def __init__(self, top: Node, text: bytes, params: dict[str, int],
                 inits: dict[str, Node]) -> None:
        self.text, self.params, self.inits = text, params, inits
        self.span = text[top.start_byte:top.end_byte]
        self._busy: set[str] = set()
        self._written: dict[str, int] = {}

    @classmethod
    def of(cls, top: Node, text: bytes, params: dict[str, int], decls: list[Node]) -> Names:
        """From the function's init-declarators (``decls``: a name declared twice, in two
        scopes, is not one value)."""
        inits: dict[str, Node | None] = {}
        for d in decls:
            left, value = d.child_by_field_name("declarator"), d.child_by_field_name("value")
            if left is not None and left.type == "identifier" and value is not None:
                name = text[left.start_byte:left.end_byte].decode("utf-8", "replace")
                inits[name] = None if name in inits else value
        return cls(top, text, params, {k: v for k, v in inits.items() if v is not None})

    def _writes(self, name: str) -> int:
        """Assignments, increments and address-takings of ``name`` in the function (an
        address may be written through: counted as a write)."""
        found = self._written.get(name)
        if found is None:
            found = self._written[name] = _count_writes(self.span, name.encode())
        return found

    def __call__(self, name: str) -> Expr | None:
        if name in self.params:
            return ("p", self.params[name]) if self._writes(name) == 0 else None
        init = self.inits.get(name)
        if init is not None and name not in self._busy and self._writes(name) == 1:
            self._busy.add(name)
            try:
                return compile_expr(init, self.text, self)
            finally:
                self._busy.discard(name)
        if _CONSTANT_NAME.fullmatch(name):
            return ("n", name)
        return None


def write_condition(write: Node, top: Node, text: bytes, names: Lookup) -> Expr | None:
    """What must hold for ``write`` (an assignment through a parameter) to run at all: the
    conjunction of the conditions around it that are integer expressions (an `if` arm, a
    `for`/`while` body, which runs at least once only if its condition holds on entry, with a
    `for` variable at its initial value). Conditions that are not are left out, which only
    weakens the conjunction. None when nothing is known."""
    conds: list[Expr] = []
    child, p = write, write.parent
    while p is not None and p.id != top.id:
        t = p.type
        if t == "if_statement" and child != p.child_by_field_name("condition"):
            e = compile_expr(p.child_by_field_name("condition"), text, names)
            if e is not None:
                conds.append(e if child == p.child_by_field_name("consequence") else ("!", e))
        elif t in ("for_statement", "while_statement") and child == p.child_by_field_name("body"):
            e = compile_expr(p.child_by_field_name("condition"), text,
                             _loop_names(p, text, names) if t == "for_statement" else names)
            if e is not None:
                conds.append(e)
        child, p = p, p.parent
    conds = [c for c in conds if parameters(c)]
    if not conds:
        return None
    out = conds[0]
    for c in conds[1:]:
        out = ("&&", out, c)
    return out


def _loop_names(loop: Node, text: bytes, names: Lookup) -> Lookup:
    """Names in a `for` condition on entry: its variable (`i = 0`) at the initial value."""
    init = loop.child_by_field_name("initializer")
    var, value = "", None
    if init is not None and init.type == "assignment_expression":
        left, value = init.child_by_field_name("left"), init.child_by_field_name("right")
        if left is not None and left.type == "identifier" and \
                text[init.start_byte:init.end_byte].split(b"=", 1)[0].strip() == \
                text[left.start_byte:left.end_byte]:
            var = text[left.start_byte:left.end_byte].decode("utf-8", "replace")
    elif init is not None and init.type == "declaration":
        decl = init.child_by_field_name("declarator")
        if decl is not None and decl.type == "init_declarator":
            left, value = decl.child_by_field_name("declarator"), decl.child_by_field_name("value")
            if left is not None and left.type == "identifier":
                var = text[left.start_byte:left.end_byte].decode("utf-8", "replace")
    start = compile_expr(value, text, names) if var else None

    def lookup(name: str) -> Expr | None:
        if name == var:
            return start
        return names(name)
    return lookup


_SKIPPED = frozenset({"string_literal", "concatenated_string", "call_expression", "null",
                      "field_expression", "pointer_expression", "sizeof_expression"})


def call_arguments(args: list[Node], text: bytes, names: Lookup, scalars: AbstractSet[str],
                   skip: int) -> tuple[tuple[int, Expr], ...]:
    """The arguments of a call (but argument ``skip``) that are integer expressions over the
    caller's parameters and literals: what a wrapper passes on to a callee's condition. A bare
    name counts only when it is one of the integer parameters (``scalars``): most arguments
    are pointers and locals, not worth reading."""
    out = []
    for k, arg in enumerate(args, start=1):
        if k == skip or arg.type in _SKIPPED or (
                arg.type == "identifier" and text[arg.start_byte:arg.end_byte].decode(
                    "utf-8", "replace") not in scalars):
            continue
        if (e := compile_expr(arg, text, names)) is not None and e[0] != "n":
            out.append((k, e))
    return tuple(out)


def write_conditions(writes: list[tuple[int, Node, set[tuple[str, int]]]], top: Node,
                     text: bytes, names: Names) -> tuple[tuple[int, tuple[str, int], Expr], ...]:
    """Def.counts from pass 1's writes through parameters, (parameter, assignment, data): a
    (parameter, data) pair counts only when every write of it has a condition (several are
    alternatives: or-ed)."""
    conds: dict[tuple[int, tuple[str, int]], list[Expr | None]] = {}
    for param, node, refs in writes:
        cond = write_condition(node, top, text, names)
        for ref in refs:
            conds.setdefault((param, ref), []).append(cond)
    out = []
    for (param, ref), cs in conds.items():
        if cs and all(c is not None for c in cs):
            alts = sorted({c for c in cs if c is not None})
            cond = alts[0]
            for c in alts[1:]:
                cond = ("||", cond, c)
            out.append((param, ref, cond))
    return tuple(sorted(out))


def written_under(counts: tuple[tuple[int, tuple[str, int], Expr], ...],
                  passes: tuple[tuple[int, tuple[str, int], tuple[tuple[int, Expr], ...]], ...],
                  param: int, ref: tuple[str, int],
                  callee_counts: tuple[tuple[int, Expr], ...]) -> Expr | None:
    """The condition under which a definition writes ``ref``'s data through its parameter
    ``param`` (derive.py): its own write's condition (Def.counts) and, when ``ref`` is a
    callee's out-argument with a condition, that condition with this call's arguments
    (Def.passes). ``("i", 0)`` when the write certainly never happens; None when it is not
    known to depend on the parameters."""
    parts = [c for p, r, c in counts if p == param and r == ref]
    callee = [c for out, c in callee_counts if out == ref[1]] if ref[1] else []
    if callee:
        args = next((dict(a) for p, r, a in passes if p == param and r == ref), {})
        parts.append(substitute(callee[0], args))
    kept = []
    for part in parts:
        if parameters(part):
            kept.append(part)
        elif evaluate(part) == 0:
            return ("i", 0)
    if not kept:
        return None
    out = kept[0]
    for c in kept[1:]:
        out = ("&&", out, c)
    return out
