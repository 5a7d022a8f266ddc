"""Conditions on the running guest (devices, drivers, lockdown, Secure Boot) and the platform."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cocoscope.evidence.guest import GuestEvidence
from cocoscope.model.hypervisor import Hypervisor, parse_hypervisor
from cocoscope.model.platform import Platform, parse_platform
from cocoscope.rules.conditions.base import (
    Condition,
    ConditionError,
    Tri,
    compile_pattern,
    register,
    strs,
)


def _hex(v: Any, key: str) -> str | None:
    if v is None:
        return None
    if not isinstance(v, str):
        raise ConditionError(f"device {key!r} must be a hex string")
    return v.lower().removeprefix("0x")


def _device_table(doc: Mapping[str, Any]) -> Mapping[str, Any] | None:
    d = doc.get("device")
    return d if set(doc) == {"device"} and isinstance(d, Mapping) else None


@register
@dataclass(frozen=True)
class DeviceFeature(Condition):
    """``{ device = { bus = "virtio", lacks_feature = 33 } }``: a live virtio device without
    (``has=False``) or with (``feature = N``, ``has=True``) a negotiated feature bit."""

    bus: str | None
    bit: int
    has: bool

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> DeviceFeature | None:
        d = _device_table(doc)
        if d is None or not ("feature" in d or "lacks_feature" in d):
            return None  # a plain device table: DevicePresent
        extra = set(d) - {"bus", "feature", "lacks_feature"}
        bit = d.get("feature", d.get("lacks_feature"))
        if extra or not isinstance(bit, int) or ("feature" in d and "lacks_feature" in d):
            raise ConditionError("a device feature condition takes bus and one of "
                                 "feature/lacks_feature (a bit number)")
        return cls(d.get("bus"), bit, "feature" in d)

    def evaluate(self, ev: GuestEvidence) -> Tri:
        if ev.system is None:
            return None
        found = [d.has_feature(self.bit) for d in ev.system.devices
                 if self.bus is None or d.bus == self.bus]
        if any(f is self.has for f in found):
            return True
        return None if None in found else False

    def describe(self, ev: GuestEvidence) -> str | None:
        if ev.system is None:
            return None
        lacking = [d.name for d in ev.system.devices
                   if (self.bus is None or d.bus == self.bus) and d.has_feature(self.bit) is False]
        return (f"feature bit {self.bit} missing on {', '.join(lacking)}" if lacking
                else f"feature bit {self.bit} negotiated by every device")


@register
@dataclass(frozen=True)
class DevicePresent(Condition):
    """``{ device = { bus, vendor, device, class (prefix), modalias (regex) } }``."""

    bus: str | None
    vendor: str | None
    device: str | None
    klass: str | None
    modalias: re.Pattern[str] | None

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> DevicePresent | None:
        d = _device_table(doc)
        if d is None:
            return None
        extra = set(d) - {"bus", "vendor", "device", "class", "modalias"}
        if extra:
            raise ConditionError(f"unknown device key(s) {sorted(extra)}")
        mod = d.get("modalias")
        return cls(d.get("bus"), _hex(d.get("vendor"), "vendor"),
                   _hex(d.get("device"), "device"), _hex(d.get("class"), "class"),
                   compile_pattern(mod, "modalias") if isinstance(mod, str) else None)

    def evaluate(self, ev: GuestEvidence) -> Tri:
        if ev.system is None:
            return None
        return any(
            (self.bus is None or d.bus == self.bus)
            and (self.vendor is None or d.vendor == self.vendor)
            and (self.device is None or d.device == self.device)
            and (self.klass is None or (d.klass or "").startswith(self.klass))
            and (self.modalias is None or bool(self.modalias.search(d.modalias or "")))
            for d in ev.system.devices
        )


@register
@dataclass(frozen=True)
class LockdownIs(Condition):
    """``{ lockdown = ["integrity", "confidentiality"] }``: the running kernel's mode."""

    modes: frozenset[str]

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> LockdownIs | None:
        return cls(strs(doc["lockdown"], "lockdown")) if set(doc) == {"lockdown"} else None

    def evaluate(self, ev: GuestEvidence) -> Tri:
        if ev.system is None or ev.system.lockdown is None:
            return None
        return ev.system.lockdown in self.modes

    def describe(self, ev: GuestEvidence) -> str | None:
        return None if ev.system is None else f"lockdown {ev.system.lockdown or 'not readable'}"


