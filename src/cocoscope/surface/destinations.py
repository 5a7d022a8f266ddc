"""Where a value lands: the lvalue or buffer an assignment, copy or formatting call writes it
into, and the grade that follows from it (returned into the caller's memory, stored, or followed
through a local)."""

from __future__ import annotations

from cocoscope.surface.callees import BIT_LOOPS, COPY_FUNCS, FORMAT_INTO, PUT_USER
from cocoscope.surface.cparse import Node, arg_position, callee_name, node_text
from cocoscope.surface.grades import MAX_DEPTH, Grade, UseTracer, riskiest


def written_by_call(call: Node, name: str, pos: int, child: Node, text: bytes,
                     uses: UseTracer) -> Node | None:
    """The destination a call writes the value into, where that is the value's own fate: a
    local buffer or pointer copied by `memcpy(dst, buf, n)` (its contents), or a value
    formatted by `sprintf(buf, ...)` into a buffer the caller passed, or stored by
    `put_user(v, buf)` through a pointer the caller passed (None otherwise: a print, a
    store into memory of this function's own)."""
    args = call.child_by_field_name("arguments")
    if args is None:
        return None
    if name in PUT_USER:
        ptr = [c for c in args.named_children if c.type != "comment"][1:2]
        if pos != 1 or not ptr:
            return None
        base, _ = lvalue_base(ptr[0], text)
        return ptr[0] if base and uses.caller_memory(base, True) else None
    if pos < 2:
        return None
    dest = next((c for c in args.named_children if c.type != "comment"), None)
    if dest is None:
        return None
    if name in COPY_FUNCS:
        src = strip(child)
        return dest if pos == 2 and src.type == "identifier" and \
            uses.is_pointer(node_text(text, src)) else None
    fmt = FORMAT_INTO.get(name, 0)
    if fmt and pos > fmt:
        base, _ = lvalue_base(dest, text)
        return dest if base and uses.caller_memory(base, True) else None
    return None


def store_destination(call: Node, child: Node, text: bytes) -> Node | None:
    """Where a store macro or helper (sinks.py) puts its argument ``child``: the one other
    argument that designates memory (`&hwc->prev_count` of `local64_set`, `*highest_perf` of
    `WRITE_ONCE`), if exactly one does; None when the destination is a bare pointer
    (`u64_stats_add(p, v)` stores into a field of *p), a local's address (`membuf_store(&to,
    v)` stores into what a field of `to` points at, not into all of `to`) or cannot be told."""
    args = call.child_by_field_name("arguments")
    if args is None:
        return None
    dests = [a for a in args.named_children if a.type != "comment" and a != child
             and strip(a).type in ("pointer_expression", "field_expression",
                                   "subscript_expression")]
    if len(dests) != 1:
        return None
    dest = strip(dests[0])
    inner = dest.child_by_field_name("argument") if text[dest.start_byte] == 0x26 else None
    return None if inner is not None and strip(inner).type == "identifier" else dest


def bit_loop(addr: Node) -> Node | None:
    """The loop variable of the bit loop whose bitmap is ``addr`` (`&v`), if it is one."""
    p = addr.parent
    while p is not None and p.type in ("parenthesized_expression", "cast_expression"):
        addr, p = p, p.parent
    if p is None or p.type != "argument_list" or p.parent is None:
        return None
    loop = BIT_LOOPS.get(callee_name(p.parent))
    if loop is None or arg_position(p, addr) != loop[1]:
        return None
    args = [c for c in p.named_children if c.type != "comment"]
    return strip(args[loop[0] - 1]) if len(args) > loop[0] - 1 else None


def pointer_local(addr: Node, text: bytes) -> Node | None:
    """The local pointer that ``addr`` (`&v`) initialises or is assigned to, if any."""
    p = addr.parent
    while p is not None and p.type in ("parenthesized_expression", "cast_expression"):
        addr, p = p, p.parent
    if p is None:
        return None
    if p.type == "init_declarator" and p.child_by_field_name("value") == addr:
        target = p.child_by_field_name("declarator")
        while target is not None and target.type in ("pointer_declarator", "array_declarator"):
            target = target.child_by_field_name("declarator")
    elif p.type == "assignment_expression" and p.child_by_field_name("right") == addr:
        op = p.child_by_field_name("operator")
        target = p.child_by_field_name("left") if op is not None and op.type == "=" else None
    else:
        return None
    return target if target is not None and target.type == "identifier" else None


def copy_destination(node: Node) -> Node | None:
    """The destination of a copy whose source argument is ``node`` (`memcpy(dst, &v, n)`)."""
    p = node.parent
    while p is not None and p.type in ("parenthesized_expression", "cast_expression"):
        node, p = p, p.parent
    if p is None or p.type != "argument_list" or p.parent is None or \
            callee_name(p.parent) not in COPY_FUNCS or arg_position(p, node) != 2:
        return None
    args = [c for c in p.named_children if c.type != "comment"]
    return args[0] if args else None


def strip(node: Node) -> Node:
    """``node`` without parentheses and casts around it."""
    while node.type in ("parenthesized_expression", "cast_expression"):
        nxt = node.child_by_field_name("value") if node.type == "cast_expression" else (
            node.named_children[0] if node.named_children else None)
        if nxt is None:
            break
        node = nxt
    return node


