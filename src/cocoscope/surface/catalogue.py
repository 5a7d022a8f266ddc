"""The host-input primitive catalogue: data (``catalogue.toml``), loaded into typed records.

The catalogue only names primitives and how host data reaches the caller; which functions in a
given tree wrap them is derived from the code (``derive.py``), never listed here.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from enum import StrEnum
from importlib import resources

from cocoscope.errors import InputError
from cocoscope.evidence import files
from cocoscope.model import InterfaceId
from cocoscope.model.platform import CONFIDENTIAL, Platform
from cocoscope.surface.trust_rules import Trust, TrustRules, parse_rules

__all__ = ["Catalogue", "Flow", "Primitive", "Trust", "Unreachable", "load_catalogue"]


class Flow(StrEnum):
    """How host data leaves a primitive."""

    VALUE = "value"  # return value and/or out-arguments carry host data
    BUFFER = "buffer"  # returns a pointer to host-writable memory
    EVENT = "event"  # the call marks where host data becomes visible
    GLOBAL = "global"  # reading this global object is host input


@dataclass(frozen=True)
class Primitive:
    name: str
    interface: InterfaceId
    flow: Flow
    returns: bool  # the return value (or the returned buffer) is host data
    out_args: frozenset[int]  # 1-based argument positions that receive host data
    source: str
    note: str = ""
    # A higher-level accessor (smatch lists it, the kernel implements it over a lower primitive):
    # when the scanned tree shows what it wraps, the chain continues down to that primitive.
    accessor: bool = False


@dataclass(frozen=True)
class Unreachable:
    """Files (path prefixes) whose code cannot run on some platforms, and why."""

    platforms: tuple[Platform, ...]
    paths: tuple[str, ...]
    reason: str


@dataclass(frozen=True)
class Catalogue:
    primitives: dict[str, Primitive]
    cpuid_host_range_tdx: tuple[int, int]
    cpuid_snp: Trust
    rules: TrustRules  # MSR, hypercall-interface and origin trust per platform
    fingerprint: str
    unreachable: tuple[Unreachable, ...] = ()

    def unreachable_reason(self, path: str, platform: Platform | None) -> str:
        """Why code in ``path`` cannot run on ``platform`` ("" when it can or is unknown)."""
        if platform is None:
            return ""
        for u in self.unreachable:
            if platform in u.platforms and path.startswith(u.paths):
                return u.reason
        return ""

    def names_by_interface(self) -> dict[InterfaceId, list[str]]:
        """Primitive names per interface class (e.g. for generating Coccinelle/ripgrep patterns)."""
        out: dict[InterfaceId, list[str]] = {}
        for prim in self.primitives.values():
            out.setdefault(prim.interface, []).append(prim.name)
        return {k: sorted(v) for k, v in sorted(out.items())}

    def cpuid_trust(self, leaf: int | None, platform: Platform | None) -> Trust:
        """Who controls a CPUID leaf on ``platform`` (None: generic guest, all host)."""
        if platform == Platform.TDX:
            if leaf is None:
                return Trust.HOST
            lo, hi = self.cpuid_host_range_tdx
            return Trust.HOST if lo <= leaf <= hi else Trust.TRUSTED
        if platform == Platform.SNP:
            # Hypervisor leaves are outside the PSP's CPUID policy in practice: host input.
            if leaf is not None and 0x40000000 <= leaf <= 0x4FFFFFFF:
                return Trust.HOST
            return self.cpuid_snp
        return Trust.HOST



def _parse_value(text: str, where: str) -> tuple[Flow, bool, frozenset[int]]:
    words = text.replace(",", " ").split()
    if not words:
        raise InputError(f"empty value in {where}")
    flow = Flow.VALUE
    returns = False
    args: set[int] = set()
    head = words[0]
    if head in ("buffer", "event", "global"):
        flow = Flow(head)
        returns = head == "buffer"
        words = words[1:]
    elif head == "return":
        returns = True
        words = words[1:]
    if words:
        if words[0] != "args" or len(words) < 2:
            raise InputError(f"value {text!r} in {where}: expected 'args N[,M...]'")
        try:
            args = {int(w) for w in words[1:]}
        except ValueError:
            raise InputError(f"value {text!r} in {where}: argument positions are integers") from None
    if flow is Flow.VALUE and not returns and not args:
        raise InputError(f"value {text!r} in {where} names no return and no argument")
    return flow, returns, frozenset(args)


def _merge(doc: dict[str, object], path: str, base: Catalogue | None) -> Catalogue:
    prims = dict(base.primitives) if base else {}
    groups = doc.get("group", [])
    if not isinstance(groups, list):
        raise InputError("'group' must be an array of tables", path=path)
    for i, group in enumerate(groups):
        where = f"group #{i + 1}"
        if not isinstance(group, dict):
            raise InputError(f"{where} is not a table", path=path)
        try:
            interface = InterfaceId(group["interface"])
        except (KeyError, ValueError):
            known = ", ".join(x.value for x in InterfaceId)
            raise InputError(f"{where}: 'interface' must be one of {known}", path=path) from None
        flow, returns, args = _parse_value(str(group.get("value", "")), f"{path} {where}")
        names = group.get("names")
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise InputError(f"{where}: 'names' must be a list of strings", path=path)
        for name in names:
            prims[name] = Primitive(name, interface, flow, returns, args,
                                    str(group.get("source", "user")), str(group.get("note", "")),
                                    bool(group.get("accessor", False)))
    rules = parse_rules(doc, path, base.rules if base else None)
    unreachable = list(base.unreachable) if base else []
    for entry in doc.get("unreachable", []):  # type: ignore[attr-defined]
        ok = isinstance(entry, dict) and isinstance(entry.get("reason"), str) and all(
            isinstance(entry.get(k), list) and all(isinstance(x, str) for x in entry[k])
            for k in ("platforms", "paths"))
        by_value = {p.value: p for p in CONFIDENTIAL}
        if not ok or not set(entry["platforms"]) <= set(by_value):
            raise InputError("each [[unreachable]] needs 'platforms' (tdx, snp), 'paths' "
                             "(lists of strings) and a 'reason'", path=path)
        unreachable.append(Unreachable(tuple(by_value[p] for p in entry["platforms"]),
                                       tuple(entry["paths"]), entry["reason"]))
    cpuid = doc.get("cpuid", {})
    lo, hi = base.cpuid_host_range_tdx if base else (0x40000000, 0x4FFFFFFF)
    snp = base.cpuid_snp if base else Trust.CHECKED
    if isinstance(cpuid, dict):
        if "host_range_tdx" in cpuid:
            lo, hi = (int(x, 0) for x in cpuid["host_range_tdx"])
        if "snp" in cpuid:
            snp = Trust(cpuid["snp"])
    import hashlib

    fp = hashlib.sha256(repr(sorted(prims.items())).encode()).hexdigest()[:16]
    return Catalogue(prims, (lo, hi), snp, rules, fp, tuple(unreachable))


def _load_doc(data: bytes, path: str) -> dict[str, object]:
    try:
        return tomllib.loads(data.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"not a valid TOML catalogue: {exc}", path=path) from None


def load_catalogue(extra: str | None = None) -> Catalogue:
    """The built-in catalogue, extended by the user's TOML file ``extra`` if given."""
    builtin = resources.files("cocoscope.surface").joinpath("catalogue.toml")
    cat = _merge(_load_doc(builtin.read_bytes(), "catalogue.toml"), "catalogue.toml", None)
    if extra is not None:
        cat = _merge(_load_doc(files.read_input(extra, files.CATALOGUE), extra), extra, cat)
    return cat
