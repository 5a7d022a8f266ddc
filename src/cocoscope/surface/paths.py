"""Structural control flow inside one function, enough to say whether a write of a local
certainly happens before a use (on every path) and which loops carry a value around.

The scanner has no control-flow graph; C's structured statements give the answers it needs
from the syntax tree: a statement is on every path through its enclosing block unless it sits
in an `if`/`else` arm, a `switch` case, a loop body that may run zero times, the right operand
of `&&`/`||` or an arm of `?:`. A `goto` to a label between a write and a use makes the write
not certain there unless the goto itself sits between the write and the label (`ret = readl();
if (ret) goto out; ... ret = 0; out: return ret;` returns the value read). An early `return`
needs nothing: it never makes a write run, and code after it in the same block is unreachable
from it (a use after `if (x) { v = 0; return; }` is still counted). A goto that lies before
the definition is on no path from it unless a loop or a backward goto brings the path back.
"""

from __future__ import annotations

import functools

from cocoscope.surface.cparse import Node

LOOPS = frozenset({"while_statement", "for_statement", "do_statement"})
_BODY_PARENTS = frozenset({"function_definition"})


def _conditional_step(child: Node, parent: Node) -> bool:
    """Does entering ``child`` from ``parent`` depend on a condition?"""
    t = parent.type
    if t == "if_statement":
        return parent.child_by_field_name("condition") != child
    if t in ("else_clause", "case_statement"):
        return True
    if t in ("while_statement", "for_statement"):
        # The condition (and a for's initializer) always runs; body and update may not.
        return child in (parent.child_by_field_name("body"), parent.child_by_field_name("update"))
    if t == "conditional_expression":
        return parent.child_by_field_name("condition") != child
    if t == "binary_expression":
        op = parent.child_by_field_name("operator")
        return op is not None and op.type in ("&&", "||") and \
            parent.child_by_field_name("right") == child
    return False


@functools.lru_cache(maxsize=4096)
def ancestors(node: Node) -> tuple[Node, ...]:
    """``node``'s parents up to its function definition, innermost first. Grading asks for
    the same few nodes' (a definition's, its writes') against every use of a value, so the
    answers are kept: nodes compare equal only within one tree, and a tree stays alive while
    the cache holds its nodes."""
    out = []
    p = node.parent
    while p is not None:
        out.append(p)
        if p.type in _BODY_PARENTS:
            break
        p = p.parent
    return tuple(out)


def unconditional_within(node: Node, top: Node) -> bool:
    """``node`` runs whenever ``top`` (an ancestor) runs."""
    child, p = node, node.parent
    while p is not None and child.id != top.id:
        if _conditional_step(child, p):
            return False
        child, p = p, p.parent
    return True


def common_ancestor(a: Node, b: Node) -> Node | None:
    ids = {n.id for n in [a, *ancestors(a)]}
    for n in [b, *ancestors(b)]:
        if n.id in ids:
            return n
    return None


Jumps = tuple[tuple[int, int], ...]  # (goto statement start, its label's start) in one body


def jumps(body: Node, text: bytes) -> Jumps:
    """Every `goto` in ``body`` with the start of the label it jumps to (the first label of
    that name), found from the bytes: the `goto` keywords and the label names the tree has
    (a query of the whole body walked every node of it). A MISSING label matches none."""
    from cocoscope.surface.body_names import occurrences

    labels: dict[bytes, int | None] = {}
    out = []
    for keyword in occurrences(body, text, b"goto", "goto"):
        goto = keyword.parent
        name = goto.child_by_field_name("label") if goto is not None and \
            goto.type == "goto_statement" else None
        if goto is None or name is None:
            continue
        label = text[name.start_byte:name.end_byte]
        if label not in labels:
            labels[label] = min((n.parent.start_byte for n in occurrences(
                body, text, label, "statement_identifier") if n.parent is not None and
                n.parent.type == "labeled_statement" and
                n.parent.child_by_field_name("label") == n), default=None)
        start = labels[label]
        if start is not None:
            out.append((goto.start_byte, start))
    return tuple(out)


def reachable_jumps(gotos: Jumps, since: int, loops: list[Node]) -> Jumps:
    """The gotos a path that starts at byte ``since`` can take. A goto before ``since`` is
    reached again only through a loop around ``since`` that holds it, or a backward goto
    (a label before its goto: `retry:`), so with neither it is not on the path: `if (x) {
    if (rc) goto err; } else { rc = a(); rc = b(); } ... err: return rc;` returns b's value,
    not a's (seco-cec.c:123)."""
    if any(label < goto for goto, label in gotos):
        return gotos
    return tuple((goto, label) for goto, label in gotos if goto >= since or any(
        lp.start_byte <= goto < lp.end_byte for lp in loops))


