"""Statuses the host decides through control dependence (pass 1's ``Def.decided``).

A read helper that hands host data out through its out-arguments often returns a status chosen
by a test of a host read: `__i8042_command` returns -1 when the status port says no AUX data,
`wdat_wdt_run_action` returns what the host's WDAT table makes its register reads decide. The
returned value is then host input although no host value flows into it. Pass 1 records the data
that the conditions around a return statement test (or around an assignment of a returned
local: `ret = -EIO` under `if (readl(...) & ERR)`); only conditions count, so a host value that
is merely printed or stored on the way decides nothing. derive.py gives the wrapper a returned
value when one of those data is host data and the wrapper is a source through its
out-arguments (a status without host outputs is left alone: its callers' error paths would
otherwise all become sources).
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from operator import attrgetter

from cocoscope.surface.cparse import Node
from cocoscope.surface.summary import PARAM, Ref, value_refs

# Reads through a pointer, `*l` and `l[i]` / `l->f`: the name read through is the whole word
# after the star, or before the bracket or arrow (one scan of the condition for all names,
# not one compiled pattern per parameter name).
_STAR_READ = re.compile(rb"\*\s*(\w+)")
_INDEX_READ = re.compile(rb"\b(\w+)\s*(?:\[|->)")


def _read_through(cond: Node, text: bytes) -> set[str]:
    """The names ``cond`` reads through as pointers (`*l`, `l[i]`, `l->f`), as opposed to
    testing the pointer itself (`if (!value) return AE_BAD_PARAMETER;` is an argument check)."""
    span = text[cond.start_byte:cond.end_byte]
    return {m.decode("utf-8", "replace") for pattern in (_STAR_READ, _INDEX_READ)
            for m in pattern.findall(span)}


class Statements:
    """One tree's control statements (parse's ``k`` captures, in document order) with their
    byte spans. What encloses a node is found by comparing offsets rather than by walking up
    from it: ``Node.parent`` is slow (the binding finds a parent by descending from the root
    again), and pass 1 asks what encloses every return of a function with out-arguments and
    every call that passes a parameter. In a tree a node's span lies inside another's exactly
    when it is its descendant, so the answer is the walk's."""

    __slots__ = ("_conds", "_ends", "_ifs", "_starts", "_types", "_up", "nodes")

    def __init__(self, nodes: list[Node]) -> None:
        self.nodes = nodes
        self._starts: list[int] | None = None  # made on first need, like the rest
        self._ends: list[int] = []
        self._types: list[str] = []
        self._up: list[int] = []  # the innermost statement enclosing each one (-1: none)
        self._ifs: list[int] = []  # how many `if` statements come before each one
        self._conds: dict[int, tuple[Node, int, int] | None] = {}

    def within(self, node: Node) -> tuple[int, int]:
        """Indices [lo, hi) of the statements inside ``node`` (a definition)."""
        if self._starts is None:
            self._index()
        assert self._starts is not None
        return (bisect_left(self._starts, node.start_byte),
                bisect_left(self._starts, node.end_byte))

    def _index(self) -> None:
        starts = self._starts = list(map(_START, self.nodes))
        ends = self._ends = list(map(_END, self.nodes))
        self._types = list(map(_TYPE, self.nodes))
        up = self._up = [-1] * len(starts)
        ifs = self._ifs = [0]
        for t in self._types:
            ifs.append(ifs[-1] + (t == "if_statement"))
        open_: list[int] = []  # enclosing statements of the current one, innermost last
        for i, start in enumerate(starts):
            while open_ and ends[open_[-1]] <= start:
                open_.pop()
            if open_:
                up[i] = open_[-1]
            open_.append(i)

    def has_if(self, lo: int, hi: int) -> bool:
        """Whether an `if` statement is among statements [lo, hi) (from ``within``)."""
        return self._ifs[hi] > self._ifs[lo]

    def enclosing(self, lo: int, hi: int, start: int, end: int) -> list[int]:
        """Indices in [lo, hi) (from ``within``) of the statements whose span holds
        [start, end), innermost first. The last statement starting at or before ``start``
        is the innermost one or inside it, so the answer is up its chain of enclosing
        statements."""
        assert self._starts is not None
        ends, up = self._ends, self._up
        i = bisect_right(self._starts, start, lo, hi) - 1
        while i >= lo and ends[i] < end:
            i = up[i]
        out = []
        while i >= lo:
            out.append(i)
            i = up[i]
        return out

    def if_around(self, node: Node) -> bool:
        """Whether an `if` statement encloses ``node``."""
        self.within(node)  # the index
        return any(self._types[i] == "if_statement" for i in
                   self.enclosing(0, len(self.nodes), node.start_byte, node.end_byte))

    def type(self, i: int) -> str:
        return self._types[i]

    def condition(self, i: int) -> tuple[Node, int, int] | None:
        """Statement ``i``'s condition and its span (None: `for (;;)`)."""
        if i not in self._conds:
            cond = self.nodes[i].child_by_field_name("condition")
            self._conds[i] = None if cond is None else (cond, cond.start_byte, cond.end_byte)
        return self._conds[i]


_START = attrgetter("start_byte")
_END = attrgetter("end_byte")
_TYPE = attrgetter("type")


def decided_refs(top: Node, stmts: Statements, returns: list[Node], assigns: list[Node],
                 local: dict[str, set[Ref]], written: dict[str, set[Ref]], text: bytes,
                 ) -> set[Ref]:
    """Data tested by the conditions that control a return statement of definition ``top``
    or an assignment of a returned local (``assigns``; ``stmts``: the control statements of
    its tree; ``local``: what each local holds; ``written``: what was written through each
    pointer parameter, which a condition tests through it: `if (pci_bus_crs_vendor_id(*l))`
    after a config read into `l`). A statement controls a node it encloses outside its
    condition."""
    lo, hi = stmts.within(top)
    out: set[Ref] = set()
    if lo == hi:  # no control statement: nothing decides
        return out
    added: set[int] = set()  # statements whose condition is in ``out``
    for node in (*returns, *assigns):
        start, end = node.start_byte, node.end_byte
        for i in stmts.enclosing(lo, hi, start, end):
            if i in added:
                continue
            cond = stmts.condition(i)
            if cond is None or (cond[1] <= start and end <= cond[2]):
                continue
            added.add(i)
            calls, idents = value_refs(cond[0], text)
            out.update(calls)
            through = None
            for n in idents:
                held = local.get(n)
                if held:
                    out.update(held)
                if n in written:
                    if through is None:
                        through = _read_through(cond[0], text)
                    if n in through:
                        out.update(written[n])
    return {r for r in out if r[0] != PARAM}
