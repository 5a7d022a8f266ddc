"""tree-sitter-c plumbing shared by both scanner passes: parsing, functions, macros, callees.

A macro body is parsed on its own, wrapped in a dummy function, so calls inside ``#define``
bodies are analysed like any other code and keep their real line numbers.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache

import tree_sitter as ts
import tree_sitter_c as tsc

from cocoscope.surface.neutralise import INIT_RE, neutralise

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
    return ts.QueryCursor(query(pattern)).captures(node)


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


@dataclass(frozen=True)
class ParsedFile:
    text: bytes  # neutralised source
    tree: ts.Tree
    bodies: tuple[Body, ...]
    error_ranges: tuple[tuple[int, int, int], ...]  # (start byte, end byte, 1-based line)


def node_text(text: bytes, node: Node) -> str:
    return text[node.start_byte:node.end_byte].decode("utf-8", "replace")


def _declarator_name(node: Node | None) -> tuple[str, Node | None]:
    """Name and function_declarator inside a (possibly pointer-wrapped) declarator."""
    fdecl = None
    while node is not None:
        if node.type == "function_declarator" and fdecl is None:
            fdecl = node
        if node.type in ("identifier", "field_identifier"):
            return (node.text or b"").decode(), fdecl
        node = node.child_by_field_name("declarator")
    return "", fdecl


def _param_names(fdecl: Node | None) -> tuple[str, ...]:
    if fdecl is None:
        return ()
    plist = fdecl.child_by_field_name("parameters")
    names: list[str] = []
    for p in plist.named_children if plist else ():
        if p.type == "parameter_declaration":
            names.append(_declarator_name(p.child_by_field_name("declarator"))[0])
        elif p.type in ("identifier",):  # K&R style or macro params
            names.append((p.text or b"").decode())
        elif p.type == "variadic_parameter":
            names.append("...")
    return tuple(names)


def _error_ranges(text: bytes, root: Node) -> tuple[tuple[int, int, int], ...]:
    spans = sorted((n.start_byte, n.end_byte, n.start_point.row + 1)
                   for n in captures("(ERROR) @e", root).get("e", ()))
    merged: list[tuple[int, int, int]] = []
    for s, e, line in spans:
        if merged and s < merged[-1][1]:  # nested inside the previous error: already lost
            ps, pe, pl = merged[-1]
            merged[-1] = (ps, max(pe, e), pl)
        else:
            merged.append((s, e, line))
    return tuple(merged)


def _macro_bodies(text: bytes, root: Node) -> Iterator[Body]:
    p = parser()
    caps = captures("[(preproc_function_def) (preproc_def)] @m", root)
    for m in caps.get("m", ()):
        name_node = m.child_by_field_name("name")
        value = m.child_by_field_name("value")
        if name_node is None or value is None:
            continue
        params: tuple[str, ...] = ()
        pnode = m.child_by_field_name("parameters")
        if pnode is not None:
            params = tuple(node_text(text, c) for c in pnode.named_children)
        raw = text[value.start_byte:value.end_byte].replace(b"\\\n", b" \n")
        if b"(" not in raw:  # no call possible: skip the parse
            continue
        raw = _PASTE_RE.sub(lambda mm: b" " * len(mm.group()), raw)
        # Put the body at the same column so error columns stay meaningful; rows shift.
        wrapped = _WRAP_HEAD + raw + _WRAP_TAIL
        tree = p.parse(wrapped)
        fn = tree.root_node.named_children[0] if tree.root_node.named_children else None
        if fn is None or fn.type != "function_definition":
            continue
        yield Body(node_text(text, name_node), "macro", fn, params, False, False,
                   m.start_point.row + 1, value.start_point.row)


def parse(data: bytes) -> ParsedFile:
    text = neutralise(data)
    tree = parser().parse(text)
    root = tree.root_node
    bodies: list[Body] = []
    for fn in captures("(function_definition) @f", root).get("f", ()):
        name, fdecl = _declarator_name(fn.child_by_field_name("declarator"))
        body = fn.child_by_field_name("body")
        if not name or body is None:
            continue
        head = data[fn.start_byte:body.start_byte]
        static = any(c.type == "storage_class_specifier" and c.text == b"static"
                     for c in fn.children)
        bodies.append(Body(name, "function", fn, _param_names(fdecl), static,
                           bool(INIT_RE.search(head)), fn.start_point.row + 1, 0))
    bodies.extend(_macro_bodies(text, root))
    return ParsedFile(text, tree, tuple(bodies), _error_ranges(text, root))


class BodyIndex:
    """Finds the function owning a byte offset (functions do not nest in C)."""

    def __init__(self, bodies: tuple[Body, ...]) -> None:
        self._funcs = sorted((b.node.start_byte, b.node.end_byte, b) for b in bodies
                             if b.kind == "function")
        self._starts = [s for s, _, _ in self._funcs]

    def at(self, offset: int) -> Body | None:
        i = bisect.bisect_right(self._starts, offset) - 1
        if i >= 0 and self._funcs[i][1] > offset:
            return self._funcs[i][2]
        return None


def callee_name(call: Node) -> str:
    """`foo` for foo(...), `ops->get` for x->ops->get(...); "" for calls through expressions."""
    fn = call.child_by_field_name("function")
    if fn is None:
        return ""
    if fn.type == "identifier":
        return (fn.text or b"").decode()
    if fn.type == "field_expression":
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


def call_nodes(node: Node) -> list[Node]:
    return captures("(call_expression) @c", node).get("c", [])