def before_on_every_path(write: Node, use: Node, gotos: Jumps = (),
                         since: Node | None = None) -> bool:
    """``write`` (an assignment or call, completed before ``use`` starts) runs on every path
    that reaches ``use`` from their common enclosing statement, or (given the definition
    ``since`` the paths start from) on every path from ``since`` onwards; ``gotos`` (from
    ``jumps``) are paths that may enter between them."""
    if write.end_byte > use.start_byte:
        return False
    if any(write.end_byte <= label <= use.start_byte and not write.end_byte <= goto < label
           for goto, label in gotos):
        return False  # a goto from elsewhere lands between the write and the use
    top = common_ancestor(write, use)
    if top is not None and unconditional_within(write, top):
        return True
    if since is None or since.end_byte > write.start_byte:
        return False
    # `} else { rc = a(); rc = b(); }`: the write is in a branch, but so is the definition,
    # and every path from the definition runs the write before it leaves their common
    # statement, unless a goto, break or continue between them jumps out first.
    top = common_ancestor(since, write)
    return top is not None and unconditional_within(write, top) and \
        not _jumps_between(top, since.end_byte, write.start_byte)


_JUMPS_OUT = frozenset({"goto_statement", "break_statement", "continue_statement"})


def _jumps_between(top: Node, start: int, end: int) -> bool:
    """Is there a goto, break or continue inside ``top`` between bytes ``start`` and ``end``?"""
    todo = [top]
    while todo:
        node = todo.pop()
        if node.end_byte <= start or node.start_byte >= end:
            continue
        if node.type in _JUMPS_OUT:
            return True
        todo.extend(node.named_children)
    return False


def other_arm(write: Node, use: Node, gotos: Jumps) -> bool:
    """``use`` sits in the other arm of an `if`/`else` whose one arm holds ``write``
    (`if (a) { (void) cmd(&out); } else { set_param_l(&out, port); ... }`): no path from
    the write reaches it, unless a loop around that `if` comes back to it or a goto lands
    in the use's arm."""
    for stmt in ancestors(write):
        if stmt.type in LOOPS or stmt.type in _BODY_PARENTS:
            return False  # the loop comes round to the other arm
        if stmt.type != "if_statement" or not _within(use, stmt):
            continue
        if (arms := _if_arms(stmt)) is None:
            return False
        then, other = arms
        if not (_within(write, then) and _within(use, other)):
            return False  # the use is in the condition, or both are in one arm
        if any(other.start_byte <= label < other.end_byte for _goto, label in gotos):
            return False
        return not any(lp.type in LOOPS for lp in ancestors(stmt)) and not in_macro_loop(stmt)
    return False


def both_arms(writes: list[Node]) -> list[Node]:
    """The `if`/`else` statements among ``writes``' ancestors where each arm replaces the
    value on every path through it (`if (x) v = a(); else v = b();`): the whole statement
    is a write that ends the value before it. An arm that may jump out first (`goto`,
    `break`, `continue`) before its write does not count."""
    arms: dict[int, tuple[Node, set[int]]] = {}
    for w in writes:
        for stmt in ancestors(w):
            if stmt.type != "if_statement" or (pair := _if_arms(stmt)) is None:
                continue
            then, other = pair
            arm = then if _within(w, then) else other
            if arm is other:  # `else_clause`: the statement inside it
                arm = other.named_children[-1] if other.named_children else other
            if _within(w, arm) and \
                    unconditional_within(w, arm) and \
                    not _jumps_between(arm, arm.start_byte, w.start_byte):
                arms.setdefault(stmt.id, (stmt, set()))[1].add(0 if arm is then else 1)
    return [stmt for stmt, sides in arms.values() if sides == {0, 1}]


def _if_arms(stmt: Node) -> tuple[Node, Node] | None:
    """An `if` statement's consequence and `else` clause, or None without an `else`."""
    then, other = stmt.child_by_field_name("consequence"), stmt.child_by_field_name("alternative")
    return None if then is None or other is None else (then, other)


def _within(node: Node, outer: Node) -> bool:
    return outer.start_byte <= node.start_byte < outer.end_byte


def in_macro_loop(node: Node) -> bool:
    """Is ``node`` in the block of an iterator macro (`for_each_pci_bridge(dev, bus) { ... }`,
    to tree-sitter a call missing its `;` before a block)? Its back edge is not seen."""
    for p in ancestors(node):
        if p.type != "compound_statement":
            continue
        head = p.prev_named_sibling
        if head is not None and head.type == "expression_statement" and head.children \
                and head.children[-1].is_missing and head.named_children[:1] and \
                head.named_children[0].type == "call_expression":
            return True
    return False


def enclosing_loops(node: Node) -> list[Node]:
    """Loops around ``node`` inside its function, innermost first."""
    return [p for p in ancestors(node) if p.type in LOOPS]


_EXITS = frozenset({"break_statement", "return_statement", "goto_statement",
                    "continue_statement"})


