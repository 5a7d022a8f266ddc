"""Integer arguments that switch an out-argument off: the conditions under which a function
writes through a pointer parameter, and their value at a call whose arguments are constants.

`__i8042_command(param, command)` receives `(command >> 8) & 0xf` bytes into ``param[]``
(``for (i = 0; i < ((command >> 8) & 0xf); i++) param[i] = i8042_read_data();``), so
`i8042_command(&i8042_ctr, I8042_CMD_CTL_WCTR)` (0x1060) writes nothing into ``i8042_ctr``:
only its status comes from the host. Pass 1 records such a write's condition as a small
expression over the function's parameters (``Expr``); a call site, or a wrapper that passes
its own parameter on, evaluates it with its arguments. The evaluation is three-valued: None
whenever a value is not certain (an unknown name, a cast to an unknown type, a signed/unsigned
question), and only a condition that is certainly 0 switches a write off: host data is never
dropped on a guess.

``Expr`` is a nested tuple, so it pickles with pass 1's records:
``("i", value)`` an integer, ``("p", k)`` the k-th (1-based) parameter, ``("n", name)`` a name
resolved at the call (an object-like macro), ``(op, a)`` / ``(op, a, b)`` C's operators.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from cocoscope.surface.cparse import Node
from cocoscope.surface.preproc import Defines
from cocoscope.surface.preproc import evaluate as preproc_evaluate

Expr = tuple[Any, ...]  # nested: see the module docstring
Lookup = Callable[[str], "Expr | None"]

_LIMIT = 1 << 64  # beyond any C integer type: the value would depend on the type
_BINARY = frozenset({"+", "-", "*", "/", "%", "<<", ">>", "&", "|", "^", "&&", "||",
                     "==", "!=", "<", ">", "<=", ">="})
_UNARY = frozenset({"!", "~", "-", "+"})
# Integer types a cast may name and their widths (unsigned: the cast masks; signed: the value
# must already fit). Others (pointers, typedefs the scanner does not know) make it uncertain.
_UNSIGNED = {"u8": 8, "__u8": 8, "uint8_t": 8, "unsigned char": 8, "u16": 16, "__u16": 16,
             "uint16_t": 16, "unsigned short": 16, "u32": 32, "__u32": 32, "uint32_t": 32,
             "unsigned int": 32, "unsigned": 32, "u64": 64, "__u64": 64, "uint64_t": 64,
             "unsigned long": 64, "unsigned long long": 64, "size_t": 64}
_SIGNED = {"s8": 8, "char": 8, "s16": 16, "short": 16, "s32": 32, "int": 32, "s64": 64,
           "long": 64, "long long": 64}
_INT_SUFFIX = re.compile(r"[uUlL]+$")
_UNKNOWN: Expr = ("?",)  # a value the call does not give (a pointer, a field, a call)


def number(text: str) -> int | None:
    """A C integer literal (`0x1060`, `7U`, `010`); None for anything else."""
    text = _INT_SUFFIX.sub("", text.strip())
    try:
        if len(text) > 1 and text[0] == "0" and text[1:].isdigit():
            return int(text[1:], 8)  # C's octal, which Python spells 0o
        return int(text, 0)
    except ValueError:
        return None


def compile_expr(node: Node | None, text: bytes, name: Lookup) -> Expr | None:
    """``node`` as an Expr, names mapped by ``name``; None when it is not an integer
    expression this module can evaluate (calls, fields, sizeof, assignments, ...)."""
    if node is None:
        return None
    t = node.type
    if t == "number_literal":
        v = number(text[node.start_byte:node.end_byte].decode("utf-8", "replace"))
        return None if v is None else ("i", v)
    if t == "true" or t == "false":
        return ("i", int(t == "true"))
    if t == "identifier":
        return name(text[node.start_byte:node.end_byte].decode("utf-8", "replace"))
    if t == "parenthesized_expression" or t == "condition_clause":
        kids = node.named_children
        return compile_expr(kids[0], text, name) if len(kids) == 1 else None
    if t == "cast_expression":
        tnode, value = node.child_by_field_name("type"), node.child_by_field_name("value")
        inner = compile_expr(value, text, name)
        if inner is None or tnode is None:
            return None
        ctype = " ".join(text[tnode.start_byte:tnode.end_byte].decode("utf-8", "replace")
                         .split()).removeprefix("const ")
        if ctype in _UNSIGNED:
            return ("&", inner, ("i", (1 << _UNSIGNED[ctype]) - 1))
        if ctype in _SIGNED:
            return ("fits", inner, ("i", _SIGNED[ctype]))
        return None
    if t == "unary_expression":
        op = node.child_by_field_name("operator")
        arg = compile_expr(node.child_by_field_name("argument"), text, name)
        o = text[op.start_byte:op.end_byte].decode() if op is not None else ""
        return (o, arg) if arg is not None and o in _UNARY else None
    if t == "binary_expression":
        op = node.child_by_field_name("operator")
        o = text[op.start_byte:op.end_byte].decode() if op is not None else ""
        if o not in _BINARY:
            return None
        a = compile_expr(node.child_by_field_name("left"), text, name)
        b = compile_expr(node.child_by_field_name("right"), text, name) if a is not None else None
        return (o, a, b) if b is not None else None
    return None


def substitute(expr: Expr, args: Mapping[int, Expr]) -> Expr:
    """``expr`` over a callee's parameters as one call sees it: each ``("p", k)`` replaced
    by ``args[k]``, an argument that is not an integer expression unknown (``("?",)``)."""
    if expr[0] == "p":
        return args.get(expr[1], _UNKNOWN)
    if expr[0] in ("i", "n", "?"):
        return expr
    return (expr[0], *(substitute(e, args) for e in expr[1:]))


def parameters(expr: Expr) -> set[int]:
    """The parameters ``expr`` mentions."""
    if expr[0] == "p":
        return {expr[1]}
    if expr[0] in ("i", "n", "?"):
        return set()
    return set().union(*(parameters(e) for e in expr[1:]))


def evaluate(expr: Expr, constant: Callable[[str], int | None] = lambda _n: None,
             ) -> int | None:
    """The value of ``expr`` with no parameters left; names through ``constant``. None when
    it is not certain (a name with no value, a parameter, a negative operand of a comparison,
    a shift or a division, whose meaning depends on the C type)."""
    op = expr[0]
    if op == "i":
        v = expr[1]
        return v if isinstance(v, int) and -_LIMIT < v < _LIMIT else None
    if op == "n":
        return constant(expr[1])
    if op == "p" or op == "?":
        return None
    if op == "&&" or op == "||":
        a, b = evaluate(expr[1], constant), evaluate(expr[2], constant)
        if op == "&&":
            return 0 if (a == 0 or b == 0) else (1 if a is not None and b is not None else None)
        return 1 if (a or b) else (0 if a == 0 and b == 0 else None)
    values = [evaluate(e, constant) for e in expr[1:]]
    if any(v is None for v in values):
        return None
    return _apply(op, [v for v in values if v is not None])


def _apply(op: str, v: list[int]) -> int | None:
    if len(v) == 1:
        a = v[0]
        out = {"!": int(not a), "~": ~a, "-": -a, "+": a}[op]
    else:
        a, b = v
        if op in ("<", ">", "<=", ">=", "==", "!=", "/", "%", ">>") and (a < 0 or b < 0):
            return None  # signed or unsigned: C's answer depends on the types
        if (op in ("/", "%") and b == 0) or (op in ("<<", ">>") and b >= 64):
            return None
        if op == "fits":
            return a if a < (1 << (b - 1)) else None
        out = {"+": a + b, "-": a - b, "*": a * b, "/": a // b if b else 0, "%": a % b if b else 0,
               "<<": a << b, ">>": a >> b, "&": a & b, "|": a | b, "^": a ^ b,
               "==": int(a == b), "!=": int(a != b), "<": int(a < b), ">": int(a > b),
               "<=": int(a <= b), ">=": int(a >= b)}[op]
    return out if -_LIMIT < out < _LIMIT else None


# -- object-like macros whose value is an integer constant ------------------------------------

_SUFFIXED = re.compile(r"\b(0[xX][0-9a-fA-F]+|\d+)[uUlL]+\b")
_DEFINE = re.compile(rb"^[ \t]*#[ \t]*define[ \t]+([A-Za-z_]\w*)[ \t]+((?:[^\n\\]|\\\n)+)$", re.M)


def macro_constants(texts: list[bytes]) -> dict[str, int]:
    """Object-like ``#define NAME value`` in ``texts`` whose value is an integer constant
    expression (of literals and of macros defined before it), with the `#if` evaluator of
    preproc.py. A name defined with two different values is left out: which one a
    compilation sees is not certain."""
    known: dict[str, int] = {}
    clash: set[str] = set()
    for data in texts:
        for m in _DEFINE.finditer(data):
            name = m.group(1).decode("utf-8", "replace")
            # preproc's tokens split `7U` in two: drop C's integer suffixes first
            body = _SUFFIXED.sub(r"\1", m.group(2).decode("utf-8", "replace"))
            value = preproc_evaluate(body, Defines(known))  # shares the table: no copy
            if value is None or not 0 <= value < _LIMIT or name in clash:
                continue
            if known.setdefault(name, value) != value:
                clash.add(name)
                del known[name]
    return known


def visible_constants(text: bytes, included: list[bytes]) -> tuple[tuple[str, int], ...]:
    """The integer constants a call in a file can name, from its own text and the headers it
    includes directly (only the few files that call a source with a write condition need
    them)."""
    return tuple(sorted(macro_constants([*included, text]).items()))


def writes_of(name: str) -> bytes:
    """A pattern for what may change variable ``name``: an assignment (`=`, `+=`, ...), an
    increment or decrement, its address taken (`f(&x)`, `p = &x`, not `a && x`)."""
    n = re.escape(name.encode())
    return rb"\b" + n + rb"\s*(?:[-+*/%&|^]|<<|>>)?=(?!=)|(?:\+\+|--)\s*" + n + rb"\b|\b" + \
        n + rb"\s*(?:\+\+|--)|(?:[(,=;{}?:!]|\*\s*\))\s*&\s*" + n + rb"\b"


def switched_off(counts: tuple[tuple[int, Expr], ...], args: list[Node], text: bytes,
                 constants: Mapping[str, int]) -> set[int]:
    """Out-arguments a call cannot fill: their condition (derive.Source.counts) is certainly
    false with this call's arguments, literals and the integer macros in ``constants``; an
    argument of a counted `for` loop's variable (`I8042_CMD_MUX_PFX + i`) is tried with each
    value the loop gives it."""
    def as_name(name: str) -> Expr:
        return ("n", name)
    given = {k: e for k, arg in enumerate(args, start=1)
             if (e := compile_expr(arg, text, as_name)) is not None}
    off = set()
    loops: dict[str, range] | None = None
    for out, cond in counts:
        at_call = substitute(cond, given)
        value = evaluate(at_call, constants.get)
        if value is None and args:
            loops = _loop_ranges(args[0], text, constants) if loops is None else loops
            if loops and all(evaluate(at_call, _with(constants, name, v)) == 0
                             for name, values in loops.items() for v in values):
                off.add(out)
        elif value == 0:
            off.add(out)
    return off


_MAX_TRIES = 64  # values of a loop variable tried one by one


def _with(constants: Mapping[str, int], name: str, value: int) -> Callable[[str], int | None]:
    def lookup(n: str) -> int | None:
        return value if n == name else constants.get(n)
    return lookup


def _loop_ranges(node: Node, text: bytes, constants: Mapping[str, int]) -> dict[str, range]:
    """Variables of the `for` loops around ``node`` that count from a constant up to a
    constant by one (`for (i = 0; i < I8042_NUM_MUX_PORTS; i++)`) and that the body never
    assigns: the values each takes there (at most _MAX_TRIES)."""
    out: dict[str, range] = {}
    p: Node | None = node.parent
    while p is not None and p.type != "function_definition":
        if p.type == "for_statement":
            found = _counted(p, text, constants)
            if found is not None and found[0] not in out:
                out[found[0]] = found[1]
        p = p.parent
    return out


def _counted(loop: Node, text: bytes, constants: Mapping[str, int]) -> tuple[str, range] | None:
    def as_name(name: str) -> Expr:
        return ("n", name)
    init = loop.child_by_field_name("initializer")
    cond, step = loop.child_by_field_name("condition"), loop.child_by_field_name("update")
    body = loop.child_by_field_name("body")
    if init is None or cond is None or step is None or body is None or \
            init.type != "assignment_expression" or cond.type != "binary_expression":
        return None
    var_node = init.child_by_field_name("left")
    if var_node is None or var_node.type != "identifier":
        return None
    var = text[var_node.start_byte:var_node.end_byte].decode("utf-8", "replace")
    first = compile_expr(init.child_by_field_name("right"), text, as_name)
    left, right = cond.child_by_field_name("left"), cond.child_by_field_name("right")
    op = cond.child_by_field_name("operator")
    if first is None or left is None or right is None or op is None or \
            text[left.start_byte:left.end_byte].decode("utf-8", "replace") != var:
        return None
    low, high = evaluate(first, constants.get), evaluate(compile_expr(right, text, as_name)
                                                          or ("?",), constants.get)
    steps = text[step.start_byte:step.end_byte].replace(b" ", b"")
    if low is None or high is None or steps not in (var.encode() + b"++", b"++" + var.encode()):
        return None
    if re.search(writes_of(var), text[body.start_byte:body.end_byte]):
        return None  # the body changes it (or may, through its address)
    o = text[op.start_byte:op.end_byte]
    top = high if o == b"<" else high + 1 if o == b"<=" else None
    if top is None or not 0 < top - low <= _MAX_TRIES:
        return None
    return var, range(low, top)
