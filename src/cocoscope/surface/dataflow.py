"""Pass 1: per-file function summaries, the input of the cross-file fixpoint.

For every function and function-like macro the summary says which callees' data reaches its
return value and which reach its pointer parameters. A data reference is ``(callee, k)``: k = 0
is the callee's return value, k >= 1 its k-th (1-based) argument as an out-parameter. Whether a
callee really yields host data is decided later, once every file's summary is known.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Iterator
from operator import attrgetter

from cocoscope.surface.callees import POLL_MACROS
from cocoscope.surface.control import Statements, decided_refs
from cocoscope.surface.cparse import (
    STATEMENTS_QUERY,
    Body,
    BodyIndex,
    Node,
    ParsedFile,
    call_args,
    callee_names,
    captures,
)
from cocoscope.surface.defines import aliases, int_literal, leaf_constants
from cocoscope.surface.destinations import strip
from cocoscope.surface.literals import Expr
from cocoscope.surface.param_flows import (
    GuardScope,
    enclosing_guard,
    macro_params,
    param_flows,
    param_marks,
)
from cocoscope.surface.summary import (
    EXIT,
    INDEX,
    PARAM,
    RETURN,
    STORE,
    TESTED,
    UNUSED,
    Def,
    FileSummary,
    Ref,
    value_refs,
)
from cocoscope.surface.write_conditions import Names, call_arguments, write_conditions

# The rest of the scanner imports pass 1's vocabulary from here; the records themselves are
# in summary.py, where parameters go in param_flows.py.
__all__ = ["EXIT", "INDEX", "RETURN", "STORE", "TESTED", "UNUSED", "Def", "FileSummary", "Ref",
           "file_summary", "int_literal", "summarise", "value_refs"]

_CALL_RE = re.compile(rb"\b([A-Za-z_]\w*)\s*\(")


def _lvalue_target(lhs: Node, params: dict[str, int], text: bytes,
                   macro: bool = False) -> tuple[str, str | int]:
    """("local", name) | ("param", index) | ("other", "") for the left side of an assignment.

    In a macro body, assigning a parameter itself (`(val1) = (u32)__val` in native_rdmsr)
    writes the caller's lvalue: that parameter is an out-argument."""
    if macro:
        bare = strip(lhs)
        if bare.type == "identifier":
            name = text[bare.start_byte:bare.end_byte].decode("utf-8", "replace")
            if name in params:
                return "param", params[name]
    if lhs.type == "identifier":
        return "local", text[lhs.start_byte:lhs.end_byte].decode("utf-8", "replace")
    # Only `*p = v` and `p[i] = v` count as writing through an out-parameter: stores into
    # `p->field` are how every driver fills its private state, and treating them as out-params
    # would make every caller of every probe routine a "source".
    base = lhs
    through_pointer = False
    while base.type in ("subscript_expression", "pointer_expression", "parenthesized_expression"):
        if base.type in ("pointer_expression", "subscript_expression"):
            through_pointer = True
        if base.type == "parenthesized_expression":
            inner = base.named_children
            if not inner:
                break
            base = inner[0]
            continue
        nxt = base.child_by_field_name("argument")
        if nxt is None:
            break
        base = nxt
    if base.type == "identifier" and through_pointer:
        name = text[base.start_byte:base.end_byte].decode("utf-8", "replace")
        if name in params:
            return "param", params[name]
    return "other", ""


