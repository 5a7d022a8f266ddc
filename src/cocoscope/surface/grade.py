"""Use grades: how the code consumes a host value, in the spirit of smatch's check_host_input.

Risky uses are the ones that decide memory accesses (index, length, loop bound, pointer) or let
the value escape unchecked (returned, stored in a structure, passed on); benign uses only
compare, print or write the value back to the device.
"""

from __future__ import annotations

import re

from cocoscope.surface.callees import (
    BIT_LOOPS,
    COPY_FUNCS,
    ENCODERS,
    POLL_MACROS,
    PUT_USER,
    TABLE_CALLBACKS,
    VALUE_FUNCS,
    call_argument,
    poll_condition,
    primitive_sink,
)
from cocoscope.surface.cparse import Node, arg_position, callee_name, is_cast_call, node_text
from cocoscope.surface.destinations import (
    bit_loop,
    copied_into,
    copy_destination,
    initialised,
    lvalue_base,
    pointer_local,
    store_destination,
    strip,
    written_by_call,
    written_into,
)
from cocoscope.surface.grades import MAX_DEPTH, ORDER, RISKY, Grade, UseTracer, riskiest

# grade.py is where the rest of the scanner imports grading from; the vocabulary
# (grades.py), the known callees (callees.py) and where values land (destinations.py)
# live in their own modules.
__all__ = ["BIT_LOOPS", "MAX_DEPTH", "ORDER", "POLL_MACROS", "RISKY", "TABLE_CALLBACKS",
           "VALUE_FUNCS", "Grade", "UseTracer", "classify", "copied_into", "lvalue_base",
           "poll_condition", "primitive_sink", "riskiest", "strip", "written_into"]

_COMPARE_OPS = frozenset({"==", "!=", "<", ">", "<=", ">=", "&&", "||"})
# include/linux/err.h: an error pointer is the error code cast to a pointer and back
# (`return ERR_PTR(err)` returns err itself), not a call that consumes it.
_ERROR_POINTERS = frozenset({"ERR_PTR", "PTR_ERR", "ERR_CAST"})
_PASS_THROUGH = frozenset({"parenthesized_expression", "cast_expression", "binary_expression",
                           "conditional_expression", "unary_expression", "comma_expression"})


def _in_loop_condition(node: Node) -> bool:
    child, p = node, node.parent
    while p is not None and p.type in _PASS_THROUGH | {"condition_clause"}:
        child, p = p, p.parent
    if p is None:
        return False
    if p.type in ("while_statement", "do_statement"):
        return p.child_by_field_name("condition") == child
    if p.type == "for_statement":
        return p.child_by_field_name("condition") == child
    if p.type == "argument_list" and p.parent is not None:  # a poll macro's condition
        return arg_position(p, child) == poll_condition(callee_name(p.parent))
    return False


def _tested(test: Node, text: bytes, uses: UseTracer | None, depth: int) -> Grade:
    """A value only tested by ``test`` (a comparison, `!v`, `v ? a : b`): `loop-bound` in a
    loop's condition, `returned` when the test's own result is what the function (or macro)
    returns (`return !!(v & F)`, `return a && test(v)`, `return (v & m) ? true : false`: the
    caller receives a host-derived value), `stored` when it is stored (`x->flag = (v != 0)`),
    else `compared`."""
    if _in_loop_condition(test):
        return Grade.LOOP_BOUND
    if depth < MAX_DEPTH:
        kept = classify(test, text, uses, depth + 1)
        if kept is Grade.RETURNED or (kept is Grade.STORED and
                                      test.type != "conditional_expression"):
            # `x->flag = (v != 0)`: the test's result is kept, not only decided on (a `?:`
            # stored only chose between its arms: `s->range = v ? &a : &b` is `compared`)
            return kept
    return Grade.COMPARED


