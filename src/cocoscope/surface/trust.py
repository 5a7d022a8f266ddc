"""Per-site trust on a platform (``--platform``): who controls the value a site yields, and why.

A call of a catalogue primitive is judged where it is made, by the catalogue's trust tables
(``trust_rules.py``): a hypercall interface that does not exist on the platform (``absent``), a
conversion whose data comes from inside the guest (``guest``), a CPUID leaf or MSR the CoCo TCB
answers (``trusted``/``checked``). A call of a derived wrapper is judged by the reads the wrapper
makes in its own body (pass 2 found them as sites), through nested wrappers: it is as trusted as
the least trusted of them, and host input when any read is undecodable or unknown. Every
verdict other than ``host`` carries its reason (``Site.trust_note``).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TypeVar, cast

from cocoscope.model.platform import Platform
from cocoscope.surface.cache import Cache, digest
from cocoscope.surface.catalogue import Catalogue
from cocoscope.surface.cparse import Node, ParsedFile
from cocoscope.surface.dataflow import FileSummary, int_literal
from cocoscope.surface.derive import Key, Source, resolve_in
from cocoscope.surface.sites import RawSite
from cocoscope.surface.trust_dma import to_device_parameter
from cocoscope.surface.trust_leaf import call_at, local_leaves
from cocoscope.surface.trust_rules import TRUST_ORDER, Trust, in_code


@dataclass(frozen=True)
class Verdict:
    trust: Trust
    note: str = ""  # why, when not host
    leaf: int | None = None  # decoded CPUID leaf
    msr: str = ""  # the MSR argument, when it names or computes a known MSR
    # For `absent`: the platform code a wrapper must be defined in to carry the verdict on.
    code: tuple[str, ...] = ()


HOST = Verdict(Trust.HOST)
_A = TypeVar("_A")


def constants(summaries: Iterable[FileSummary]) -> dict[str, int]:
    """Integer #defines naming CPUID leaves and MSRs in the scanned files; a name defined with
    two different values is left out rather than guessed."""
    table: dict[str, int] = {}
    clash: set[str] = set()
    for s in summaries:
        for name, value in s.leaf_constants:
            if table.setdefault(name, value) != value:
                clash.add(name)
    for name in clash:
        del table[name]
    return table


_SUM = re.compile(r"^\(?\s*([A-Za-z_]\w*|0[xX][0-9a-fA-F]+|\d+)\s*\)?\s*\+\s*(.+)$")
_CALL = re.compile(r"^([A-Za-z_]\w*)\s*\((.*)\)$")
_MORE_TERMS = re.compile(r"\+|-(?!>)")


def _in_code(src: Source, code: tuple[str, ...]) -> bool:
    """``src`` is defined in the platform's own code (``in_code``)."""
    return in_code(src.defined_in, src.name, code)


