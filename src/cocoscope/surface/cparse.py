"""tree-sitter-c plumbing shared by both scanner passes: parsing, functions, macros, callees.

A macro body is parsed on its own, wrapped in a dummy function, so calls inside ``#define``
bodies are analysed like any other code and keep their real line numbers.
"""

from __future__ import annotations

import bisect
import operator
import re
from dataclasses import dataclass
from functools import cache

import tree_sitter as ts
import tree_sitter_c as tsc

from cocoscope.surface.neutralise import INIT_RE, neutralise
from cocoscope.surface.preproc import Defines, blank_inactive

Node = ts.Node

_WRAP_HEAD = b"void __cocoscope_macro__(void) { "
_WRAP_TAIL = b" ;}\n"
# `#x` stringification and `a ## b` pasting mean nothing to a C parser; blank the operators.
_PASTE_RE = re.compile(rb"##|#(?=\s*\w)")


@cache
def language() -> ts.Language:
    return ts.Language(tsc.language())


@cache
def query(source: str) -> ts.Query:
    return ts.Query(language(), source)


def parser() -> ts.Parser:
    return ts.Parser(language())


def captures(pattern: str, node: Node) -> dict[str, list[Node]]:
    """Captures by name, each list in document order (the binding does not promise an order,
    and results must not depend on it)."""
    caps = ts.QueryCursor(query(pattern)).captures(node)
    return {name: _document_order(nodes) for name, nodes in caps.items()}


_START = operator.attrgetter("start_byte")
_FIRST = operator.itemgetter(0)


def _document_order(nodes: list[Node]) -> list[Node]:
    """``nodes`` by start, enclosing before enclosed. The binding returns most lists out of
    order: they are sorted by start alone (a key read in C, no Python call per node), which
    is the answer when no two nodes start together; otherwise by start and then end, longest
    first."""
    ordered = sorted(nodes, key=_START)
    starts = list(map(_START, ordered))
    if len(set(starts)) == len(starts):
        return ordered
    return sorted(nodes, key=lambda n: (n.start_byte, -n.end_byte))


@dataclass(frozen=True)
class Body:
    """A unit that owns calls: a function definition or a macro body."""

    name: str
    kind: str  # "function" | "macro"
    node: Node  # function_definition / wrapper function of a macro body
    params: tuple[str, ...]
    static: bool
    in_init: bool
    line: int  # 1-based line of the definition
    line_shift: int  # add to a node's row to get the file's 0-based row
    pointers: frozenset[str] = frozenset()  # parameters declared as pointers or arrays


@dataclass(frozen=True)
class ParsedFile:
    text: bytes  # neutralised source
    tree: ts.Tree
    bodies: tuple[Body, ...]
    error_ranges: tuple[tuple[int, int, int], ...]  # (start byte, end byte, 1-based line)
    caps: dict[str, list[Node]]  # MAIN_QUERY captures of the file
    macro_text: bytes  # the wrapped macro bodies (the text of macro Body nodes)
    macro_caps: dict[str, list[Node]]  # BODY_QUERY captures of the macro unit
    conditionals: tuple[int, int] = (0, 0)  # #if blocks decided by the config, left undecided

    def text_of(self, body: Body) -> bytes:
        return self.macro_text if body.kind == "macro" else self.text


def node_text(text: bytes, node: Node) -> str:
    return text[node.start_byte:node.end_byte].decode("utf-8", "replace")


def _kind_ids(*names: str) -> frozenset[int]:
    """The symbol ids of node types ``names``: ``Node.kind_id``, an int, is cheaper to read
    than ``Node.type``, a new string each time (read for every function and parameter)."""
    lang = language()
    return frozenset(i for i in range(lang.node_kind_count) if lang.node_kind_for_id(i) in names)


_FUNCTION_DECLARATOR, _PARAMETER, _VARIADIC, _STORAGE_CLASS, _IDENTIFIER = map(_kind_ids, (
    "function_declarator", "parameter_declaration", "variadic_parameter",
    "storage_class_specifier", "identifier"))
_NAME = _kind_ids("identifier", "field_identifier")
_POINTER_OR_ARRAY = _kind_ids("pointer_declarator", "array_declarator")


