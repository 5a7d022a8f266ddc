"""Which built objects drive PCI devices: ``struct pci_driver`` definitions in the C files a
config builds (Kbuild), each attributed to the Kconfig symbol that builds its file.

A PCI driver with an id table binds every matching device the host presents, at boot, without
anyone asking. One whose table is empty (``pci-stub``: ``.id_table = NULL``, ids come from a
module parameter) or holds only driver-override entries (``vfio-pci``:
``PCI_DRIVER_OVERRIDE_DEVICE_VFIO``) binds only a device user space hands it, so it is recorded
with ``auto_binds`` false. The definition is the signal, not the registration call: drivers are
registered through ``module_pci_driver``, ``pci_register_driver`` and a dozen subsystem wrappers,
but each needs the ``struct pci_driver`` defined in the same object.

The text is read, never compiled: a definition under an ``#if`` the config does not take is
still counted (over-reporting, never a missed driver), and a ``struct pci_driver`` built by a
macro is not seen (none in Linux 6.12's drivers).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from cocoscope.evidence.files import read_tree_file
from cocoscope.evidence.kbuild import BuiltFile

_DRIVER = re.compile(rb"\bstruct\s+pci_driver\s+(\w+)(?:\s+__\w+)*\s*=\s*\{")
_FIELD = re.compile(rb"\.(name|id_table)\s*=\s*([^,}\n]+)")
_COMMENT = re.compile(rb"/\*.*?\*/|//[^\n]*", re.S)
_ID_ENTRY = re.compile(rb"\bPCI_\w*DEVICE\w*\s*\(")
_MAX_BYTES = 4 << 20  # generated register tables are larger; no driver file is


@dataclass(frozen=True)
class PciDriver:
    symbol: str  # Kconfig symbol (no CONFIG_) that builds the defining file; "" unconditional
    file: str  # tree-relative .c file that defines the struct pci_driver
    name: str  # the driver's .name ("ixgbevf"), or the struct's variable when not a literal
    built: str = ""  # "y", "m", or "" (from the knowledge list: whatever the config says)
    unit: str = ""  # module name for "m", linked object for "y": where its sites are counted
    auto_binds: bool = True  # has an id table that matches devices without user space asking
    sites: int | None = None  # host-input sites in its unit (surface inventory), when ranked
    risky: int | None = None


def _body(text: bytes, start: int) -> bytes:
    """The brace-balanced initialiser starting at ``text[start] == b'{'``."""
    depth = 0
    for i in range(start, min(len(text), start + 64 * 1024)):
        c = text[i:i + 1]
        if c == b"{":
            depth += 1
        elif c == b"}":
            depth -= 1
            if depth == 0:
                return text[start:i + 1]
    return text[start:start + 4096]


def _table_auto_binds(text: bytes, table: str) -> bool:
    """False when the id table ``table`` holds only driver-override entries (vfio-pci)."""
    m = re.search(rb"\bstruct\s+pci_device_id\s+" + re.escape(table.encode()) + rb"\s*\[\s*\]"
                  rb"[^=;]*=\s*\{", text)
    if m is None:
        return True  # defined elsewhere (a shared header): assume it matches devices
    entries = _ID_ENTRY.findall(_body(text, m.end() - 1))
    return not entries or not all(e.startswith(b"PCI_DRIVER_OVERRIDE") for e in entries)


def drivers_in(text: bytes, path: str, symbol: str = "") -> list[PciDriver]:
    """The ``struct pci_driver`` definitions in one C file's text."""
    text = _COMMENT.sub(b" ", text)
    out = []
    for m in _DRIVER.finditer(text):
        fields = {k.decode(): v.strip().decode(errors="replace")
                  for k, v in _FIELD.findall(_body(text, m.end() - 1))}
        name = fields.get("name", "")
        name = name[1:-1] if name.startswith('"') and name.endswith('"') else m.group(1).decode()
        table = fields.get("id_table", "NULL").lstrip("&")
        auto = table not in ("NULL", "0", "") and _table_auto_binds(text, table)
        out.append(PciDriver(symbol, path, name, auto_binds=auto))
    return out


# A file added only "when the kernel has PCI" (``ipmi_si-$(CONFIG_PCI) += ipmi_si_pci.o``)
# belongs to its object's driver: the symbol to name (and turn off) is the object's, never PCI.
BUS_SYMBOLS = frozenset({"PCI"})


def find_pci_drivers(tree: Path, files: Sequence[BuiltFile]
                     ) -> tuple[tuple[PciDriver, ...], tuple[str, ...]]:
    """PCI drivers defined in the built ``files``; and the files that could not be read."""
    found: list[PciDriver] = []
    unreadable: list[str] = []
    for f in files:
        try:
            text = read_tree_file(tree / f.path, _MAX_BYTES)
        except OSError as exc:
            unreadable.append(f"{f.path}: {exc.strerror or exc}")
            continue
        if b"pci_driver" not in text:
            continue
        unit = f.module if f.built == "m" and f.module else f.object
        symbol = f.symbol or ""
        if symbol in BUS_SYMBOLS:
            if not f.object_symbol or f.object_symbol in BUS_SYMBOLS:
                continue  # the PCI core's own (pci_compat_driver): not a device driver
            symbol = f.object_symbol
        found.extend(replace(d, built=f.built, unit=unit)
                     for d in drivers_in(text, f.path, symbol))
    return tuple(found), tuple(unreadable)


def rank(drivers: Iterable[PciDriver], unit_sites: dict[str, tuple[int, int]]
         ) -> tuple[PciDriver, ...]:
    """Attach (sites, risky) per unit and order most exposed first: by host-input sites, then
    risky sites, as `cocoscope surface` ranks its drivers and subsystems."""
    ranked = [replace(d, sites=unit_sites.get(d.unit, (0, 0))[0],
                      risky=unit_sites.get(d.unit, (0, 0))[1]) for d in drivers]
    return tuple(sorted(ranked, key=lambda d: (-(d.sites or 0), -(d.risky or 0), d.symbol,
                                               d.name)))





@dataclass(frozen=True)
class DriverIndex:
    """The PCI drivers a config builds, as far as they could be established, and how."""

    drivers: tuple[PciDriver, ...]
    origin: str  # "kernel source DIR" or the knowledge list it came from
    ranked: bool = False  # site counts attached (surface inventory of --source)
    unreadable: tuple[str, ...] = ()  # built files that could not be read (the list may miss some)
__all__ = ["DriverIndex", "PciDriver", "drivers_in", "find_pci_drivers", "rank"]
