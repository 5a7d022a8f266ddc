"""Kernel .config reader: plain, gzip (/proc/config.gz) or xz (Debian's linux-config packages).

Keeps the line of every symbol (for SARIF locations), keeps ``# CONFIG_X is not set`` distinct
from a symbol that is simply absent (absent usually means its dependencies are off, or the
kernel is of a version without it), and reads the kernel version from the header comment.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum

from cocoscope.errors import InputError
from cocoscope.evidence import files

MAX_LINE = 64 << 10  # a real .config line is < 1 KiB; a 1 MB line is garbage, not a config

_SET = re.compile(r"CONFIG_([A-Za-z0-9_]+)=(.*)")
_UNSET = re.compile(r"# CONFIG_([A-Za-z0-9_]+) is not set\s*")
_VERSION = re.compile(r"#\s*Linux/\S+\s+(\d+\.\d+(?:\.\d+)?)(\S*)\s+Kernel Configuration")


class Tristate(StrEnum):
    YES = "y"
    MODULE = "m"
    NO = "n"  # written as "# CONFIG_X is not set"
    ABSENT = "absent"  # not mentioned at all


@dataclass(frozen=True)
class ConfigEntry:
    symbol: str  # without the CONFIG_ prefix
    value: str  # "y", "m", "n" (is not set), a number, or a string without quotes
    line: int
    raw: str


@dataclass(frozen=True)
class KernelConfig:
    path: str
    entries: dict[str, ConfigEntry] = field(repr=False)
    version: tuple[int, int, int] | None
    version_text: str | None
    sha256: str

    def entry(self, symbol: str) -> ConfigEntry | None:
        return self.entries.get(symbol.removeprefix("CONFIG_"))

    def tristate(self, symbol: str) -> Tristate:
        e = self.entry(symbol)
        if e is None:
            return Tristate.ABSENT
        if e.value in ("y", "m", "n"):
            return Tristate(e.value)
        # A non-tristate with a value counts as "set" for on/off questions.
        return Tristate.YES

    def value(self, symbol: str) -> str | None:
        e = self.entry(symbol)
        return None if e is None else e.value

    def is_on(self, symbol: str) -> bool:
        return self.tristate(symbol) in (Tristate.YES, Tristate.MODULE)


def is_fragment(config: KernelConfig) -> bool:
    """A Kconfig fragment rather than a whole .config. Kconfig writes its "Linux/<arch> <version>
    Kernel Configuration" header into every .config (make *config, /proc/config.gz, distro
    config packages); merge_config.sh fragments and hand-written lists do not have it. Only in a
    whole config does an absent symbol mean "off" (its dependencies are off)."""
    return config.version is None


def parse_config_text(text: str, path: str, sha256: str = "") -> KernelConfig:
    entries: dict[str, ConfigEntry] = {}
    version: tuple[int, int, int] | None = None
    version_text: str | None = None
    recognised = 0
    for lineno, raw in enumerate(text.splitlines(), start=1):
        if len(raw) > MAX_LINE:
            raise InputError(f"line is {len(raw)} characters long; not a kernel config",
                             path=path, where=f"line {lineno}")
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#"):
            m = _UNSET.fullmatch(line)
            if m:
                entries[m.group(1)] = ConfigEntry(m.group(1), "n", lineno, raw)
                recognised += 1
                continue
            v = _VERSION.search(line)
            if v and version is None:
                parts = [int(x) for x in v.group(1).split(".")]
                version = (parts[0], parts[1], parts[2] if len(parts) > 2 else 0)
                version_text = v.group(1) + v.group(2)
            continue
        m = _SET.fullmatch(line)
        if not m:
            raise InputError(f"not a kernel config line: {line[:60]!r}",
                             path=path, where=f"line {lineno}")
        value = m.group(2)
        if len(value) >= 2 and value[0] == '"' and value[-1] == '"':
            value = value[1:-1].replace('\\"', '"').replace("\\\\", "\\")
        entries[m.group(1)] = ConfigEntry(m.group(1), value, lineno, raw)
        recognised += 1
    if recognised == 0:
        raise InputError("no CONFIG_ lines found; not a kernel config", path=path)
    return KernelConfig(path, entries, version, version_text, sha256)


def load_config(path: str) -> KernelConfig:
    """Read a kernel config from ``path`` (plain, .gz or .xz, detected by content)."""
    import hashlib

    raw, data = files.read_decompressed(path, files.CONFIG)  # both sizes bounded
    nul = data.find(b"\x00")
    if nul >= 0:
        raise InputError("binary data (NUL byte); not a kernel config", path=path,
                         where=f"offset {nul}")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError("not UTF-8 text; not a kernel config", path=path,
                         where=f"offset {exc.start}") from None
    return parse_config_text(text, path, hashlib.sha256(raw).hexdigest())
