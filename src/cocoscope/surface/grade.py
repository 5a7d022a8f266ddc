"""Use grades: how the code consumes a host value, in the spirit of smatch's check_host_input.

Risky uses are the ones that decide memory accesses (index, length, loop bound, pointer) or let
the value escape unchecked (returned, stored in a structure, passed on); benign uses only
compare, print or write the value back to the device.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum

from cocoscope.surface.cparse import Node, arg_position, callee_name, is_cast_call
from cocoscope.surface.paths import before_on_every_path, enclosing_loops, unconditional_within


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
    "u32_get_bits", "le32_get_bits", "le16_get_bits",
})
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
    return False


def _call_arg(call: Node, arg_parent: Node, child: Node) -> Grade:
    name = callee_name(call)
    pos = _arg_position(arg_parent, child)
    if name.startswith(_PRINT_PREFIXES) or name.endswith(_PRINT_SUFFIXES):
        return Grade.PRINTED
    if name.startswith(_WRITE_PREFIXES):
        return Grade.WRITTEN_BACK
    if pos in _SIZE_ARGS.get(name, ()):
        return Grade.LENGTH
    if name in _ADDRESS_FUNCS:
        return Grade.POINTER
    if name in ("BUG_ON", "WARN_ON", "WARN_ON_ONCE", "likely", "unlikely", "IS_ERR"):
        return Grade.COMPARED
    return Grade.PASSED


def _arg_position(arg_parent: Node, child: Node) -> int:
    return arg_position(arg_parent, child)


def classify(node: Node, text: bytes, uses: UseTracer | None = None, depth: int = 0) -> Grade:
    """Grade how the value of expression ``node`` is consumed."""
    child, p = node, node.parent
    while p is not None:
        t = p.type
        if t == "binary_expression":
            op = p.child_by_field_name("operator")
            if op is not None and op.type in _COMPARE_OPS:
                return Grade.LOOP_BOUND if _in_loop_condition(p) else Grade.COMPARED
        elif t == "cast_expression":
            tnode = p.child_by_field_name("type")
            if tnode is not None and b"*" in text[tnode.start_byte:tnode.end_byte]:
                return Grade.POINTER
        elif (t == "conditional_expression" and p.child_by_field_name("condition") == child) or (t == "unary_expression" and text[p.start_byte:p.start_byte + 1] == b"!"):
            return Grade.COMPARED
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
        return Grade.INDEX if p.child_by_field_name("index") == child else Grade.POINTER
    if t == "pointer_expression" and text[p.start_byte:p.start_byte + 1] == b"&":
        return Grade.PASSED  # its address is handed on; what the callee does is unknown
    if t == "field_expression":
        op = p.child_by_field_name("operator")
        if op is not None and op.type == "." and p.child_by_field_name("argument") == child:
            return classify(p, text, uses, depth)  # `s.field` reads a part of the value
        return Grade.POINTER
    if t == "pointer_expression":
        return Grade.POINTER
    if t in ("sizeof_expression", "alignof_expression", "offsetof_expression"):
        return Grade.DISCARDED  # only the type is used, not the value
    if t == "return_statement":
        return Grade.RETURNED
    if t == "argument_list" and p.parent is not None:
        call = p.parent
        name = callee_name(call)
        if name in VALUE_FUNCS:
            if depth >= MAX_DEPTH:
                return uses.limit("value conversions") if uses else Grade.UNKNOWN
            return classify(call, text, uses, depth + 1)  # FIELD_GET(m, v) is still v
        grade = _call_arg(call, p, child)
        if grade is Grade.PASSED and uses is not None and depth < MAX_DEPTH:
            # Handed to a function of the same file: grade how it uses that parameter.
            inner = uses.callee_parameter(name, _arg_position(p, child), depth + 1)
            if inner is not None:
                return inner
        return grade
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
                return uses.grade_local(name, target, depth)
        return Grade.STORED
    if t in ("initializer_list", "initializer_pair", "compound_literal_expression"):
        return Grade.STORED
    return Grade.UNKNOWN


ParamGrader = Callable[[str, int, int], "Grade | None"]
# Does this call write its k-th argument (an out-argument of a source)?
OutArgTest = Callable[[Node, int], bool]
MAX_DEPTH = 8  # copies and same-file calls followed before a grade says `unknown`


class UseTracer:
    """Grades the uses of a local variable inside one function body.

    A value ends where a write certainly replaces it (a plain assignment or the variable
    passed as a source's out-argument, on every path to the use: ``paths``); uses reached
    through a loop's back edge count; ``v = f(v)`` reads the old value before ending it.
    ``param_grader(function, position, depth)`` grades how a function of the same file uses
    its parameter, for values passed straight into it; None when the function is unknown.
    """

    def __init__(self, body: Node, text: bytes, param_grader: ParamGrader | None = None,
                 writes_arg: OutArgTest | None = None) -> None:
        self._body = body
        self._text = text
        self._param_grader = param_grader
        self._writes_arg = writes_arg
        self._index: dict[str, list[Node]] | None = None
        self._locals: set[str] = set()
        self._pointers: set[str] = set()  # locals declared as pointers or arrays
        self._active: set[tuple[str, int]] = set()
        self.note = ""  # why the last grade was `unknown` (the caller resets it per site)

    def _build(self) -> dict[str, list[Node]]:
        if self._index is None:
            from cocoscope.surface.cparse import captures

            index: dict[str, list[Node]] = {}
            caps = captures("(identifier) @i (declaration) @d (parameter_declaration) @d",
                            self._body)
            for n in caps.get("i", ()):
                index.setdefault(self._text[n.start_byte:n.end_byte].decode("utf-8", "replace"),
                                 []).append(n)
            for d in caps.get("d", ()):
                stack = [d.child_by_field_name("declarator")] if d.type == "parameter_declaration" \
                    else list(d.children_by_field_name("declarator"))
                for decl in stack:
                    pointer = False
                    while decl is not None and decl.type != "identifier":
                        pointer |= decl.type in ("pointer_declarator", "array_declarator")
                        decl = decl.child_by_field_name("declarator")
                    if decl is not None:
                        name = self._text[decl.start_byte:decl.end_byte].decode()
                        self._locals.add(name)
                        if pointer:
                            self._pointers.add(name)
            self._index = index
        return self._index

    def is_local(self, name: str) -> bool:
        self._build()
        return name in self._locals

    def is_pointer(self, name: str) -> bool:
        self._build()
        return name in self._pointers

    def callee_parameter(self, function: str, position: int, depth: int) -> Grade | None:
        if self._param_grader is None:
            return None
        return self._param_grader(function, position, depth)

    def limit(self, what: str) -> Grade:
        self.note = f"{what} deeper than {MAX_DEPTH} levels not followed"
        return Grade.UNKNOWN

    def _write(self, use: Node) -> Node | None:
        """The assignment or call that replaces the variable's value at ``use``, if any."""
        parent = use.parent
        if parent is None:
            return None
        if parent.type == "assignment_expression" and parent.child_by_field_name("left") == use:
            op = parent.child_by_field_name("operator")
            return parent if op is not None and op.type == "=" else None
        node = use
        if parent.type == "pointer_expression" and self._text[parent.start_byte] == 0x26:
            node, parent = parent, parent.parent  # &v
        if parent is not None and parent.type == "argument_list" and parent.parent is not None \
                and self._writes_arg is not None:
            call = parent.parent
            if self._writes_arg(call, _arg_position(parent, node)):
                return call
        return None

    def grade_local(self, name: str, defined_at: Node | int, depth: int,
                    pointee: bool = False) -> Grade:
        after = defined_at if isinstance(defined_at, int) else defined_at.start_byte
        key = (name, after)
        if key in self._active:
            return Grade.DISCARDED  # a cycle through a loop: the other visit grades these uses
        self._active.add(key)
        try:
            return self._grade_local(name, defined_at, after, depth, pointee)
        finally:
            self._active.discard(key)

    def grade_pointee(self, name: str, defined_at: Node) -> Grade:
        """Uses of the data a source wrote into the memory local pointer ``name`` points at:
        `*p`, `p[i]` and `p->f` read it; `p` handed on passes it."""
        return self.grade_local(name, defined_at, 0, pointee=True)

    def _use(self, use: Node, depth: int, pointee: bool) -> Grade:
        p = use.parent
        if pointee and p is not None and (
                (p.type == "pointer_expression" and self._text[p.start_byte] == 0x2A)
                or (p.type in ("subscript_expression", "field_expression")
                    and p.child_by_field_name("argument") == use)):
            return classify(p, self._text, self, depth + 1)
        return classify(use, self._text, self, depth + 1)

    def _grade_local(self, name: str, defined_at: Node | int, after: int, depth: int,
                     pointee: bool) -> Grade:
        uses = sorted(self._build().get(name, ()), key=lambda n: n.start_byte)
        writes = [(u, w) for u in uses if (w := self._write(u)) is not None]
        loops = [] if isinstance(defined_at, int) else enclosing_loops(defined_at)
        # A write after the definition that always runs before the loop turns ends the
        # value before the back edge.
        def_end = after
        if not isinstance(defined_at, int):
            own = self._write(defined_at)
            def_end = own.end_byte if own is not None else defined_at.end_byte
        grades = []
        for use in uses:
            if self._write(use) is not None or use.start_byte == after:
                continue  # a write, or the definition itself
            if use.start_byte > after:
                killers = [w for _u, w in writes if w.start_byte >= def_end]
            else:
                loop = next((lp for lp in loops if lp.start_byte <= use.start_byte), None)
                if loop is None:
                    continue  # earlier code outside any loop around the definition
                body = loop.child_by_field_name("body") or loop
                if any(w.start_byte >= def_end and w.end_byte <= loop.end_byte
                       and unconditional_within(w, body) for _u, w in writes):
                    continue  # replaced before the loop comes round
                killers = [w for _u, w in writes if w.start_byte >= loop.start_byte]
            if any(before_on_every_path(w, use) for w in killers):
                continue
            grades.append(self._use(use, depth, pointee))
        return riskiest(grades)
