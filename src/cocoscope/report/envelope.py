"""One JSON envelope for every command's ``--format json``.

    {"tool": "cocoscope", "version": "0.1.0", "format_version": 2,
     "command": "attest snp verify", "created": "2026-11-30T02:00:00+00:00",
     "inputs": [{"kind": "evidence", "path": "report.bin", "sha256": "..."}],
     ...the command's own body...}

A reader tells every document apart by ``command`` and checks ``format_version`` before
anything else. Each command's document is described by
``cocoscope/report/schemas/<command with dashes>.schema.json`` (the envelope part by
``envelope.schema.json``), and tests validate every command's output against it.

Commands build their body as a plain dict and call ``render_envelope``; they never write the
envelope keys themselves (a body that tries is a bug and raises).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
from collections.abc import Iterable, Mapping
from enum import Enum
from importlib import resources
from typing import Any

from cocoscope import __version__
from cocoscope.evidence import files
from cocoscope.report.model import InputRecord


def plain(value: Any) -> Any:
    """JSON-friendly values for a body: records as mappings, bytes as hex, enums by value."""
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


# 1 was the audit report's own shape (tool {name, version}); 2 is the shared envelope.
FORMAT_VERSION = 2
ENVELOPE_KEYS = ("tool", "version", "format_version", "command", "created", "inputs")


def file_input(kind: str, path: str, data: bytes | None = None, detail: str = "",
               limit: files.InputKind = files.RULES) -> InputRecord:
    """An input of the command: hashed from ``data`` (the bytes that were parsed) when given,
    else from the file (streamed, capped by ``limit``); a directory or a path that is not a
    regular file records no hash."""
    if data is not None:
        return InputRecord(kind, path, files.sha256_hex(data), detail)
    if not os.path.isfile(path):
        return InputRecord(kind, path, None, detail)
    return InputRecord(kind, path, files.sha256_file(path, limit), detail)


def input_dict(i: InputRecord) -> dict[str, Any]:
    d: dict[str, Any] = {"kind": i.kind, "path": i.path, "sha256": i.sha256}
    if i.detail:
        d["detail"] = i.detail
    return d


def envelope(command: str, body: Mapping[str, Any], inputs: Iterable[InputRecord] = (),
             created: str | dt.datetime | None = None) -> dict[str, Any]:
    """The envelope for ``command`` (e.g. "attest snp verify") around ``body``."""
    clash = set(ENVELOPE_KEYS) & set(body)
    if clash:
        raise ValueError(f"command body uses envelope key(s) {sorted(clash)}")
    if not isinstance(created, str):
        created = (created or dt.datetime.now(dt.UTC)).replace(microsecond=0).isoformat()
    return {"tool": "cocoscope", "version": __version__, "format_version": FORMAT_VERSION,
            "command": command, "created": created,
            "inputs": [input_dict(i) for i in inputs], **body}


def render_envelope(command: str, body: Mapping[str, Any], inputs: Iterable[InputRecord] = (),
                    created: str | dt.datetime | None = None) -> str:
    return json.dumps(envelope(command, body, inputs, created), indent=2)


def schema_name(command: str) -> str:
    return command.replace(" ", "-") + ".schema.json"


def load_schema(name: str) -> dict[str, Any]:
    """A schema shipped in the package: ``envelope.schema.json`` or ``schema_name(command)``."""
    text = (resources.files("cocoscope.report") / "schemas" / name).read_text("utf-8")
    doc: dict[str, Any] = json.loads(text)
    return doc


def schema_names() -> list[str]:
    return sorted(p.name for p in (resources.files("cocoscope.report") / "schemas").iterdir()
                  if p.name.endswith(".schema.json"))
