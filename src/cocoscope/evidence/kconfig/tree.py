"""Optional Kconfig tree: evaluate a kernel source tree's Kconfig for x86_64 with kconfiglib.

``load_tree(srcdir)`` parses the tree (through compat.py, which fixes kconfiglib for
kernel 6.x), ``tree.apply(config)`` loads a .config as the user's choices, ``tree.explain(sym)``
says why a symbol has its value (explain.py) and ``tree.merge_fragment(config, text)``
is ``scripts/kconfig/merge_config.sh`` followed by ``make olddefconfig``.

The tree object wraps kconfiglib's mutable state; it is not thread-safe. Results are frozen.
"""

from __future__ import annotations

import re
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import kconfiglib

from cocoscope.errors import InputError
from cocoscope.evidence.dotconfig import KernelConfig
from cocoscope.evidence.kconfig import explain as kconfig_explain
from cocoscope.evidence.kconfig.compat import KernelKconfig, kernel_environment
from cocoscope.evidence.kconfig.explain import Explanation, TurnOffPlan, ValueChange
from cocoscope.evidence.kconfig.toolchain import (
    Probe,
    ProbeAnswerer,
    Toolchain,
    probe_dependent_symbols,
    recorded_toolchain,
)

_MAKEFILE_VAR = re.compile(r"^(VERSION|PATCHLEVEL|SUBLEVEL|EXTRAVERSION)\s*=\s*(\S*)\s*$", re.M)
_KCONFIG_ERROR = re.compile(r"^\s*(\S+?):(\d+): (?:error: )?(.*)", re.S)
_DEFINED_AT = re.compile(r"(\w+) \(defined at ([^),]+:\d+)")
_MALFORMED = re.compile(r"Malformed (\S+) in '([^']+)'")
_FRAGMENT_SET = re.compile(r"CONFIG_([A-Za-z0-9_]+)=(.*)")
_FRAGMENT_UNSET = re.compile(r"# CONFIG_([A-Za-z0-9_]+) is not set")
# How merge_config.sh fills what a fragment leaves out: its default, and its -n.
FRAGMENT_BASES = ("alldefconfig", "allnoconfig")


@dataclass(frozen=True)
class ApplyResult:
    """What loading a .config into the tree did."""

    path: str
    unknown_symbols: tuple[str, ...]  # in the config, not in this tree's Kconfig
    changed: tuple[ValueChange, ...]  # config value -> value the tree computes (olddefconfig)
    warnings: tuple[str, ...]


@dataclass(frozen=True)
class FragmentLine:
    line: int
    symbol: str
    requested: str  # "y", "m", "n", or the value
    result: str  # value after olddefconfig ("n" if off, "" if a non-bool is not written)
    reason: str  # why it did not take; "" if it did
    # A value for a string/int/hex symbol whose dependencies ended up off: the option is not
    # in the resulting config at all, so its value is moot (not counted in not_taken).
    moot: bool = False


@dataclass(frozen=True)
class MergeResult:
    config_text: str  # the new .config
    lines: tuple[FragmentLine, ...]  # every assignment of the fragment
    changed: tuple[ValueChange, ...]  # every symbol whose value differs from the base config

    @property
    def not_taken(self) -> tuple[FragmentLine, ...]:
        return tuple(fl for fl in self.lines if fl.reason and not fl.moot)


