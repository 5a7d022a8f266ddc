"""Which scanned headers the built files include, directly or through other headers.

A header's own sites (calls in its inline functions and macro bodies) are reported once, at the
header, when a built file reaches it; ``built`` is "y" when some built-in file reaches it, else
"m". Include paths resolve the way x86 kbuild's ``-I`` list does for the common cases:
``"foo.h"`` next to the including file first, then ``include/`` and ``arch/x86/include/``.
"""

from __future__ import annotations

import posixpath
from collections import deque
from collections.abc import Iterable

from cocoscope.surface.dataflow import FileSummary

_SYSTEM_ROOTS = ("include/", "arch/x86/include/", "include/uapi/", "arch/x86/include/uapi/")


def _targets(path: str, spelled: str, known: set[str]) -> list[str]:
    name = spelled[1:-1] if len(spelled) >= 2 else spelled
    out = []
    if spelled.startswith('"'):
        local = posixpath.normpath(posixpath.join(posixpath.dirname(path), name))
        if local in known:
            return [local]
    for root in _SYSTEM_ROOTS:
        cand = root + name
        if cand in known:
            out.append(cand)
            break
    return out


def reachable_headers(summaries: Iterable[FileSummary], built: dict[str, str]) -> dict[str, str]:
    """Header path -> "y" | "m" (or "" without a config) for every scanned header a scanned
    ``.c`` file includes."""
    by_path = {s.path: s for s in summaries}
    known = {p for p in by_path if not p.endswith(".c")}
    out: dict[str, str] = {}
    # Built-in files first, so a header reached from both is marked "y".
    for level in ("y", "m", ""):
        queue = deque(p for p, b in built.items() if b == level and p in by_path)
        seen: set[str] = set()
        while queue:
            cur = queue.popleft()
            for inc in by_path[cur].includes:
                for target in _targets(cur, inc, known):
                    if target in seen or target in out:
                        continue
                    seen.add(target)
                    out[target] = level  # "" when the files came without a config
                    queue.append(target)
    return out
