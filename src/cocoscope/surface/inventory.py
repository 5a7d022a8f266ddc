"""The records a scan produces: one Site per host-input use, and the Inventory of a tree."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property

from cocoscope.model.platform import Platform
from cocoscope.surface.catalogue import Trust
from cocoscope.surface.grade import RISKY, Grade


@dataclass(frozen=True)
class Site:
    file: str  # relative to the tree, "/" separated
    line: int
    column: int
    function: str  # enclosing function or macro ("" at file scope)
    primitive: str  # what the code calls (a catalogue primitive or a derived source)
    chain: tuple[str, ...]  # primitive -> ... -> catalogue primitive it wraps
    interface: str  # cocoscope.model.InterfaceId value
    grade: Grade
    in_init: bool
    in_macro: bool  # the call is in a #define body
    recovered: bool  # found in bytes tree-sitter could not parse
    trust: Trust  # who controls the value on the chosen platform (host without one)
    leaf: int | None  # decoded literal CPUID leaf
    msr: str  # MSR named by the first argument of an MSR read
    built: str  # "y", "m", or "" when the file list did not come from a config
    module: str
    symbol: str  # Kconfig symbol that brings the file in ("" when unconditional/unknown)
    note: str = ""  # why the grade is `unknown`, when it is
    unreachable: str = ""  # why this code cannot run on the chosen platform ("" if it can)
    trust_note: str = ""  # why the trust is not `host` (the rule and the fact it rests on)

    @property
    def risky(self) -> bool:
        return self.grade in RISKY

    @property
    def derived(self) -> bool:
        return len(self.chain) > 1


@dataclass(frozen=True)
class FileProblem:
    file: str
    kind: str  # "parse-errors" (byte ranges lost, sites there graded unknown) | "failed"
    detail: str
    lost_ranges: tuple[tuple[int, int, int], ...] = ()  # (start byte, end byte, line)

    @property
    def lost_bytes(self) -> int:
        return sum(e - s for s, e, _ in self.lost_ranges)


@dataclass(frozen=True)
class DerivedSource:
    name: str
    defined_in: str
    line: int
    chain: tuple[str, ...]
    interface: str
    returns: bool
    out_args: tuple[int, ...]


@dataclass(frozen=True)
class Inventory:
    tree: str
    config: str
    platform: Platform | None
    sites: tuple[Site, ...]
    derived: tuple[DerivedSource, ...]
    problems: tuple[FileProblem, ...]
    files_scanned: int
    bytes_scanned: int
    headers_scanned: int
    stats: dict[str, float] = field(default_factory=dict)

    @cached_property
    def host_sites(self) -> tuple[Site, ...]:
        """Sites whose value the host controls on the chosen platform (host or checked; sites
        trusted, from the guest itself or of an absent interface are dropped). Kept once
        asked (the fields never change): a JSON report asks four times for 8,000 sites."""
        return tuple(s for s in self.sites if s.trust.host_input)

    def counts(self, key: str) -> Counter[str]:
        return Counter(str(getattr(s, key)) for s in self.host_sites)