class KconfigTree:
    """A parsed kernel Kconfig tree for x86_64 (see module docstring)."""

    def __init__(self, srcdir: Path, kconf: Any, kernel_version: str, toolchain: Toolchain,
                 probes: tuple[Probe, ...], load_seconds: float) -> None:
        self.srcdir = srcdir
        self.kconf = kconf  # KernelKconfig; exposed for analyses that need the raw graph
        self.kernel_version = kernel_version
        self.toolchain = toolchain
        self.probes = probes
        self.load_seconds = load_seconds
        self.parse_warnings: tuple[str, ...] = tuple(kconf.warnings)
        self._index = kconfig_explain.ReverseIndex.build(kconf)

    @property
    def unanswered_probes(self) -> tuple[Probe, ...]:
        return tuple(p for p in self.probes if p.source == "unanswered")

    def has_symbol(self, name: str) -> bool:
        sym = self.kconf.syms.get(name.removeprefix("CONFIG_"))
        return sym is not None and bool(sym.nodes)

    def value(self, name: str) -> str:
        """Current value ("y"/"m"/"n" or the string/int/hex value); "n" for unknown symbols."""
        sym = self.kconf.syms.get(name.removeprefix("CONFIG_"))
        return "n" if sym is None or not sym.nodes else str(sym.str_value)

    def apply(self, config: KernelConfig) -> ApplyResult:
        """Load ``config`` as the user's values (like ``make olddefconfig`` reads .config)."""
        self.kconf.warnings.clear()
        with tempfile.TemporaryDirectory(prefix="cocoscope-kconfig-") as tmp:
            tmpfile = Path(tmp) / "config"
            tmpfile.write_text(_config_lines(config), encoding="utf-8")
            self.kconf.load_config(str(tmpfile), replace=True)
            warnings = tuple(w.replace(str(tmpfile), config.path) for w in self.kconf.warnings)
        changed = []
        for name, entry in config.entries.items():
            sym = self.kconf.syms.get(name)
            if sym is None or not sym.nodes:
                continue
            now = _normal(sym)
            if now != entry.value:
                changed.append(ValueChange(name, entry.value, now))
        unknown = tuple(sorted({name for name, _ in self.kconf.missing_syms}))
        return ApplyResult(config.path, unknown, tuple(changed), warnings)

    def config_text(self) -> str:
        """The current configuration as a .config (what olddefconfig would write)."""
        header = f"#\n# Linux/x86 {self.kernel_version} Kernel Configuration\n#\n"
        return str(self.kconf._config_contents(header))

    def explain(self, symbol: str) -> Explanation:
        return kconfig_explain.explain(self.kconf, self._index, symbol)

    def turn_off_plan(self, symbol: str) -> TurnOffPlan:
        """Which symbols to set to n so that ``symbol`` is off (through selects), verified."""
        return kconfig_explain.turn_off_plan(self.kconf, self._index, symbol)

    def merge_fragment(self, config: KernelConfig, fragment_text: str,
                       fragment_name: str = "fragment") -> MergeResult:
        """Apply a fragment over ``config`` and resolve like ``make olddefconfig``.

        The tree keeps the merged configuration loaded afterwards.
        """
        assignments = parse_fragment(fragment_text, fragment_name)
        self.apply(config)
        return self._assign(assignments)

    def resolve_fragment(self, fragment_text: str, fragment_name: str = "fragment",
                         base: str = "alldefconfig") -> MergeResult:
        """A fragment alone, resolved as ``scripts/kconfig/merge_config.sh`` does with no base
        config: every symbol the fragment does not set takes its Kconfig default
        (``alldefconfig``, the script's default) or is n where it has a prompt (``allnoconfig``,
        its ``-n``, which e.g. Kata Containers' kernel build uses).

        The tree keeps the resolved configuration loaded afterwards.
        """
        if base not in FRAGMENT_BASES:
            raise ValueError(f"base must be one of {FRAGMENT_BASES}")
        assignments = parse_fragment(fragment_text, fragment_name)
        self.kconf.unset_values()
        if base == "allnoconfig":
            # as kconfiglib's allnoconfig and scripts/kconfig/conf --allnoconfig: every
            # bool/tristate with a prompt n, unless marked `option allnoconfig_y`
            for sym in self.kconf.unique_defined_syms:
                if sym.orig_type in (kconfiglib.BOOL, kconfiglib.TRISTATE):
                    sym.set_value(2 if sym.is_allnoconfig_y else 0)
        return self._assign(assignments)

    def _assign(self, assignments: list[tuple[str, str, int]]) -> MergeResult:
        """Set the fragment's values over what is loaded; report each line's outcome."""
        before = {s.name: _normal(s) for s in self.kconf.unique_defined_syms}
        for name, value, _line in assignments:
            sym = self.kconf.syms.get(name)
            if sym is None or not sym.nodes:
                continue
            if sym.choice is not None and value == "y":
                sym.choice.set_value("y")  # as kconfiglib's .config loader infers the mode
            sym.set_value(value)
        lines = []
        for name, value, line in assignments:
            sym = self.kconf.syms.get(name)
            if sym is None or not sym.nodes:
                lines.append(FragmentLine(line, name, value, "n", "no such symbol in this tree"))
                continue
            result = _normal(sym)
            if result == value:
                lines.append(FragmentLine(line, name, value, result, ""))
                continue
            reason = kconfig_explain.why_not(self.kconf, self._index, sym, value)
            moot = sym.orig_type not in (kconfiglib.BOOL, kconfiglib.TRISTATE) and \
                not sym.config_string
            lines.append(FragmentLine(line, name, value, "" if moot else result, reason, moot))
        changed = tuple(ValueChange(s.name, before[s.name], _normal(s))
                        for s in self.kconf.unique_defined_syms if _normal(s) != before[s.name])
        return MergeResult(self.config_text(), tuple(lines), changed)

    def probe_dependent_symbols(self) -> dict[str, tuple[Probe, ...]]:
        """Symbols whose definition reads toolchain probe output, with those probes."""
        return probe_dependent_symbols(self.kconf, self.srcdir, self.probes)


