"""The condition type and the registry of condition kinds.

A condition is a TOML inline table of exactly one kind (see docs/rules.md); nothing is ever
eval'd. Each kind is one class that parses its own table, evaluates itself in three-valued
logic (True, False or None: the evidence it needs was not given, so a rule can never pass on
missing evidence), describes what the evidence says about it, and points at the config line
or command-line argument it reads. Adding a kind means writing one class and registering it.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from typing import Any, TypeVar

from cocoscope.evidence.guest import GuestEvidence
from cocoscope.finding import Location

Tri = bool | None


class ConditionError(ValueError):
    """A condition table that does not have one of the documented forms."""


class Condition(ABC):
    """One node of a parsed condition tree."""

    @classmethod
    @abstractmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> Condition | None:
        """This kind parsed from ``doc``; None when ``doc`` is not of this kind.

        Raise ConditionError when ``doc`` is recognisably of this kind but malformed."""

    @abstractmethod
    def evaluate(self, ev: GuestEvidence) -> Tri:
        """True, False, or None when the evidence this kind reads was not given."""

    def describe(self, ev: GuestEvidence) -> str | None:
        """What the evidence says about this leaf, for messages (None: nothing to say)."""
        return None

    def location(self, ev: GuestEvidence) -> Location | None:
        """The input line or argument this leaf reads, when that input was given."""
        return None

    def details(self, ev: GuestEvidence) -> tuple[str, ...]:
        """Longer evidence for the finding's notes when it does not pass (e.g. a ranked list)."""
        return ()

    def config_fix(self, ev: GuestEvidence) -> dict[str, str]:
        """Config values that would satisfy this leaf for this evidence, beyond the rule's static
        ``[rule.fix]`` (e.g. ``n`` for each driver it found): `cocoscope fragment --config`."""
        return {}

    def leaves(self) -> Iterator[Condition]:
        """The non-combining conditions under this one, in document order."""
        yield self

    def config_symbols(self) -> Iterator[str]:
        """Kconfig symbols (without CONFIG_) this condition reads."""
        for leaf in self.leaves():
            yield from leaf._own_symbols()

    def _own_symbols(self) -> Iterator[str]:
        return iter(())


C = TypeVar("C", bound=type[Condition])

# Kinds in the order parse() tries them: a table two kinds could claim (a device table with a
# feature bit) goes to the kind registered first.
KINDS: list[type[Condition]] = []


def register(kind: C) -> C:
    KINDS.append(kind)
    return kind


def parse(doc: Any) -> Condition:
    if not isinstance(doc, Mapping):
        raise ConditionError(f"a condition must be a table, got {type(doc).__name__}")
    for kind in KINDS:
        cond = kind.from_doc(doc)
        if cond is not None:
            return cond
    raise ConditionError(f"unrecognised condition {dict(doc)!r}")


def strs(v: Any, key: str) -> frozenset[str]:
    """A string or a non-empty list of strings, as a set."""
    items = v if isinstance(v, list) else [v]
    if not items or not all(isinstance(x, str) for x in items):
        raise ConditionError(f"{key!r} must be a string or a list of strings")
    return frozenset(items)


def compile_pattern(text: str, key: str) -> re.Pattern[str]:
    try:
        return re.compile(text)
    except re.error as exc:
        raise ConditionError(f"{key!r} is not a regular expression: {exc}") from None


def combine(values: Iterator[Tri], decisive: bool) -> Tri:
    """Kleene and/or: ``decisive`` (False for all, True for any) wins, else unknown wins."""
    vals = list(values)
    if decisive in vals:
        return decisive
    return None if None in vals else not decisive


__all__ = [
    "KINDS",
    "Condition",
    "ConditionError",
    "Tri",
    "combine",
    "compile_pattern",
    "parse",
    "register",
    "strs",
]