class TrustJudge:
    """Decides trust for the sites of one scan on one platform (None: every site is host)."""

    def __init__(self, cat: Catalogue, platform: Platform | None, sources: dict[Key, Source],
                 raw_by_file: dict[str, tuple[str, list[RawSite]]],
                 keymaps: dict[str, dict[str, Key]], private: frozenset[Key],
                 pnames: frozenset[str], consts: dict[str, int],
                 parse: Callable[[str], ParsedFile | None] | None = None,
                 cache: Cache | None = None, cache_key: str = "") -> None:
        self.cat, self.platform, self.sources, self.consts = cat, platform, sources, consts
        # Parses a scanned file again (the same #if blanking) for the few calls whose verdict
        # needs the file's syntax (a CPUID leaf in a variable, a DMA direction parameter);
        # memoised per file, and the answers kept in the cache under the file's pass-2 key
        # (its content, callees and the config: ``cache_key``), so a warm scan parses nothing.
        self.parse = parse
        self._parsed: dict[str, ParsedFile | None] = {}
        self._cache, self._cache_key = cache or Cache(None), cache_key
        self._file_keys = {rel: k for rel, (k, _raws) in raw_by_file.items()}
        self._consts_key = ""
        # derived source -> (callee source, call, file) for every source call in its body
        self.inner: dict[Key, list[tuple[Key, RawSite, str]]] = {}
        # (file, name) -> the same, for a .c file's own function named like a catalogue
        # primitive (tdx.c's static read_msr, the #VE handler's TDVMCALL): derive.scope_key
        # makes it the primitive's implementation, but a call in that file runs that body.
        self.local: dict[Key, list[tuple[Key, RawSite, str]]] = {}
        for rel, (_k, raws) in raw_by_file.items():
            for raw in raws:
                if not raw.function:
                    continue
                entry = (keymaps[rel][raw.callee], raw, rel)
                owner = resolve_in(private, pnames, rel, raw.function)
                if owner in sources and not self._primitive(owner):
                    self.inner.setdefault(owner, []).append(entry)
                elif self._primitive(owner) and rel.endswith(".c"):
                    self.local.setdefault((rel, raw.function), []).append(entry)
        self._memo: dict[Key, Verdict] = {}

    def _primitive(self, key: Key) -> bool:
        return key[0] == "" and key[1] in self.cat.primitives

    def site(self, raw: RawSite, rel: str, key: Key) -> Verdict:
        if self._primitive(key):
            return self._primitive_call(raw, rel, key[1], frozenset())
        v = self.wrapper(key)
        if v.trust is Trust.HOST:
            return v
        return dataclasses.replace(v, note=f"reads made in {self.sources[key].name}: {v.note}")

    def _primitive_call(self, raw: RawSite, rel: str, prim: str, seen: frozenset[Key]) -> Verdict:
        """A call of a primitive's name: of the file's own function of that name when the file
        defines one (its body's reads decide), else of the catalogue primitive."""
        own = (rel, prim)
        if own not in self.local or self.platform is None:
            return self.direct(raw, rel, prim)
        if own in seen:
            return HOST
        v = self._reads(self.local[own], own, seen, lambda code: in_code(rel, prim, code))
        if v.trust is Trust.HOST:
            return v
        return dataclasses.replace(v, note=f"{prim} is defined in {rel}, reads made in it: "
                                           f"{v.note}")

    def direct(self, raw: RawSite, rel: str, prim: str) -> Verdict:
        """A call of catalogue primitive ``prim`` made in file ``rel``."""
        interface = self.cat.primitives[prim].interface.value
        leaf = self._leaf(raw, prim) if interface == "cpuid" else None
        msr, number = "", None
        if interface == "msr":
            msr, number = self._msr(raw, prim)
        if self.platform is None:
            return Verdict(Trust.HOST, "", leaf, msr)
        rules = self.cat.rules
        if (rule := rules.interface(prim, self.platform)) is not None:
            return Verdict(Trust.ABSENT, rule.reason, leaf, msr, rule.code)
        if (origin := rules.origin(prim, rel, raw.function)) is not None:
            return Verdict(Trust.GUEST, origin.reason, leaf, msr)
        if interface == "cpuid":
            if leaf is None and (local := self._local_leaf(raw, rel, prim)) is not None:
                return self._cpuid_verdict(*local)
            trust = self.cat.cpuid_trust(leaf, self.platform)
            which = f"CPUID leaf {leaf:#x}" if leaf is not None else "CPUID"
            note = "" if trust is Trust.HOST else \
                f"{which}: {rules.cpuid_notes.get(self.platform, '')}"
            return Verdict(trust, note, leaf)
        if interface == "msr":
            return self._msr_verdict(msr, number)
        if prim.startswith(("dma_unmap", "dma_sync")) and \
                (why := self._syntax(raw, rel, "dma-to-device", to_device_parameter)):
            return Verdict(Trust.GUEST, f"{prim} in {raw.function}: {why} (the scan drops such "
                                        f"calls that spell DMA_TO_DEVICE themselves)")
        return HOST

    def wrapper(self, key: Key, seen: frozenset[Key] = frozenset()) -> Verdict:
        """A derived source: the least trusted of the reads in its body (host if unknown)."""
        if key in self._memo:
            return self._memo[key]
        reads = self.inner.get(key)
        if not reads or key in seen:
            return HOST
        out = self._reads(reads, key, seen, lambda code: _in_code(self.sources[key], code))
        if not seen:
            self._memo[key] = out
        return out

    def _reads(self, reads: list[tuple[Key, RawSite, str]], key: Key, seen: frozenset[Key],
               own_code: Callable[[tuple[str, ...]], bool]) -> Verdict:
        """The least trusted of the reads a function's body makes (``own_code``: the function
        is in the given platform code, so an ``absent`` read carries over)."""
        verdicts = []
        for callee, raw, rel in reads:
            v = self._primitive_call(raw, rel, callee[1], seen | {key}) \
                if self._primitive(callee) else self.wrapper(callee, seen | {key})
            if v.trust is Trust.ABSENT and not own_code(v.code):
                v = HOST  # a wrapper outside the platform's own code may take another path
            verdicts.append(v)
        least = min(verdicts, key=lambda v: TRUST_ORDER.index(v.trust))
        leaves = {v.leaf for v in verdicts}
        msrs = {v.msr for v in verdicts}
        leaf = leaves.pop() if len(leaves) == 1 else None
        msr = msrs.pop() if len(msrs) == 1 else ""
        if least.trust is Trust.HOST:
            out = Verdict(Trust.HOST, "", leaf, msr)
        else:
            notes = dict.fromkeys(n for v in verdicts for n in v.note.split("; "))
            out = Verdict(least.trust, "; ".join(notes), leaf, msr, least.code)
        return out

    # CPUID and MSR decoding

    def _leaf(self, raw: RawSite, prim: str) -> int | None:
        if not prim.startswith("cpuid"):  # native_cpuid/__cpuid take the leaf in *eax
            return None
        leaf = int_literal(raw.first_arg)
        return leaf if leaf is not None else self.consts.get(raw.first_arg.strip())

    def _syntax(self, raw: RawSite, rel: str, kind: str,
                answer: Callable[[ParsedFile, Node], _A | None]) -> _A | None:
        """``answer`` for the call at the site, from the cache or the file parsed again."""
        if raw.in_macro or self.parse is None:
            return None
        key = digest(self._cache_key, self._file_keys.get(rel, ""), rel, kind,
                     str(raw.line), str(raw.column))
        hit = self._cache.get("trust-syntax", key) if self._cache_key else None
        if isinstance(hit, tuple) and len(hit) == 1:
            return cast("_A | None", hit[0])
        if rel not in self._parsed:
            self._parsed[rel] = self.parse(rel)
        parsed = self._parsed[rel]
        call = call_at(parsed, raw.line, raw.column) if parsed is not None else None
        value = answer(parsed, call) if parsed is not None and call is not None else None
        if self._cache_key and parsed is not None:
            self._cache.put("trust-syntax", key, (value,))
        return value

    def _local_leaf(self, raw: RawSite, rel: str, prim: str) -> tuple[str, set[int], str] | None:
        """The leaves a CPUID call's local leaf variable can hold (trust_leaf.py)."""
        pointer = not prim.startswith("cpuid")  # native_cpuid/__cpuid: the leaf is *eax
        arg = raw.first_arg.strip()
        if not (arg.lstrip("&").strip().isidentifier() and (arg.startswith("&") == pointer)):
            return None
        if not self._consts_key:  # the answer depends on every scanned #define of a leaf
            self._consts_key = digest(repr(sorted(self.consts.items())))
        return self._syntax(raw, rel, f"cpuid-leaf {pointer} {self._consts_key}",
                            lambda parsed, call: local_leaves(parsed, call, pointer,
                                                              self._constant))

    def _constant(self, text: str) -> int | None:
        value = int_literal(text)
        return value if value is not None else self.consts.get(text.strip())

    def _cpuid_verdict(self, name: str, leaves: set[int], rule: str) -> Verdict:
        assert self.platform is not None
        trusts = [self.cat.cpuid_trust(leaf, self.platform) for leaf in sorted(leaves)]
        trust = min(trusts, key=TRUST_ORDER.index)
        one = next(iter(leaves)) if len(leaves) == 1 else None
        if trust is Trust.HOST:
            return Verdict(Trust.HOST, "", one)
        shown = " or ".join(f"{leaf:#x}" for leaf in sorted(leaves))
        return Verdict(trust, f"CPUID leaf {shown} (held in {name}: {rule}): "
                              f"{self.cat.rules.cpuid_notes.get(self.platform, '')}", one)

    def _msr(self, raw: RawSite, prim: str) -> tuple[str, tuple[int, bool] | None]:
        """The MSR argument's text and its number: (n, False) exactly n, (n, True) an index
        into the family that starts at n (`MSR_ARCH_PERFMON_EVENTSEL0 + i`)."""
        pos = self.cat.rules.msr_argument.get(prim, 1)
        text = raw.args[pos - 1] if len(raw.args) >= pos else (raw.first_arg if pos == 1 else "")
        text = " ".join(text.split())
        if text.isidentifier():
            number = self.consts.get(text)
            return text, (number, False) if number is not None else None
        literal = int_literal(text)
        if literal is not None:
            return text, (literal, False)
        if (m := _SUM.match(text)) is not None:
            base = int_literal(m.group(1))
            base = base if base is not None else self.consts.get(m.group(1))
            if base is None:
                return "", None
            offset = int_literal(m.group(2))
            if offset is not None:
                return text, (base + offset, False)
            if _MORE_TERMS.search(m.group(2)):  # `BASE + 8 + i`: not an index from BASE
                return "", None
            return text, (base, True)
        if (m := _CALL.match(text)) is not None and m.group(1) in self.cat.rules.msr_address:
            base = self.consts.get(self.cat.rules.msr_address[m.group(1)][0])
            return text, (base, True) if base is not None else None
        return "", None

    def _msr_verdict(self, msr: str, number: tuple[int, bool] | None) -> Verdict:
        assert self.platform is not None
        rules = self.cat.rules
        named = rules.msr_by_name(msr, self.platform) if msr.isidentifier() else None
        if named is not None:
            return Verdict(named[0], named[1] if named[0] is not Trust.HOST else "", None, msr)
        table = rules.msr_ranges.get(self.platform)
        if table is None or number is None:
            return Verdict(Trust.HOST, "", None, msr)
        value, indexed = number
        found = table.starting_at(value) if indexed else table.containing(value)
        if found is None:
            return Verdict(Trust.HOST, "", None, msr)
        how = "an index into " if indexed else ""
        call = _CALL.match(msr)
        via = f" ({rules.msr_address[call.group(1)][1]})" if call and indexed and \
            call.group(1) in rules.msr_address else ""
        return Verdict(table.trust, f"{msr} is {how}{found.label()}{via}: RDMSR "
                                    f"{found.behaviour}, never a #VE to the VMM ({table.source})",
                       None, msr)
