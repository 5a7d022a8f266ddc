"""What pass 1 records about a definition and a file, and the values an expression refers to.

A data reference is ``(callee, k)``: k = 0 is the callee's return value, k >= 1 its k-th
(1-based) argument as an out-parameter.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

from cocoscope.surface.callees import VALUE_FUNCS
from cocoscope.surface.cparse import Node, callee_name, is_cast_call, language

Ref = tuple[str, int]  # (callee, 0 for its return value or the 1-based out-argument)

# Nodes through which a value passes unchanged for taint purposes.
_VALUE_PATH = frozenset({"parenthesized_expression", "cast_expression", "binary_expression",
                         "conditional_expression", "unary_expression", "comma_expression",
                         "field_expression", "subscript_expression", "pointer_expression"})


class Def(NamedTuple):
    """A definition's data flow. A NamedTuple, not a dataclass: a whole-tree run keeps ~10^5
    of them and (un)pickles them from the cache, which is several times faster for tuples."""

    name: str
    kind: str  # "function" | "macro"
    static: bool
    line: int
    ret: tuple[Ref, ...]  # data reaching the return value (the macro's value)
    outs: tuple[tuple[int, Ref], ...]  # (1-based parameter, data written through it)
    # (parameter, data, guard parameter, truthy): that write happens only under
    # `if (guard)` (truthy) or its else arm: read/write helpers such as
    # ghes_copy_tofrom_phys(buf, pa, len, from_phys) read only in one direction.
    guards: tuple[tuple[int, Ref, int, bool], ...] = ()
    # Where each parameter's value goes (sinks.py decides which callees write or print):
    # (parameter, callee, argument) for every call argument it reaches through locals and
    # arithmetic; (parameter, RETURN, 0) when it reaches the return value (a macro's value),
    # (parameter, STORE, 0) when it is assigned into memory that is not a local.
    flows: tuple[tuple[int, str, int], ...] = ()
    # A macro body without assignments: the names it calls (a value macro if all are).
    pure: tuple[str, ...] | None = None
    variadic: int = 0  # the variadic parameter of a macro (1-based), which takes the rest
    # (parameter, data, the call's integer-literal arguments as (position, nonzero)): a
    # parameter passed to a call that also takes literals is kept out of ``outs`` until the
    # callee is known, since a literal may select the callee's other direction
    # (ghes_clear_estatus calls ghes_copy_tofrom_phys(estatus, pa, len, 0, idx), which writes).
    literal_outs: tuple[tuple[int, Ref, tuple[tuple[int, bool], ...]], ...] = ()
    # Data tested by the conditions that decide what a function with out-arguments returns
    # (control.py): its status is host input when one of them is host data.
    decided: tuple[Ref, ...] = ()
    # (parameter, data, condition): every write of that data through the parameter happens
    # under the condition, an integer expression of other parameters (literals.Expr;
    # `param[i] = i8042_read_data()` in `for (i = 0; i < ((command >> 8) & 0xf); i++)`).
    counts: tuple[tuple[int, Ref, tuple[Any, ...]], ...] = ()
    # (parameter, data, arguments): a call of a function of the same file that receives the
    # parameter, with its arguments that are integer expressions of parameters and literals
    # (literals.call_arguments), so a wrapper carries the callee's condition on.
    passes: tuple[tuple[int, Ref, tuple[tuple[int, tuple[Any, ...]], ...]], ...] = ()


RETURN, STORE, INDEX = "=return", "=store", "=index"  # pseudo-callees in Def.flows
# A macro parameter the body never mentions, or mentions without it flowing anywhere (only
# tested: `IRQ_RETVAL(x)` is `((x) ? IRQ_HANDLED : IRQ_NONE)`).
UNUSED, TESTED = "=unused", "=tested"
PARAM = "=param"  # a parameter's own value, while summarising
# A macro parameter that a `return` statement in the macro's body returns: the function that
# uses the macro returns it (ACPICA's `#define return_ACPI_STATUS(s) return(s)`).
EXIT = "=exit"


@dataclass(frozen=True)
class FileSummary:
    path: str
    sha: str
    defs: tuple[Def, ...]
    called: frozenset[str]  # every callee name in the file (including macro bodies)
    globals_used: frozenset[str]  # catalogue globals the file mentions
    errors: tuple[tuple[int, int, int], ...]  # parse errors: (start, end, line)
    failure: str = ""  # why the file could not be analysed at all
    includes: tuple[str, ...] = ()  # #include targets as written: "<linux/io.h>", '"foo.h"'
    # Integer #defines whose name says CPUID, LEAF or MSR: lets a symbolic CPUID leaf or MSR
    # number be decoded (trust per platform).
    leaf_constants: tuple[tuple[str, int], ...] = ()
    conditionals: tuple[int, int] = (0, 0)  # #if blocks decided by the config, undecided


# value_refs' node kinds: what it does with a node of each type (any other type: nothing).
_CALL, _IDENT, _COND, _BASE, _CAST, _OPERANDS, _BUILT, _LIST, _STMT, _GENERIC = range(1, 11)
_KIND = {"call_expression": _CALL, "identifier": _IDENT, "conditional_expression": _COND,
         "field_expression": _BASE, "subscript_expression": _BASE, "cast_expression": _CAST,
         **{t: _OPERANDS for t in _VALUE_PATH if t not in (
             "conditional_expression", "field_expression", "subscript_expression",
             "cast_expression")},
         "compound_literal_expression": _BUILT, "initializer_pair": _BUILT,
         "initializer_list": _LIST, "compound_statement": _STMT, "expression_statement": _STMT,
         "generic_expression": _GENERIC}
# _KIND by the grammar's symbol ids (Node.kind_id: an int, cheaper to read and to look up
# than the type's name, which the binding builds as a new string on every read)
_KIND_BY_ID: dict[int, int] = {}


def _kinds_by_id() -> dict[int, int]:
    if not _KIND_BY_ID:
        lang = language()
        _KIND_BY_ID.update((i, k) for i in range(lang.node_kind_count)
                           if (k := _KIND.get(lang.node_kind_for_id(i) or "", 0)))
    return _KIND_BY_ID


def value_refs(node: Node | None, text: bytes) -> tuple[set[Ref], set[str]]:
    """Calls and identifiers whose value flows into expression ``node``."""
    calls: set[Ref] = set()
    idents: set[str] = set()
    if node is None:
        return calls, idents
    kinds = _KIND_BY_ID or _kinds_by_id()
    kind = kinds.get(node.kind_id)
    # most values are a name or a constant (`return ret;`, `x = 0`): no walk for those
    if kind == _IDENT:
        idents.add(text[node.start_byte:node.end_byte].decode("utf-8", "replace"))
        return calls, idents
    if kind is None:
        return calls, idents
    stack = [node]
    while stack:
        n = stack.pop()
        kind = kinds.get(n.kind_id)
        if kind is None:
            continue
        if kind == _IDENT:
            idents.add(text[n.start_byte:n.end_byte].decode("utf-8", "replace"))
        elif kind == _CALL:
            name = callee_name(n, text)
            # a cast call's function is parenthesised: callee_name says "" for it
            if name in VALUE_FUNCS or (not name and is_cast_call(n)):
                # le32_to_cpu(readl(p)) is still readl's value; so is `(u32)(v >> 32)`,
                # which a parser without the typedefs reads as a call of `(u32)`.
                args = n.child_by_field_name("arguments")
                stack.extend(args.named_children if args is not None else ())
            elif name:
                calls.add((name, 0))
        elif kind == _OPERANDS:
            stack.extend(n.named_children)
        elif kind == _BASE:
            arg = n.child_by_field_name("argument")
            if arg is not None:
                stack.append(arg)
        elif kind == _COND:
            stack.extend(c for c in (n.child_by_field_name("consequence"),
                                     n.child_by_field_name("alternative")) if c)
        elif kind == _CAST:
            val = n.child_by_field_name("value")
            if val is not None:
                stack.append(val)
        elif kind == _GENERIC:
            # _Generic((x), T: conv(x), ...): the selected association's value; the
            # controlling expression only picks by type (virtio_le_to_cpu)
            stack.extend(c for c in n.named_children[1:] if c.type != "type_descriptor")
        elif kind in (_BUILT, _LIST):
            # (struct vmci_handle){ .context = cid, ... }: built from its members' values
            val = n.child_by_field_name("value")
            stack.extend([val] if val is not None and kind == _BUILT else
                         [c for c in n.named_children if c.type != "field_designator"])
        else:  # _STMT
            # GNU statement expression ({ ...; v; }): its value is the last expression.
            kids = n.named_children
            if kids:
                stack.append(kids[-1])
    return calls, idents
