"""Where a value stored in memory is read back in the same function (``tracer.UseTracer``'s
``stored``): a field (`p->f = v; ... p->f`), a global (`g = v; ... return g;`), an element of
the function's own array (`a[i] = v; ... print_hex_dump(..., a, ...)`), and whether a local
pointer aims into a structure (a copy through it is stored there)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from cocoscope.surface.body_names import BodyNames, squeeze
from cocoscope.surface.cparse import Node, arg_position, callee_name, node_text
from cocoscope.surface.grade import MAX_DEPTH, Grade, classify, riskiest, strip
from cocoscope.surface.grades import UseTracer as Uses
from cocoscope.surface.paths import (
    Jumps,
    before_on_every_path,
    enclosing_loops,
    leaves_switch_before,
    reachable_jumps,
)

# How a function of the same file uses a parameter (or that parameter's field: `p->field`): its
# own riskiest use, whether it returns the value, and the (1-based) pointer parameters it
# writes the value through (`*value = v`: the caller's arguments there receive it).
ParamUse = tuple[Grade, bool, frozenset[int]]
# (function, position, depth, field) -> that use; None when the function is unknown.
ParamGrader = Callable[[str, int, int, str], "ParamUse | None"]


class UseTracer(Uses, Protocol):
    """What these rules read of ``tracer.UseTracer`` (a protocol: tracer.py imports this
    module, not the other way round)."""

    _body: Node
    _text: bytes
    _params: frozenset[str]
    _param_grader: ParamGrader | None

    def _build(self) -> BodyNames: ...
    def is_own_array(self, name: str) -> bool: ...
    def _jumps(self) -> Jumps: ...


def points_into_structure(t: UseTracer, name: str) -> bool:
    """Is local pointer ``name`` set (initialised or assigned) to memory inside a
    structure that is not a local (`cap = (u32 *)&save_state->cap.data[0]`,
    `u8 *r = in_data->input_report[i]`)? Writes through it are stored there."""
    if name in t._params or not t.is_pointer(name):
        return False
    for n in t._build().get(name, ()):
        p = n.parent
        while p is not None and p.type in ("pointer_declarator", "array_declarator"):
            p = p.parent
        value = p.child_by_field_name("value") if p is not None and \
            p.type == "init_declarator" else p.child_by_field_name("right") \
            if p is not None and p.type == "assignment_expression" and \
            p.child_by_field_name("left") == n else None
        if value is not None and _inside_structure(strip(value), t._text, t):
            return True
    return False


def field_reads(t: UseTracer, base: str, field: str) -> list[Node]:
    return [n for n in t._build().fields(f"{base}->{field}")
            if _assigned(n) is None]


def stored(t: UseTracer, target: Node, depth: int) -> Grade:
    """A value stored into the field ``target`` (`vi->size = v`, `s->a.b = v`): `stored`,
    and where this function reads that field back, by those uses: later reads of the
    same lvalue that no write replaced on every path, and reads of `base->field` by a
    function of this file that ``base`` is handed to (`kzalloc(hdr_size(vi))`). A field
    read in another function is not followed."""
    target = strip(target)
    if target.type == "identifier" and depth < MAX_DEPTH:
        return _global_read_back(t, target, depth)
    array = _own_array(t, target)
    if array is not None:
        # `value[i] = v`, `read(dev, i, &value[i / 4])`: an element of the function's own
        # array, followed through the array's uses like a local's
        if depth >= MAX_DEPTH:
            return t.limit("copies into locals")
        return t.grade_local(node_text(t._text, array), target, depth + 1,
                                pointee=True)
    base = target
    while base.type == "field_expression":
        nxt = base.child_by_field_name("argument")
        if nxt is None:
            return Grade.STORED
        base = strip(nxt)
    if target.type != "field_expression" or base.type != "identifier" or depth >= MAX_DEPTH:
        return Grade.STORED
    after = target.parent.end_byte if target.parent is not None else target.end_byte
    same = [n for n in t._build().fields(squeeze(node_text(t._text, target)))
            if n.start_byte >= after]
    writes = [w for n in same if (w := _assigned(n)) is not None]
    # Calls ``base`` itself is handed to: what a same-file function reads from
    # `base->field` is followed only up to the first (it may rewrite the field first).
    handed = [u.parent.parent for u in t._build().get(node_text(t._text, base), ())
              if u.start_byte >= after and u.parent is not None
              and u.parent.type == "argument_list" and u.parent.parent is not None]
    grades = [Grade.STORED]
    loops = enclosing_loops(target)
    gotos = reachable_jumps(t._jumps(), after, loops)
    for n in same:
        # A call that ``base`` is handed to may change the field but need not replace it
        # (`comedi_dio_update_state(s, data)` only sets the bits its mask selects): like a
        # local's, the value ends only where a plain write replaces it on every path, and
        # a later `case` after a `break` is not reached (pciback_ops.c:343's `&op->value`
        # is not read by the enable_msix case).
        if _assigned(n) is None and not any(
                before_on_every_path(w, n, gotos, target) for w in writes) and not (
                leaves_switch_before(target, n) and
                not any(lp.start_byte <= n.start_byte < lp.end_byte for lp in loops)):
            grades.append(classify(n, t._text, t, depth + 1))
    op = target.child_by_field_name("operator")
    fld = target.child_by_field_name("field")
    if strip(target.child_by_field_name("argument") or target).id == base.id and \
            op is not None and op.type == "->" and fld is not None \
            and t._param_grader is not None:
        for use in t._build().get(node_text(t._text, base), ()):
            args = use.parent
            if use.start_byte < after or args is None or args.type != "argument_list" \
                    or args.parent is None:
                continue
            call = args.parent
            if any(c.start_byte < call.start_byte for c in handed):
                break  # another call was handed `base` first and may rewrite the field
            found = t._param_grader(callee_name(call), arg_position(args, use),
                                       depth + 1, node_text(t._text, fld))
            if found is not None and found[1]:  # only what comes back here counts
                grades.append(classify(call, t._text, t, depth + 2))
    return riskiest(grades)


def _own_array(t: UseTracer, target: Node) -> Node | None:
    """The array of ``target`` = `a[i]` (`a[i][j]`) when `a` is an array of this
    function's own (declared in its body, not static): its memory is like a local's."""
    while target.type == "subscript_expression":
        target = strip(target.child_by_field_name("argument") or target)
        if target.type == "identifier":
            return target if t.is_own_array(node_text(t._text, target)) else None
    return None


def _global_read_back(t: UseTracer, target: Node, depth: int) -> Grade:
    """A value stored in a global or static (`vm_context_id = f(); ...; return
    vm_context_id;`): `stored`, and where this function reads it back before a write
    replaces it on every path, by those uses."""
    after = target.parent.end_byte if target.parent is not None else target.end_byte
    same = [n for n in t._build().get(node_text(t._text, target), ())
            if n.start_byte >= after]
    writes = [w for n in same if (w := _assigned(n)) is not None]
    grades = [Grade.STORED]
    for n in same:
        if _assigned(n) is None and not any(
                before_on_every_path(w, n, t._jumps()) for w in writes):
            grades.append(classify(n, t._text, t, depth + 1))
    return riskiest(grades)


def _inside_structure(value: Node, text: bytes, tracer: UseTracer) -> bool:
    """Does ``value`` address memory inside a structure that is not a local (`&s->a.b[0]`,
    `s->buf[i]`, `p->f`)?"""
    if value.type == "pointer_expression" and text[value.start_byte] == 0x26:
        value = strip(value.child_by_field_name("argument") or value)
    while value.type == "subscript_expression":
        value = strip(value.child_by_field_name("argument") or value)
    if value.type != "field_expression":
        return False
    while value.type in ("field_expression", "subscript_expression"):
        op = value.child_by_field_name("operator")
        if op is not None and op.type == "->":
            return True  # through a pointer: not a local's own memory
        value = strip(value.child_by_field_name("argument") or value)
    return value.type == "identifier" and not tracer.is_local(node_text(text, value))


def _assigned(node: Node) -> Node | None:
    """The plain assignment that ``node`` is the target of, if it is one."""
    parent = node.parent
    while parent is not None and parent.type == "parenthesized_expression":
        node, parent = parent, parent.parent
    if parent is not None and parent.type == "assignment_expression" and \
            parent.child_by_field_name("left") == node:
        op = parent.child_by_field_name("operator")
        if op is not None and op.type == "=":
            return parent
    return None