def classify(node: Node, text: bytes, uses: UseTracer | None = None, depth: int = 0) -> Grade:
    """Grade how the value of expression ``node`` is consumed."""
    child, p = node, node.parent
    while p is not None:
        t = p.type
        if t == "binary_expression":
            op = p.child_by_field_name("operator")
            if op is not None and op.type in _COMPARE_OPS:
                return _tested(p, text, uses, depth)
            if op is not None and op.type in ("+", "-") and uses is not None and \
                    uses.offsets_pointer(p, child):
                return Grade.POINTER  # added to a base address: `base + off`
        elif t == "cast_expression":
            tnode = p.child_by_field_name("type")
            if tnode is not None and b"*" in text[tnode.start_byte:tnode.end_byte]:
                return _contents(p, text, uses, depth)  # `o = (union acpi_object *)b.pointer`
        elif (t == "conditional_expression" and p.child_by_field_name("condition") == child) \
                or (t == "unary_expression" and text[p.start_byte:p.start_byte + 1] == b"!"):
            return _tested(p, text, uses, depth)  # `v ? a : b`, `!v`
        elif t == "generic_expression":
            if p.named_children[:1] == [child]:
                return Grade.DISCARDED  # `_Generic((x), ...)`: the type picks, x is not read
            # an association's expression is the selection's value (virtio_to_cpu(vdev, x))
        elif t == "argument_list" and p.parent is not None and is_cast_call(p.parent):
            child, p = p.parent, p.parent.parent  # `(u32)(v)`: a cast, not a call
            continue
        elif t not in _PASS_THROUGH:
            break
        child, p = p, p.parent
    if p is None:
        return Grade.DISCARDED
    t = p.type
    if t == "subscript_expression":
        if p.child_by_field_name("index") == child:
            return Grade.INDEX
        return _contents(p, text, uses, depth)
    if t == "pointer_expression" and text[p.start_byte:p.start_byte + 1] == b"&":
        dest = copy_destination(p)
        if dest is not None:  # memcpy(buf, &v, n): the value lands where buf points
            return copied_into(dest, text, uses, depth)
        bit = bit_loop(p)
        if bit is not None:  # for_each_set_bit(i, &v, n): v's bits drive the loop and i
            grades = [Grade.LOOP_BOUND]
            if uses is not None and bit.type == "identifier" and \
                    uses.is_local(node_text(text, bit)) and depth < MAX_DEPTH:
                grades.append(uses.grade_local(node_text(text, bit), bit, depth + 1))
            return riskiest(grades)
        alias = pointer_local(p, text)
        if alias is not None and uses is not None and uses.is_local(node_text(text, alias)):
            # `struct boot_params *bootp = &boot_params;`: reads through bootp read the value
            return uses.grade_pointee(node_text(text, alias), alias)
        # its address is handed on: to a function of this file, by what that function reads
        # through it; elsewhere what the callee does is unknown
        handed = uses.address_handed(p, depth) if uses is not None else None
        return handed if handed is not None else Grade.PASSED
    if t == "field_expression":
        op = p.child_by_field_name("operator")
        if op is not None and op.type == "." and p.child_by_field_name("argument") == child:
            return classify(p, text, uses, depth)  # `s.field` reads a part of the value
        return _contents(p, text, uses, depth) if op is not None and op.type == "->" \
            else Grade.POINTER
    if t == "pointer_expression":
        return _contents(p, text, uses, depth)
    if t in ("sizeof_expression", "alignof_expression", "offsetof_expression"):
        return Grade.DISCARDED  # only the type is used, not the value
    if t == "return_statement":
        return uses.returned() if uses is not None else Grade.RETURNED
    if t == "argument_list" and p.parent is not None:
        prev = child.prev_sibling
        if prev is not None and prev.type == "ERROR" and text[prev.start_byte:prev.end_byte] \
                .strip() == b"return":
            return Grade.RETURNED  # IO_COND(addr, return pio_read(port), ...): a statement
        call = p.parent
        name = callee_name(call)
        if arg_position(p, child) == poll_condition(name):
            return Grade.LOOP_BOUND  # tested by the poll loop (iopoll.h) on every round
        derived = uses.callee_kind(name, arg_position(p, child)) if uses is not None else ""
        if name in VALUE_FUNCS or name in ENCODERS or name in _ERROR_POINTERS or \
                derived == "value":
            if depth >= MAX_DEPTH:
                return uses.limit("value conversions") if uses else Grade.UNKNOWN
            return classify(call, text, uses, depth + 1)  # FIELD_GET(m, v) is still v
        pos = arg_position(p, child)
        if uses is not None and depth < MAX_DEPTH:
            into = written_by_call(call, name, pos, child, text, uses)
            if into is not None:  # memcpy(buf, pad, n), sprintf(buf, "%u", v)
                return copied_into(into, text, uses, depth) \
                    if name in COPY_FUNCS else Grade.RETURNED
        if name in PUT_USER and pos == 1:
            # put_user(v, &info->result): v lands in (user) memory that is not the caller's
            # buffer itself, as `p->f = v` does: stored (uaccess.h's body, which the scanner
            # now parses, hands v to inline assembly)
            return Grade.STORED
        grade = call_argument(call, p, child)
        if grade is Grade.PASSED and uses is not None:
            # Handed to a function of the same file: grade how it uses that parameter (its
            # answer does not depend on this depth; tracer.py cuts only what follows the call).
            inner = uses.callee_parameter(call, name, arg_position(p, child), depth + 1)
            if inner is not None:
                return inner
        if grade is Grade.PASSED and derived:
            dest = store_destination(call, child, text) \
                if derived == Grade.STORED.value and depth < MAX_DEPTH else None
            if dest is not None:  # `WRITE_ONCE(*out, v)`: by where it lands
                return copied_into(dest, text, uses, depth)
            return Grade(derived)  # a derived write/print wrapper or store macro (sinks.py)
        return grade
    if t in ("if_statement", "condition_clause") and uses is not None and depth < MAX_DEPTH:
        flag = _flag_set(p, text)
        if flag is not None and uses.is_local(node_text(text, flag)):
            # `if ((v & START) != START) sts |= DONE; return sts;`: a flags word built
            # from the test carries its result on
            return riskiest([Grade.COMPARED,
                             uses.grade_local(node_text(text, flag), flag, depth + 1)])
    if t in ("if_statement", "switch_statement", "condition_clause", "case_statement"):
        return Grade.COMPARED
    if t in ("while_statement", "do_statement", "for_statement"):
        return Grade.LOOP_BOUND
    if t == "expression_statement":
        block = p.parent
        if block is not None and block.type == "compound_statement" and \
                block.parent is not None and block.parent.type == "parenthesized_expression" \
                and [c for c in block.named_children if c.type != "comment"][-1:] == [p]:
            # `({ type__ val_; ...; val_; })`: the last statement of a GNU statement
            # expression is its value (iosys_map_rd)
            if depth >= MAX_DEPTH:
                return uses.limit("statement expressions") if uses else Grade.UNKNOWN
            return classify(block.parent, text, uses, depth + 1)
        # The top-level expression of a macro body is the macro's value.
        outer = p.parent.parent if p.parent is not None else None
        if outer is not None and outer.type == "function_definition" and \
                b"__cocoscope_macro__" in text[outer.start_byte:outer.start_byte + 40]:
            return uses.returned() if uses is not None else Grade.RETURNED
        return Grade.DISCARDED
    if t in ("assignment_expression", "init_declarator"):
        if t == "assignment_expression" and p.child_by_field_name("right") != child:
            return Grade.DISCARDED  # the node is the target, not the value
        target = p.child_by_field_name("left" if t == "assignment_expression" else "declarator")
        while target is not None and target.type in ("pointer_declarator", "array_declarator"):
            target = target.child_by_field_name("declarator")
        if target is not None and target.type == "identifier" and uses is not None:
            name = text[target.start_byte:target.end_byte].decode("utf-8", "replace")
            if t == "init_declarator" or uses.is_local(name):
                if depth >= MAX_DEPTH:
                    return uses.limit("copies into locals")
                own = uses.grade_local(name, target, depth)
                if t == "assignment_expression" and _value_used(p):
                    # `while ((evt = get(vq)) != NULL)`: the assignment's value is used too
                    return riskiest([own, classify(p, text, uses, depth + 1)])
                return own
        return written_into(target, text, uses, depth) if target is not None else Grade.STORED
    if t in ("initializer_list", "initializer_pair", "compound_literal_expression"):
        return initialised(p, text, uses, depth)
    return Grade.UNKNOWN