def summarise(body: Body, text: bytes, calls: list[tuple[Node, str]], assigns: list[Node],
              decls: list[Node], returns: list[Node], indexes: list[Node] | None = None,
              local_functions: frozenset[str] = frozenset(),
              exits: list[Node] | None = None, stmts: Statements | None = None) -> Def:
    """One definition's Def. ``calls`` come with their callee names (from ``_bucket``);
    ``local_functions`` are the file's functions (a wrapper passes their conditions on);
    ``stmts`` the control statements of the definition's tree (parse's ``k`` captures)."""
    if stmts is None:
        stmts = Statements(captures(STATEMENTS_QUERY, body.node).get("k", []))
    params = {p.removesuffix("..."): i + 1 for i, p in enumerate(body.params) if p}
    macro = body.kind == "macro"
    local: dict[str, set[Ref]] = {}
    # Out-arguments: foo(..., &v) taints local v; foo(..., p) with p a parameter taints p.
    outs: set[tuple[int, Ref]] = set()
    guards: set[tuple[int, Ref, int, bool]] = set()
    literal_outs: set[tuple[int, Ref, tuple[tuple[int, bool], ...]]] = set()
    # (callee, arguments, start and end byte of the argument list) of every call
    call_list: list[tuple[str, list[Node], int, int]] = []
    guard_scope = GuardScope(body.node, stmts)
    guard_span: tuple[int, int] | None = None  # the statements inside the definition
    unguarded = True
    guard_ifs: dict[int, tuple[int, bool] | None] = {}  # enclosing_guard's memo
    names: Names | None = None  # made on first need: conditions are rare
    passes: list[tuple[int, Ref, tuple[tuple[int, Expr], ...]]] = []
    for call, name in calls:
        args = call.child_by_field_name("arguments")
        if not name or args is None:
            continue
        arg_list = call_args(args)
        call_list.append((name, arg_list, args.start_byte, args.end_byte))
        poll = POLL_MACROS.get(name)
        if poll is not None and (op := _poll_accessor(call, poll[0])):
            # read_poll_timeout(op, v, ...): v = op(...) each round
            val = strip(arg_list[poll[1] - 1]) if len(arg_list) >= poll[1] else None
            if val is not None and val.type == "identifier":
                local.setdefault(text[val.start_byte:val.end_byte].decode(), set()).add((op, 0))
        passed: list[tuple[int, str]] = []  # (position, parameter) of each bare parameter
        numbers: list[tuple[int, Node]] = []  # (position, node) of each literal argument
        for k, arg in enumerate(arg_list, start=1):
            t = arg.type
            if t in _LITERALS:
                numbers.append((k, arg))
            elif t in _WRAPPED:
                arg = strip(arg)
                t = arg.type
            if t == "pointer_expression" and text[arg.start_byte:arg.start_byte + 1] == b"&":
                inner = arg.child_by_field_name("argument")
                if inner is not None and inner.type == "identifier":
                    local.setdefault(text[inner.start_byte:inner.end_byte].decode(), set()).add((name, k))
                elif inner is not None:
                    kind, tgt = _lvalue_target(inner, params, text)
                    if kind == "param":
                        outs.add((int(tgt), (name, k)))
            elif t == "identifier":
                ident = text[arg.start_byte:arg.end_byte].decode("utf-8", "replace")
                if ident in params:
                    passed.append((k, ident))
                else:  # lvalue-writing macros such as rdmsrl(msr, val)
                    local.setdefault(ident, set()).add((name, k))
        if not passed:  # most calls pass no parameter: no literals, guard or conditions
            continue
        literals = _literal_args(numbers, text)
        if guard_span is None:
            guard_span = stmts.within(body.node)
            # no `if` in the definition nor around it: no call of it is guarded
            unguarded = not stmts.has_if(*guard_span) and guard_scope.clear_above()
        guard = None if unguarded else enclosing_guard(call, params, text, guard_scope, stmts,
                                                       guard_span, guard_ifs)
        for k, ident in passed:
            if literals:
                literal_outs.add((params[ident], (name, k), literals))
            else:
                outs.add((params[ident], (name, k)))
            if guard is not None:
                guards.add((params[ident], (name, k), *guard))
            if name in local_functions and not macro:
                names = names or Names.of(body.node, text, params, decls)
                if conds := call_arguments(arg_list, text, names, params.keys() - body.pointers, k):
                    passes.append((params[ident], (name, k), conds))
    flows: list[tuple[str, str | int, set[Ref], set[str]]] = []
    call_outs = set(outs)
    param_writes: list[tuple[int, Node]] = []  # assignments through a parameter (flows index)
    # right-hand sides assigned into memory that is not a local (their names are stored)
    stored_rhs: list[Node] = []
    stored: set[str] = set()
    local_writes: list[tuple[str, Node]] = []  # assignments of a local (decided_refs)
    for a in assigns:
        lhs, rhs = a.child_by_field_name("left"), a.child_by_field_name("right")
        if lhs is None or rhs is None:
            continue
        kind, tgt = _lvalue_target(lhs, params, text, macro)
        if kind != "other":
            refs_idents = value_refs(rhs, text)
            if kind == "param":
                param_writes.append((len(flows), a))
            else:
                local_writes.append((str(tgt), a))
            flows.append((kind, tgt, *refs_idents))
            if strip(lhs).type != "identifier":
                stored |= refs_idents[1]
        elif strip(lhs).type != "identifier":
            stored_rhs.append(rhs)  # only parameters' names matter there: looked at below
    for d in decls:
        decl, val = d.child_by_field_name("declarator"), d.child_by_field_name("value")
        while decl is not None and decl.type != "identifier":
            decl = decl.child_by_field_name("declarator")
        if decl is not None and val is not None:
            flows.append(("local", text[decl.start_byte:decl.end_byte].decode(),
                          *value_refs(val, text)))
    # a = f(); b = a & 3; return b: propagate through local copies to a fixpoint (bounded;
    # each round can only grow the sets), so the result does not depend on statement order.
    # Parameters carry a (PARAM, position) mark, so the same pass says where they flow.
    # Pointer parameters are left out: a value is written back or printed as a scalar.
    for pname, position in params.items():
        if pname not in body.pointers:
            local.setdefault(pname, set()).add((PARAM, position))
    _propagate(local, flows)
    for kind, tgt, refs, idents in flows:
        if kind == "param":
            for ref in refs | {r for i in idents for r in local.get(i, ())}:
                if ref[0] != PARAM:
                    outs.add((int(tgt), ref))
    counts: tuple[tuple[int, Ref, Expr], ...] = ()
    if param_writes and not macro and len(params) > 1:
        names = names or Names.of(body.node, text, params, decls)
        writes = [(int(flows[i][1]), a, {r for r in flows[i][2] | {x for n in flows[i][3]
                                                                   for x in local.get(n, ())}
                                          if r[0] != PARAM}) for i, a in param_writes]
        counts = tuple(c for c in write_conditions(writes, body.node, text, names)
                       if (c[0], c[1]) not in call_outs)
    ret: set[Ref] = set()
    returned: set[str] = set()
    for r in returns:
        kids = r.named_children
        refs, idents = value_refs(kids[0] if kids else None, text)
        ret |= refs
        returned |= idents
        for i in idents:
            ret |= local.get(i, set())
    ret = {r for r in ret if r[0] != PARAM}
    decided: set[Ref] = set()
    if (outs or literal_outs) and returns and not macro:
        written: dict[str, set[Ref]] = {}
        for name, position in params.items():
            for p, ref in outs:
                if p == position:
                    written.setdefault(name, set()).add(ref)
        decided = decided_refs(body.node, stmts, returns,
                               [a for n, a in local_writes if n in returned], local, written,
                               text) - ret
    pflows: tuple[tuple[int, str, int], ...] = ()
    if params:
        marks = param_marks(local)
        if marks:
            pflows = param_flows(marks, call_list, text, returned, stored, stored_rhs,
                                  indexes or [], macro, value_fn=not assigns and bool(returns),
                                  helper=not macro and _short(body.node))
    if macro and params and exits:
        # `return (s)` in a macro's body returns s from the function using the macro
        exiting = {params[i] for r in exits if r.named_children
                   for i in value_refs(r.named_children[0], text)[1] if i in params}
        pflows = tuple(sorted({*pflows, *((p, EXIT, 0) for p in exiting)}))
    if macro and params:
        pflows = macro_params(body, params, text, pflows)
    pure = None
    # A function that assigns nothing and returns a value computes it from its arguments
    # (`comp(a, b, mask)` is `((a ^ b) & mask) ^ b`, `hv_result(status)` a mask): whether it
    # is a value function like FIELD_GET depends on its callees, decided in sinks.py.
    if not assigns and (macro or returns):
        pure = tuple(sorted({n for n, _a, _s, _e in call_list}))
    variadic = len(body.params) if body.params and body.params[-1].endswith("...") else 0
    return Def(body.name, body.kind, body.static, body.line, tuple(sorted(ret)),
               tuple(sorted(outs)), tuple(sorted(guards)), pflows, pure, variadic,
               tuple(sorted(literal_outs)), tuple(sorted(decided)), counts, tuple(sorted(passes)))


