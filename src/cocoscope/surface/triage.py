"""The triage labels file: a reviewer's verdict on each host-input site, kept across kernels.

Format (documented in docs/surface.md, "Triage"): JSON Lines, UTF-8. The first line is the
header ``{"cocoscope": "surface-labels", "version": 1}``; every other non-blank line that does not
start with ``#`` is one site of the scan the file was written from:

    {"fingerprint": "...", "file": "drivers/x.c", "line": 12, "function": "probe",
     "primitive": "readl", "context": "v=readl(base+REG);", "grade": "stored",
     "label": "concern", "reason": "length not checked", "who": "alice",
     "when": "2026-11-30T02:00:00Z"}

``label``/``reason``/``who``/``when`` appear together or not at all (an untriaged site). One line
per record keeps the file diff- and merge-friendly, and lets every error name its line. Nothing
is guessed: unknown keys, nulls, wrong types, duplicate keys or fingerprints, and labels outside
the four below are input errors (exit 3) naming the file and line.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, replace
from enum import StrEnum
from pathlib import Path
from typing import Any

from cocoscope.errors import InputError
from cocoscope.evidence import files
from cocoscope.surface.triage_fingerprint import SiteKey

HEADER = {"cocoscope": "surface-labels", "version": 1}
LABELS = files.InputKind("labels file", 64 << 20)  # a full 6.12 inventory is ~3 MB


class Label(StrEnum):
    """Intel's guest-hardening triage vocabulary."""

    EXCLUDED = "excluded"  # cannot matter in this guest (code not reachable, device filtered)
    TRUSTED = "trusted"  # the value is trustworthy here (attested, checked by the TDX module/PSP)
    WRAPPER = "wrapper"  # passes the value to its callers, whose own sites are reviewed
    CONCERN = "concern"  # a real problem: stays visible until the code is fixed

    @property
    def suppresses(self) -> bool:
        return self is not Label.CONCERN


@dataclass(frozen=True)
class Verdict:
    label: Label
    reason: str
    who: str
    when: str  # ISO 8601 UTC


@dataclass(frozen=True)
class Record:
    """One site of the scan a labels file was written from, with its verdict if triaged."""

    fingerprint: str
    file: str
    line: int
    function: str
    primitive: str
    context: str
    grade: str
    verdict: Verdict | None = None

    def with_verdict(self, verdict: Verdict | None) -> Record:
        return replace(self, verdict=verdict)

    @classmethod
    def of(cls, key: SiteKey, grade: str, verdict: Verdict | None = None) -> Record:
        return cls(key.fingerprint, key.file, key.line, key.function, key.primitive,
                   key.context, grade, verdict)


_SITE_KEYS = {"fingerprint": str, "file": str, "line": int, "function": str, "primitive": str,
              "context": str, "grade": str}
_VERDICT_KEYS = {"label": str, "reason": str, "who": str, "when": str}


def _record(obj: Any) -> Record:
    if not isinstance(obj, dict):
        raise ValueError("expected a JSON object")
    unknown = sorted(set(obj) - set(_SITE_KEYS) - set(_VERDICT_KEYS))
    if unknown:
        raise ValueError(f"unknown key(s) {', '.join(unknown)}")
    for k, v in obj.items():
        if v is None:
            raise ValueError(f"{k} is null")
        want = {**_SITE_KEYS, **_VERDICT_KEYS}[k]
        if not isinstance(v, want) or isinstance(v, bool):
            raise ValueError(f"{k} must be a {want.__name__}")
    missing = sorted(set(_SITE_KEYS) - set(obj))
    if missing:
        raise ValueError(f"missing key(s) {', '.join(missing)}")
    given = set(_VERDICT_KEYS) & set(obj)
    verdict = None
    if given:
        if given != set(_VERDICT_KEYS):
            raise ValueError("label, reason, who and when go together; missing "
                             + ", ".join(sorted(set(_VERDICT_KEYS) - given)))
        if obj["label"] not in {x.value for x in Label}:
            raise ValueError(f"label {obj['label']!r} is not one of "
                             + ", ".join(x.value for x in Label))
        if not obj["reason"].strip():
            raise ValueError("reason is empty")
        verdict = Verdict(Label(obj["label"]), obj["reason"], obj["who"], obj["when"])
    return Record(obj["fingerprint"], obj["file"], obj["line"], obj["function"],
                  obj["primitive"], obj["context"], obj["grade"], verdict)


def load(path: str | Path) -> list[Record]:
    """Records of a labels file, in file order; InputError (exit 3) with the line on any flaw."""
    raw = files.read_input(str(path), LABELS)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 (byte {exc.start})", path=str(path)) from None
    records: list[Record] = []
    first_line: dict[str, int] = {}
    header_seen = False
    for n, line in enumerate(text.split("\n"), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        where = f"line {n}"
        try:
            obj = json.loads(line, object_pairs_hook=files.unique_keys)
        except ValueError as exc:
            raise InputError(f"not a JSON object: {exc}", path=str(path), where=where) from None
        if not header_seen:
            if obj != HEADER:
                raise InputError(f"expected the header {json.dumps(HEADER)}", path=str(path),
                                 where=where)
            header_seen = True
            continue
        try:
            rec = _record(obj)
        except ValueError as exc:
            raise InputError(str(exc), path=str(path), where=where) from None
        if rec.fingerprint in first_line:
            raise InputError(f"fingerprint {rec.fingerprint} already on line "
                             f"{first_line[rec.fingerprint]}", path=str(path), where=where)
        first_line[rec.fingerprint] = n
        records.append(rec)
    if not header_seen:
        raise InputError("empty labels file (no header line)", path=str(path))
    return records


def dump(records: Iterable[Record]) -> str:
    out = [json.dumps(HEADER)]
    for r in records:
        obj: dict[str, Any] = {"fingerprint": r.fingerprint, "file": r.file, "line": r.line,
                               "function": r.function, "primitive": r.primitive,
                               "context": r.context, "grade": r.grade}
        if r.verdict is not None:
            obj.update(label=r.verdict.label.value, reason=r.verdict.reason,
                       who=r.verdict.who, when=r.verdict.when)
        out.append(json.dumps(obj, ensure_ascii=False))
    return "\n".join(out) + "\n"


def save(path: str | Path, records: Iterable[Record]) -> None:
    """Write atomically (a crash leaves the old file, never half a file)."""
    target = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=".labels-", dir=target.parent or Path("."))
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(dump(records))
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