# Uses of what is read through a pointer that are riskier than the dereference itself.
_CONTENT_RISKS = frozenset({Grade.INDEX, Grade.LENGTH, Grade.LOOP_BOUND})


def _contents(read: Node, text: bytes, uses: UseTracer | None, depth: int) -> Grade:
    """The value is dereferenced by ``read`` (`p->f`, `*p`, `p[i]`): `pointer`, or what is
    read through it where that bounds or sizes something (a buffer's contents count:
    `entries = sdata->len / sizeof(*e)` bounding a loop is `loop-bound`, `tss->package.count`
    sizing `kmalloc_array` is `length`)."""
    if uses is None or depth >= MAX_DEPTH or _assigned_to(read):
        return Grade.POINTER
    inner = classify(read, text, uses, depth + 1)
    return inner if inner in _CONTENT_RISKS else Grade.POINTER


def _assigned_to(node: Node) -> bool:
    """Is ``node`` (through parentheses) the target of an assignment or update?"""
    p = node.parent
    while p is not None and p.type in ("parenthesized_expression", "field_expression",
                                       "subscript_expression"):
        if p.type != "parenthesized_expression" and p.child_by_field_name("argument") != node:
            return False
        node, p = p, p.parent
    if p is None:
        return False
    if p.type == "assignment_expression":
        return p.child_by_field_name("left") == node
    return p.type == "update_expression"