def _exits(case: Node, after: int) -> bool:
    """Does ``case`` (a case_statement) leave the switch unconditionally after byte ``after``:
    a `break`/`return`/`goto`/`continue` among its own statements (or a block of them)?"""
    for c in case.named_children:
        if c.end_byte <= after:
            continue
        if c.type in _EXITS or (c.type == "compound_statement" and any(
                g.type in _EXITS and g.start_byte >= after for g in c.named_children)):
            return True
    return False


def leaves_switch_before(write: Node, use: Node) -> bool:
    """``use`` sits in a later `case` of a switch than ``write``, and every way there from
    ``write`` leaves the switch first (its case, or one it falls into, ends with a `break`,
    `return`, `goto` or `continue`): in one pass of the switch ``write`` never reaches it."""
    for case in [write, *ancestors(write)]:
        if case.type != "case_statement" or case.parent is None:
            continue
        if case.start_byte <= use.start_byte < case.end_byte:
            continue  # same case, or a switch nested inside it
        block = case.parent
        if not block.start_byte <= use.start_byte < block.end_byte:
            continue  # the use is outside this switch
        after = write.end_byte
        for sib in block.named_children:
            if sib.end_byte <= case.start_byte or sib.type != "case_statement":
                continue
            if sib.start_byte <= use.start_byte < sib.end_byte:
                return False  # reached the use's case by falling through
            if _exits(sib, after):
                return True
            after = sib.start_byte
        return False
    return False


# Tests whose failing side leaves: `if (rc)`, `if (rc != PCIBIOS_SUCCESSFUL)`. include/acpi/
# acexcep.h: ACPI_FAILURE(s) is `((s) != AE_OK)`; likely/unlikely (compiler.h) only hint.
_NOT_EQUAL_WRAPPERS = frozenset({"ACPI_FAILURE"})
_HINTS = frozenset({"likely", "unlikely"})
_LEAVES = frozenset({"return_statement", "goto_statement", "break_statement",
                     "continue_statement"})


def _constant(node: Node, text: bytes) -> bool:
    """A number, or an upper-case name (a #define or enum constant: PCIBIOS_SUCCESSFUL)."""
    if node.type == "number_literal":
        return True
    name = text[node.start_byte:node.end_byte]
    return node.type == "identifier" and name.isupper()


def _callee(call: Node, text: bytes) -> str:
    callee = call.child_by_field_name("function")
    return text[callee.start_byte:callee.end_byte].decode("utf-8", "replace") \
        if callee is not None else ""


def pinning_test(use: Node, name: bytes, text: bytes) -> Node | None:
    """The `if` statement that ``use`` (a mention of local ``name``) is the whole test of,
    when the code after it only runs with the value known: `if (rc != K) { ...; rc = -EIO;
    goto out; }` (also `if (rc)`, `if (ACPI_FAILURE(rc))`) with no `else`, whose body
    leaves on every path with the value replaced (or by `return`), so past the `if` `rc` is
    K (0, AE_OK): a constant the host only chose by the test (mlx4 qp.c:4029's
    `err = mlx4_qp_query(...); if (err) { err = -EINVAL; goto out; }`). None otherwise."""
    node, p = use, use.parent
    while p is not None and p.type == "parenthesized_expression":
        node, p = p, p.parent
    if p is not None and p.type == "binary_expression":
        op, left, right = (p.child_by_field_name(f) for f in ("operator", "left", "right"))
        other = right if left == node else left
        if op is None or op.type != "!=" or other is None or not _constant(other, text):
            return None
        node, p = p, p.parent
    elif p is not None and p.type == "argument_list" and p.parent is not None and \
            len(p.named_children) == 1 and _callee(p.parent, text) in _NOT_EQUAL_WRAPPERS:
        node, p = p.parent, p.parent.parent
    while p is not None and p.type in ("parenthesized_expression", "argument_list",
                                       "call_expression", "condition_clause"):
        if (p.type == "call_expression" and _callee(p, text) not in _HINTS) or \
                (p.type == "argument_list" and len(p.named_children) != 1):
            return None  # a call that is not a hint, or one with more arguments
        node, p = p, p.parent
    if p is None or p.type != "if_statement" or p.child_by_field_name("condition") != node \
            or p.child_by_field_name("alternative") is not None:
        return None
    body = p.child_by_field_name("consequence")
    if body is None:
        return None
    stmts = [c for c in body.named_children if c.type != "comment"] \
        if body.type == "compound_statement" else [body]
    if not stmts or stmts[-1].type not in _LEAVES:
        return None
    if _jumps_between(body, body.start_byte, stmts[-1].start_byte):
        return None  # another way out of the body, with the value unknown
    if stmts[-1].type == "return_statement":
        return p
    # Leaves by goto/break/continue: only with the value replaced first.
    for st in stmts[:-1]:
        expr = st.named_children[0] if st.type == "expression_statement" and \
            st.named_children else None
        if expr is not None and expr.type == "assignment_expression":
            op, left = expr.child_by_field_name("operator"), expr.child_by_field_name("left")
            if op is not None and op.type == "=" and left is not None and \
                    text[left.start_byte:left.end_byte] == name:
                return p
    return None