def _declarator_name(node: Node | None, text: bytes | None = None) -> tuple[str, Node | None]:
    """Name and function_declarator inside a (possibly pointer-wrapped) declarator; ``text``,
    the source the tree was parsed from, saves ``Node.text``."""
    fdecl = None
    while node is not None:
        k = node.kind_id
        if fdecl is None and k in _FUNCTION_DECLARATOR:
            fdecl = node
        if k in _NAME:
            if text is not None:
                return text[node.start_byte:node.end_byte].decode(), fdecl
            return (node.text or b"").decode(), fdecl
        node = node.child_by_field_name("declarator")
    return "", fdecl


def _params(fdecl: Node | None, text: bytes | None = None) -> tuple[tuple[str, ...], frozenset[str]]:
    """A function's parameter names by position and those declared as pointers or arrays."""
    if fdecl is None:
        return (), frozenset()
    plist = fdecl.child_by_field_name("parameters")
    names: list[str] = []
    pointers = set()
    for p in plist.named_children if plist else ():
        k = p.kind_id
        if k in _PARAMETER:
            decl = p.child_by_field_name("declarator")
            name = _declarator_name(decl, text)[0]
            names.append(name)
            if decl is not None and decl.kind_id in _POINTER_OR_ARRAY:
                pointers.add(name)
        elif k in _IDENTIFIER:  # K&R style or macro params
            names.append(text[p.start_byte:p.end_byte].decode() if text is not None
                         else (p.text or b"").decode())
        elif k in _VARIADIC:
            names.append("...")
    return tuple(names), frozenset(pointers)


# Control statements (@k): pass 1 finds what encloses a node by their byte spans
# (control.Statements); the query walks the tree anyway, so the capture costs little.
STATEMENTS_QUERY = ("[(if_statement) (while_statement) (for_statement) (do_statement) "
               "(switch_statement)] @k")
MAIN_QUERY = ("(function_definition) @f (call_expression) @c (assignment_expression) @a "
              "(init_declarator) @d (return_statement) @r (ERROR) @e "
              "(subscript_expression index: (_) @x) "
              "(preproc_function_def) @m (preproc_def) @m (preproc_include path: (_) @i) " + STATEMENTS_QUERY)
BODY_QUERY = ("(function_definition) @f (call_expression) @c (assignment_expression) @a "
              "(init_declarator) @d (return_statement) @r (subscript_expression index: (_) @x) "
              + STATEMENTS_QUERY)


def _error_ranges(errors: list[Node]) -> tuple[tuple[int, int, int], ...]:
    """Byte ranges tree-sitter could not attach to any syntax: the tokens sitting directly in
    ERROR nodes. An ERROR node often wraps whole functions it did parse (e.g. everything after
    an unbalanced #ifdef); those are analysed normally and are not counted as lost."""
    spans = sorted((c.start_byte, c.end_byte, c.start_point.row + 1)
                   for n in errors for c in n.children
                   if c.child_count == 0 and c.type != "comment" and c.end_byte > c.start_byte)
    merged: list[tuple[int, int, int]] = []
    for s, e, line in spans:
        if merged and s <= merged[-1][1] + 8:  # neighbouring tokens: one lost range
            ps, pe, pl = merged[-1]
            merged[-1] = (ps, max(pe, e), pl)
        else:
            merged.append((s, e, line))
    return tuple(merged)


def _balanced(raw: bytes) -> bool:
    return raw.count(b"(") == raw.count(b")") and raw.count(b"{") == raw.count(b"}")


# name, params, line, row shift, offset in the unit, (start, end) of the body in the file
MacroMeta = tuple[str, tuple[str, ...], int, int, int, tuple[int, int]]


def _macro_unit(text: bytes, macros: list[Node],
                ) -> tuple[bytes, list[MacroMeta], list[tuple[int, int, int]]]:
    """All macro bodies that can contain calls, each wrapped in a dummy function, one buffer.

    One parse for all of a file's macros costs far less than one parse per macro. A body with
    unbalanced brackets (a macro that opens a block another one closes) would swallow its
    neighbours, so it is left out of the unit and its bytes are returned as lost (the caller
    reports them and recovers calls from them textually).
    """
    lost: list[tuple[int, int, int]] = []
    parts: list[bytes] = []
    meta: list[MacroMeta] = []
    row = offset = 0
    for m in macros:
        name_node = m.child_by_field_name("name")
        value = m.child_by_field_name("value")
        if name_node is None or value is None:
            continue
        raw = text[value.start_byte:value.end_byte]
        if b"(" not in raw:  # no call possible
            continue
        raw = _PASTE_RE.sub(lambda mm: b" " * len(mm.group()), raw.replace(b"\\\n", b" \n"))
        if not _balanced(raw):
            lost.append((value.start_byte, value.end_byte, value.start_point.row + 1))
            continue
        pnode = m.child_by_field_name("parameters")
        params = _macro_params(pnode, text) if pnode is not None else ()
        parts.append(_WRAP_HEAD + raw + _WRAP_TAIL)
        meta.append((node_text(text, name_node), params, m.start_point.row + 1,
                     value.start_point.row - row, offset, (value.start_byte, value.end_byte)))
        row += raw.count(b"\n") + 1
        offset += len(parts[-1])
    return b"".join(parts), meta, lost


