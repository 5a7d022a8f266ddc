"""One rendering of a ``Verification`` for both platforms: text and a JSON-ready mapping.

The text is the verdict line, the facts, then every check in order; the JSON carries the same
fields. Platform-specific decoding of the evidence itself lives in ``snp/show.py`` and
``tdx/show.py``.
"""

from __future__ import annotations

import dataclasses
from enum import Enum
from typing import Any

from cocoscope.attest.result import Verification

TITLES = {"snp-report": "SEV-SNP report", "tdx-quote": "TDX quote"}


def plain(value: Any) -> Any:
    """JSON-friendly values: records as mappings, bytes as hex, enums by value."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, bytes | bytearray):
        return value.hex()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [plain(v) for v in value]
    return value


def _fact(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, list | tuple):
        return ", ".join(map(str, value)) or "-"
    return str(value)


def verdict(v: Verification) -> str:
    return "VERIFIED" if v.ok else "FAILED"


def render_verification(v: Verification) -> str:
    lines = [f"{TITLES.get(v.kind, v.kind)} {v.subject}: {verdict(v)}"]
    for key, value in v.facts.items():
        lines.append(f"  {key + ':':<20} {_fact(value)}")
    for c in v.checks:
        lines.append(f"  {c.status.value.upper():<7} {c.name:<36} {c.detail}")
    if not v.ok:
        lines.append(f"{len(v.failed)} check(s) failed: {', '.join(c.name for c in v.failed)}")
    return "\n".join(lines)


def verification_json(v: Verification) -> dict[str, Any]:
    return {"subject": v.subject, "kind": v.kind, "ok": v.ok, "verdict": verdict(v),
            "facts": plain(v.facts), "checks": plain(list(v.checks)),
            "failed": [c.name for c in v.failed]}
