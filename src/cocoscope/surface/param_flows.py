"""Where a definition's parameters go (Def.flows) and which parameter guards a call
(Def.guards): the parts of pass 1 that follow parameters rather than callees' data."""

from __future__ import annotations

import re

from cocoscope.surface.callees import VALUE_FUNCS
from cocoscope.surface.control import Statements
from cocoscope.surface.cparse import Body, Node
from cocoscope.surface.summary import INDEX, PARAM, RETURN, STORE, TESTED, UNUSED, Ref, value_refs


def param_marks(local: dict[str, set[Ref]]) -> dict[str, set[int]]:
    """Name -> the parameters whose value it holds (its (PARAM, position) marks)."""
    out: dict[str, set[int]] = {}
    for name, refs in local.items():
        for c, k in refs:
            if c == PARAM:
                out.setdefault(name, set()).add(k)
    return out


def param_flows(marks: dict[str, set[int]], calls: list[tuple[str, list[Node], int, int]],
                 text: bytes, returned: set[str], stored: set[str], stored_rhs: list[Node],
                 indexes: list[Node], macro: bool, value_fn: bool = False,
                 helper: bool = False) -> tuple[tuple[int, str, int], ...]:
    """Def.flows: where each parameter's value goes, through local copies (``marks`` maps a
    name to the parameters it holds). A function's parameter that is returned, stored or
    used as an index can be no sink (sinks.py): left out, except that a short function
    (``helper``) keeps its stored parameters (it may be a store helper) and one which
    assigns nothing (``value_fn``) keeps its returned parameters: it may be a value function
    (`comp(a, b, mask)`), decided in sinks.py once its callees are known.

    Only names in ``marks`` matter, so an expression whose bytes spell none of them is not
    walked (a name the walk finds is always spelled in the expression's bytes)."""
    spelled = [n.encode() for n in marks]

    def of(idents: set[str]) -> set[int]:
        return {k for i in idents if i in marks for k in marks[i]}

    def mentions(start: int, end: int) -> bool:
        # a plain loop and find() in place: no generator, no copy of the span (hot: once per
        # call and argument)
        for n in spelled:  # noqa: SIM110 (any() over a generator is the slower form here)
            if text.find(n, start, end) >= 0:
                return True
        return False

    def of_node(node: Node) -> set[int]:
        return of(_idents(node, text)) if mentions(node.start_byte, node.end_byte) else set()

    out: set[tuple[int, str, int]] = {(p, RETURN, 0) for p in of(returned)}
    stored_params = of(stored)
    for rhs in stored_rhs:
        stored_params |= of_node(rhs)
    out |= {(p, STORE, 0) for p in stored_params}
    out |= {(p, INDEX, 0) for x in indexes for p in of_node(x)}
    # A short function's stored parameter stays: its other uses decide whether the function
    # is a store helper (sinks.py).
    dead = set() if macro else {p for p, c, _k in out
                                if not ((helper and c == STORE) or (value_fn and c == RETURN))}
    if not macro and not {k for ks in marks.values() for k in ks} - dead:
        return ()
    for name, args, start, end in calls:
        if name in VALUE_FUNCS or not mentions(start, end):
            continue
        for k, arg in enumerate(args, start=1):
            if arg.type == "identifier":  # most arguments: of_node's answer without its walk
                held = marks.get(text[arg.start_byte:arg.end_byte].decode("utf-8", "replace"))
                if held is None:
                    continue
            else:
                held = of_node(arg)
            for p in held - dead:
                out.add((p, name, k))
    return tuple(sorted(x for x in out if x[0] not in dead))


def macro_params(body: Body, params: dict[str, int], text: bytes,
                  pflows: tuple[tuple[int, str, int], ...]) -> tuple[tuple[int, str, int], ...]:
    """Def.flows of a macro plus UNUSED / TESTED for parameters that go nowhere."""
    span = text[body.node.start_byte:body.node.end_byte]
    flowing = {p for p, _c, _k in pflows}
    extra = []
    for name, position in params.items():
        if position in flowing:
            continue
        mentioned = re.search(rb"\b" + re.escape(name.encode()) + rb"\b", span) is not None
        extra.append((position, TESTED if mentioned else UNUSED, 0))
    return tuple(sorted((*pflows, *extra))) if extra else pflows