@register
@dataclass(frozen=True)
class SecureBoot(Condition):
    """``{ secure_boot = true }``: the firmware's SecureBoot variable has this state."""

    enabled: bool

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> SecureBoot | None:
        if set(doc) != {"secure_boot"} or not isinstance(doc["secure_boot"], bool):
            return None
        return cls(doc["secure_boot"])

    def evaluate(self, ev: GuestEvidence) -> Tri:
        if ev.system is None or ev.system.secure_boot is None:
            return None
        return ev.system.secure_boot is self.enabled


@register
@dataclass(frozen=True)
class DriverBound(Condition):
    """``{ driver = "virtio_mmio" }``: some live device is bound to that driver."""

    driver: str

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> DriverBound | None:
        if set(doc) != {"driver"} or not isinstance(doc["driver"], str):
            return None
        return cls(doc["driver"])

    def evaluate(self, ev: GuestEvidence) -> Tri:
        return None if ev.system is None else self.driver in ev.system.drivers()

    def describe(self, ev: GuestEvidence) -> str | None:
        if ev.system is None:
            return None
        bound = self.driver in ev.system.drivers()
        return f"driver {self.driver} {'bound' if bound else 'not bound'}"


@register
@dataclass(frozen=True)
class PlatformIs(Condition):
    """``{ platform = "tdx" }``: the audited platform is one of those."""

    platforms: frozenset[Platform]

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> PlatformIs | None:
        if set(doc) != {"platform"}:
            return None
        try:
            return cls(frozenset(map(parse_platform, strs(doc["platform"], "platform"))))
        except ValueError as exc:
            raise ConditionError(str(exc)) from None

    def evaluate(self, ev: GuestEvidence) -> Tri:
        return None if ev.platform is None else ev.platform in self.platforms

    def describe(self, ev: GuestEvidence) -> str | None:
        return None if ev.platform is None else f"platform {ev.platform}"


@register
@dataclass(frozen=True)
class DetectedPlatform(Condition):
    """``{ detected_platform = ["tdx", "snp"] }``: the running guest shows one of these platforms.

    Unlike ``platform`` (the audit's target, which may be a flag), only live evidence decides."""

    platforms: frozenset[Platform]

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> DetectedPlatform | None:
        if set(doc) != {"detected_platform"}:
            return None
        try:
            return cls(frozenset(map(parse_platform, strs(doc["detected_platform"],
                                                          "detected_platform"))))
        except ValueError as exc:
            raise ConditionError(str(exc)) from None

    def evaluate(self, ev: GuestEvidence) -> Tri:
        return None if ev.system is None else ev.system.detection.platform in self.platforms

    def describe(self, ev: GuestEvidence) -> str | None:
        if ev.system is None:
            return "no running system examined"
        return f"detected platform {ev.system.detection.platform}"


@register
@dataclass(frozen=True)
class HypervisorIs(Condition):
    """``{ hypervisor = "hyperv" }``: the guest runs on one of these hypervisors (--hypervisor,
    or detected); unknown when neither says."""

    hypervisors: frozenset[Hypervisor]

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> HypervisorIs | None:
        if set(doc) != {"hypervisor"}:
            return None
        try:
            return cls(frozenset(map(parse_hypervisor, strs(doc["hypervisor"], "hypervisor"))))
        except ValueError as exc:
            raise ConditionError(str(exc)) from None

    def evaluate(self, ev: GuestEvidence) -> Tri:
        return None if ev.hypervisor is None else ev.hypervisor in self.hypervisors

    def describe(self, ev: GuestEvidence) -> str | None:
        if ev.hypervisor is None:
            return "hypervisor unknown (--hypervisor)"
        return f"hypervisor {ev.hypervisor.value}"