# A store helper is short, a one-line helper whose effect is obvious (u64_stats_add,
# arch_atomic64_set, set_capacity): its definition spans at most this many lines (a loop that
# compares what it stores, subtract_range's, is longer).
_HELPER_LINES = 10


def _short(fn: Node) -> bool:
    return fn.end_point[0] - fn.start_point[0] < _HELPER_LINES


# A call's argument types read once in summarise's pass over its arguments: the literals
# (for _literal_args) and what strip() would unwrap.
_LITERALS = frozenset({"number_literal", "true", "false"})
_WRAPPED = frozenset({"parenthesized_expression", "cast_expression"})


def _literal_args(numbers: list[tuple[int, Node]], text: bytes) -> tuple[tuple[int, bool], ...]:
    """(position, nonzero) of a call's integer-literal arguments (`0`, `1U`, `true`), from
    its (position, node) arguments whose type is in _LITERALS."""
    out = []
    for k, arg in numbers:
        t = arg.type
        if t == "number_literal":
            value = int_literal(text[arg.start_byte:arg.end_byte].decode("utf-8", "replace"))
            if value is not None:
                out.append((k, value != 0))
        else:
            out.append((k, t == "true"))
    return tuple(out)


def _propagate(local: dict[str, set[Ref]], flows: list[tuple[str, str | int, set[Ref], set[str]]],
               ) -> None:
    """Merge what flows into each local through ``flows`` (in order, at most 8 rounds)."""
    # Every target's set exists before the first round (an empty set until its flow runs, as
    # if made on first use); a source that is never a target nor marked stays empty: left out.
    steps: list[tuple[set[Ref], set[Ref], list[set[Ref]]]] = []
    copies = False  # whether any local is copied into another
    for kind, tgt, _refs, _idents in flows:
        if kind == "local":
            local.setdefault(str(tgt), set())
    for kind, tgt, refs, idents in flows:
        if kind != "local":
            continue
        srcs = [s for i in idents if i != tgt and (s := local.get(i)) is not None]
        if refs or srcs:
            steps.append((local[str(tgt)], refs, srcs))
            copies = copies or bool(srcs)
    if not copies:  # most definitions: one round is the fixpoint (the next adds nothing)
        for merged, refs, _srcs in steps:
            merged |= refs
        return
    for _ in range(8):
        changed = False
        for merged, refs, srcs in steps:
            before = len(merged)
            merged |= refs
            for s in srcs:
                merged |= s
            if len(merged) != before:
                changed = True
        if not changed:
            break



