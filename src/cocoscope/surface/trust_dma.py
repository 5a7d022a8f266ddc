"""A DMA unmap or sync whose direction is a parameter of a static wrapper that every caller
calls with ``DMA_TO_DEVICE``.

The scan drops `dma_unmap_*`/`dma_sync_*_for_cpu` calls that spell `DMA_TO_DEVICE` (the device
only read that buffer: the guest wrote it). nvmet-fc wraps them in static helpers
(`fc_dma_sync_single_for_cpu(dev, addr, size, dir)`, drivers/nvme/target/fc.c:294) whose
direction is the caller's: both callers pass `DMA_TO_DEVICE` (fc.c:728, :1921), so the call at
fc.c:298 never hands the guest device-written data either.

The rule, about one file's own code only (fail closed: anything else is host input):
- the call is in a ``static`` function of a ``.c`` file, and one of its arguments is that
  function's parameter declared ``enum dma_data_direction``, never written in the body
  (assigned, incremented or address-taken);
- every mention of the function's name in the file (text, so macro bodies and comments
  count) is its definition, a prototype, or a call whose argument at that parameter's
  position is the literal ``DMA_TO_DEVICE``; at least one call.
"""

from __future__ import annotations

import re

from cocoscope.surface.cparse import Node, ParsedFile, call_args, node_text
from cocoscope.surface.trust_leaf import function_of, strip_parens, walk, writes

_DIRECTION_TYPE = "dma_data_direction"
_TO_DEVICE = "DMA_TO_DEVICE"


def _declarator(fn: Node) -> Node | None:
    d = fn.child_by_field_name("declarator")
    while d is not None and d.type != "function_declarator":
        d = d.child_by_field_name("declarator")
    return d


def _direction_params(text: bytes, fdecl: Node) -> dict[str, int]:
    """Parameters declared ``enum dma_data_direction``: name -> 1-based position."""
    plist = fdecl.child_by_field_name("parameters")
    out: dict[str, int] = {}
    if plist is None:
        return out
    params = [p for p in plist.named_children if p.type == "parameter_declaration"]
    for pos, p in enumerate(params, 1):
        ptype = p.child_by_field_name("type")
        decl = p.child_by_field_name("declarator")
        if ptype is not None and decl is not None and decl.type == "identifier" \
                and _DIRECTION_TYPE in node_text(text, ptype).split():
            out[node_text(text, decl)] = pos
    return out


def _static(text: bytes, fn: Node) -> bool:
    return any(c.type == "storage_class_specifier" and node_text(text, c) == "static"
               for c in fn.children)


def _callers_pass_to_device(parsed: ParsedFile, name: str, position: int, fdecl: Node) -> int:
    """How many calls of ``name`` the file makes, all passing DMA_TO_DEVICE at ``position``;
    0 when any mention of the name is something else (fail closed)."""
    text = parsed.text
    mentions = len(re.findall(rb"\b" + re.escape(name.encode()) + rb"\b", text))
    accounted, calls = 0, 0
    for n in walk(parsed.tree.root_node):
        if n.type != "identifier" or node_text(text, n) != name:
            continue
        parent = n.parent
        if parent is not None and parent.type == "function_declarator" and (
                parent == fdecl or (parent.parent is not None
                and parent.parent.type == "declaration")):
            accounted += 1  # the definition or a prototype
            continue
        if parent is None or parent.type != "call_expression" \
                or parent.child_by_field_name("function") != n:
            return 0  # address taken, assigned, ...: callers the file does not show
        arglist = parent.child_by_field_name("arguments")
        args = call_args(arglist) if arglist is not None else []
        if len(args) < position or node_text(text, strip_parens(args[position - 1])) != _TO_DEVICE:
            return 0
        accounted += 1
        calls += 1
    return calls if accounted == mentions else 0


def to_device_parameter(parsed: ParsedFile, call: Node) -> str | None:
    """Why the DMA call ``call`` only ever gets a DMA_TO_DEVICE buffer, or None."""
    text = parsed.text
    fn = function_of(call)
    fdecl = _declarator(fn) if fn is not None else None
    if fn is None or fdecl is None or not _static(text, fn):
        return None
    name_node = fdecl.child_by_field_name("declarator")
    body = fn.child_by_field_name("body")
    arglist = call.child_by_field_name("arguments")
    if name_node is None or name_node.type != "identifier" or body is None or arglist is None:
        return None
    name = node_text(text, name_node)
    directions = _direction_params(text, fdecl)
    for arg in call_args(arglist):
        arg = strip_parens(arg)
        param = node_text(text, arg) if arg.type == "identifier" else ""
        if param not in directions or writes(text, body, param):
            continue
        calls = _callers_pass_to_device(parsed, name, directions[param], fdecl)
        if calls:
            return (f"its direction is {name}'s parameter {param}, and all {calls} calls of "
                    f"static {name} in this file pass {_TO_DEVICE}: a buffer the guest wrote "
                    f"for the device, which the device only read")
    return None
