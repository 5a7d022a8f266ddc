"""Kernel command line with the kernel's own semantics (lib/cmdline.c next_arg, kernel/params.c).

- Arguments split on whitespace; double quotes group, and the kernel drops them from the value
  (``foo="a b"`` -> value ``a b``; ``"foo=a b"`` -> name foo, value ``a b``).
- ``--`` ends kernel parameters; what follows goes to init and is kept apart.
- Names compare with ``-`` and ``_`` equivalent (params.c parameq).
- ``module.param=value`` names a module parameter; the part before the first dot is the module.
- Booleans as kstrtobool parses them: y/Y/1/on true, n/N/0/off false; a bare flag is true.
- A parameter may repeat. ``__setup`` handlers see every occurrence and module parameters keep
  the last, so rules look at ``last`` for the effective value and ``all`` for accumulating
  parameters such as ``console=``.

An unbalanced quote is tolerated by the kernel (the rest of the line becomes one argument) but
here it is reported as bad input: a command line that a bootloader mangled is worth a look.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from cocoscope.errors import InputError
from cocoscope.evidence import files

MAX_CMDLINE = 1 << 16  # COMMAND_LINE_SIZE is 2048 on x86; allow generous slack, refuse garbage


@dataclass(frozen=True)
class Param:
    name: str  # as written (quotes removed)
    value: str | None  # None for a bare flag
    position: int  # index among kernel parameters
    column: int  # 1-based character offset in the command line

    @property
    def key(self) -> str:
        return normalise(self.name)

    @property
    def module(self) -> str | None:
        return self.name.split(".", 1)[0] if "." in self.name else None


def normalise(name: str) -> str:
    return name.replace("-", "_")


def parse_bool(value: str | None) -> bool | None:
    """kstrtobool: first character decides, with on/off; None for values it rejects."""
    if value is None:
        return True
    if not value:
        return None
    c = value[0]
    if c in "yY1":
        return True
    if c in "nN0":
        return False
    if c in "oO" and len(value) > 1:
        if value[1] in "nN":
            return True
        if value[1] in "fF":
            return False
    return None


@dataclass(frozen=True)
class Cmdline:
    text: str
    source: str  # file it came from, or "<argument>"
    params: tuple[Param, ...]
    init_args: tuple[str, ...]
    sha256: str

    def all(self, name: str) -> tuple[Param, ...]:
        key = normalise(name)
        return tuple(p for p in self.params if p.key == key)

    def last(self, name: str) -> Param | None:
        found = self.all(name)
        return found[-1] if found else None

    def has(self, name: str) -> bool:
        return bool(self.all(name))

    def value(self, name: str) -> str | None:
        p = self.last(name)
        return None if p is None else p.value

    def flag(self, name: str) -> bool | None:
        """Effective boolean of ``name``; None when absent or not a valid boolean."""
        p = self.last(name)
        return None if p is None else parse_bool(p.value)


def _split(text: str, source: str) -> list[tuple[str, int]]:
    """Split into raw arguments with their 1-based column, honouring double quotes."""
    args: list[tuple[str, int]] = []
    i, n = 0, len(text)
    while i < n:
        while i < n and text[i].isspace():
            i += 1
        if i >= n:
            break
        start, in_quote = i, False
        while i < n and (in_quote or not text[i].isspace()):
            if text[i] == '"':
                in_quote = not in_quote
            i += 1
        if in_quote:
            raise InputError("unbalanced double quote in kernel command line",
                             path=source, where=f"column {start + 1}")
        args.append((text[start:i], start + 1))
    return args


def _name_value(raw: str) -> tuple[str, str | None]:
    """Mirror next_arg(): the first '=' splits (quotes or not); one leading quote of the whole
    argument or of the value and the matching trailing quote are dropped, inner ones kept."""
    quoted = raw.startswith('"')
    body = raw[1:] if quoted else raw
    eq = body.find("=")
    if eq <= 0:  # next_arg treats '=' at index 0 as "no value" too
        name = body[:-1] if quoted and body.endswith('"') else body
        return name, None
    name, value = body[:eq], body[eq + 1 :]
    if value.startswith('"'):
        value = value[1:]
        if value.endswith('"'):
            value = value[:-1]
    elif quoted and value.endswith('"'):
        value = value[:-1]
    return name, value


def parse_cmdline(text: str, source: str = "<argument>") -> Cmdline:
    if len(text) > MAX_CMDLINE:
        raise InputError(f"command line is {len(text)} characters; longer than any kernel accepts",
                         path=source)
    if "\x00" in text.rstrip("\x00"):
        raise InputError("NUL byte inside the command line", path=source,
                         where=f"column {text.index(chr(0)) + 1}")
    text = text.rstrip("\x00").strip()
    params: list[Param] = []
    init_args: list[str] = []
    after_dashes = False
    for raw, col in _split(text, source):
        if after_dashes:
            init_args.append(raw.replace('"', ""))
            continue
        if raw == "--":
            after_dashes = True
            continue
        name, value = _name_value(raw)
        if not name:
            raise InputError(f"argument {raw!r} has no parameter name", path=source,
                             where=f"column {col}")
        params.append(Param(name, value, len(params), col))
    return Cmdline(text, source, tuple(params), tuple(init_args),
                   hashlib.sha256(text.encode()).hexdigest())


def load_cmdline(path: str) -> Cmdline:
    raw = files.read_input(path, files.CMDLINE)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError("command line is not UTF-8 text", path=path,
                         where=f"offset {exc.start}") from None
    if "\n" in text.strip():
        raise InputError("command line file has more than one line", path=path)
    return parse_cmdline(text, path)