def _flag_set(cond: Node, text: bytes) -> Node | None:
    """The local of `if (test) flags |= F;` (the whole branch sets a bit from the test):
    the flags word records the test's result. An `=` (`ret = -EIO`) is a status chosen by
    the test, not followed (control dependence, see docs/surface.md)."""
    stmt = cond if cond.type == "if_statement" else cond.parent
    if stmt is None or stmt.type != "if_statement" or \
            stmt.child_by_field_name("alternative") is not None:
        return None
    body = stmt.child_by_field_name("consequence")
    while body is not None and body.type == "compound_statement":
        inner = [c for c in body.named_children if c.type != "comment"]
        body = inner[0] if len(inner) == 1 else None
    expr = body.named_children[0] if body is not None and body.type == \
        "expression_statement" and body.named_children else None
    if expr is None or expr.type != "assignment_expression":
        return None
    op, left = expr.child_by_field_name("operator"), expr.child_by_field_name("left")
    if op is None or op.type != "|=" or left is None or left.type != "identifier":
        return None
    # The word must record this test alone (`u8 sts = 0; if (t) sts |= F; return sts;` is
    # `return t ? F : 0`); a word several tests or values build (ACPICA's event status) is
    # not this test's result.
    func = stmt.parent
    while func is not None and func.type != "function_definition":
        func = func.parent
    if func is None:
        return None
    name = re.escape(node_text(text, left)).encode()
    sets = re.findall(rb"\b" + name + rb"\s*(?:[-+*/%&|^]|<<|>>)?=(?!=)",
                      text[func.start_byte:func.end_byte])
    return left if len(sets) <= 2 else None  # its initialisation and this `|=`


def _value_used(assign: Node) -> bool:
    """Is the value of assignment expression ``assign`` used by its parent (not a statement
    of its own, nor a `for` loop's initializer or step)?"""
    parent = assign.parent
    while parent is not None and parent.type == "parenthesized_expression":
        parent = parent.parent
    return parent is not None and parent.type not in (
        "expression_statement", "comma_expression", "for_statement")