def _macro_params(pnode: Node, text: bytes) -> tuple[str, ...]:
    """A macro's parameter names by position; a variadic one is named as its body spells it
    and marked with a trailing "...": `(fmt, arg...)` -> ("fmt", "arg..."), `(fmt, ...)` ->
    ("fmt", "__VA_ARGS__...")."""
    names: list[str] = []
    after_name = False
    for c in pnode.children:
        if c.type == "identifier":
            names.append(node_text(text, c))
            after_name = True
        elif node_text(text, c) == "...":
            if after_name and names:
                names[-1] += "..."
            else:
                names.append("__VA_ARGS__...")
            after_name = False
        elif c.type == ",":
            after_name = False
    return tuple(names)


def _function_body(fn: Node, data: bytes, shift: int, text: bytes | None = None) -> Body | None:
    """``data`` is the file before neutralising (for `__init`), ``text`` the parsed source."""
    name, fdecl = _declarator_name(fn.child_by_field_name("declarator"), text)
    body = fn.child_by_field_name("body")
    if not name or body is None:
        return None
    head = data[fn.start_byte:body.start_byte]
    static = b"static" in head and any(
        c.kind_id in _STORAGE_CLASS and c.text == b"static" for c in fn.children)
    params, pointers = _params(fdecl, text)
    return Body(name, "function", fn, params, static, bool(INIT_RE.search(head)),
                fn.start_point.row + 1, shift, pointers)


def parse(data: bytes, defines: Defines | None = None) -> ParsedFile:
    """Parse one file; with a config's ``defines``, branches it does not build are blanked."""
    conditionals = (0, 0)
    if defines is not None and b"#" in data:
        data, decided, undecided = blank_inactive(data, defines)
        conditionals = (decided, undecided)
    text = neutralise(data)
    p = parser()
    tree = p.parse(text)
    caps = captures(MAIN_QUERY, tree.root_node)
    bodies = [b for fn in caps.get("f", ()) if (b := _function_body(fn, data, 0, text)) is not None]
    mtext, meta, lost = _macro_unit(text, caps.get("m", []))
    mtree = p.parse(mtext) if mtext else None
    mcaps = captures(BODY_QUERY, mtree.root_node) if mtree is not None else {}
    wrappers = {n.start_byte: n for n in mcaps.get("f", ())}
    for name, params, line, shift, offset, (start, end) in meta:
        fn = wrappers.get(offset)
        if fn is not None:
            bodies.append(Body(name, "macro", fn, params, False, False, line, shift))
        else:  # the body broke its wrapper: report its bytes as lost
            lost.append((start, end, line))
    errors = tuple(sorted(_error_ranges(caps.get("e", [])) + tuple(lost)))
    return ParsedFile(text, tree, tuple(bodies), errors, caps, mtext, mcaps, conditionals)


class BodyIndex:
    """Finds the function owning a byte offset (functions do not nest in C)."""

    def __init__(self, bodies: tuple[Body, ...], kind: str = "function") -> None:
        self._funcs = sorted(((b.node.start_byte, b.node.end_byte, b) for b in bodies
                              if b.kind == kind), key=_FIRST)
        self._starts = [s for s, _, _ in self._funcs]

    def spans(self) -> list[tuple[int, int, Body]]:
        """(first, end, body) of each body: ``at`` answers the body for an offset in
        [first, end) and None between them (the end is cut at the next body's start, as
        ``at`` takes the last body starting at or before an offset)."""
        funcs = self._funcs
        return [(s, min(e, funcs[i + 1][0]) if i + 1 < len(funcs) else e, b)
                for i, (s, e, b) in enumerate(funcs)]

    def at(self, offset: int) -> Body | None:
        i = bisect.bisect_right(self._starts, offset) - 1
        if i >= 0 and self._funcs[i][1] > offset:
            return self._funcs[i][2]
        return None


