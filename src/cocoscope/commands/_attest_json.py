"""JSON output of the attest and measure commands: the command's body in the one envelope
(``report/envelope.py``) with the files it read as inputs (hashed, capped by kind)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from cocoscope.evidence import files


def document(command: str, body: Mapping[str, Any],
             inputs: Iterable[tuple[str, str | None, files.InputKind]]) -> str:
    """``inputs``: (kind, path or None, size cap); unset paths are left out, directories are
    recorded without a hash."""
    from cocoscope.report.envelope import file_input, render_envelope

    records = [file_input(kind, path, limit=limit) for kind, path, limit in inputs if path]
    return render_envelope(command, body, records)
