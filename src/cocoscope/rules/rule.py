"""Rules as data: the record and its TOML form (loading and layering live in loading.py)."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cocoscope.errors import InputError
from cocoscope.finding import Severity
from cocoscope.model import InterfaceId, ThreatId
from cocoscope.model.platform import Platform, parse_platform
from cocoscope.model.threatmodel import THREATS
from cocoscope.rules.conditions import Condition, ConditionError, parse

RULE_ID = re.compile(r"^[A-Z][A-Z0-9]*(-[A-Z0-9]+)+-[0-9]{3}$")
_MITIGATIONS = {m.id for t in THREATS for m in t.mitigations}
_KEYS = {"id", "title", "threat", "interface", "severity", "platforms", "mitigation", "rationale",
         "remediation", "references", "version_note", "applies_if", "pass_if", "fix", "advice"}


@dataclass(frozen=True)
class Fix:
    config: dict[str, str] = field(default_factory=dict)
    cmdline: tuple[str, ...] = ()


@dataclass(frozen=True)
class Rule:
    id: str
    title: str
    threat: ThreatId
    severity: Severity
    pass_if: Condition
    interface: InterfaceId | None = None
    platforms: frozenset[Platform] | None = None
    mitigation: str | None = None
    rationale: str = ""
    remediation: str = ""
    references: tuple[str, ...] = ()
    version_note: str = ""
    applies_if: Condition | None = None
    fix: Fix = field(default_factory=Fix)
    # Advisory: a false pass_if asks for review ("keep only if used") and yields status advice,
    # never fail. Its fix, if any, may only add (what it names may be what the guest needs).
    advice: bool = False
    origin: str = ""  # pack or file it came from
    # The condition tables as written (for `rules show`); the parsed trees above are what runs.
    pass_if_doc: Mapping[str, Any] = field(default_factory=dict, compare=False)
    applies_if_doc: Mapping[str, Any] | None = field(default=None, compare=False)


def _rule_from(doc: dict[str, Any], origin: str, index: int) -> Rule:
    where = f"rule #{index + 1}" + (f" ({doc['id']})" if isinstance(doc.get("id"), str) else "")
    try:
        unknown = set(doc) - _KEYS
        if unknown:
            raise ValueError(f"unknown key(s) {sorted(unknown)}")
        rid = doc["id"]
        if not isinstance(rid, str) or not RULE_ID.match(rid):
            raise ValueError(f"id {rid!r} is not of the form CCS-AREA-123")
        mitigation = doc.get("mitigation")
        if mitigation is not None and mitigation not in _MITIGATIONS:
            raise ValueError(f"unknown mitigation {mitigation!r}")
        fix_doc = doc.get("fix", {})
        fix = Fix(
            config={str(k).removeprefix("CONFIG_"): str(v)
                    for k, v in fix_doc.get("config", {}).items()},
            cmdline=tuple(fix_doc.get("cmdline", ())),
        )
        advice = doc.get("advice", False)
        if not isinstance(advice, bool):
            raise ValueError("advice must be true or false")
        plats = doc.get("platforms")
        return Rule(
            id=rid,
            title=str(doc["title"]),
            threat=ThreatId(doc["threat"]),
            severity=Severity.parse(doc["severity"]),
            pass_if=parse(doc["pass_if"]),
            interface=InterfaceId(doc["interface"]) if doc.get("interface") else None,
            platforms=frozenset(map(parse_platform, plats)) if plats else None,
            mitigation=mitigation,
            rationale=str(doc.get("rationale", "")).strip(),
            remediation=str(doc.get("remediation", "")).strip(),
            references=tuple(doc.get("references", ())),
            version_note=str(doc.get("version_note", "")).strip(),
            applies_if=parse(doc["applies_if"]) if "applies_if" in doc else None,
            fix=fix,
            advice=advice,
            origin=origin,
            pass_if_doc=doc["pass_if"],
            applies_if_doc=doc.get("applies_if"),
        )
    except KeyError as exc:
        raise InputError(f"missing key {exc.args[0]!r}", path=origin, where=where) from None
    except (ValueError, ConditionError, TypeError, AttributeError) as exc:
        raise InputError(str(exc), path=origin, where=where) from None


def parse_rules(text: str, origin: str) -> list[Rule]:
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"invalid TOML: {exc}", path=origin) from None
    entries = doc.get("rule", [])
    if not isinstance(entries, list):
        raise InputError("expected [[rule]] tables", path=origin)
    return [_rule_from(e, origin, i) for i, e in enumerate(entries)]