def _poll_accessor(call: Node, position: int) -> str:
    """The accessor named as argument ``position`` of a poll macro call ("" if not a name)."""
    args = call.child_by_field_name("arguments")
    found = call_args(args) if args is not None else []
    if len(found) < position:
        return ""
    op = strip(found[position - 1])
    return (op.text or b"").decode() if op.type == "identifier" else ""



def _bucket(caps: dict[str, list[Node]], index: BodyIndex, called: set[str], text: bytes,
            ) -> tuple[dict[int, dict[str, list[Node]]], dict[int, list[tuple[Node, str]]]]:
    """Each definition's assignments, declarations, returns and subscripts (by tag) and its
    calls with their callee names; every callee name goes into ``called``."""
    per_body: dict[int, dict[str, list[Node]]] = {}
    calls: dict[int, list[tuple[Node, str]]] = {}
    found = caps.get("c", [])
    names = callee_names(found, text)
    for n, name in zip(found, names, strict=True):
        if not name:
            continue
        called.add(name)
        if name in POLL_MACROS:  # the accessor a poll macro calls
            op = _poll_accessor(n, POLL_MACROS[name][0])
            if op:
                called.add(op)
        if "->" in name:  # member calls may match a catalogue `->op` entry
            called.add("->" + name.rsplit("->", 1)[1])
    owned = index.spans()
    for lo, hi, body in _owned(found, owned):
        mine = [(n, name) for n, name in zip(found[lo:hi], names[lo:hi], strict=True) if name]
        if mine:
            calls[id(body)] = mine
    for tag in ("a", "d", "r", "x"):
        for lo, hi, body in _owned(caps.get(tag, []), owned):
            per_body.setdefault(id(body), {})[tag] = caps[tag][lo:hi]
    return per_body, calls


