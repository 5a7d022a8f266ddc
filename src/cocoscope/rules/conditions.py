"""Rule conditions: data parsed into a typed tree, evaluated in three-valued logic.

A condition is a TOML inline table of exactly one kind (see docs/rules.md); nothing is ever
eval'd. Evaluation yields True, False or None (unknown: the evidence it needs was not given),
so a rule can never pass on missing evidence.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from cocoscope.evidence.cmdline import parse_bool
from cocoscope.evidence.dotconfig import Tristate
from cocoscope.evidence.guest import GuestEvidence

Tri = bool | None
_STATES = {"y", "m", "n", "absent", "on", "off"}
_VERSION_OP = re.compile(r"^\s*(>=|<=|==|!=|>|<)\s*(\d+)\.(\d+)(?:\.(\d+))?\s*$")


class ConditionError(ValueError):
    """A condition table that does not have one of the documented forms."""


@dataclass(frozen=True)
class SymbolIs:
    symbol: str
    states: frozenset[str]


@dataclass(frozen=True)
class SymbolValueIn:
    symbol: str
    values: frozenset[str]


@dataclass(frozen=True)
class SymbolAtLeast:
    symbol: str
    minimum: int


@dataclass(frozen=True)
class KernelVersion:
    op: str
    version: tuple[int, int, int]


@dataclass(frozen=True)
class CmdlinePresent:
    name: str
    present: bool


@dataclass(frozen=True)
class CmdlineValueIn:
    name: str
    values: frozenset[str]


@dataclass(frozen=True)
class CmdlineBool:
    name: str
    expected: bool


@dataclass(frozen=True)
class CmdlineAnyMatches:
    name: str
    pattern: re.Pattern[str]


@dataclass(frozen=True)
class DevicePresent:
    bus: str | None
    vendor: str | None
    device: str | None
    klass: str | None
    modalias: re.Pattern[str] | None


@dataclass(frozen=True)
class DeviceFeature:
    """A live virtio device with (``has=True``) or without a negotiated feature bit."""

    bus: str | None
    bit: int
    has: bool


@dataclass(frozen=True)
class LockdownIs:
    modes: frozenset[str]


@dataclass(frozen=True)
class SecureBoot:
    enabled: bool


@dataclass(frozen=True)
class DriverBound:
    driver: str


@dataclass(frozen=True)
class PlatformIs:
    platforms: frozenset[str]


@dataclass(frozen=True)
class All:
    parts: tuple[Condition, ...]


@dataclass(frozen=True)
class AnyOf:
    parts: tuple[Condition, ...]


@dataclass(frozen=True)
class Not:
    part: Condition


Condition = (
    SymbolIs | SymbolValueIn | SymbolAtLeast | KernelVersion | CmdlinePresent | CmdlineValueIn
    | CmdlineBool | CmdlineAnyMatches | DevicePresent | DeviceFeature | DriverBound | PlatformIs
    | LockdownIs | SecureBoot | All | AnyOf | Not
)


def _strs(v: Any, key: str) -> frozenset[str]:
    items = v if isinstance(v, list) else [v]
    if not items or not all(isinstance(x, str) for x in items):
        raise ConditionError(f"{key!r} must be a string or a list of strings")
    return frozenset(items)


def _hex(v: Any, key: str) -> str | None:
    if v is None:
        return None
    if not isinstance(v, str):
        raise ConditionError(f"device {key!r} must be a hex string")
    return v.lower().removeprefix("0x")


def parse(doc: Any) -> Condition:
    if not isinstance(doc, Mapping):
        raise ConditionError(f"a condition must be a table, got {type(doc).__name__}")
    keys = set(doc)
    if keys == {"all"} or keys == {"any"}:
        parts = doc["all"] if "all" in doc else doc["any"]
        if not isinstance(parts, list) or not parts:
            raise ConditionError("'all'/'any' need a non-empty list of conditions")
        parsed = tuple(parse(p) for p in parts)
        return All(parsed) if "all" in doc else AnyOf(parsed)
    if keys == {"not"}:
        return Not(parse(doc["not"]))
    if "symbol" in doc:
        sym = str(doc["symbol"]).removeprefix("CONFIG_")
        if keys == {"symbol", "is"}:
            states = _strs(doc["is"], "is")
            if not states <= _STATES:
                raise ConditionError(f"'is' must be among {sorted(_STATES)}")
            return SymbolIs(sym, states)
        if keys == {"symbol", "value_in"}:
            return SymbolValueIn(sym, _strs(doc["value_in"], "value_in"))
        if keys == {"symbol", "at_least"} and isinstance(doc["at_least"], int):
            return SymbolAtLeast(sym, doc["at_least"])
    if keys == {"kernel"} and isinstance(doc["kernel"], str):
        m = _VERSION_OP.match(doc["kernel"])
        if not m:
            raise ConditionError(f"bad kernel version condition {doc['kernel']!r}")
        return KernelVersion(m.group(1), (int(m.group(2)), int(m.group(3)), int(m.group(4) or 0)))
    if "cmdline" in doc:
        name = str(doc["cmdline"])
        if keys == {"cmdline"}:
            return CmdlinePresent(name, True)
        if keys == {"cmdline", "present"} and isinstance(doc["present"], bool):
            return CmdlinePresent(name, doc["present"])
        if keys == {"cmdline", "value_in"}:
            return CmdlineValueIn(name, _strs(doc["value_in"], "value_in"))
        if keys == {"cmdline", "bool"} and isinstance(doc["bool"], bool):
            return CmdlineBool(name, doc["bool"])
        if keys == {"cmdline", "any_matches"} and isinstance(doc["any_matches"], str):
            return CmdlineAnyMatches(name, re.compile(doc["any_matches"]))
    if keys == {"device"} and isinstance(doc["device"], Mapping) and (
            "feature" in doc["device"] or "lacks_feature" in doc["device"]):
        d = doc["device"]
        extra = set(d) - {"bus", "feature", "lacks_feature"}
        bit = d.get("feature", d.get("lacks_feature"))
        if extra or not isinstance(bit, int) or ("feature" in d and "lacks_feature" in d):
            raise ConditionError("a device feature condition takes bus and one of "
                                 "feature/lacks_feature (a bit number)")
        return DeviceFeature(d.get("bus"), bit, "feature" in d)
    if keys == {"lockdown"}:
        return LockdownIs(_strs(doc["lockdown"], "lockdown"))
    if keys == {"secure_boot"} and isinstance(doc["secure_boot"], bool):
        return SecureBoot(doc["secure_boot"])
    if keys == {"device"} and isinstance(doc["device"], Mapping):
        d = doc["device"]
        extra = set(d) - {"bus", "vendor", "device", "class", "modalias"}
        if extra:
            raise ConditionError(f"unknown device key(s) {sorted(extra)}")
        mod = d.get("modalias")
        return DevicePresent(d.get("bus"), _hex(d.get("vendor"), "vendor"),
                             _hex(d.get("device"), "device"), _hex(d.get("class"), "class"),
                             re.compile(mod) if isinstance(mod, str) else None)
    if keys == {"driver"} and isinstance(doc["driver"], str):
        return DriverBound(doc["driver"])
    if keys == {"platform"}:
        return PlatformIs(_strs(doc["platform"], "platform"))
    raise ConditionError(f"unrecognised condition {dict(doc)!r}")


def _tristate_matches(state: Tristate, wanted: frozenset[str]) -> bool:
    v = state.value
    return (v in wanted or ("on" in wanted and v in ("y", "m"))
            or ("off" in wanted and v in ("n", "absent")))


def _kernel_version(ev: GuestEvidence) -> tuple[int, int, int] | None:
    if ev.config is not None and ev.config.version is not None:
        return ev.config.version
    if ev.system is not None and ev.system.release:
        m = re.match(r"(\d+)\.(\d+)(?:\.(\d+))?", ev.system.release)
        if m:
            return (int(m.group(1)), int(m.group(2)), int(m.group(3) or 0))
    return None


def _cmp(a: tuple[int, int, int], op: str, b: tuple[int, int, int]) -> bool:
    return {">=": a >= b, "<=": a <= b, "==": a == b, "!=": a != b, ">": a > b, "<": a < b}[op]


def evaluate(c: Condition, ev: GuestEvidence) -> Tri:
    if isinstance(c, All):
        vals = [evaluate(p, ev) for p in c.parts]
        return False if False in vals else (None if None in vals else True)
    if isinstance(c, AnyOf):
        vals = [evaluate(p, ev) for p in c.parts]
        return True if True in vals else (None if None in vals else False)
    if isinstance(c, Not):
        v = evaluate(c.part, ev)
        return None if v is None else not v
    if isinstance(c, SymbolIs | SymbolValueIn | SymbolAtLeast):
        if ev.config is None:
            return None
        if isinstance(c, SymbolIs):
            return _tristate_matches(ev.config.tristate(c.symbol), c.states)
        value = ev.config.value(c.symbol)
        if isinstance(c, SymbolValueIn):
            return value in c.values
        try:
            return value is not None and int(value, 0) >= c.minimum
        except ValueError:
            return False
    if isinstance(c, KernelVersion):
        ver = _kernel_version(ev)
        return None if ver is None else _cmp(ver, c.op, c.version)
    if isinstance(c, CmdlinePresent | CmdlineValueIn | CmdlineBool | CmdlineAnyMatches):
        cl = ev.cmdline
        if cl is None:
            return None
        if isinstance(c, CmdlinePresent):
            return cl.has(c.name) == c.present
        if isinstance(c, CmdlineValueIn):
            return cl.value(c.name) in c.values
        if isinstance(c, CmdlineBool):
            last = cl.last(c.name)
            return last is not None and parse_bool(last.value) is c.expected
        return any(c.pattern.search(p.value or "") for p in cl.all(c.name))
    if isinstance(c, DevicePresent):
        if ev.system is None:
            return None
        return any(
            (c.bus is None or d.bus == c.bus)
            and (c.vendor is None or d.vendor == c.vendor)
            and (c.device is None or d.device == c.device)
            and (c.klass is None or (d.klass or "").startswith(c.klass))
            and (c.modalias is None or bool(c.modalias.search(d.modalias or "")))
            for d in ev.system.devices
        )
    if isinstance(c, DeviceFeature):
        if ev.system is None:
            return None
        found: list[bool | None] = [d.has_feature(c.bit) for d in ev.system.devices
                                    if c.bus is None or d.bus == c.bus]
        if any(f is c.has for f in found):
            return True
        return None if None in found else False
    if isinstance(c, LockdownIs):
        if ev.system is None or ev.system.lockdown is None:
            return None
        return ev.system.lockdown in c.modes
    if isinstance(c, SecureBoot):
        if ev.system is None or ev.system.secure_boot is None:
            return None
        return ev.system.secure_boot is c.enabled
    if isinstance(c, DriverBound):
        return None if ev.system is None else c.driver in ev.system.drivers()
    if isinstance(c, PlatformIs):
        return None if ev.platform is None else ev.platform in c.platforms
    raise TypeError(f"unhandled condition {c!r}")  # pragma: no cover - closed union


def leaves(c: Condition) -> Iterator[Condition]:
    if isinstance(c, All | AnyOf):
        for p in c.parts:
            yield from leaves(p)
    elif isinstance(c, Not):
        yield from leaves(c.part)
    else:
        yield c


def describe(c: Condition, ev: GuestEvidence) -> str | None:
    """What the evidence says about one leaf, for messages (None when nothing to say)."""
    if isinstance(c, SymbolIs | SymbolValueIn | SymbolAtLeast) and ev.config is not None:
        e = ev.config.entry(c.symbol)
        if e is None:
            return f"CONFIG_{c.symbol} absent"
        if e.value == "n":
            return f"CONFIG_{c.symbol} is not set"
        return f"CONFIG_{c.symbol}={e.value}"
    if isinstance(c, CmdlinePresent | CmdlineValueIn | CmdlineBool | CmdlineAnyMatches) \
            and ev.cmdline is not None:
        found = ev.cmdline.all(c.name)
        if not found:
            return f"{c.name} not on the command line"
        return " ".join(p.name if p.value is None else f"{p.name}={p.value}" for p in found)
    if isinstance(c, KernelVersion):
        ver = _kernel_version(ev)
        return None if ver is None else f"kernel {'.'.join(map(str, ver))}"
    if isinstance(c, DeviceFeature) and ev.system is not None:
        lacking = [d.name for d in ev.system.devices
                   if (c.bus is None or d.bus == c.bus) and d.has_feature(c.bit) is False]
        return (f"feature bit {c.bit} missing on {', '.join(lacking)}" if lacking
                else f"feature bit {c.bit} negotiated by every device")
    if isinstance(c, LockdownIs) and ev.system is not None:
        return f"lockdown {ev.system.lockdown or 'not readable'}"
    if isinstance(c, DriverBound) and ev.system is not None:
        bound = c.driver in ev.system.drivers()
        return f"driver {c.driver} {'bound' if bound else 'not bound'}"
    if isinstance(c, PlatformIs) and ev.platform is not None:
        return f"platform {ev.platform}"
    return None
