"""Use grades: how the code consumes a host value, in the spirit of smatch's check_host_input.

Risky uses are the ones that decide memory accesses (index, length, loop bound, pointer) or let
the value escape unchecked (returned, stored in a structure, passed on); benign uses only
compare, print or write the value back to the device.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Protocol

from cocoscope.surface.cparse import Node, arg_position, callee_name, is_cast_call, node_text


class UseTracer(Protocol):
    """What grading needs from the function around a value (``tracer.UseTracer``)."""

    def is_local(self, name: str) -> bool: ...
    def is_pointer(self, name: str) -> bool: ...
    def caller_memory(self, name: str, through: bool) -> bool: ...
    def grade_local(self, name: str, defined_at: Node | int, depth: int,
                    pointee: bool = False) -> Grade: ...
    def grade_pointee(self, name: str, defined_at: Node) -> Grade: ...
    def points_into_structure(self, name: str) -> bool: ...
    def callee_parameter(self, call: Node, function: str, position: int,
                         depth: int) -> Grade | None: ...
    def returned(self) -> Grade: ...
    def stored(self, target: Node, depth: int) -> Grade: ...
    def limit(self, what: str) -> Grade: ...
    def callee_kind(self, name: str, position: int) -> str: ...


class Grade(StrEnum):
    INDEX = "index"
    LENGTH = "length"
    LOOP_BOUND = "loop-bound"
    POINTER = "pointer"
    RETURNED = "returned"
    STORED = "stored"
    PASSED = "passed"
    COMPARED = "compared"
    PRINTED = "printed"
    WRITTEN_BACK = "written-back"
    DISCARDED = "discarded"
    EVENT = "event"  # no value: the call marks where host data becomes visible
    UNKNOWN = "unknown"  # the site sits in code tree-sitter could not parse


# Riskiest first; a value used several ways gets the riskiest grade.
ORDER = tuple(Grade)
RISKY = frozenset({Grade.INDEX, Grade.LENGTH, Grade.LOOP_BOUND, Grade.POINTER, Grade.RETURNED,
                   Grade.STORED, Grade.PASSED, Grade.UNKNOWN})

# Driver logging wrappers: mlx5_core_warn(), ata_dev_err(), ..._dbg().
_PRINT_SUFFIXES = ("_err", "_warn", "_info", "_dbg", "_debug", "_notice", "_printk", "_log",
                   "_crit", "_alert", "_emerg", "_err_ratelimited", "_warn_once", "_info_once",
                   "_warn_ratelimited", "_dbg_ratelimited")
_PRINT_PREFIXES = ("printk", "_printk", "pr_", "dev_", "_dev_", "netdev_", "netif_", "seq_printf",
                   "seq_puts", "sysfs_emit", "snprintf", "scnprintf", "sprintf", "WARN",
                   "trace_", "pci_info", "pci_warn", "pci_err", "pci_dbg", "pci_notice")
_WRITE_PREFIXES = ("write", "__raw_write", "iowrite", "out", "wrmsr", "native_write_msr",
                   "apic_write", "pci_write_config", "pci_bus_write_config", "pcie_capability_write",
                   "vp_iowrite", "virtio_cwrite", "serial_out", "serial_port_out", "mmio_out")
# Callee -> 1-based argument positions that are sizes or counts.
_SIZE_ARGS: dict[str, tuple[int, ...]] = {
    "memcpy": (3,), "memmove": (3,), "memset": (3,), "memcmp": (3,), "memcpy_fromio": (3,),
    "memcpy_toio": (3,), "copy_to_user": (3,), "copy_from_user": (3,), "kmemdup": (2,),
    "kmalloc": (1,), "kzalloc": (1,), "kvmalloc": (1,), "kvzalloc": (1,), "vmalloc": (1,),
    "vzalloc": (1,), "kcalloc": (1, 2), "kmalloc_array": (1, 2), "kvcalloc": (1, 2),
    "devm_kzalloc": (2,), "devm_kmalloc": (2,), "devm_kcalloc": (2, 3),
    "devm_kmalloc_array": (2, 3), "krealloc": (2,), "skb_put": (2,), "skb_put_data": (3,),
    "skb_pull": (2,), "skb_reserve": (2,), "skb_trim": (2,), "netdev_alloc_skb": (2,),
    "napi_alloc_skb": (2,), "alloc_skb": (1,), "dma_alloc_coherent": (2,),
    "dma_map_single": (3,), "strscpy": (3,), "strncpy": (3,), "sg_init_one": (3,),
    "alloc_pages": (2,), "get_order": (1,), "bitmap_zalloc": (1,), "ioremap": (2,),
    "devm_ioremap": (3,),
    # a slab cache's object size sizes every allocation from it
    "kmem_cache_create": (2,), "kmem_cache_create_usercopy": (2,),
}
_ADDRESS_FUNCS = frozenset({"ioremap", "ioremap_cache", "ioremap_wc", "devm_ioremap", "memremap",
                            "early_memremap", "phys_to_virt", "__va", "pfn_to_page",
                            "virt_to_page", "page_address", "acpi_os_map_memory"})
# Calls whose result is (a part of) their argument: the value keeps flowing through them.
VALUE_FUNCS = frozenset({
    "FIELD_GET", "le16_to_cpu", "le32_to_cpu", "le64_to_cpu", "be16_to_cpu", "be32_to_cpu",
    "be64_to_cpu", "__le16_to_cpu", "__le32_to_cpu", "__le64_to_cpu", "__be16_to_cpu",
    "__be32_to_cpu", "__be64_to_cpu", "le16_to_cpup", "le32_to_cpup", "swab16", "swab32",
    "swab64", "upper_32_bits", "lower_32_bits", "min", "max", "min_t", "max_t", "clamp",
    "clamp_t", "clamp_val", "READ_ONCE", "abs", "ilog2", "fls", "ffs", "__fls", "__ffs",
    "hweight32", "hweight64", "hweight8", "hweight16", "ALIGN", "DIV_ROUND_UP", "roundup",
    "rounddown", "round_up", "round_down", "BIT", "GENMASK", "u8_get_bits", "u16_get_bits",
    "u32_get_bits", "le32_get_bits", "le16_get_bits", "cpu_to_le16", "cpu_to_le32",
    "cpu_to_le64", "cpu_to_be16", "cpu_to_be32", "cpu_to_be64", "__cpu_to_le16",
    "__cpu_to_le32", "__cpu_to_le64", "__cpu_to_be16", "__cpu_to_be32", "__cpu_to_be64",
    "ns_to_timespec64", "ns_to_ktime", "ktime_to_ns", "div_u64", "div64_u64",
    # overflow.h's size arithmetic: the size computed from a count is still that count
    "struct_size", "struct_size_t", "flex_array_size", "size_add", "size_mul", "size_sub",
    "array_size", "array3_size",
})
# iopoll.h's poll macros read with an accessor into a value argument until a condition on it
# holds: (accessor argument, value argument, condition argument), 1-based. The generic forms
# take the accessor as an argument (`read_poll_timeout(inb, val, cond, ...)`); readX forms
# (`readl_poll_timeout(addr, val, cond, ...)`) are catalogue primitives.
POLL_MACROS = {"read_poll_timeout": (1, 2, 3), "read_poll_timeout_atomic": (1, 2, 3),
               "readx_poll_timeout": (1, 3, 4), "readx_poll_timeout_atomic": (1, 3, 4)}
_POLL_READ_RE = re.compile(r"read[bwlq](_relaxed)?_poll_timeout(_atomic)?$")


def poll_condition(name: str) -> int:
    """The condition argument of a poll macro (0 when ``name`` is not one): the value read is
    tested there on every round, so a use in it is a loop bound."""
    if name in POLL_MACROS:
        return POLL_MACROS[name][2]
    return 3 if _POLL_READ_RE.match(name) else 0


# Assertions test their first argument (WARN(cond, fmt, args...) prints the others):
# WARN_ON, WARN_ON_ONCE, WARN_ONCE, WARN_TAINT, BUG_ON, VM_BUG_ON, VM_WARN_ON_ONCE, ...
_ASSERT_RE = re.compile(r"(VM_)?(BUG_ON|WARN)(_ON)?(_ONCE|_SMP|_RATELIMIT|_TAINT)*$")
# A callback registered with an ACPI table walker receives each host table entry (or the
# table) as its first parameter: (walker, 1-based position of the callback argument).
# IRQ and command-line handler registrations stay events (their handlers get no host data
# through a parameter the walker fills).
TABLE_CALLBACKS = {"acpi_table_parse": 2, "acpi_table_parse_madt": 2,
                   "acpi_table_parse_cedt": 2, "acpi_table_parse_entries": 4}
_COMPARE_OPS = frozenset({"==", "!=", "<", ">", "<=", ">=", "&&", "||"})
_PASS_THROUGH = frozenset({"parenthesized_expression", "cast_expression", "binary_expression",
                           "conditional_expression", "unary_expression", "comma_expression"})


def riskiest(grades: list[Grade]) -> Grade:
    return min(grades, key=ORDER.index) if grades else Grade.DISCARDED


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


def primitive_sink(name: str) -> Grade | None:
    """`printed` / `written-back` for the print and write primitives known by name."""
    if name.startswith(_PRINT_PREFIXES) or name.endswith(_PRINT_SUFFIXES):
        return Grade.PRINTED
    if name.startswith(_WRITE_PREFIXES):
        return Grade.WRITTEN_BACK
    return None


def _call_arg(call: Node, arg_parent: Node, child: Node) -> Grade:
    name = callee_name(call)
    pos = _arg_position(arg_parent, child)
    if pos == 1 and _ASSERT_RE.match(name):
        return Grade.COMPARED  # WARN_ON(v), WARN(v, fmt, ...): the condition is only tested
    sink = primitive_sink(name)
    if sink is not None:
        return sink
    if pos in _SIZE_ARGS.get(name, ()):
        return Grade.LENGTH
    if name in _ADDRESS_FUNCS:
        return Grade.POINTER
    if name in ("likely", "unlikely", "IS_ERR"):
        return Grade.COMPARED
    return Grade.PASSED


def _arg_position(arg_parent: Node, child: Node) -> int:
    return arg_position(arg_parent, child)


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
        elif t == "cast_expression":
            tnode = p.child_by_field_name("type")
            if tnode is not None and b"*" in text[tnode.start_byte:tnode.end_byte]:
                return _contents(p, text, uses, depth)  # `o = (union acpi_object *)b.pointer`
        elif (t == "conditional_expression" and p.child_by_field_name("condition") == child) \
                or (t == "unary_expression" and text[p.start_byte:p.start_byte + 1] == b"!"):
            return _tested(p, text, uses, depth)  # `v ? a : b`, `!v`
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
        dest = _copy_destination(p)
        if dest is not None:  # memcpy(buf, &v, n): the value lands where buf points
            return copied_into(dest, text, uses, depth)
        bit = _bit_loop(p)
        if bit is not None:  # for_each_set_bit(i, &v, n): v's bits drive the loop and i
            grades = [Grade.LOOP_BOUND]
            if uses is not None and bit.type == "identifier" and \
                    uses.is_local(node_text(text, bit)) and depth < MAX_DEPTH:
                grades.append(uses.grade_local(node_text(text, bit), bit, depth + 1))
            return riskiest(grades)
        alias = _pointer_local(p, text)
        if alias is not None and uses is not None and uses.is_local(node_text(text, alias)):
            # `struct boot_params *bootp = &boot_params;`: reads through bootp read the value
            return uses.grade_pointee(node_text(text, alias), alias)
        return Grade.PASSED  # its address is handed on; what the callee does is unknown
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
        if _arg_position(p, child) == poll_condition(name):
            return Grade.LOOP_BOUND  # tested by the poll loop (iopoll.h) on every round
        derived = uses.callee_kind(name, _arg_position(p, child)) if uses is not None else ""
        if name in VALUE_FUNCS or derived == "value":
            if depth >= MAX_DEPTH:
                return uses.limit("value conversions") if uses else Grade.UNKNOWN
            return classify(call, text, uses, depth + 1)  # FIELD_GET(m, v) is still v
        pos = _arg_position(p, child)
        if uses is not None and depth < MAX_DEPTH:
            into = _written_by_call(call, name, pos, child, text, uses)
            if into is not None:  # memcpy(buf, pad, n), sprintf(buf, "%u", v)
                return copied_into(into, text, uses, depth) \
                    if name in _COPY_FUNCS else Grade.RETURNED
        grade = _call_arg(call, p, child)
        if grade is Grade.PASSED and uses is not None:
            # Handed to a function of the same file: grade how it uses that parameter (its
            # answer does not depend on this depth; tracer.py cuts only what follows the call).
            inner = uses.callee_parameter(call, name, _arg_position(p, child), depth + 1)
            if inner is not None:
                return inner
        if grade is Grade.PASSED and derived:
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
        # The top-level expression of a macro body is the macro's value.
        outer = p.parent.parent if p.parent is not None else None
        if outer is not None and outer.type == "function_definition" and \
                b"__cocoscope_macro__" in text[outer.start_byte:outer.start_byte + 40]:
            return Grade.RETURNED
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
        return Grade.STORED
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


MAX_DEPTH = 8  # copies and same-file calls followed before a grade says `unknown`
_COPY_FUNCS = frozenset({"memcpy", "memmove", "__memcpy", "memcpy_fromio"})


# find.h's bit loops: (loop variable, bitmap) argument positions, 1-based. The loop runs over
# the bitmap's set (or clear) bits and the variable takes each bit's position.
BIT_LOOPS = {"for_each_set_bit": (1, 2), "for_each_set_bit_from": (1, 2),
             "for_each_clear_bit": (1, 2), "for_each_clear_bit_from": (1, 2)}


# Formatting into a buffer: (callee, position of the format string); the buffer is argument 1.
_FORMAT_INTO = {"sprintf": 2, "snprintf": 3, "scnprintf": 3, "sysfs_emit": 2,
                "sysfs_emit_at": 3}


def _written_by_call(call: Node, name: str, pos: int, child: Node, text: bytes,
                     uses: UseTracer) -> Node | None:
    """The destination a call writes the value into, where that is the value's own fate: a
    local buffer or pointer copied by `memcpy(dst, buf, n)` (its contents), or a value
    formatted by `sprintf(buf, ...)` into a buffer the caller passed (None otherwise: a
    print)."""
    args = call.child_by_field_name("arguments")
    if args is None or pos < 2:
        return None
    dest = next((c for c in args.named_children if c.type != "comment"), None)
    if dest is None:
        return None
    if name in _COPY_FUNCS:
        src = strip(child)
        return dest if pos == 2 and src.type == "identifier" and \
            uses.is_pointer(node_text(text, src)) else None
    fmt = _FORMAT_INTO.get(name, 0)
    if fmt and pos > fmt:
        base, _ = lvalue_base(dest, text)
        return dest if base and uses.caller_memory(base, True) else None
    return None


def _bit_loop(addr: Node) -> Node | None:
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


def _pointer_local(addr: Node, text: bytes) -> Node | None:
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


def _copy_destination(node: Node) -> Node | None:
    """The destination of a copy whose source argument is ``node`` (`memcpy(dst, &v, n)`)."""
    p = node.parent
    while p is not None and p.type in ("parenthesized_expression", "cast_expression"):
        node, p = p, p.parent
    if p is None or p.type != "argument_list" or p.parent is None or \
            callee_name(p.parent) not in _COPY_FUNCS or arg_position(p, node) != 2:
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
    pointer (`*p`, `p[i]`, `*(p + i)`, `*p++`) rather than into a field (`p->f`, `s.f`: "")."""
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
            op = node.child_by_field_name("operator")
            nxt = node.child_by_field_name("left") if op is not None and op.type in ("+", "-") \
                else None
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
        return Grade.RETURNED
    return uses.stored(target, depth)  # `stored`, or riskier where read back (tracer.py)


def copied_into(dest: Node, text: bytes, uses: UseTracer | None, depth: int) -> Grade:
    """A value copied into ``dest`` (memcpy's destination): by what ``dest`` points at."""
    dest = strip(dest)
    if uses is not None and dest.type == "identifier":
        name = node_text(text, dest)
        if uses.caller_memory(name, True):
            return Grade.RETURNED
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
