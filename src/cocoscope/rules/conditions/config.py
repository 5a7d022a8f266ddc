"""Conditions on the kernel build: Kconfig symbols and the kernel version."""

from __future__ import annotations

import operator
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from cocoscope.evidence.dotconfig import KernelConfig, is_fragment
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
        if ev.config is None:
            return None
        if ev.config.entry(self.symbol) is None and is_fragment(ev.config):
            return None  # a fragment says nothing about what it does not set
        return self.holds(ev.config)

    def holds(self, config: KernelConfig) -> bool:
        raise NotImplementedError  # pragma: no cover - every registered kind overrides

    def describe(self, ev: GuestEvidence) -> str | None:
        if ev.config is None:
            return None
        e = ev.config.entry(self.symbol)
        if e is None:
            if is_fragment(ev.config):
                return f"CONFIG_{self.symbol} not in the fragment"
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


_RELEASE = re.compile(r"^(\d+)\.(\d+)(?:\.(\d+))?$")


def _release(text: Any, key: str) -> tuple[int, int, int]:
    m = _RELEASE.match(text) if isinstance(text, str) else None
    if not m:
        raise ConditionError(f"{key}: {text!r} is not a kernel release such as 6.1.176")
    return (int(m.group(1)), int(m.group(2)), int(m.group(3) or 0))


@register
@dataclass(frozen=True)
class KernelHas(Condition):
    """``{ kernel_has = "what", since = "6.9", backports = ["6.1.176"], present = ["6.12.117"],
    lacks = ["6.1.100"] }``: the kernel carries a change, allowing for stable backports.

    The lists hold releases whose source was read: ``backports`` carry the change as a stable
    backport (so their series' .0 release predated it), ``present`` carry it (however it got
    there), ``lacks`` do not. ``since`` is the mainline release that first had it, when known.

    True from ``since`` on, and within a series at or after a release known to carry it. False
    within a series up to a release known to lack it, and for a mainline .0 release that predates
    the change (older than ``since``, not newer than a backport's series, or older than a lacking
    series). Any other release is unknown: a stable release may or may not carry a backport, and
    a gate on the mainline version alone would be wrong either way.
    """

    change: str
    since: tuple[int, int, int] | None
    backports: tuple[tuple[int, int, int], ...] = ()
    present: tuple[tuple[int, int, int], ...] = ()
    lacks: tuple[tuple[int, int, int], ...] = ()

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> KernelHas | None:
        if "kernel_has" not in doc:
            return None
        lists_keys = ("backports", "present", "lacks")
        extra = set(doc) - {"kernel_has", "since", *lists_keys}
        if extra or not isinstance(doc["kernel_has"], str):
            raise ConditionError("kernel_has takes a description and optional since, backports, "
                                 "present and lacks (kernel releases)")
        lists = []
        for key in lists_keys:
            items = doc.get(key, [])
            if not isinstance(items, list):
                raise ConditionError(f"{key} must be a list of releases")
            lists.append(tuple(_release(r, key) for r in items))
        since = _release(doc["since"], "since") if "since" in doc else None
        if since is None and not (lists[0] or lists[1]):
            raise ConditionError("kernel_has needs since or a release known to carry the change")
        return cls(doc["kernel_has"], since, *lists)

    def evaluate(self, ev: GuestEvidence) -> Tri:
        ver = kernel_version(ev)
        if ver is None:
            return None
        if self.since is not None and ver >= self.since:
            return True
        series = ver[:2]
        if any(r[:2] == series and ver >= r for r in self.backports + self.present):
            return True
        if any(r[:2] == series and ver <= r for r in self.lacks):
            return False
        predates = ((self.since is not None and ver < self.since)
                    or any(series <= r[:2] for r in self.backports)
                    or any(series < r[:2] for r in self.lacks))
        return False if ver[2] == 0 and predates else None

    def describe(self, ev: GuestEvidence) -> str | None:
        ver = kernel_version(ev)
        if ver is None:
            return None
        text = f"kernel {'.'.join(map(str, ver))}"
        if self.evaluate(ev) is None:
            text += f" (whether it carries {self.change} was not verified for this release)"
        return text
