"""The names of one function (or macro) body, for ``tracer.UseTracer``: its declared locals
(which are pointers, which are arrays of its own), the local pointers set from a parameter,
and each name's uses.

A name's uses are looked up when first asked for, from the body's bytes: grading asks for a
few names of a body, which has hundreds of identifiers, and a query capturing every
identifier of every graded body was a third of pass 2's grading time.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import NamedTuple

from cocoscope.surface.cparse import Node, captures, node_text
from cocoscope.surface.destinations import strip

_WORD = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")
_DIGITS = frozenset(b"0123456789")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_LAST_NAME = re.compile(r"(?<![A-Za-z0-9_])[A-Za-z_][A-Za-z0-9_]*$")
_SPACE_RE = re.compile(r"\s+")


class Declared(NamedTuple):
    """What the body's declarations of one name say about it."""

    local: bool  # declared in the body or as a parameter
    pointer: bool  # ... as a pointer or an array
    array: bool  # ... as an array of the body's own (not static or extern)
    alias: str  # the parameter a local pointer is set from (`u32 *regs_buff = p;`, or
    # assigned in the body: `log_addr = log;`), or ""


_UNDECLARED = Declared(False, False, False, "")


class BodyNames:
    """Each name's uses in one body and what its declarations there say (``declared``),
    both looked up when first asked for."""

    def __init__(self, body: Node, text: bytes, params: frozenset[str]) -> None:
        self._body = body
        self._text = text
        self._params = params
        self._uses: dict[str, list[Node]] = {}
        self._fields: dict[str, list[Node]] = {}
        self._declared: dict[str, Declared] = {}

    def declared(self, name: str) -> Declared:
        found = self._declared.get(name)
        if found is None:
            found = self._declared[name] = self._declarations(name)
        return found

    def _declarations(self, name: str) -> Declared:
        """``name``'s declarators in the body: a use is one when it ends the chain of
        `declarator` fields of a declaration or parameter declaration (`int *p = q, a[4];`,
        `u8 (*buf)[2]` is none: a parenthesised declarator has no such field)."""
        local = pointer = array = False
        alias = ""
        text, params = self._text, self._params
        uses = self.get(name)
        for n in uses:
            child, p = n, n.parent
            chain: list[Node] = []  # the declarators between the declaration and the name
            while p is not None and p.type not in ("declaration", "parameter_declaration"):
                if p.child_by_field_name("declarator") != child:
                    break
                chain.append(p)
                child, p = p, p.parent
            else:
                if p is None or (child not in p.children_by_field_name("declarator")
                                 if p.type == "declaration" else
                                 p.child_by_field_name("declarator") != child):
                    continue
                local = True
                own = p.type == "declaration" and not any(
                    c.type == "storage_class_specifier" and
                    node_text(text, c) in ("static", "extern") for c in p.children)
                if not chain:
                    continue
                if chain[0].type == "array_declarator" and own:
                    array = True
                if any(d.type in ("pointer_declarator", "array_declarator") for d in chain):
                    pointer = True
                    alias = self._initial_alias(n) or alias
        if pointer and name not in params:
            for n in uses:  # `log_addr = log;` later in the body
                p = n.parent
                value = p.child_by_field_name("right") if p is not None and \
                    p.type == "assignment_expression" and p.child_by_field_name("left") == n \
                    else None
                source = node_text(text, strip(value)) if value is not None else ""
                if source and source in params:
                    alias = source
        return Declared(local, pointer, array, alias) if local else _UNDECLARED

    def _initial_alias(self, decl: Node) -> str:
        init = decl.parent
        while init is not None and init.type in ("pointer_declarator", "array_declarator",
                                                 "parenthesized_declarator"):
            init = init.parent
        value = init.child_by_field_name("value") if init is not None and \
            init.type == "init_declarator" else None
        if value is not None:
            value = strip(value)
            if value.type == "identifier" and node_text(self._text, value) in self._params:
                return node_text(self._text, value)
        return ""

    def get(self, name: str, default: Sequence[Node] = ()) -> Sequence[Node]:
        """The identifiers spelling ``name`` in the body, in document order; ``default``
        when there is none."""
        uses = self._uses.get(name)
        if uses is None:
            uses = self._uses[name] = self._find(name) if _NAME.fullmatch(name) else \
                [n for n in captures("(identifier) @i", self._body).get("i", ())
                 if node_text(self._text, n) == name]  # "" (a MISSING node), not ASCII
        return uses or default

    def _find(self, name: str) -> list[Node]:
        return occurrences(self._body, self._text, name.encode(), "identifier")

    def fields(self, lvalue: str) -> Sequence[Node]:
        """The field expressions of the body whose text, without white space, is
        ``lvalue`` (`s->a.b`), in document order: found from the occurrences of its last
        member's name."""
        found = self._fields.get(lvalue)
        if found is None:
            last = _LAST_NAME.search(lvalue)
            if last is None:  # no name at the end (a MISSING member): read every one
                found = [n for n in captures("(field_expression) @f", self._body).get("f", ())
                         if squeeze(node_text(self._text, n)) == lvalue]
            else:
                found = []
                for member in occurrences(self._body, self._text, last.group().encode(),
                                          "field_identifier"):
                    field = member.parent
                    if field is not None and field.type == "field_expression" and \
                            field.child_by_field_name("field") == member and \
                            squeeze(node_text(self._text, field)) == lvalue:
                        found.append(field)
                found.sort(key=_document_position)  # `(p->a.x).x`: the outer one first
            self._fields[lvalue] = found
        return found


def occurrences(scope: Node, text: bytes, word: bytes, kind: str) -> list[Node]:
    """Each occurrence of ``word`` in ``scope`` that the tree has as a token of type
    ``kind`` (an identifier: not a field, type, label, comment or string), in document order:
    one starting a word, or after a number whose lexing ends inside the word
    (`1000baseT_Full` in a pasted macro name). None of an empty word (a MISSING token)."""
    end, size = scope.end_byte, len(word)
    if not size:
        return []
    out = []
    at = text.find(word, scope.start_byte, end)
    while at >= 0:
        after = at + size
        if (after >= len(text) or text[after] not in _WORD) and _word_start(text, at):
            node = scope.descendant_for_byte_range(at, after)
            if node is not None and node.type == kind and \
                    node.start_byte == at and node.end_byte == after:
                out.append(node)
        at = text.find(word, after, end)
    return out


def squeeze(text: str) -> str:
    """``text`` without white space."""
    return _SPACE_RE.sub("", text)


def _document_position(node: Node) -> tuple[int, int]:
    return node.start_byte, -node.end_byte


def _word_start(text: bytes, at: int) -> bool:
    """Can an identifier start at ``at``: a word starts there, or the word around it starts
    with a digit (a number token may end anywhere in it)?"""
    if at == 0 or text[at - 1] not in _WORD:
        return True
    first = at - 1
    while first > 0 and text[first - 1] in _WORD:
        first -= 1
    return text[first] in _DIGITS
