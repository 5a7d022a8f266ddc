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


def ancestors(node: Node) -> list[Node]:
    out = []
    p = node.parent
    while p is not None:
        out.append(p)
        if p.type in _BODY_PARENTS:
            break
        p = p.parent
    return out


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
    """Every `goto` in ``body`` with the start of the label it jumps to."""
    from cocoscope.surface.cparse import captures

    caps = captures("(labeled_statement) @l (goto_statement) @g", body)
    labels: dict[bytes, int] = {}
    for lab in caps.get("l", ()):
        name = lab.child_by_field_name("label")
        if name is not None:
            labels.setdefault(text[name.start_byte:name.end_byte], lab.start_byte)
    out = []
    for g in caps.get("g", ()):
        name = g.child_by_field_name("label")
        if name is not None and text[name.start_byte:name.end_byte] in labels:
            out.append((g.start_byte, labels[text[name.start_byte:name.end_byte]]))
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
