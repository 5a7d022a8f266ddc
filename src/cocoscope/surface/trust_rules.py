"""Who controls a value on each confidential platform: the trust tables of ``catalogue.toml``
(data), loaded into typed records.

Every rule names the fact it rests on (a spec section, a kernel source line) in its reason,
and that reason is what a site trusted on a platform shows (``Site.trust_note``), so a
reviewer can check it. Anything no rule matches is host input.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from fnmatch import fnmatchcase
from typing import Any

from cocoscope.errors import InputError
from cocoscope.model.platform import CONFIDENTIAL, Platform


class Trust(StrEnum):
    HOST = "host"  # the host chooses the value
    CHECKED = "checked"  # host-chosen, but checked by the CoCo firmware
    TRUSTED = "trusted"  # supplied by the CoCo TCB: TDX module, PSP firmware or the CPU
    GUEST = "guest"  # comes from inside the guest: user space, a nested guest, private memory
    ABSENT = "absent"  # the interface does not exist on the platform: nothing arrives through it

    @property
    def host_input(self) -> bool:
        """The host controls (or chooses within a checked policy) the value."""
        return self in (Trust.HOST, Trust.CHECKED)


# Most host-like first: a wrapper is as trusted as the least trusted read it makes.
TRUST_ORDER = (Trust.HOST, Trust.CHECKED, Trust.GUEST, Trust.TRUSTED, Trust.ABSENT)


@dataclass(frozen=True)
class MsrTrust:
    """An MSR by name: its trust per platform (``[[msr]]``)."""

    name: str
    by_platform: tuple[tuple[Platform, Trust], ...]
    note: str


@dataclass(frozen=True)
class MsrRange:
    """MSR numbers first..last that one platform's TCB answers (``[msr_ranges.<platform>]``)."""

    first: int
    last: int
    name: str  # the architectural name in the source spec
    behaviour: str  # what RDMSR does there, in words

    def label(self) -> str:
        span = f"{self.first:#x}" + (f"-{self.last:#x}" if self.last != self.first else "")
        return f"{self.name} ({span})"


@dataclass(frozen=True)
class MsrRanges:
    trust: Trust
    source: str  # the spec the table transcribes
    ranges: tuple[MsrRange, ...]

    def containing(self, number: int) -> MsrRange | None:
        return next((r for r in self.ranges if r.first <= number <= r.last), None)

    def starting_at(self, number: int) -> MsrRange | None:
        return next((r for r in self.ranges if r.first == number), None)


@dataclass(frozen=True)
class InterfaceRule:
    """Primitives of a platform-specific hypercall interface (``[[interface_platform]]``): on
    any other platform the instruction or protocol does not exist, so no host value arrives
    through them. ``code`` lists the platform's own code: only wrappers defined there carry the
    rule to their callers (a wrapper elsewhere may take another path the scanner cannot see,
    such as the inline-asm VMCALL of vmware_hypercall1 next to its TDVMCALL branch)."""

    platforms: tuple[Platform, ...]
    primitives: frozenset[str]
    code: tuple[str, ...]
    reason: str


@dataclass(frozen=True)
class OriginRule:
    """Primitives whose value, in the listed files, comes from inside the guest
    (``[[guest_origin]]``): the file's role makes the converted data user-space or
    nested-guest data, never memory the host writes. A path may be ``file::glob``: only the
    calls made in that file's functions matching the glob (virtio_ring.c reading its own
    guest-private indirect descriptor table)."""

    primitives: frozenset[str]
    paths: tuple[str, ...]
    reason: str


@dataclass(frozen=True)
class TrustRules:
    msrs: dict[str, MsrTrust] = field(default_factory=dict)
    msr_ranges: dict[Platform, MsrRanges] = field(default_factory=dict)
    msr_argument: dict[str, int] = field(default_factory=dict)  # primitive -> 1-based MSR arg
    msr_address: dict[str, tuple[str, str]] = field(default_factory=dict)  # fn -> (base, note)
    interfaces: tuple[InterfaceRule, ...] = ()
    origins: tuple[OriginRule, ...] = ()
    cpuid_notes: dict[Platform, str] = field(default_factory=dict)  # why leaves are trusted

    def msr_by_name(self, name: str, platform: Platform) -> tuple[Trust, str] | None:
        entry = self.msrs.get(name)
        if entry is None:
            return None
        trust = dict(entry.by_platform).get(platform)
        return None if trust is None else (trust, entry.note)

    def interface(self, primitive: str, platform: Platform) -> InterfaceRule | None:
        """The rule saying ``primitive`` does not exist on ``platform``, if any."""
        return next((r for r in self.interfaces
                     if primitive in r.primitives and platform not in r.platforms), None)

    def origin(self, primitive: str, path: str, function: str = "") -> OriginRule | None:
        return next((r for r in self.origins
                     if primitive in r.primitives and in_code(path, function, r.paths)), None)