def load_tree(srcdir: Path, toolchain: Toolchain | None = None) -> KconfigTree:
    """Parse the Kconfig of the kernel tree at ``srcdir`` for x86_64.

    ``toolchain`` defaults to the recorded Debian gcc-14 answers (see toolchain.py).
    Errors (missing tree, not a kernel tree, a Kconfig file kconfiglib cannot parse) are
    InputError naming the file and line.
    """
    srcdir = Path(srcdir)
    if not srcdir.is_dir():
        raise InputError("Kconfig tree not found (expected a kernel source directory)",
                         path=str(srcdir))
    for need in ("Kconfig", "Makefile", "arch/x86/Kconfig", "scripts/Kconfig.include"):
        if not (srcdir / need).is_file():
            raise InputError(f"not a kernel source tree: {need} is missing", path=str(srcdir))
    version = kernel_version(srcdir / "Makefile")
    toolchain = toolchain or recorded_toolchain()
    srctree = str(srcdir.resolve())
    env = dict(toolchain.env, srctree=srctree, KERNELVERSION=version)
    answerer = ProbeAnswerer(toolchain, srctree)
    start = time.perf_counter()
    try:
        with kernel_environment(env):
            kconf = KernelKconfig("Kconfig", answerer)
    except kconfiglib.KconfigError as exc:
        raise _input_error(str(exc), srcdir) from None
    except OSError as exc:  # kconfiglib's "Could not open ..." for a missing 'source'
        raise InputError(f"cannot read Kconfig: {exc}", path=str(srcdir)) from None
    except RecursionError:
        raise InputError("Kconfig nesting too deep", path=str(srcdir)) from None
    finally:
        answerer.close()
    seconds = time.perf_counter() - start
    return KconfigTree(srcdir, kconf, version, toolchain, tuple(answerer.probes), seconds)


def kernel_version(makefile: Path) -> str:
    """KERNELVERSION as the top-level Makefile computes it (VERSION.PATCHLEVEL.SUBLEVEL...)."""
    try:
        head = makefile.read_text(encoding="utf-8", errors="replace")[:4096]
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", path=str(makefile)) from None
    found: dict[str, str] = dict(_MAKEFILE_VAR.findall(head))
    if not found.get("VERSION") or not found.get("PATCHLEVEL"):
        raise InputError("no VERSION/PATCHLEVEL; not a kernel Makefile", path=str(makefile))
    version = f"{found['VERSION']}.{found['PATCHLEVEL']}"
    if found.get("SUBLEVEL"):
        version += f".{found['SUBLEVEL']}"
    return version + found.get("EXTRAVERSION", "")


def parse_fragment(text: str, name: str = "fragment") -> list[tuple[str, str, int]]:
    """(symbol, value, line) for each assignment of a Kconfig fragment; strings unquoted."""
    out = []
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        m = _FRAGMENT_UNSET.fullmatch(line)
        if m:
            out.append((m.group(1), "n", lineno))
            continue
        if line.startswith("#"):
            continue
        m = _FRAGMENT_SET.fullmatch(line)
        if not m:
            raise InputError(f"not a Kconfig fragment line: {line[:60]!r}", path=name,
                             where=f"line {lineno}")
        value = m.group(2)
        if len(value) >= 2 and value[0] == '"' and value[-1] == '"':
            value = kconfiglib.unescape(value[1:-1])
        out.append((m.group(1), value, lineno))
    return out


