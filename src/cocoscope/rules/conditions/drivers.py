"""Conditions on the device drivers a config builds: PCI drivers that bind host-presented
devices outside an allow-list (virtio, the platform's own devices, what the user keeps).

Which built symbols are PCI drivers comes from the kernel source when the audit has one
(``--source``/``--kconfig-tree``: every ``struct pci_driver`` in the files the config builds,
evidence/pcidrivers.py), ranked by host-input sites with ``--source``; otherwise from a knowledge
list generated from Linux 6.12 by the same code (scripts/pci_drivers_list.py). The list only
answers for the 6.12 series: for another kernel a config with no listed driver is *unknown*,
never a pass, because a driver added since would not be on it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from cocoscope.evidence.dotconfig import KernelConfig, is_fragment
from cocoscope.evidence.guest import GuestEvidence
from cocoscope.evidence.pcidrivers import DriverIndex, PciDriver
from cocoscope.finding import Location, LocationKind
from cocoscope.model.hypervisor import parse_hypervisor
from cocoscope.rules.conditions.base import Condition, ConditionError, Tri, register, strs

KNOWLEDGE = "knowledge/pci-drivers-6.12.tsv"  # under cocoscope/rules
MESSAGE_DRIVERS = 5  # drivers named in the message (every renderer); more in the notes
MESSAGE_AREAS = 6  # source areas (drivers/<area>) counted in the message
NOTE_DRIVERS = 20  # ranked drivers named in the notes; JSON facts list every one
NOTE_PER_AREA = 4  # unranked: symbols named per area in the notes
# Unranked (no --source), the main family comes first: NICs, storage, GPUs, fabrics.
MAIN_FAMILY = ("net", "nvme", "scsi", "ata", "block", "gpu", "infiniband", "cxl")


@dataclass(frozen=True)
class Knowledge:
    series: tuple[int, int]  # the (major, minor) kernel series the list describes
    drivers: tuple[PciDriver, ...]
    # symbol -> the symbols that select it, transitively: off too, or its line does not take
    selectors: Mapping[str, tuple[str, ...]]


@cache
def knowledge() -> Knowledge:
    text = (resources.files("cocoscope.rules") / KNOWLEDGE).read_text("utf-8")
    series = (0, 0)
    drivers = []
    selectors: dict[str, tuple[str, ...]] = {}
    for line in text.splitlines():
        if line.startswith("# version\t"):
            major, minor = line.split("\t")[1].split(".")[:2]
            series = (int(major), int(minor))
        elif line and not line.startswith("#"):
            symbol, path, name, binds, module, selected_by = line.split("\t")
            unit = module if module != "-" else name
            drivers.append(PciDriver(symbol, path, name, unit=unit, auto_binds=binds == "auto"))
            selectors[symbol] = tuple(s for s in selected_by.split(",") if s and s != "-")
    return Knowledge(series, tuple(drivers), selectors)


def index_from_knowledge(config: KernelConfig) -> DriverIndex:
    """The listed drivers whose symbol the config builds (y or m)."""
    series = knowledge().series
    found = []
    for d in knowledge().drivers:
        value = config.tristate(d.symbol).value
        if value in ("y", "m"):
            found.append(PciDriver(d.symbol, d.file, d.name, value, d.unit, d.auto_binds))
    return DriverIndex(tuple(found), f"knowledge list of Linux {series[0]}.{series[1]}")


@dataclass(frozen=True)
class Verdict:
    """Each auto-binding built driver sorted into one bucket, for messages and fixes."""

    reported: tuple[PciDriver, ...]
    allowed: tuple[PciDriver, ...]
    kept: tuple[PciDriver, ...]
    elsewhere: tuple[tuple[PciDriver, str], ...]  # (driver, rule id that covers it)
    on_request: tuple[PciDriver, ...]
    index: DriverIndex
    result: Tri
    why_unknown: str = ""


def _symbols(items: list[PciDriver]) -> list[str]:
    return list(dict.fromkeys(d.symbol for d in items))


@register
@dataclass(frozen=True)
class PciDrivers(Condition):
    """``{ pci_drivers = "built", allow = [...], allow_on = { hyperv = [...] },
    elsewhere = { "CCS-KCFG-120" = ["drivers/usb/", "SYMBOL"] } }``: true when the config
    builds no PCI driver that binds devices on its own outside the allow-list (``allow``, the
    hypervisor's ``allow_on`` entry, ``--keep``) and outside what another rule already covers
    (``elsewhere``: a symbol or a source directory, per rule id)."""

    allow: frozenset[str]
    allow_on: tuple[tuple[str, frozenset[str]], ...]
    elsewhere: tuple[tuple[str, tuple[str, ...]], ...]

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> PciDrivers | None:
        if "pci_drivers" not in doc:
            return None
        extra = set(doc) - {"pci_drivers", "allow", "allow_on", "elsewhere"}
        if extra or doc["pci_drivers"] != "built":
            raise ConditionError("pci_drivers takes \"built\" and optional allow, allow_on and "
                                 "elsewhere")
        allow_on = doc.get("allow_on", {})
        elsewhere = doc.get("elsewhere", {})
        if not isinstance(allow_on, Mapping) or not isinstance(elsewhere, Mapping):
            raise ConditionError("allow_on and elsewhere must be tables")
        try:
            hyps = [(parse_hypervisor(h).value, strs(v, "allow_on")) for h, v in allow_on.items()]
        except ValueError as exc:
            raise ConditionError(str(exc)) from None
        allow = strs(doc["allow"], "allow") if "allow" in doc else frozenset()
        return cls(allow, tuple(sorted(hyps)),
                   tuple((rid, tuple(sorted(strs(v, "elsewhere"))))
                         for rid, v in sorted(elsewhere.items())))

    def _covered_by(self, d: PciDriver) -> str | None:
        for rid, items in self.elsewhere:
            if any(d.symbol == i or (i.endswith("/") and d.file.startswith(i)) for i in items):
                return rid
        return None

    def platform(self, ev: GuestEvidence) -> frozenset[str]:
        """The allow-list for this guest: everywhere, plus its hypervisor's own devices."""
        extra = dict(self.allow_on).get(ev.hypervisor.value) if ev.hypervisor else None
        return self.allow | (extra or frozenset())

    def _bucket(self, d: PciDriver, platform: frozenset[str], keep: frozenset[str]) -> str:
        """"" (reported), "on-request", "allowed", "kept", or the rule id that covers it."""
        if not d.auto_binds:
            return "on-request"
        if d.symbol in platform:
            return "allowed"
        if d.symbol in keep:
            return "kept"
        return self._covered_by(d) or ""

    def verdict(self, ev: GuestEvidence) -> Verdict | None:
        config = ev.config
        if config is None:
            return None
        index = ev.drivers if ev.drivers is not None else index_from_knowledge(config)
        platform = self.platform(ev)
        reported: list[PciDriver] = []
        allowed: list[PciDriver] = []
        kept: list[PciDriver] = []
        elsewhere: list[tuple[PciDriver, str]] = []
        on_request: list[PciDriver] = []
        for d in index.drivers:
            bucket = self._bucket(d, platform, ev.keep)
            if bucket == "on-request":
                on_request.append(d)
            elif bucket == "allowed":
                allowed.append(d)
            elif bucket == "kept":
                kept.append(d)
            elif bucket:
                elsewhere.append((d, bucket))
            else:
                reported.append(d)
        if not index.ranked:
            reported.sort(key=_main_family_first)
        result: Tri = not reported
        why = ""
        if reported:
            result = False
        elif not is_fragment(config) and config.tristate("PCI").value in ("n", "absent"):
            result = True  # no PCI support, so no PCI driver whatever the list says
        elif is_fragment(config):
            result, why = None, "a fragment says nothing of the drivers it does not list"
        elif index.unreadable:
            result, why = None, (f"{len(index.unreadable)} built files could not be read "
                                 f"({index.unreadable[0]})")
        elif ev.drivers is None:
            series = knowledge().series
            version = config.version
            if version is None or version[:2] != series:
                shown = "unknown" if version is None else ".".join(map(str, version))
                result, why = None, (
                    f"kernel {shown}: the knowledge list covers Linux "
                    f"{series[0]}.{series[1]} only; pass --source or --kconfig-tree")
        return Verdict(tuple(reported), tuple(allowed), tuple(kept), tuple(elsewhere),
                       tuple(on_request), index, result, why)

    def evaluate(self, ev: GuestEvidence) -> Tri:
        v = self.verdict(ev)
        return None if v is None else v.result

    def describe(self, ev: GuestEvidence) -> str | None:
        v = self.verdict(ev)
        if v is None:
            return None
        if v.why_unknown:
            return f"not checked: {v.why_unknown}"
        syms = _symbols(list(v.reported))
        if not syms:
            return (f"no PCI driver outside the allow-list is built ({v.index.origin}; "
                    f"allowed: {', '.join(_symbols(list(v.allowed))) or 'none built'})")
        first = _first_per_symbol(v.reported)
        areas = sorted(Counter(_area(d.file) for d in first).items(), key=lambda x: (-x[1], x[0]))
        by_area = ", ".join(f"{a} {n}" for a, n in areas[:MESSAGE_AREAS])
        if len(areas) > MESSAGE_AREAS:
            by_area += f", +{len(areas) - MESSAGE_AREAS} more areas"
        shown = [_label(d, v.index.ranked) for d in first[:MESSAGE_DRIVERS]]
        more = len(first) - len(shown)
        return (f"{len(syms)} PCI driver symbols outside the allow-list built ({by_area}); "
                + ("most exposed (host-input sites/risky): " if v.index.ranked else "")
                + ", ".join(shown) + (f" (+{more} more)" if more > 0 else ""))

    def details(self, ev: GuestEvidence) -> tuple[str, ...]:
        v = self.verdict(ev)
        if v is None:
            return ()
        notes = [f"PCI drivers from the {v.index.origin}"
                 + ("; ranked by host-input sites (all/risky) in their module or object"
                    if v.index.ranked else "; no --source, so not ranked by host-input sites")]
        first = _first_per_symbol(v.reported)
        if first and v.index.ranked:
            listed = [f"{d.symbol or d.file} {d.sites}/{d.risky}" for d in first[:NOTE_DRIVERS]]
            more = len(first) - len(listed)
            notes.append("reported, most exposed first (sites/risky): " + ", ".join(listed)
                         + (f" (+{more} more: --format json lists each with its counts and "
                            "fragment line)" if more > 0 else ""))
        elif first:
            groups: dict[str, list[str]] = {}
            for d in first:
                groups.setdefault(_area(d.file), []).append(d.symbol or d.file)
            notes.append("reported by area: " + "; ".join(
                f"{area} ({len(syms)}): {', '.join(syms[:NOTE_PER_AREA])}"
                + (f" +{len(syms) - NOTE_PER_AREA}" if len(syms) > NOTE_PER_AREA else "")
                for area, syms in groups.items()))
        if v.allowed or v.kept:
            notes.append("allowed: " + ", ".join(_symbols(list(v.allowed)) + [
                f"{s} (--keep)" for s in _symbols(list(v.kept))]))
        if v.elsewhere:
            by_rule: dict[str, list[str]] = {}
            for d, rid in v.elsewhere:
                by_rule.setdefault(rid, []).append(d.symbol)
            notes.append("covered by other rules: " + "; ".join(
                f"{rid} {', '.join(dict.fromkeys(s))}" for rid, s in sorted(by_rule.items())))
        if v.on_request:
            notes.append("bind only devices user space hands them (not reported): "
                         + ", ".join(_symbols(list(v.on_request))))
        return tuple(notes)

    def config_fix(self, ev: GuestEvidence) -> dict[str, str]:
        """``# CONFIG_X is not set`` for each reported driver's symbol. With no config (the
        generic fragment, merged by the user with merge_config.sh) every listed driver the
        condition would report, and the symbols that select it, so each line takes."""
        if ev.config is not None:
            v = self.verdict(ev)
            return {} if v is None else {s: "n" for s in _symbols(list(v.reported)) if s}
        k = knowledge()
        platform = self.platform(ev)
        fix: dict[str, str] = {}
        for d in k.drivers:
            if self._bucket(d, platform, ev.keep) == "":
                fix[d.symbol] = "n"
                fix.update((s, "n") for s in k.selectors.get(d.symbol, ())
                           if s not in platform and s not in ev.keep)
        return fix

    def location(self, ev: GuestEvidence) -> Location | None:
        v = self.verdict(ev)
        if ev.config is None or v is None or not v.reported:
            return None
        e = ev.config.entry(v.reported[0].symbol)
        return Location(ev.config.path, LocationKind.CONFIG, e.line if e else None,
                        snippet=e.raw if e else None)



def _first_per_symbol(drivers: tuple[PciDriver, ...]) -> list[PciDriver]:
    """One entry per symbol, the most exposed (the index is in rank order)."""
    seen: dict[str, PciDriver] = {}
    for d in drivers:
        seen.setdefault(d.symbol, d)
    return list(seen.values())


def _main_family_first(d: PciDriver) -> tuple[int, str, str]:
    area = _area(d.file)
    rank = MAIN_FAMILY.index(area) if area in MAIN_FAMILY else len(MAIN_FAMILY)
    return (rank, area, d.symbol)


def _area(path: str) -> str:
    """Where a driver lives, for the summary: net, scsi, comedi, ... (drivers/<area>/...)."""
    parts = path.split("/")
    return parts[1] if parts[0] == "drivers" and len(parts) > 2 else parts[0]


def _label(d: PciDriver, ranked: bool) -> str:
    """``MLX5_CORE (mlx5_core, m: 159/12)``: symbol, unit, built, sites/risky."""
    unit = d.unit.rsplit("/", 1)[-1] or d.name
    counts = f": {d.sites}/{d.risky}" if ranked else ""
    return f"{d.symbol or d.file} ({unit}, {d.built}{counts})"
