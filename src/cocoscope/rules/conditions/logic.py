"""all / any / not: three-valued combinations of other conditions."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from cocoscope.evidence.guest import GuestEvidence
from cocoscope.rules.conditions.base import Condition, ConditionError, Tri, combine, parse, register


def _parts(doc: Mapping[str, Any], key: str) -> tuple[Condition, ...]:
    parts = doc[key]
    if not isinstance(parts, list) or not parts:
        raise ConditionError("'all'/'any' need a non-empty list of conditions")
    return tuple(parse(p) for p in parts)


@register
@dataclass(frozen=True)
class All(Condition):
    """``{ all = [...] }``: false if a part is false, else unknown if a part is unknown."""

    parts: tuple[Condition, ...]

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> All | None:
        return cls(_parts(doc, "all")) if set(doc) == {"all"} else None

    def evaluate(self, ev: GuestEvidence) -> Tri:
        return combine((p.evaluate(ev) for p in self.parts), decisive=False)

    def leaves(self) -> Iterator[Condition]:
        for p in self.parts:
            yield from p.leaves()


@register
@dataclass(frozen=True)
class AnyOf(Condition):
    """``{ any = [...] }``: true if a part is true, else unknown if a part is unknown."""

    parts: tuple[Condition, ...]

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> AnyOf | None:
        return cls(_parts(doc, "any")) if set(doc) == {"any"} else None

    def evaluate(self, ev: GuestEvidence) -> Tri:
        return combine((p.evaluate(ev) for p in self.parts), decisive=True)

    def leaves(self) -> Iterator[Condition]:
        for p in self.parts:
            yield from p.leaves()


@register
@dataclass(frozen=True)
class Not(Condition):
    """``{ not = {...} }``: unknown stays unknown."""

    part: Condition

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> Not | None:
        return cls(parse(doc["not"])) if set(doc) == {"not"} else None

    def evaluate(self, ev: GuestEvidence) -> Tri:
        v = self.part.evaluate(ev)
        return None if v is None else not v

    def leaves(self) -> Iterator[Condition]:
        yield from self.part.leaves()