_NO_IDENTS = frozenset({"number_literal", "string_literal", "char_literal", "concatenated_string",
                        "true", "false", "null", "sizeof_expression"})


def _idents(node: Node, text: bytes) -> set[str]:
    """value_refs(node)'s identifiers, without walking the common trivial cases."""
    t = node.type
    if t == "identifier":
        return {text[node.start_byte:node.end_byte].decode("utf-8", "replace")}
    if t in _NO_IDENTS:
        return set()
    return value_refs(node, text)[1]


class GuardScope:
    """The definition a call sits in, for ``param_guard``'s walk up from the call: above the
    definition there is (almost always) no `if`, so the walk can stop there. With the
    tree's control statements (``stmts``) that is decided from their spans."""

    __slots__ = ("_clear", "_stmts", "node", "node_id")

    def __init__(self, node: Node, stmts: Statements | None = None) -> None:
        self.node, self.node_id = node, node.id
        self._stmts = stmts
        self._clear: bool | None = None

    def clear_above(self) -> bool:
        """No `if` statement encloses the definition (looked up once, on first need)."""
        if self._clear is None:
            if self._stmts is not None:
                self._clear = not self._stmts.if_around(self.node)
            else:
                p = self.node.parent
                while p is not None and p.type != "if_statement":
                    p = p.parent
                self._clear = p is None
        return self._clear


def param_guard(call: Node, params: dict[str, int], text: bytes,
                 scope: GuardScope | None = None) -> tuple[int, bool] | None:
    """(parameter, truthy) when the innermost `if` around ``call`` tests a bare parameter
    (`if (from_phys)`, `if (!write)`) and the call sits in its then (truthy) or else arm."""
    child, p = call, call.parent
    while p is not None:
        t = p.type
        if t == "if_statement":
            break
        if scope is not None and p.id == scope.node_id and scope.clear_above():
            return None
        up = p.parent  # looked up once: each step asks for it
        if up is None and t in ("function_definition", "compound_statement"):
            return None
        child, p = p, up
    if p is None:
        return None
    tested = _bare_param(p, params, text)
    if tested is None:
        return None
    return tested[0], (child != p.child_by_field_name("alternative")) != tested[1]


def enclosing_guard(call: Node, params: dict[str, int], text: bytes, scope: GuardScope,
                    stmts: Statements, span: tuple[int, int],
                    tested: dict[int, tuple[int, bool] | None]) -> tuple[int, bool] | None:
    """``param_guard`` from the control statements' spans (``stmts``, ``span`` those inside
    the definition; ``tested`` remembers each `if`'s bare parameter across the definition's
    calls): the innermost `if` enclosing the call is the first one the walk up would meet.
    Only when no `if` of the definition encloses it and one may enclose the definition
    itself does the walk run."""
    start, end = call.start_byte, call.end_byte
    for i in stmts.enclosing(span[0], span[1], start, end):
        if stmts.type(i) == "if_statement":
            node = stmts.nodes[i]
            if i in tested:
                found = tested[i]
            else:
                found = tested[i] = _bare_param(node, params, text)
            if found is None:
                return None
            alternative = node.child_by_field_name("alternative")
            in_else = alternative is not None and alternative.start_byte <= start and \
                end <= alternative.end_byte
            return found[0], (not in_else) != found[1]
    if scope.clear_above():
        return None
    return param_guard(call, params, text, scope)


def _bare_param(stmt: Node, params: dict[str, int], text: bytes) -> tuple[int, bool] | None:
    """(parameter, negated) when `if` statement ``stmt`` tests a bare parameter (`if (p)`,
    `if (!p)`)."""
    cond = stmt.child_by_field_name("condition")
    negated = False
    while cond is not None and cond.type in ("parenthesized_expression", "condition_clause"):
        cond = cond.named_children[0] if cond.named_children else None
    if cond is not None and cond.type == "unary_expression" and text[cond.start_byte] == 0x21:
        cond, negated = cond.child_by_field_name("argument"), True
    if cond is None or cond.type != "identifier":
        return None
    name = text[cond.start_byte:cond.end_byte].decode("utf-8", "replace")
    return (params[name], negated) if name in params else None
