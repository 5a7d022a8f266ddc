"""What pass 1 reads from a file's object-like #defines: aliases that rename a function
(Def records for them) and the integer constants that name a CPUID leaf or an MSR."""

from __future__ import annotations

import re

from cocoscope.surface.cparse import ParsedFile
from cocoscope.surface.summary import Def

_LEAF_NAME = re.compile(r"CPUID|LEAF|MSR")
_ALIAS_ARGS = 6  # out-argument positions an object-like alias forwards


def aliases(parsed: ParsedFile) -> list[Def]:
    """Object-like macros that rename a function (`#define dma_inb inb`): calls of the alias
    are calls of the target, return value and out-arguments alike. All-capital targets are
    constants (`#define FOO_REG BAR_REG`), not functions, and are left out."""
    out = []
    for m in parsed.caps.get("m", ()):
        name, value = m.child_by_field_name("name"), m.child_by_field_name("value")
        if m.type != "preproc_def" or name is None or value is None:
            continue
        target = (value.text or b"").strip().decode("utf-8", "replace")
        if not target.isidentifier() or target.isupper() or target.startswith("__cocoscope"):
            continue
        positions = range(1, _ALIAS_ARGS + 1)
        out.append(Def((name.text or b"").decode(), "macro", False, m.start_point.row + 1,
                       ((target, 0),), tuple((k, (target, k)) for k in positions),
                       flows=tuple((k, target, k) for k in positions), pure=(target,)))
    return out


def int_literal(text: str) -> int | None:
    """``0x4000000a``, ``(0x16)``, ``7U`` -> int; anything else None."""
    text = text.strip()
    while text.startswith("(") and text.endswith(")"):
        text = text[1:-1].strip()
    try:
        return int(text.rstrip("uUlL"), 0)
    except ValueError:
        return None


def leaf_constants(parsed: ParsedFile) -> tuple[tuple[str, int], ...]:
    out = []
    for m in parsed.caps.get("m", ()):
        name, value = m.child_by_field_name("name"), m.child_by_field_name("value")
        if m.type != "preproc_def" or name is None or value is None:
            continue
        ident = (name.text or b"").decode()
        if _LEAF_NAME.search(ident):
            number = int_literal((value.text or b"").decode("utf-8", "replace").split("/*")[0])
            if number is not None:
                out.append((ident, number))
    return tuple(out)