def in_code(path: str, function: str, code: tuple[str, ...]) -> bool:
    """``function`` of file ``path`` is in ``code``: a path prefix, or ``path::glob`` for the
    functions of one file (`arch/x86/hyperv/ivm.c::hv_tdx_*`)."""
    for entry in code:
        prefix, _, pattern = entry.partition("::")
        if path.startswith(prefix) and (not pattern or fnmatchcase(function, pattern)):
            return True
    return False


def _strings(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(x, str) for x in value)


def _platforms(value: object, where: str, path: str) -> tuple[Platform, ...]:
    by_value = {p.value: p for p in CONFIDENTIAL}
    if not isinstance(value, list) or not value or not all(v in by_value for v in value):
        raise InputError(f"{where}: 'platforms' must list tdx and/or snp", path=path)
    return tuple(by_value[p] for p in value)


def _msr_ranges(doc: Mapping[str, Any], path: str) -> dict[Platform, MsrRanges]:
    out: dict[Platform, MsrRanges] = {}
    for name, table in doc.get("msr_ranges", {}).items():
        where = f"[msr_ranges.{name}]"
        try:
            platform = Platform(name)
            if platform not in CONFIDENTIAL:
                raise ValueError(f"{name} is not tdx or snp")
            trust = Trust(table["trust"])
            behaviours = dict(table["behaviours"])
            ranges = tuple(
                MsrRange(int(r["first"]), int(r.get("last", r["first"])), str(r["name"]),
                         str(behaviours[r["rdmsr"]]))
                for r in table["ranges"])
            out[platform] = MsrRanges(trust, str(table["source"]), ranges)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise InputError(f"{where}: needs trust, source, behaviours and ranges of "
                             f"{{first, [last], name, rdmsr}} ({exc!r})", path=path) from None
    return out


def parse_rules(doc: Mapping[str, Any], path: str, base: TrustRules | None) -> TrustRules:
    """The trust tables of one catalogue file, on top of ``base`` (a user file adds rules)."""
    base = base or TrustRules()
    msrs = dict(base.msrs)
    for entry in doc.get("msr", []):
        if not isinstance(entry, dict) or "name" not in entry:
            raise InputError("each [[msr]] needs a 'name'", path=path)
        try:
            trust = tuple((p, Trust(entry[p.value])) for p in CONFIDENTIAL if p.value in entry)
        except ValueError:
            known = "|".join(t.value for t in Trust)
            raise InputError(f"msr {entry['name']}: trust is {known}", path=path) from None
        msrs[entry["name"]] = MsrTrust(entry["name"], trust, str(entry.get("note", "")))
    argument = dict(base.msr_argument)
    for name, pos in doc.get("msr_argument", {}).items():
        if not isinstance(pos, int) or pos < 1:
            raise InputError(f"[msr_argument] {name}: a 1-based argument position", path=path)
        argument[name] = pos
    address = dict(base.msr_address)
    for entry in doc.get("msr_address", []):
        if not (isinstance(entry, dict) and _strings(entry.get("names"))
                and isinstance(entry.get("msr"), str) and isinstance(entry.get("note"), str)):
            raise InputError("each [[msr_address]] needs 'names', 'msr' and a 'note'", path=path)
        for name in entry["names"]:
            address[name] = (entry["msr"], entry["note"])
    interfaces = list(base.interfaces)
    for i, entry in enumerate(doc.get("interface_platform", [])):
        where = f"[[interface_platform]] #{i + 1}"
        if not (isinstance(entry, dict) and _strings(entry.get("primitives"))
                and _strings(entry.get("code", [])) and isinstance(entry.get("reason"), str)):
            raise InputError(f"{where}: needs 'platforms', 'primitives', 'code' (lists of "
                             "strings) and a 'reason'", path=path)
        interfaces.append(InterfaceRule(_platforms(entry.get("platforms"), where, path),
                                        frozenset(entry["primitives"]),
                                        tuple(entry.get("code", [])), entry["reason"]))
    origins = list(base.origins)
    for i, entry in enumerate(doc.get("guest_origin", [])):
        if not (isinstance(entry, dict) and _strings(entry.get("primitives"))
                and _strings(entry.get("paths")) and entry.get("paths")
                and isinstance(entry.get("reason"), str)):
            raise InputError(f"[[guest_origin]] #{i + 1}: needs 'primitives', 'paths' (non-empty"
                             " lists of strings) and a 'reason'", path=path)
        origins.append(OriginRule(frozenset(entry["primitives"]), tuple(entry["paths"]),
                                  entry["reason"]))
    ranges = dict(base.msr_ranges)
    ranges.update(_msr_ranges(doc, path))
    notes = dict(base.cpuid_notes)
    cpuid = doc.get("cpuid", {})
    for name, note in (cpuid.get("notes", {}) if isinstance(cpuid, dict) else {}).items():
        if name not in {p.value for p in CONFIDENTIAL} or not isinstance(note, str):
            raise InputError(f"[cpuid] notes: {name!r} is not tdx or snp with a text", path=path)
        notes[Platform(name)] = note
    return TrustRules(msrs, ranges, argument, address, tuple(interfaces), tuple(origins), notes)