def callee_name(call: Node, text: bytes | None = None) -> str:
    """`foo` for foo(...), `ops->get` for x->ops->get(...); "" for calls through expressions.
    ``text`` is the source the tree was parsed from: slicing it is cheaper than ``Node.text``."""
    fn = call.child_by_field_name("function")
    if fn is None:
        return ""
    t = fn.type
    if t == "identifier":
        if text is not None:
            return text[fn.start_byte:fn.end_byte].decode()
        return (fn.text or b"").decode()
    if t == "field_expression":
        field = fn.child_by_field_name("field")
        obj = fn.child_by_field_name("argument")
        if field is None or obj is None:
            return ""
        base = obj
        if obj.type == "field_expression":
            base = obj.child_by_field_name("field") or obj
        if base.type not in ("identifier", "field_identifier"):
            return "->" + (field.text or b"").decode()
        return f"{(base.text or b'').decode()}->{(field.text or b'').decode()}"
    return ""


_NAMED_CALL = re.compile(rb"([A-Za-z_]\w*)\s*\(")
# Words a call's function can start with that are no identifier: the grammar's keywords,
# primitive types and literals (`asm(...)(...)`, `sizeof(x)`, `size_t(x)`, `NULL(x)`).
_NOT_NAMES_EXTRA = frozenset({
    "TRUE", "FALSE", "true", "false", "NULL", "nullptr", "bool", "char", "int", "float",
    "double", "void", "size_t", "ssize_t", "ptrdiff_t", "intptr_t", "uintptr_t", "charptr_t",
    "nullptr_t", "max_align_t", "char8_t", "char16_t", "char32_t",
    *(f"{u}int{n}_t" for u in ("", "u") for n in (8, 16, 32, 64))})


@cache
def _not_names() -> frozenset[str]:
    lang = language()
    words = (lang.node_kind_for_id(i) or "" for i in range(lang.node_kind_count)
             if not lang.node_kind_is_named(i))
    return frozenset(w for w in words if re.fullmatch(r"[A-Za-z_]\w*", w)) | _NOT_NAMES_EXTRA


def callee_names(calls: list[Node], text: bytes) -> list[str]:
    """callee_name of each of ``calls`` (call nodes in document order). A call whose bytes
    start `name(` calls that name, read from the bytes without asking the tree for its
    function, unless another call starts at the same byte: then one of them is `name(...)`
    and the other calls its result (`f(x)(y)`, `f(x)->op(y)`) and the tree says which."""
    out = []
    match, not_names = _NAMED_CALL.match, _not_names()
    starts = list(map(_START, calls))  # each read once (the neighbours' too), in C
    last = len(calls) - 1
    for i, start in enumerate(starts):
        m = match(text, start)
        if m is not None and (name := m.group(1).decode()) not in not_names and (
                i == 0 or starts[i - 1] != start) and (i == last or starts[i + 1] != start):
            out.append(name)
        else:
            out.append(callee_name(calls[i], text))
    return out


def call_nodes(node: Node) -> list[Node]:
    return captures("(call_expression) @c", node).get("c", [])


def is_cast_call(call: Node) -> bool:
    """`(u32)(x)` parsed as a call of the parenthesised type name `(u32)`: really a cast."""
    fn = call.child_by_field_name("function")
    if fn is None or fn.type != "parenthesized_expression" or fn.named_child_count != 1:
        return False
    inner = fn.named_children[0]
    return inner.type in ("identifier", "primitive_type", "type_identifier")


def call_args(arglist: Node) -> list[Node]:
    """A call's arguments by position. Macro calls pass types (`virtio_cread(vdev, struct
    virtio_blk_config, capacity, &v)`), which tree-sitter splits into an ERROR and an
    identifier: positions are counted by commas, and a slot's last named node stands for it."""
    n = arglist.named_child_count
    if arglist.child_count == 2 * n + 1 and not arglist.has_error:
        # `(a, b, c)`: n slots, n - 1 commas, nothing else (no comment, no ERROR)
        return arglist.named_children
    out: list[Node] = []
    slot: Node | None = None
    for c in arglist.children:
        if c.type in (",", ")"):
            if slot is not None:
                out.append(slot)
            slot = None
        elif c.is_named and c.type not in ("comment", "ERROR"):
            slot = c
    return out


def arg_position(arglist: Node, child: Node) -> int:
    """1-based position of argument node ``child`` in ``arglist`` (counted by commas)."""
    pos = 1
    for c in arglist.children:
        if c.id == child.id:
            return pos
        if c.type == ",":
            pos += 1
    return pos
