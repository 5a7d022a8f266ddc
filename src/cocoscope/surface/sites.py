"""Pass 2: every call of a (primitive or derived) source in one file, located and graded."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import partial

from cocoscope.surface.cparse import (
    Body,
    BodyIndex,
    Node,
    ParsedFile,
    call_args,
    callee_name,
    captures,
    node_text,
)
from cocoscope.surface.dataflow import int_literal
from cocoscope.surface.grade import (
    MAX_DEPTH,
    POLL_MACROS,
    TABLE_CALLBACKS,
    Grade,
    classify,
    riskiest,
    strip,
    written_into,
)
from cocoscope.surface.literals import Expr, switched_off
from cocoscope.surface.paths import ancestors
from cocoscope.surface.sinks import SinkInfo, kind_at
from cocoscope.surface.tracer import ParamUse, UseTracer


@dataclass(frozen=True)
class SourceRef:
    """What pass 2 needs to know about a source called in the file."""

    name: str
    returns: bool
    out_args: frozenset[int]
    event: bool  # no value flows: the site is the call itself
    global_object: bool  # a global read, not a call
    guards: tuple[tuple[int, int, bool], ...] = ()  # derive.Source.guards
    counts: tuple[tuple[int, Expr], ...] = ()  # derive.Source.counts
    # the integer macros the file can name, when ``counts`` needs them (literals.py)
    constants: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True)
class RawSite:
    callee: str
    line: int
    column: int
    function: str
    in_init: bool
    in_macro: bool
    grade: Grade
    first_arg: str  # literal text of the first argument (CPUID leaf, MSR name)
    recovered: bool  # found by the fallback in bytes tree-sitter could not parse
    note: str = ""  # why the grade is `unknown`
    # Literal text of the first arguments (the MSR of rdmsr_on_cpu(cpu, msr, ...) is the 2nd).
    args: tuple[str, ...] = ()


_NULLS = frozenset({"NULL", "0", "nullptr"})
_ARG_TEXTS = 4  # argument texts kept per site (trust decoding reads the MSR argument)


def _arg_grade(arg: Node, text: bytes, tracer: UseTracer, params: tuple[str, ...]) -> Grade:
    """Grade a value a source writes through its out-argument ``arg``, by the target's kind:
    a local (its uses), a pointer local or array (uses of what it points at), the caller's
    pointer parameter or a local copy of it (`returned`), a global, field or element
    (`stored`), NULL or a literal (`discarded`: the value goes nowhere)."""
    arg = strip(arg)
    if arg.type in ("number_literal", "null", "string_literal", "char_literal") or \
            node_text(text, arg) in _NULLS:
        return Grade.DISCARDED
    arg = _address_base(arg, text, tracer, params)
    if arg.type == "pointer_expression" and text[arg.start_byte:arg.start_byte + 1] == b"&":
        inner = arg.child_by_field_name("argument")
        while inner is not None and inner.type == "parenthesized_expression" \
                and inner.named_children:
            inner = inner.named_children[0]
        if inner is not None and inner.type == "identifier":
            name = node_text(text, inner)
            if tracer.is_local(name):  # locals and the function's own parameters
                return tracer.grade_local(name, inner, 0)
        # &global, &s->field: the value lands in memory; &data[i] of the caller's `data`
        # is the caller's memory
        return written_into(inner, text, tracer) if inner is not None else Grade.STORED
    if arg.type == "identifier":
        name = node_text(text, arg)
        if name in params or tracer.caller_memory(name, True):
            return tracer.into_caller(name)  # written through the caller's pointer (or a copy)
        if tracer.is_pointer(name):
            pointee = tracer.grade_pointee(name, arg)
            # `cap = &save_state->cap.data[0]; read(..., cap)`: the value lands in a structure
            return riskiest([Grade.STORED, pointee]) if tracer.points_into_structure(name) \
                else pointee
        if tracer.is_local(name):  # an lvalue a macro assigns (rdmsr(msr, lo, hi))
            return tracer.grade_local(name, arg, 0)
    # `*lo` given to a macro that assigns it, `buf + off` to a source that fills it
    return written_into(arg, text, tracer)


def _address_base(arg: Node, text: bytes, tracer: UseTracer, params: tuple[str, ...]) -> Node:
    """The address an out-argument computes its pointer from, where that decides where the
    value lands: `(u32 *)&count + 1` writes into `count` (uncore_snbep.c:601 fills the high
    half of a local), `buf + off` into the caller's memory when `buf` is the caller's
    pointer, into the function's own array `buf` (followed through its uses). An
    out-argument is a pointer, so `+`/`-` on it is pointer arithmetic and its left operand
    the base. `p + i` of any other pointer stays what `&p[i]` is (an element: `stored`)."""
    node = arg
    while node.type == "binary_expression":
        op = node.child_by_field_name("operator")
        left = node.child_by_field_name("left")
        if op is None or op.type not in ("+", "-") or left is None:
            return arg
        node = strip(left)
    if node.type == "pointer_expression" and text[node.start_byte:node.start_byte + 1] == b"&":
        return node
    if node.type == "identifier":
        name = node_text(text, node)
        if name in params or tracer.caller_memory(name, True) or tracer.is_own_array(name):
            return node
    return arg


class Tracers:
    """One UseTracer per body of a file, wired so that a value passed into a function of the
    same file is graded by how that function uses the parameter."""

    def __init__(self, parsed: ParsedFile, sources: dict[str, SourceRef],
                 sinks: dict[str, SinkInfo] | None = None) -> None:
        self._parsed = parsed
        self._sources = sources
        self._sinks = sinks or {}
        self._tracers: dict[int, UseTracer] = {}
        # Same-file functions, and function-like macros where no function has the name
        # (`*(ptr) = virtio_to_cpu(vdev, v)` in virtio_cread: the macro's value is v's)
        self._functions = {b.name: b for b in parsed.bodies if b.kind == "macro" and b.params}
        self._functions.update((b.name, b) for b in parsed.bodies if b.kind == "function")
        self._params: dict[tuple[str, int, str], ParamUse | None] = {}
        self._nesting = 0  # same-file calls being graded inside each other right now

    def for_body(self, body: Body) -> UseTracer:
        tracer = self._tracers.get(body.node.id)
        if tracer is None:
            tracer = self._tracers[body.node.id] = UseTracer(
                body.node, self._parsed.text_of(body), self.parameter_grade,
                partial(self.writes_arg, text=self._parsed.text_of(body)),
                tuple(p.removesuffix("...") for p in body.params), body.kind == "macro",
                self.sink_kind, _arg_grade)
        return tracer

    def sink_kind(self, name: str, position: int) -> str:
        info = self._sinks.get(name)
        return kind_at(info, position) if info else ""

    def writes_arg(self, call: Node, position: int, text: bytes) -> bool:
        src = lookup(self._sources, callee_name(call))
        if src is None or position not in src.out_args:
            return False
        args = call.child_by_field_name("arguments")
        return not (src.guards or src.counts) or args is None or \
            position not in _write_direction(src, call_args(args), text)

    def parameter_grade(self, function: str, position: int, depth: int, field: str = "",
                        ) -> ParamUse | None:
        """How ``function`` of this file uses its parameter (or the parameter's ``field``)
        and whether it returns it (tracer.UseTracer.grade_parameter).

        The answer is cached per (function, parameter, field), so it must not depend on
        where the call was found: the function is graded from depth 0 (its own copies count
        against the limit, the caller's do not), never from the caller's depth. Only calls
        nested more than MAX_DEPTH deep are cut: `unknown`, not cached."""
        key = (function, position, field)
        if key in self._params:
            return self._params[key]
        body = self._functions.get(function)
        if body is None or position > len(body.params) or body.params[position - 1] in ("", "..."):
            return None
        if body.kind == "macro" and self.sink_kind(function, position):
            return None  # a derived sink or value macro (sinks.py) says what it does
        if self._nesting >= MAX_DEPTH:
            return Grade.UNKNOWN, False, frozenset()
        self._params[key] = None  # recursion guard: f(x) calling f(x)
        inner = body.node.child_by_field_name("body")
        start = inner.start_byte if inner is not None else body.node.start_byte
        self._nesting += 1
        try:
            found = self.for_body(body).grade_parameter(body.params[position - 1], start, 0,
                                                        field)
        finally:
            self._nesting -= 1
        self._params[key] = found
        return found


def _write_direction(src: SourceRef, args: list[Node], text: bytes) -> set[int]:
    """Out-arguments this call cannot fill: their guard argument is a literal that selects
    the other direction (`ghes_copy_tofrom_phys(buf, pa, len, 0, idx)` writes buf)."""
    off = set()
    for out, guard, truthy in src.guards:
        if guard <= len(args):
            value = int_literal(node_text(text, args[guard - 1]))
            if value is not None and bool(value) != truthy:
                off.add(out)
    if src.counts:  # a command argument that receives nothing (i8042 WCTR): literals.py
        off |= switched_off(src.counts, args, text, dict(src.constants))
    return off


def _site(call: Node, src: SourceRef, body: Body | None, text: bytes,
          tracers: Tracers) -> RawSite | None:
    grades: list[Grade] = []
    tracer = tracers.for_body(body) if body is not None else None
    if tracer is not None:
        tracer.note = ""
    args = call.child_by_field_name("arguments")
    arg_nodes = call_args(args) if args is not None else []
    if src.event:
        grades.append(_callback_grade(src.name, arg_nodes, text, tracers) or Grade.EVENT)
    if src.returns and not src.event:
        grades.append(classify(call, text, tracer))
    if src.out_args and tracer is not None:
        params = body.params if body is not None else ()
        off = _write_direction(src, arg_nodes, text)
        for k in sorted(src.out_args - off):
            if k <= len(arg_nodes):
                grades.append(_arg_grade(arg_nodes[k - 1], text, tracer, params))
        if off and not grades and not src.returns:
            return None  # a read/write helper called to write: nothing comes from the host
    texts = tuple(text[a.start_byte:a.end_byte].decode("utf-8", "replace")[:80]
                  for a in arg_nodes[:_ARG_TEXTS])
    first = texts[0] if texts else ""
    shift = body.line_shift if body is not None else 0
    grade = riskiest(grades)
    note = tracer.note if tracer is not None and grade is Grade.UNKNOWN else ""
    return RawSite(src.name, call.start_point.row + shift + 1, call.start_point.column + 1,
                   body.name if body is not None else "", bool(body and body.in_init),
                   bool(body and body.kind == "macro"), grade, first, False, note, texts)


def _callback_grade(walker: str, args: list[Node], text: bytes, tracers: Tracers) -> Grade | None:
    """`acpi_table_parse_cedt(id, acpi_parse_cfmws, arg)`: the host table entries reach the
    callback's first parameter, graded by the callback's use of it when it is defined in the
    same file (None otherwise: the call stays an event)."""
    pos = TABLE_CALLBACKS.get(walker, 0)
    if not pos or pos > len(args):
        return None
    handler = strip(args[pos - 1])
    if handler.type != "identifier":
        return None
    found = tracers.parameter_grade(node_text(text, handler), 1, 1)
    if found is None:
        return None
    # what the callback writes through its other pointer parameters reaches the walker's
    # caller by a route this does not follow: `returned`, as written into the caller's memory
    return riskiest([found[0], Grade.RETURNED]) if found[2] else found[0]


def _poll_site(call: Node, poll: tuple[int, int, int], sources: dict[str, SourceRef],
               index: BodyIndex, text: bytes, tracers: Tracers) -> RawSite | None:
    """`read_poll_timeout(inb, val, cond, ..., port)`: the accessor, named as an argument, is
    called by the macro and its value lands in ``val``; the site is the accessor's name."""
    args_node = call.child_by_field_name("arguments")
    args = call_args(args_node) if args_node is not None else []
    if len(args) < poll[2]:
        return None
    op = strip(args[poll[0] - 1])
    src = lookup(sources, node_text(text, op)) if op.type == "identifier" else None
    body = index.at(call.start_byte)
    if src is None or not src.returns or src.event or src.global_object or body is None:
        return None
    tracer = tracers.for_body(body)
    tracer.note = ""
    grade = _arg_grade(args[poll[1] - 1], text, tracer, body.params)
    # The accessor's own first argument: readx's `addr`, or the first of read_poll_timeout's
    # trailing `args...` (after op, val, cond, sleep, timeout, sleep_before_read).
    first = args[1] if poll[1] == 3 else args[6] if len(args) > 6 else None
    return RawSite(src.name, op.start_point.row + 1, op.start_point.column + 1, body.name,
                   body.in_init, False, grade,
                   node_text(text, first)[:80] if first is not None else "", False,
                   tracer.note if grade is Grade.UNKNOWN else "")


def lookup(sources: dict[str, SourceRef], name: str) -> SourceRef | None:
    """A source by callee name; `p->serial_in(...)` also matches a catalogue `->serial_in`."""
    src = sources.get(name)
    if src is None and "->" in name:
        src = sources.get("->" + name.rsplit("->", 1)[1])
    return src


# `name(` at a call's start: the callee is that name, or an expression that starts with a
# call of it (`f(x)->op(y)`, `f(x)(y)`) whose callee_name is "" or a `->` name.
_PLAIN_CALL = re.compile(rb"([A-Za-z_][A-Za-z0-9_]*)\(")


def _plain_names(sources: dict[str, SourceRef]) -> frozenset[bytes] | None:
    """The names a call starting `name(` must have to be a site (a source or a poll macro),
    when no source is called through a field: any other such call is no site, told without
    walking its nodes. None when some source has a `->` name (`f(x)->op(y)` may be one)."""
    if any("->" in name for name in sources):
        return None
    return frozenset(n.encode() for n in (*sources, *POLL_MACROS))


def find_sites(parsed: ParsedFile, sources: dict[str, SourceRef],
               sinks: dict[str, SinkInfo] | None = None) -> list[RawSite]:
    """Every site of the file; ``sinks`` are the derived sinks its callees resolve to."""
    # The ancestors kept while grading keep their trees alive: only this file's, and none
    # after it (a worker's memory stays its files' one at a time)
    ancestors.cache_clear()
    try:
        return _file_sites(parsed, sources, sinks)
    finally:
        ancestors.cache_clear()


def _file_sites(parsed: ParsedFile, sources: dict[str, SourceRef],
                sinks: dict[str, SinkInfo] | None) -> list[RawSite]:
    out: list[RawSite] = []
    text = parsed.text
    index = BodyIndex(parsed.bodies)
    mindex = BodyIndex(parsed.bodies, "macro")
    tracers = Tracers(parsed, sources, sinks)
    plain = _plain_names(sources)
    for call in parsed.caps.get("c", ()):
        if plain is not None:
            m = _PLAIN_CALL.match(text, call.start_byte)
            if m is not None and m.group(1) not in plain:
                continue  # most of a file's calls: no source, told from the bytes
        name = callee_name(call)
        src = lookup(sources, name)
        if src is not None and not src.global_object and not _to_device(call, src, text):
            site = _site(call, src, index.at(call.start_byte), text, tracers)
        elif name in POLL_MACROS:
            site = _poll_site(call, POLL_MACROS[name], sources, index, text, tracers)
        else:
            continue
        if site is not None:
            out.append(site)
    for call in parsed.macro_caps.get("c", ()):
        src = lookup(sources, callee_name(call))
        body = mindex.at(call.start_byte)
        if src is not None and not src.global_object and body is not None \
                and not _to_device(call, src, parsed.macro_text) \
                and (site := _site(call, src, body, parsed.macro_text, tracers)):
            out.append(site)
    globals_ = [s for s in sources.values() if s.global_object]
    if globals_:
        pattern = "(identifier) @i"
        for ident in captures(pattern, parsed.tree.root_node).get("i", ()):
            name = text[ident.start_byte:ident.end_byte].decode("utf-8", "replace")
            src = sources.get(name)
            if src is None or not src.global_object:
                continue
            if ident.parent is not None and ident.parent.type in _DECLARING:
                continue  # `struct boot_params boot_params;` declares, it does not read
            owner = index.at(ident.start_byte)
            tracer = tracers.for_body(owner) if owner else None
            # The global is a structure: grade the use of the field read from it.
            node = ident
            while node.parent is not None and node.parent.type == "field_expression" \
                    and node.parent.child_by_field_name("argument") == node:
                node = node.parent
            if not _read(node, ident, text):
                continue
            out.append(RawSite(name, ident.start_point.row + 1, ident.start_point.column + 1,
                               owner.name if owner else "", bool(owner and owner.in_init), False,
                               classify(node, text, tracer), "", False))
    out.extend(_recovered(parsed, sources, {(s.line, s.callee) for s in out}, index))
    return out


# C library copies that only write their first argument (the destination).
_WRITE_ONLY_DEST = frozenset({"memcpy", "memmove", "memset", "memzero_explicit", "strcpy",
                              "strncpy", "strscpy", "strscpy_pad", "strlcpy"})


def _copy_destination(node: Node, text: bytes) -> bool:
    """``&global...`` (through casts) is the destination of a write-only copy:
    `memcpy(&boot_params, real_mode_data, sizeof(boot_params))` writes the guest's copy."""
    p = node.parent
    if p is None or p.type != "pointer_expression" or text[p.start_byte:p.start_byte + 1] != b"&":
        return False
    while p.parent is not None and p.parent.type in ("cast_expression",
                                                     "parenthesized_expression"):
        p = p.parent
    args = p.parent
    if args is None or args.type != "argument_list" or args.parent is None:
        return False
    return args.parent.type == "call_expression" and \
        callee_name(args.parent) in _WRITE_ONLY_DEST and args.named_children[:1] == [p]


def _read(node: Node, ident: Node, text: bytes) -> bool:
    """Does this mention of a host-data global read it? Not when it is only the target of a
    plain assignment (`boot_params.hdr.type_of_loader = ...` fills the guest's own copy), the
    destination of a write-only copy (`memcpy(&boot_params, ...)`, `strscpy(...)`), or under
    sizeof/typeof (only its type is used)."""
    if _copy_destination(node, text):
        return False
    parent = node.parent
    if parent is not None and parent.type == "assignment_expression" and \
            parent.child_by_field_name("left") == node:
        op = parent.child_by_field_name("operator")
        if op is not None and op.type == "=":
            return False
    p = ident.parent
    while p is not None and p.type not in ("expression_statement", "compound_statement",
                                           "function_definition", "declaration"):
        if p.type in ("sizeof_expression", "alignof_expression", "offsetof_expression") or (
                p.type == "call_expression" and callee_name(p) in ("typeof", "__typeof__")):
            return False
        p = p.parent
    return True


def _to_device(call: Node, src: SourceRef, text: bytes) -> bool:
    """An unmap or sync of a buffer mapped DMA_TO_DEVICE: the device only read it, so the CPU
    gets nothing from the host there (smatch's rule too)."""
    if not src.event or not src.name.startswith(("dma_unmap", "dma_sync")):
        return False
    args = call.child_by_field_name("arguments")
    return args is not None and any(node_text(text, a) == "DMA_TO_DEVICE"
                                    for a in args.named_children)


_DECLARING = frozenset({"init_declarator", "pointer_declarator", "array_declarator",
                        "parameter_declaration", "declaration", "function_declarator"})
_CALL_RE = re.compile(rb"\b([A-Za-z_]\w*)\s*\(")


def _recovered(parsed: ParsedFile, sources: dict[str, SourceRef],
               seen: set[tuple[int, str]], index: BodyIndex) -> list[RawSite]:
    """Calls of sources inside unparsed byte ranges: reported, graded unknown, never dropped."""
    out = []
    text = parsed.text
    for start, end, _line in parsed.error_ranges:
        for m in _CALL_RE.finditer(text, start, end):
            name = m.group(1).decode()
            if name not in sources or sources[name].global_object:
                continue
            line = text.count(b"\n", 0, m.start()) + 1
            if (line, name) in seen:
                continue
            body = index.at(m.start())
            col = m.start() - (text.rfind(b"\n", 0, m.start()) + 1) + 1
            out.append(RawSite(name, line, col, body.name if body else "",
                               bool(body and body.in_init), False, Grade.UNKNOWN, "", True))
    return out