def _owned(nodes: list[Node], spans: list[tuple[int, int, Body]],
           ) -> Iterator[tuple[int, int, Body]]:
    """(lo, hi, body): nodes[lo:hi] start inside ``body`` (BodyIndex.at's answer for each,
    found by bisecting the nodes' starts, ``nodes`` being in document order)."""
    if not nodes:
        return
    starts = list(map(_START, nodes))
    for s, e, body in spans:
        lo, hi = bisect_left(starts, s), bisect_left(starts, e)
        if lo < hi:
            yield lo, hi, body


_START = attrgetter("start_byte")


def file_summary(path: str, sha: str, parsed: ParsedFile, global_names: frozenset[str]) -> FileSummary:
    text = parsed.text
    called: set[str] = set()
    per_body, calls = _bucket(parsed.caps, BodyIndex(parsed.bodies), called, text)
    macro_body, macro_calls = _bucket(parsed.macro_caps, BodyIndex(parsed.bodies, "macro"),
                                      called, parsed.macro_text)
    per_body.update(macro_body)
    calls.update(macro_calls)
    defs: list[Def] = []
    functions = frozenset(b.name for b in parsed.bodies if b.kind == "function")
    stmts = Statements(parsed.caps.get("k", []))
    macro_stmts = Statements(parsed.macro_caps.get("k", []))
    for body in parsed.bodies:
        if id(body) not in calls and _inert(body):
            continue
        caps = per_body.get(id(body), {})
        rets = caps.get("r", [])
        exits = None
        if body.kind == "macro":
            exits = rets  # return statements in a macro body return from its user
            # The macro's value is its body expression: treat it like `return <body>;`.
            stmt = body.node.child_by_field_name("body")
            value = stmt.named_children[0] if stmt and stmt.named_children else None
            rets = [value] if value is not None and value.type == "expression_statement" else []
        defs.append(summarise(body, parsed.text_of(body), calls.get(id(body), []),
                              caps.get("a", []), caps.get("d", []), rets, caps.get("x", []),
                              functions, exits, macro_stmts if body.kind == "macro" else stmts))
    # Names called in bytes that did not parse: pass 2 recovers those calls textually.
    for start, end, _line in parsed.error_ranges:
        called.update(m.group(1).decode() for m in _CALL_RE.finditer(text, start, end))
    mentioned = frozenset(g for g in global_names if g.encode() in text)
    defs.extend(aliases(parsed))
    # Only definitions through which data can flow matter to the fixpoint; dropping the rest
    # keeps a whole-tree run's summaries small.
    defs = [d for d in defs if d.ret or d.outs or d.flows or d.literal_outs]
    includes = tuple(sorted({text[n.start_byte:n.end_byte].decode("utf-8", "replace")
                             for n in parsed.caps.get("i", ())}))
    return FileSummary(path, sha, tuple(defs), frozenset(called), mentioned, parsed.error_ranges,
                       "", includes, leaf_constants(parsed), parsed.conditionals)


def _inert(body: Body) -> bool:
    """Whether a definition without calls has nothing that could flow (its Def would be
    dropped): no callee's data without a call, and no parameter that carries a value (a
    function's pointer parameters do not; a macro's parameters always get Def.flows)."""
    if body.kind == "macro":
        return not any(body.params)
    return all(not p or p.removesuffix("...") in body.pointers for p in body.params)
