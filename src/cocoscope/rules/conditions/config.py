"""Conditions on the kernel build: Kconfig symbols and the kernel version."""

from __future__ import annotations

import operator
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from cocoscope.evidence.dotconfig import KernelConfig
from cocoscope.evidence.guest import GuestEvidence
from cocoscope.finding import Location, LocationKind
from cocoscope.rules.conditions.base import Condition, ConditionError, Tri, register, strs

_STATES = {"y", "m", "n", "absent", "on", "off"}
_VERSION_OP = re.compile(r"^\s*(>=|<=|==|!=|>|<)\s*(\d+)\.(\d+)(?:\.(\d+))?\s*$")


@dataclass(frozen=True)
class SymbolCondition(Condition):
    """A condition on one ``CONFIG_`` symbol: shares description and location."""

    symbol: str

    @staticmethod
    def _symbol_doc(doc: Mapping[str, Any], key: str) -> str | None:
        """The symbol name when ``doc`` is ``{symbol = ..., <key> = ...}``."""
        if set(doc) != {"symbol", key}:
            return None
        return str(doc["symbol"]).removeprefix("CONFIG_")

    def evaluate(self, ev: GuestEvidence) -> Tri:
        return None if ev.config is None else self.holds(ev.config)

    def holds(self, config: KernelConfig) -> bool:
        raise NotImplementedError  # pragma: no cover - every registered kind overrides

    def describe(self, ev: GuestEvidence) -> str | None:
        if ev.config is None:
            return None
        e = ev.config.entry(self.symbol)
        if e is None:
            return f"CONFIG_{self.symbol} absent"
        if e.value == "n":
            return f"CONFIG_{self.symbol} is not set"
        return f"CONFIG_{self.symbol}={e.value}"

    def location(self, ev: GuestEvidence) -> Location | None:
        if ev.config is None:
            return None
        e = ev.config.entry(self.symbol)
        return Location(ev.config.path, LocationKind.CONFIG, e.line if e else None,
                        snippet=e.raw if e else None)

    def _own_symbols(self) -> Iterator[str]:
        yield self.symbol


@register
@dataclass(frozen=True)
class SymbolIs(SymbolCondition):
    """``{ symbol = "X", is = "on" }``: y, m, n, absent, on (y/m), off (n/absent), or a list."""

    states: frozenset[str]

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> SymbolIs | None:
        sym = cls._symbol_doc(doc, "is")
        if sym is None:
            return None
        states = strs(doc["is"], "is")
        if not states <= _STATES:
            raise ConditionError(f"'is' must be among {sorted(_STATES)}")
        return cls(sym, states)

    def holds(self, config: KernelConfig) -> bool:
        v = config.tristate(self.symbol).value
        return (v in self.states or ("on" in self.states and v in ("y", "m"))
                or ("off" in self.states and v in ("n", "absent")))


@register
@dataclass(frozen=True)
class SymbolValueIn(SymbolCondition):
    """``{ symbol = "X", value_in = ["a", "b"] }``: the symbol's value is one of those."""

    values: frozenset[str]

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> SymbolValueIn | None:
        sym = cls._symbol_doc(doc, "value_in")
        return None if sym is None else cls(sym, strs(doc["value_in"], "value_in"))

    def holds(self, config: KernelConfig) -> bool:
        return config.value(self.symbol) in self.values


@register
@dataclass(frozen=True)
class SymbolAtLeast(SymbolCondition):
    """``{ symbol = "X", at_least = 64 }``: the symbol's numeric value is at least that."""

    minimum: int

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> SymbolAtLeast | None:
        sym = cls._symbol_doc(doc, "at_least")
        if sym is None or not isinstance(doc["at_least"], int):
            return None
        return cls(sym, doc["at_least"])

    def holds(self, config: KernelConfig) -> bool:
        value = config.value(self.symbol)
        try:
            return value is not None and int(value, 0) >= self.minimum
        except ValueError:
            return False


def kernel_version(ev: GuestEvidence) -> tuple[int, int, int] | None:
    """The audited kernel's version: the config header, else the running release."""
    if ev.config is not None and ev.config.version is not None:
        return ev.config.version
    if ev.system is not None and ev.system.release:
        m = re.match(r"(\d+)\.(\d+)(?:\.(\d+))?", ev.system.release)
        if m:
            return (int(m.group(1)), int(m.group(2)), int(m.group(3) or 0))
    return None


_COMPARE = {">=": operator.ge, "<=": operator.le, "==": operator.eq,
            "!=": operator.ne, ">": operator.gt, "<": operator.lt}


@register
@dataclass(frozen=True)
class KernelVersion(Condition):
    """``{ kernel = ">=6.2" }``: the kernel version compares so."""

    op: str
    version: tuple[int, int, int]

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> KernelVersion | None:
        if set(doc) != {"kernel"} or not isinstance(doc["kernel"], str):
            return None
        m = _VERSION_OP.match(doc["kernel"])
        if not m:
            raise ConditionError(f"bad kernel version condition {doc['kernel']!r}")
        return cls(m.group(1), (int(m.group(2)), int(m.group(3)), int(m.group(4) or 0)))

    def evaluate(self, ev: GuestEvidence) -> Tri:
        ver = kernel_version(ev)
        return None if ver is None else bool(_COMPARE[self.op](ver, self.version))

    def describe(self, ev: GuestEvidence) -> str | None:
        ver = kernel_version(ev)
        return None if ver is None else f"kernel {'.'.join(map(str, ver))}"
