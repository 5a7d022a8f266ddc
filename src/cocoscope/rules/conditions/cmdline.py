"""Conditions on the kernel command line."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cocoscope.evidence.cmdline import Cmdline, parse_bool
from cocoscope.evidence.guest import GuestEvidence
from cocoscope.finding import Location, LocationKind
from cocoscope.rules.conditions.base import Condition, Tri, compile_pattern, register, strs


@dataclass(frozen=True)
class CmdlineCondition(Condition):
    """A condition on one command-line parameter: shares description and location."""

    name: str

    @staticmethod
    def _name_doc(doc: Mapping[str, Any], *keys: str) -> str | None:
        """The parameter name when ``doc`` is ``{cmdline = ..., <keys>}``."""
        if set(doc) != {"cmdline", *keys}:
            return None
        return str(doc["cmdline"])

    def evaluate(self, ev: GuestEvidence) -> Tri:
        return None if ev.cmdline is None else self.holds(ev.cmdline)

    def holds(self, cmdline: Cmdline) -> bool:
        raise NotImplementedError  # pragma: no cover - every registered kind overrides

    def describe(self, ev: GuestEvidence) -> str | None:
        if ev.cmdline is None:
            return None
        found = ev.cmdline.all(self.name)
        if not found:
            return f"{self.name} not on the command line"
        return " ".join(p.name if p.value is None else f"{p.name}={p.value}" for p in found)

    def location(self, ev: GuestEvidence) -> Location | None:
        if ev.cmdline is None:
            return None
        p = ev.cmdline.last(self.name)
        return Location(ev.cmdline.source, LocationKind.CMDLINE, 1, p.column if p else None,
                        ev.cmdline.text)


@register
@dataclass(frozen=True)
class CmdlinePresent(CmdlineCondition):
    """``{ cmdline = "nokaslr" }`` / ``{ cmdline = "nokaslr", present = false }``."""

    present: bool

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> CmdlinePresent | None:
        if (name := cls._name_doc(doc)) is not None:
            return cls(name, True)
        name = cls._name_doc(doc, "present")
        if name is None or not isinstance(doc["present"], bool):
            return None
        return cls(name, doc["present"])

    def holds(self, cmdline: Cmdline) -> bool:
        return cmdline.has(self.name) == self.present


@register
@dataclass(frozen=True)
class CmdlineValueIn(CmdlineCondition):
    """``{ cmdline = "mitigations", value_in = ["off"] }``: the last occurrence's value."""

    values: frozenset[str]

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> CmdlineValueIn | None:
        name = cls._name_doc(doc, "value_in")
        return None if name is None else cls(name, strs(doc["value_in"], "value_in"))

    def holds(self, cmdline: Cmdline) -> bool:
        return cmdline.value(self.name) in self.values


@register
@dataclass(frozen=True)
class CmdlineBool(CmdlineCondition):
    """``{ cmdline = "random.trust_cpu", bool = true }``: the last occurrence, as kstrtobool."""

    expected: bool

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> CmdlineBool | None:
        name = cls._name_doc(doc, "bool")
        if name is None or not isinstance(doc["bool"], bool):
            return None
        return cls(name, doc["bool"])

    def holds(self, cmdline: Cmdline) -> bool:
        last = cmdline.last(self.name)
        return last is not None and parse_bool(last.value) is self.expected


@register
@dataclass(frozen=True)
class CmdlineAnyMatches(CmdlineCondition):
    """``{ cmdline = "console", any_matches = "^ttyS" }``: any occurrence's value matches."""

    pattern: re.Pattern[str]

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> CmdlineAnyMatches | None:
        name = cls._name_doc(doc, "any_matches")
        if name is None or not isinstance(doc["any_matches"], str):
            return None
        return cls(name, compile_pattern(doc["any_matches"], "any_matches"))

    def holds(self, cmdline: Cmdline) -> bool:
        return any(self.pattern.search(p.value or "") for p in cmdline.all(self.name))
