"""CPUID leaves held in a local variable: `op = 4; ... cpuid_count(op, i, ...)`,
`eax = CPUID_MWAIT_LEAF; ecx = 0; native_cpuid(&eax, &ebx, &ecx, &edx)`.

On TDX the leaf decides who answers (only 0x40000000-0x4FFFFFFF reach the VMM), so a leaf the
call's function certainly sets is decoded. Two rules, both about the function's own code only:

- **every write is a constant**: the variable is a local of the function (not a parameter, not
  static), every write to it is ``= constant`` or its initializer, and it is never
  incremented, compound-assigned or address-taken: the leaf is one of those constants;
- **straight-line definition**: walking back from the call through the statements of its
  block, past statements that do not mention the variable, the first that does is
  ``var = constant`` (or its declaration with a constant initializer), with no label or
  ``case`` in between (no other entry), and leaving a block only through an enclosing
  ``if``/block or a loop that never writes the variable. native_cpuid(&eax) writes eax
  itself, so the second rule is what decodes its leaf.

Anything else (a parameter, a field, a value computed at run time) is undecided: `host`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from cocoscope.surface.cparse import Node, ParsedFile, node_text

Constant = Callable[[str], int | None]  # a literal or a #define'd name -> its value

_LOOPS = frozenset({"for_statement", "while_statement", "do_statement"})
_PASS_UP = frozenset({"compound_statement", "if_statement", "else_clause"}) | _LOOPS
_ENTRIES = frozenset({"labeled_statement", "case_statement"})


def walk(node: Node) -> Iterator[Node]:
    stack = [node]
    while stack:
        n = stack.pop()
        yield n
        stack.extend(reversed(n.children))


def strip_parens(node: Node) -> Node:
    while node.type == "parenthesized_expression" and node.named_children:
        node = node.named_children[0]
    return node


def _is(text: bytes, node: Node | None, name: str) -> bool:
    return node is not None and node.type == "identifier" and node_text(text, node) == name


def writes(text: bytes, scope: Node, name: str) -> list[Node]:
    """Every node in ``scope`` that writes ``name`` or may: assignments (their right-hand
    side node for a plain `=`, the expression otherwise), ++/--, and `&name`."""
    out = []
    for n in walk(scope):
        target = _strip_opt(n, "left") if n.type == "assignment_expression" else \
            _strip_opt(n, "argument") if n.type == "update_expression" or (
                n.type == "pointer_expression" and text[n.start_byte:n.start_byte + 1] == b"&") \
            else None
        if _is(text, target, name):
            out.append(n)
    return out


def _strip_opt(n: Node, field: str) -> Node | None:
    child = n.child_by_field_name(field)
    return strip_parens(child) if child is not None else None


def _mentions(text: bytes, node: Node, name: str) -> bool:
    return any(_is(text, n, name) for n in walk(node))


def _plain_constant(text: bytes, n: Node, const: Constant) -> int | None:
    """``name = constant`` (an assignment node) -> the constant."""
    op = n.child_by_field_name("operator")
    right = n.child_by_field_name("right")
    if op is None or op.type != "=" or right is None:
        return None
    return const(node_text(text, right))


def _initializer(text: bytes, decl: Node, name: str,
                 const: Constant) -> tuple[bool, bool, int | None]:
    """(declares ``name``, with an initializer, its constant value or None)."""
    for d in decl.children_by_field_name("declarator"):
        if _is(text, d, name):
            return True, False, None
        if d.type == "init_declarator" and _is(text, d.child_by_field_name("declarator"), name):
            value = d.child_by_field_name("value")
            return True, True, const(node_text(text, value)) if value is not None else None
    return False, False, None


def _local(text: bytes, function: Node, call: Node, name: str) -> Node | None:
    """The one declaration of ``name`` in the function's body, when it is a plain local
    whose scope holds the call."""
    body = function.child_by_field_name("body")
    if body is None:
        return None
    decls = [n for n in walk(body)
             if n.type == "declaration" and _initializer(text, n, name, _no_constant)[0]]
    if len(decls) != 1 or any(c.type == "storage_class_specifier" for c in decls[0].children):
        return None
    scope = decls[0].parent
    node: Node | None = call
    while node is not None and node != scope:
        node = node.parent
    return decls[0] if node is not None else None


def _no_constant(_text: str) -> int | None:
    return None


def _every_write_constant(text: bytes, function: Node, call: Node, name: str,
                          const: Constant) -> set[int] | None:
    decl = _local(text, function, call, name)
    if decl is None:
        return None
    values: set[int] = set()
    _declared, has_init, init = _initializer(text, decl, name, const)
    if has_init:
        if init is None:
            return None  # initialised with something that is not a constant
        values.add(init)
    for w in writes(text, function, name):
        value = _plain_constant(text, w, const) if w.type == "assignment_expression" \
            else None
        if value is None:
            return None
        values.add(value)
    return values or None


def _statement_in_block(node: Node) -> Node | None:
    while node.parent is not None and node.parent.type != "compound_statement":
        node = node.parent
    return node if node.parent is not None else None


def _straight_line(text: bytes, call: Node, function: Node, name: str,
                   const: Constant) -> set[int] | None:
    body = function.child_by_field_name("body")
    stmt = _statement_in_block(call)
    if stmt is None or body is None or any(n.type in _ENTRIES for n in _ancestors(call, stmt)):
        return None  # `again: native_cpuid(&eax, ...)`: a jump may arrive with another value
    # The call's own statement must not write the variable before the call does.
    first = call.child_by_field_name("arguments")
    own = first.named_children[0] if first is not None and first.named_children else call
    if any(not _inside(w, own) for w in writes(text, stmt, name)):
        return None
    while True:
        prev = stmt.prev_named_sibling
        while prev is not None:
            if prev.type in _ENTRIES or any(n.type in _ENTRIES for n in walk(prev)):
                return None  # another way into the block
            if _mentions(text, prev, name):
                return _defines(text, prev, name, const)
            prev = prev.prev_named_sibling
        block = stmt.parent
        if block is None or block == body:
            return None  # the function's start: a parameter or no definition
        # Leave the block through the ifs, loops and blocks around it.
        node = block
        while node.parent is not None and node.parent.type != "compound_statement":
            node = node.parent
            if node.type not in _PASS_UP:
                return None
            if node.type in _LOOPS and writes(text, node, name):
                return None  # the back edge may bring another value
            cond = node.child_by_field_name("condition")
            if cond is not None and writes(text, cond, name):
                return None
        if node.parent is None:
            return None
        stmt = node


def _ancestors(node: Node, upto: Node) -> Iterator[Node]:
    """``node``'s ancestors up to and including ``upto``."""
    cur = node.parent
    while cur is not None:
        yield cur
        if cur == upto:
            return
        cur = cur.parent