def lvalue_base(node: Node, text: bytes) -> tuple[str, bool]:
    """The variable an lvalue (or an address) lands in, and whether it goes through that
    pointer (`*p`, `p[i]`, `*(p + i)`, `p + i`, `*p++`) rather than into a field (`p->f`,
    `s.f`: "")."""
    through = False
    while True:
        node = strip(node)
        t = node.type
        if t == "identifier":
            return node_text(text, node), through
        if t == "pointer_expression" or t == "subscript_expression" or t == "update_expression":
            through |= t != "update_expression"
            nxt = node.child_by_field_name("argument")
        elif t == "binary_expression":
            # pointer arithmetic: `p + off` is an address inside what p points at (a copy into
            # `p + off` writes through p)
            op = node.child_by_field_name("operator")
            nxt = node.child_by_field_name("left") if op is not None and op.type in ("+", "-") \
                else None
            through = True
        else:
            return "", False
        if nxt is None:
            return "", False
        node = nxt


def _local_struct(target: Node, text: bytes, uses: UseTracer) -> Node | None:
    """The local structure (or union) variable of a `s.f.g` lvalue, if that is what it is."""
    node = strip(target)
    seen_field = False
    while node.type == "field_expression":
        op = node.child_by_field_name("operator")
        arg = node.child_by_field_name("argument")
        if op is None or op.type != "." or arg is None:
            return None
        node, seen_field = strip(arg), True
    if seen_field and node.type == "identifier":
        name = node_text(text, node)
        if uses.is_local(name) and not uses.is_pointer(name) and \
                not uses.caller_memory(name, False):
            return node
    return None


def initialised(holder: Node, text: bytes, uses: UseTracer | None, depth: int) -> Grade:
    """A value in an initializer (``holder``): `stored`, except a designated member of a
    local structure's own initializer (`struct resource res = { .end = v };`), which is
    followed like `res.end = v`: through the reads of `res.end` and the uses of `res` as a
    whole (`&res` handed on), not those of its other members (tpm_crb.c crb_map_res). Only
    for a `struct`: a union's members overlay each other."""
    if uses is None or holder.type != "initializer_pair":
        return Grade.STORED
    designators = holder.children_by_field_name("designator")
    lst = holder.parent
    decl = lst.parent if lst is not None and lst.type == "initializer_list" else None
    if len(designators) != 1 or designators[0].type != "field_designator" or decl is None \
            or decl.type != "init_declarator" or decl.child_by_field_name("value") != lst:
        return Grade.STORED
    target = decl.child_by_field_name("declarator")
    member = designators[0].named_children[:1]
    kind = decl.parent.child_by_field_name("type") if decl.parent is not None else None
    if target is None or target.type != "identifier" or not member or kind is None \
            or kind.type != "struct_specifier":
        # a pointer, an array, a nested designator; a union (or a typedef that may be one),
        # whose other members read the same bytes
        return Grade.STORED
    name = node_text(text, target)
    if not uses.is_local(name) or uses.is_pointer(name) or uses.caller_memory(name, False):
        return Grade.STORED
    if depth >= MAX_DEPTH:
        return uses.limit("copies into locals")
    return uses.grade_member(name, node_text(text, member[0]), target, depth + 1)


def written_into(target: Node, text: bytes, uses: UseTracer | None, depth: int = 0) -> Grade:
    """A value assigned to ``target`` (not a local): `returned` when it lands in memory the
    caller passed (`*value = v`, `data[1] = v` with `data` a parameter, a macro's output
    argument), else `stored` (a field, a global, an array that is not the caller's)."""
    if uses is None:
        return Grade.STORED
    local = _local_struct(target, text, uses)
    if local is not None:  # `s.f = v` with s a local structure: follow s
        if depth >= MAX_DEPTH:
            return uses.limit("copies into locals")
        return uses.grade_local(node_text(text, local), local, depth + 1)
    name, through = lvalue_base(target, text)
    if name and uses.caller_memory(name, through):
        return uses.into_caller(name)  # `returned` (a same-file caller follows its argument)
    return uses.stored(target, depth)  # `stored`, or riskier where read back (tracer.py)


def copied_into(dest: Node, text: bytes, uses: UseTracer | None, depth: int) -> Grade:
    """A value copied into ``dest`` (memcpy's destination): by what ``dest`` points at."""
    dest = strip(dest)
    if uses is not None and dest.type == "identifier":
        name = node_text(text, dest)
        if uses.caller_memory(name, True):
            return uses.into_caller(name)
        if uses.is_pointer(name) and depth < MAX_DEPTH:
            pointee = uses.grade_pointee(name, dest)
            # a pointer aimed into a structure (`p = s->buf[i]`): the copy is stored there
            return riskiest([Grade.STORED, pointee]) if uses.points_into_structure(name) \
                else pointee
    if uses is not None and dest.type == "pointer_expression" and text[dest.start_byte] == 0x26:
        inner = dest.child_by_field_name("argument")
        if inner is not None and strip(inner).type == "identifier":
            name = node_text(text, strip(inner))
            if uses.is_local(name) and not uses.caller_memory(name, False) and depth < MAX_DEPTH:
                return uses.grade_local(name, inner, depth + 1)  # &local_struct
        if inner is not None:
            return written_into(inner, text, uses, depth)
    return written_into(dest, text, uses, depth) if dest.type != "identifier" else Grade.STORED
