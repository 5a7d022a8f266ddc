"""The PCI drivers a config builds, read from the kernel source for the CCS-DRV rules and
ranked by the host-input sites of the surface inventory when the audit scans one (--source)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from cocoscope.evidence.dotconfig import KernelConfig
from cocoscope.evidence.kbuild import resolve
from cocoscope.evidence.pcidrivers import DriverIndex, PciDriver, find_pci_drivers, rank

if TYPE_CHECKING:
    from cocoscope.surface.inventory import Site


def driver_index(tree: str, config: KernelConfig, sites: Iterable[Site] | None = None
                 ) -> DriverIndex:
    """Every struct pci_driver in the files ``config`` builds from ``tree``; with ``sites``
    (the inventory's host sites), each driver's module or object gets its site counts."""
    root = Path(tree)
    built = resolve(root, config).files
    drivers, unreadable = find_pci_drivers(root, built)
    origin = f"kernel source {tree}"
    if sites is None:
        return DriverIndex(drivers, origin, False, unreadable)
    unit_of = {f.path: (f.module if f.built == "m" and f.module else f.object) for f in built}
    counts: dict[str, tuple[int, int]] = {}
    for s in sites:
        unit = unit_of.get(s.file)
        if unit is not None:
            n, risky = counts.get(unit, (0, 0))
            counts[unit] = (n + 1, risky + s.risky)
    return DriverIndex(rank(drivers, counts), origin, True, unreadable)


def ranking_facts(index: DriverIndex, reported: Iterable[PciDriver]) -> list[dict[str, object]]:
    """The reported drivers, most exposed first, as plain data for the JSON/HTML facts."""
    first: dict[str, PciDriver] = {}
    for d in reported:  # one per symbol, the most exposed (the index is in rank order)
        first.setdefault(d.symbol or d.file, d)
    return [{"symbol": d.symbol, "driver": d.name, "unit": d.unit, "built": d.built,
             "file": d.file, "sites": d.sites, "risky": d.risky} for d in first.values()]
