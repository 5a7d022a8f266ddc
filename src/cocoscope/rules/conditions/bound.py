"""The running guest's side of CCS-DRV: PCI devices the host presented that a driver outside the
allow-list has bound (sysfs ``/sys/bus/pci/devices/*/driver``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cocoscope.evidence.guest import GuestEvidence
from cocoscope.evidence.system import Device
from cocoscope.finding import Location, LocationKind
from cocoscope.model.hypervisor import parse_hypervisor
from cocoscope.rules.conditions.base import Condition, ConditionError, Tri, register, strs
from cocoscope.rules.conditions.drivers import knowledge

SHOWN = 6  # bound devices named in the message


def _kept_drivers(keep: frozenset[str]) -> frozenset[str]:
    """Driver and module names of the kept symbols' PCI drivers (knowledge list)."""
    return frozenset(n for d in knowledge().drivers if d.symbol in keep for n in (d.name, d.unit))


@register
@dataclass(frozen=True)
class PciBound(Condition):
    """``{ pci_bound = "outside", drivers = [...], drivers_on = { hyperv = [...] },
    elsewhere = { "CCS-LIVE-006" = ["e1000", "class:0c03"] } }``: true when no PCI device of the
    running system is bound to a driver outside ``drivers``, the hypervisor's ``drivers_on``
    and the drivers of --keep symbols, other than those another rule covers (a driver name, or
    ``class:`` and a PCI class prefix)."""

    drivers: frozenset[str]
    drivers_on: tuple[tuple[str, frozenset[str]], ...]
    elsewhere: tuple[tuple[str, frozenset[str]], ...]

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> PciBound | None:
        if "pci_bound" not in doc:
            return None
        if set(doc) - {"pci_bound", "drivers", "drivers_on", "elsewhere"} or \
                doc["pci_bound"] != "outside":
            raise ConditionError("pci_bound takes \"outside\" and optional drivers, drivers_on "
                                 "and elsewhere")
        on, other = doc.get("drivers_on", {}), doc.get("elsewhere", {})
        if not isinstance(on, Mapping) or not isinstance(other, Mapping):
            raise ConditionError("drivers_on and elsewhere must be tables")
        try:
            hyps = tuple(sorted((parse_hypervisor(h).value, strs(v, "drivers_on"))
                                for h, v in on.items()))
        except ValueError as exc:
            raise ConditionError(str(exc)) from None
        return cls(strs(doc["drivers"], "drivers") if "drivers" in doc else frozenset(), hyps,
                   tuple(sorted((rid, strs(v, "elsewhere")) for rid, v in other.items())))

    def _covered(self, d: Device) -> bool:
        return any(d.driver in items or any(
            i.startswith("class:") and (d.klass or "").startswith(i[6:]) for i in items)
            for _, items in self.elsewhere)

    def outside(self, ev: GuestEvidence) -> list[Device] | None:
        if ev.system is None:
            return None
        allowed = set(self.drivers) | _kept_drivers(ev.keep)
        if ev.hypervisor is not None:
            allowed |= dict(self.drivers_on).get(ev.hypervisor.value, frozenset())
        return [d for d in ev.system.devices if d.bus == "pci" and d.driver
                and d.driver not in allowed and not self._covered(d)]

    def evaluate(self, ev: GuestEvidence) -> Tri:
        found = self.outside(ev)
        return None if found is None else not found

    def describe(self, ev: GuestEvidence) -> str | None:
        found = self.outside(ev)
        if found is None:
            return None
        if not found:
            return "no PCI device is bound to a driver outside the allow-list"
        shown = [f"{d.name} {d.vendor or '?'}:{d.device or '?'} -> {d.driver}"
                 for d in found[:SHOWN]]
        more = f" (+{len(found) - SHOWN} more)" if len(found) > SHOWN else ""
        return f"{len(found)} PCI devices bound outside the allow-list: " + ", ".join(shown) + more

    def location(self, ev: GuestEvidence) -> Location | None:
        return None if ev.system is None else Location(ev.system.root, LocationKind.SYSTEM)