def _config_lines(config: KernelConfig) -> str:
    # Put every entry on its original line so kconfiglib's warnings point at the real line.
    # Line 0: a value a resolved fragment got from the tree (evidence/kconfig/resolve.py).
    lines = [""] * (max((e.line for e in config.entries.values()), default=0))
    extra = []
    for e in config.entries.values():
        if e.line > 0:
            lines[e.line - 1] = e.raw.strip()
        else:
            extra.append(e.raw.strip())
    return "\n".join(lines + extra) + "\n"


def _normal(sym: Any) -> str:
    if sym.orig_type in (kconfiglib.BOOL, kconfiglib.TRISTATE) and sym.tri_value == 0:
        return "n"
    return str(sym.str_value)


def _input_error(message: str, srcdir: Path) -> InputError:
    """kconfiglib's KconfigError text -> InputError with the Kconfig file and line."""
    text = message.strip()
    m = _KCONFIG_ERROR.match(text)
    if m and not text.startswith("Dependency loop"):
        return InputError(m.group(3).strip().splitlines()[0], path=str(srcdir / m.group(1)),
                          where=f"line {m.group(2)}")
    if text.startswith("Dependency loop"):
        loop = list(dict.fromkeys(_DEFINED_AT.findall(text)))
        if loop:
            file, line = loop[0][1].rsplit(":", 1)
            return InputError("dependency loop: " + " -> ".join(name for name, _ in loop),
                              path=str(srcdir / file), where=f"line {line}")
    m = _MALFORMED.search(text)
    if m:
        return InputError(f"not valid {m.group(1)} text", path=str(srcdir / m.group(2)))
    return InputError(text.splitlines()[0] if text else "Kconfig error", path=str(srcdir))


_CC_OPTION = re.compile(r'.*mkdir \.tmp_\$\$; \S+ -Werror\s+(.*?) -c -x c /dev/null -o .*')
_AS_INSTR = re.compile(r'printf "%b\\n" "(.*)" \| \S+ .*-x assembler-with-cpp .*')
_LD_OPTION = re.compile(r"ld -v (.*)")
_SCRIPT = re.compile(r"(?:env .* )?\$\(srctree\)/(scripts/\S+)(.*)")


def describe_probe(command: str) -> str:
    """A short name for a probe: which macro of scripts/Kconfig.include and its argument."""
    inner = command
    from cocoscope.evidence.kconfig.toolchain import _IF_SUCCESS

    m = _IF_SUCCESS.fullmatch(command)
    if m:
        inner = m.group(1)
    for pattern, kind in ((_CC_OPTION, "cc-option"), (_AS_INSTR, "as-instr"),
                          (_LD_OPTION, "ld-option"), (_SCRIPT, "runs")):
        found = pattern.fullmatch(inner)
        if found:
            return f"{kind} {found.group(1).strip()}"
    return inner if len(inner) <= 70 else inner[:67] + "..."


def probe_symbols_markdown(tree: KconfigTree) -> str:
    """The docs/kconfig.md table of symbols whose value comes from toolchain probes."""
    deps = tree.probe_dependent_symbols()
    direct = [tree.kconf.syms[name] for name in deps]
    seen: set[str] = set(deps)
    stack = list(direct)
    while stack:  # everything whose value can change when a probe answer changes
        for item in stack.pop()._dependents:
            name = getattr(item, "name", None)
            if item.__class__ is kconfiglib.Symbol and name and name not in seen:
                seen.add(name)
                stack.append(item)
    rows = ["| symbol | defined at | probe |", "|---|---|---|"]
    for name, probes in deps.items():
        sym = tree.kconf.syms[name]
        where = f"{sym.nodes[0].filename}:{sym.nodes[0].linenr}"
        what = "; ".join(dict.fromkeys(f"`{describe_probe(p.command)}`" for p in probes))
        rows.append(f"| {name} | {where} | {what.replace('|', chr(92) + '|')} |")
    summary = (f"Linux {tree.kernel_version}: {len(deps)} symbols read probe output directly; "
               f"{len(seen) - len(deps)} more depend on them through `depends on`, `select`, "
               f"`imply`, `default` or prompt conditions.")
    return "\n".join([summary, "", *rows]) + "\n"
