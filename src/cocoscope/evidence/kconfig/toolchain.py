"""The toolchain environment a Kconfig tree is evaluated in.

Kconfig asks the build toolchain questions while it is parsed: ``$(shell,...)`` through the
macros of scripts/Kconfig.include (cc-option, ld-option, as-instr, the compiler/assembler/
linker name and version, rustc, pahole, ...). Their answers become the values of symbols such
as CC_IS_GCC, GCC_VERSION, CC_HAS_*, AS_*, LD_*, RUSTC_*, PAHOLE_* and, through them, of every
symbol that depends on those.

Two environments:

* ``recorded`` (default): a table, shipped with cocoscope, of the answers the toolchain Debian
  built its 6.12 kernels with (gcc 14.2, binutils 2.44, no Rust) gives to every probe of
  linux-source-6.12. Nothing from the tree is executed, answers are the same on every machine,
  and Debian's own configs round-trip unchanged. A probe the table does not know (another
  kernel version) is answered "fails / empty" and reported in ``KconfigTree.probes`` with
  source ``unanswered``, never silently.
* ``host``: run the probes with /bin/sh and the toolchain on PATH, like ``make olddefconfig``
  would. Results then depend on the machine (and the tree's scripts are executed).

Only a handful of shell builtins are evaluated in Python for the recorded table: ``test -z``,
``test -n``, ``test A = B`` / ``!=``, ``command -v`` and ``set -- WORDS && echo $N`` - the
plumbing Kconfig.include uses to split "GCC 140200" into name and version.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import tempfile
import tomllib
from collections import defaultdict
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import kconfiglib

from cocoscope.errors import InputError

_ASSIGN = re.compile(r"\s*([A-Za-z0-9_-]+)\s*(?::=|\+=|=)(.*)", re.S)
_ENTRY_END = re.compile(r"\s*(help|---help---)\s*$")

ProbeSource = Literal["table", "builtin", "host", "unanswered"]

# scripts/Kconfig.include: if-success = $(shell,{ $(1); } >/dev/null 2>&1 && echo "$(2)" || echo "$(3)")
_IF_SUCCESS = re.compile(r'\{ (.*); \} >/dev/null 2>&1 && echo "(.*)" \|\| echo "(.*)"', re.S)
_SET_ECHO = re.compile(r"set -- (.*) && echo \$(\d)", re.S)

RECORDED = "debian-trixie-gcc14"


@dataclass(frozen=True)
class Probe:
    """One ``$(shell,...)`` evaluation while the tree was parsed."""

    file: str  # Kconfig file, relative to the tree
    line: int
    command: str  # with the tree's path replaced by $(srctree)
    output: str
    source: ProbeSource


@dataclass(frozen=True)
class Toolchain:
    """How probes are answered, and the environment variables Kconfig expands."""

    name: str
    env: dict[str, str] = field(hash=False)
    outputs: dict[str, str] | None = field(default=None, hash=False)  # None: run on the host
    successes: dict[str, bool] | None = field(default=None, hash=False)

    @property
    def is_host(self) -> bool:
        return self.outputs is None


def recorded_toolchain(name: str = RECORDED) -> Toolchain:
    """Load a shipped probe table (``toolchains/<name>.toml``)."""
    res = resources.files("cocoscope.evidence.kconfig").joinpath(f"toolchains/{name}.toml")
    try:
        data = tomllib.loads(res.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"no recorded toolchain named {name!r}") from None
    return Toolchain(
        name=name,
        env={str(k): str(v) for k, v in data["env"].items()},
        outputs={p["command"]: p["output"] for p in data.get("output", [])},
        successes={p["command"]: bool(p["ok"]) for p in data.get("success", [])},
    )


def host_toolchain() -> Toolchain:
    """The compiler on PATH, probed for real (results vary by machine)."""
    try:
        version = subprocess.run(["gcc", "--version"], capture_output=True, text=True,
                                 check=False, timeout=30).stdout.splitlines()
    except OSError:
        version = []
    env = dict(_BASE_ENV)
    env["CC_VERSION_TEXT"] = version[0] if version else ""
    return Toolchain(name="host", env=env)


# Variables the top-level Makefile exports to Kconfig, for an x86_64 gcc build.
_BASE_ENV = {
    "SRCARCH": "x86", "ARCH": "x86_64", "CC": "gcc", "LD": "ld", "HOSTCC": "gcc",
    "HOSTCXX": "g++", "CLANG_FLAGS": "", "RUSTC": "rustc", "BINDGEN": "bindgen",
    "PAHOLE": "pahole", "OBJCOPY": "objcopy", "NM": "nm", "AR": "ar",
    "HOSTPKG_CONFIG": "pkg-config", "PYTHON3": "python3", "RUSTC_VERSION_TEXT": "",
    "USERCFLAGS": "", "USERLDFLAGS": "",
}


class ProbeAnswerer:
    """Answers the probes of one tree load and keeps a record of each (not thread-safe)."""

    def __init__(self, toolchain: Toolchain, srctree: str) -> None:
        self.toolchain = toolchain
        self.srctree = srctree.rstrip("/")
        self.probes: list[Probe] = []
        self._workdir: tempfile.TemporaryDirectory[str] | None = None

    def __call__(self, command: str, file: str, line: int) -> str:
        norm = command.replace(self.srctree, "$(srctree)")
        source: ProbeSource
        if self.toolchain.is_host:
            output, source = self._run_host(command), "host"
        else:
            output, source = self._answer(norm)
        self.probes.append(Probe(file, line, norm, output, source))
        return output

    def close(self) -> None:
        if self._workdir is not None:
            self._workdir.cleanup()
            self._workdir = None

    def _answer(self, command: str) -> tuple[str, ProbeSource]:
        m = _IF_SUCCESS.fullmatch(command)
        if m:
            ok, source = self._success(m.group(1))
            return (m.group(2) if ok else m.group(3)), source
        m = _SET_ECHO.fullmatch(command)
        if m:
            words, n = shlex.split(m.group(1)), int(m.group(2))
            return (words[n - 1] if 0 < n <= len(words) else ""), "builtin"
        assert self.toolchain.outputs is not None
        if command in self.toolchain.outputs:
            return self.toolchain.outputs[command], "table"
        return "", "unanswered"

    def _success(self, inner: str) -> tuple[bool, ProbeSource]:
        builtin = _builtin_test(inner, self.toolchain.env)
        if builtin is not None:
            return builtin, "builtin"
        assert self.toolchain.successes is not None
        if inner in self.toolchain.successes:
            return self.toolchain.successes[inner], "table"
        return False, "unanswered"

    def _run_host(self, command: str) -> str:
        # cc-option writes .tmp_$$ into the working directory: keep it out of the tree.
        if self._workdir is None:
            self._workdir = tempfile.TemporaryDirectory(prefix="cocoscope-kconfig-")
        proc = subprocess.run(command, shell=True, capture_output=True, cwd=self._workdir.name,
                              check=False, timeout=120)
        out = proc.stdout.decode("utf-8", "replace")
        return "\n".join(out.splitlines()).rstrip("\n").replace("\n", " ")


def _builtin_test(inner: str, env: dict[str, str]) -> bool | None:
    """Evaluate the shell builtins Kconfig.include uses; None if ``inner`` is something else."""
    try:
        words = shlex.split(inner)
    except ValueError:
        return None
    if len(words) == 3 and words[0] == "command" and words[1] == "-v":
        # Only the tools this environment names exist.
        return words[2] in {env.get("CC"), env.get("LD")}
    if not words or words[0] != "test" or any(c in inner for c in ";|&`$<>"):
        return None
    args = words[1:]
    if len(args) == 2 and args[0] in ("-z", "-n"):
        return (args[1] == "") == (args[0] == "-z")
    if len(args) == 3 and args[1] in ("=", "!="):
        return (args[0] == args[2]) == (args[1] == "=")
    return None


def dump_table(toolchain_name: str, env: dict[str, str], probes: list[Probe]) -> str:
    """Render probes recorded in ``host`` mode as a table for ``recorded_toolchain``."""
    def lit(s: str) -> str:
        if "'''" in s:
            raise ValueError(f"cannot write {s!r} as a TOML literal string")
        return "'''" + s + "'''"

    out = [f"# Kconfig probe answers: {toolchain_name}", "", "[env]"]
    out += [f"{k} = {lit(v)}" for k, v in sorted(env.items())]
    seen: set[str] = set()
    for p in probes:
        m = _IF_SUCCESS.fullmatch(p.command)
        if m:
            inner = m.group(1)
            if inner in seen or _builtin_test(inner, env) is not None:
                continue
            seen.add(inner)
            ok = p.output == m.group(2)
            out += ["", f"# {p.file}:{p.line}", "[[success]]", f"command = {lit(inner)}",
                    f"ok = {'true' if ok else 'false'}"]
        elif not _SET_ECHO.fullmatch(p.command) and p.command not in seen:
            seen.add(p.command)
            out += ["", f"# {p.file}:{p.line}", "[[output]]", f"command = {lit(p.command)}",
                    f"output = {lit(p.output)}"]
    return "\n".join(out) + "\n"


def probe_dependent_symbols(kconf: Any, srcdir: Path,
                            probes: tuple[Probe, ...]) -> dict[str, tuple[Probe, ...]]:
    """Symbols whose definition reads ``$(shell,...)`` output, directly or through a variable.

    A ``:=`` variable keeps only its expanded value, so the probe is traced by location: the
    assignments compat.py recorded and the lines each probe ran on.
    """
    probes_at: dict[tuple[str, int], list[Probe]] = defaultdict(list)
    for p in probes:
        probes_at[(p.file, p.line)].append(p)
    tainted: dict[str, list[Probe]] = {}
    changed = True
    while changed:  # variables defined from probes or from other tainted variables
        changed = False
        for file, line, raw in kconf.assignments:
            m = _ASSIGN.match(raw)
            if not m or m.group(1) in tainted:
                continue
            rhs = m.group(2)
            via = list(probes_at.get((file, line), ()))
            if "$(shell," in rhs or via or any(_refers(rhs, v) for v in tainted):
                tainted[m.group(1)] = via + [p for v in tainted if _refers(rhs, v)
                                             for p in tainted[v]]
                changed = True
    by_file: dict[str, list[tuple[int, Any]]] = defaultdict(list)
    for node in kconf.node_iter():
        by_file[node.filename].append((node.linenr, node))
    result: dict[str, list[Probe]] = defaultdict(list)
    for file, nodes in by_file.items():
        nodes.sort(key=lambda t: t[0])
        try:
            text = (srcdir / file).read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            continue
        for i, (start, node) in enumerate(nodes):
            if node.item.__class__ is not kconfiglib.Symbol:
                continue
            end = nodes[i + 1][0] if i + 1 < len(nodes) else len(text) + 1
            for lineno in range(start, end):
                body = text[lineno - 1] if lineno <= len(text) else ""
                if _ENTRY_END.match(body):
                    break
                found = list(probes_at.get((file, lineno), ()))
                found += [p for v in tainted if _refers(body, v) for p in tainted[v]]
                if found:
                    result[node.item.name] += found
    return {k: tuple(dict.fromkeys(v)) for k, v in sorted(result.items())}


def _refers(text: str, var: str) -> bool:
    return f"$({var})" in text or f"$({var}," in text