def _inside(node: Node, outer: Node) -> bool:
    return outer.start_byte <= node.start_byte and node.end_byte <= outer.end_byte


def _defines(text: bytes, stmt: Node, name: str, const: Constant) -> set[int] | None:
    if stmt.type == "declaration":
        declared, _has_init, init = _initializer(text, stmt, name, const)
        return {init} if declared and init is not None else None
    if stmt.type != "expression_statement" or not stmt.named_children:
        return None
    expr = strip_parens(stmt.named_children[0])
    if expr.type == "assignment_expression" and _is(text, _strip_opt(expr, "left"), name):
        value = _plain_constant(text, expr, const)
        return {value} if value is not None else None
    return None


def function_of(node: Node) -> Node | None:
    while node.parent is not None and node.type != "function_definition":
        node = node.parent
    return node if node.type == "function_definition" else None


def call_at(parsed: ParsedFile, line: int, column: int) -> Node | None:
    """The call expression the scan reported at 1-based ``line``/``column`` (function bodies
    only: a call in a macro body takes its leaf from the macro's caller)."""
    for call in parsed.caps.get("c", ()):
        if (call.start_point.row + 1, call.start_point.column + 1) == (line, column):
            return call
    return None


def local_leaves(parsed: ParsedFile, call: Node, pointer: bool,
                 const: Constant) -> tuple[str, set[int], str] | None:
    """The leaves a CPUID call's leaf variable can hold: (variable, leaves, rule), or None.
    ``pointer``: the leaf is read through the first argument (`native_cpuid(&eax, ...)`)."""
    args = call.child_by_field_name("arguments")
    first = args.named_children[0] if args is not None and args.named_children else None
    function = function_of(call)
    if first is None or function is None:
        return None
    first = strip_parens(first)
    if pointer:
        if first.type != "pointer_expression" or text_of(parsed, first)[:1] != "&":
            return None
        target = _strip_opt(first, "argument")
        if target is None or target.type != "identifier":
            return None
        first = target
    if first.type != "identifier":
        return None
    name = node_text(parsed.text, first)
    if not pointer:
        values = _every_write_constant(parsed.text, function, call, name, const)
        if values is not None:
            return name, values, "every write to it in the function is that constant"
    values = _straight_line(parsed.text, call, function, name, const)
    if values is not None:
        return name, values, "set just before the call, with no other way in"
    return None


def text_of(parsed: ParsedFile, node: Node) -> str:
    return node_text(parsed.text, node)
