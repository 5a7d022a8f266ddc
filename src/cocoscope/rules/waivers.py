"""Waivers: a failing rule a team has accepted, with a reason and an expiry date.

A waived failure stays in the report with status ``waived`` and the rationale; an expired
waiver no longer applies and the finding says so, so waivers cannot silently outlive their
reason.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from dataclasses import dataclass

from cocoscope.errors import InputError
from cocoscope.evidence import files


@dataclass(frozen=True)
class Waiver:
    rule_id: str
    rationale: str
    expires: dt.date
    origin: str


def load_waivers(path: str, known_ids: set[str]) -> dict[str, Waiver]:
    raw = files.read_input(path, files.WAIVERS)
    try:
        doc = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise InputError(f"invalid TOML: {exc}", path=path) from None
    entries = doc.get("waiver", [])
    if not isinstance(entries, list):
        raise InputError("expected [[waiver]] tables", path=path)
    out: dict[str, Waiver] = {}
    for i, e in enumerate(entries):
        where = f"waiver #{i + 1}"
        if not isinstance(e, dict):
            raise InputError("a waiver must be a table", path=path, where=where)
        rid, why, exp = e.get("id"), e.get("rationale"), e.get("expires")
        if not isinstance(rid, str) or rid not in known_ids:
            raise InputError(f"unknown rule id {rid!r}", path=path, where=where)
        if not isinstance(why, str) or not why.strip():
            raise InputError("a waiver needs a non-empty rationale", path=path, where=where)
        if isinstance(exp, str):
            try:
                exp = dt.date.fromisoformat(exp)
            except ValueError:
                raise InputError(f"expires {exp!r} is not a date", path=path, where=where) from None
        if isinstance(exp, dt.datetime):
            exp = exp.date()
        if not isinstance(exp, dt.date):
            raise InputError("a waiver needs an expires date (YYYY-MM-DD)", path=path, where=where)
        out[rid] = Waiver(rid, why.strip(), exp, path)
    return out
