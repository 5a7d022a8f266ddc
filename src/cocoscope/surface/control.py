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

from cocoscope.surface.cparse import Node
from cocoscope.surface.summary import PARAM, Ref, value_refs

# Statements whose condition decides whether their body (or an arm) runs.
_CONTROL = frozenset({"if_statement", "while_statement", "for_statement", "do_statement",
                      "switch_statement"})


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


def decided_refs(top: Node, returns: list[Node], assigns: list[Node], returned: set[str],
                 local: dict[str, set[Ref]], written: dict[str, set[Ref]], text: bytes,
                 ) -> set[Ref]:
    """Data tested by the conditions that control a return statement of definition ``top``
    or an assignment of one of the ``returned`` locals (``local``: what each local holds;
    ``written``: what was written through each pointer parameter, which a condition tests
    through it: `if (pci_bus_crs_vendor_id(*l))` after a config read into `l`)."""
    tested: dict[int, set[Ref]] = {}  # per condition node: walked once
    out: set[Ref] = set()
    top_id = top.id
    # Nodes already walked up from: what lies above them was added then (returns and
    # assignments share most of their enclosing statements, so each is walked once).
    walked: set[int] = set()

    def controls(node: Node) -> None:
        child, p = node, node.parent
        while p is not None and p.id != top_id:
            if child.id in walked:
                return
            walked.add(child.id)
            if p.type in _CONTROL:
                cond = p.child_by_field_name("condition")
                if cond is not None and cond.id != child.id:
                    refs = tested.get(cond.id)
                    if refs is None:
                        calls, idents = value_refs(cond, text)
                        refs = calls | {r for i in idents for r in local.get(i, ())}
                        through = None
                        for i in idents:
                            if i in written:
                                if through is None:
                                    through = _read_through(cond, text)
                                if i in through:
                                    refs |= written[i]
                        tested[cond.id] = refs
                    out.update(refs)
            child, p = p, p.parent

    for r in returns:
        controls(r)
    for a in assigns:
        lhs = a.child_by_field_name("left")
        if lhs is not None and lhs.type == "identifier" and \
                text[lhs.start_byte:lhs.end_byte].decode("utf-8", "replace") in returned:
            controls(a)
    return {r for r in out if r[0] != PARAM}
