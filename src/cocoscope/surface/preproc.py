"""Per-config `#if` handling: blank the branches the config does not build.

Without a preprocessor the scanner would read every branch of every conditional: a macro
defined once for 32-bit and once for 64-bit kept whichever came last, and code for options the
config turns off produced sites. Given the config's symbols, conditions made only of what a
kernel build defines for certain are evaluated the way cpp would see them after
`include/generated/autoconf.h`:

- ``CONFIG_X`` is 1 when X=y and undefined (0) when X=m, n or absent (then ``CONFIG_X_MODULE``
  is 1); an int/hex symbol is its value; ``defined(...)``/``#ifdef``/``#ifndef`` accordingly;
- ``IS_ENABLED``, ``IS_BUILTIN``, ``IS_MODULE`` (and ``IS_REACHABLE`` when X is y or n);
- ``BITS_PER_LONG``/``__BITS_PER_LONG`` from ``CONFIG_64BIT``; ``__KERNEL__``, ``__GNUC__`` and
  (on CONFIG_X86_64) ``__x86_64__`` defined; ``__ASSEMBLY__``, ``__CHECKER__``, ``__i386__``
  not; include guards (``#ifndef X`` directly followed by ``#define X``) are entered.

Anything else (other macros, ``MODULE``, ``__has_attribute``) is unknown, and a branch is blanked
only when its condition is certainly false (three-valued logic): an unknown branch is scanned,
as before, and counted as a fallback. Blanking overwrites bytes with spaces and keeps newlines,
so every offset and line number stays the file's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache

from cocoscope.evidence.dotconfig import load_config
from cocoscope.surface.neutralise import blank

# Starts with a literal '#': far faster to search than a `^`-anchored multiline pattern;
# that only blanks precede it on its line is checked per match.
_DIRECTIVE = re.compile(rb"#[ \t]*(ifdef|ifndef|if|elif|else|endif)\b")
_TOKEN = re.compile(r"\s*(0[xX][0-9a-fA-F]+|\d+|[A-Za-z_]\w*|&&|\|\||==|!=|<=|>=|<<|>>|[-+*/%()!<>&|^~?:,])")
_INT_SUFFIX = re.compile(r"[uUlL]+$")

Value = int | None  # None: cannot be decided from the config


@dataclass(frozen=True)
class Defines:
    """What a build with one config defines: CONFIG_ macros and a few compiler facts."""

    macros: dict[str, int] = field(repr=False)  # defined, with a numeric value (1 for y)
    # condition text -> value: the same few thousand conditions recur across a tree
    memo: dict[str, Value] = field(default_factory=dict, repr=False, compare=False)
    known_undefined: frozenset[str] = frozenset({"__ASSEMBLY__", "__CHECKER__", "__GENKSYMS__",
                                                 "__clang__", "__i386__", "CONFIG_X86_32"})


@cache
def file_defines(config_path: str, extra: tuple[tuple[str, int], ...]) -> Defines:
    """The config's defines plus the macros an including file defines for one ``.c`` file it
    #includes (``includer_defines``); memoised like ``config_defines``."""
    d = config_defines(config_path)
    return Defines({**d.macros, **dict(extra)}) if extra else d


@cache
def config_defines(config_path: str) -> Defines:
    """The defines of the config at ``config_path`` (memoised: a process reads it once, and
    the pool's forked workers inherit it)."""
    cfg = load_config(config_path)
    macros: dict[str, int] = {"__KERNEL__": 1, "__GNUC__": 14, "__STDC__": 1}
    for sym, e in cfg.entries.items():
        if e.value == "y":
            macros[f"CONFIG_{sym}"] = 1
        elif e.value == "m":
            macros[f"CONFIG_{sym}_MODULE"] = 1
        elif e.value != "n":
            try:
                macros[f"CONFIG_{sym}"] = int(e.value, 0)
            except ValueError:
                macros[f"CONFIG_{sym}"] = -1  # a string: defined, value not numeric
    bits = 64 if macros.get("CONFIG_64BIT") == 1 else 32
    macros["BITS_PER_LONG"] = macros["__BITS_PER_LONG"] = bits
    if macros.get("CONFIG_X86_64") == 1:
        macros["__x86_64__"] = 1
    return Defines(macros)


class _Expr:
    """Recursive-descent evaluation of a #if expression over three-valued integers."""

    def __init__(self, text: str, d: Defines) -> None:
        self.toks = _TOKEN.findall(text)
        self.i = 0
        self.d = d

    def peek(self) -> str:
        return self.toks[self.i] if self.i < len(self.toks) else ""

    def take(self) -> str:
        t = self.peek()
        self.i += 1
        return t

    def defined(self, name: str) -> Value:
        if name in self.d.macros:
            return 1
        if name.startswith("CONFIG_") or name in self.d.known_undefined:
            return 0
        return None

    def expr(self) -> Value:
        cond = self.lor()
        if self.peek() == "?":
            self.take()
            a = self.expr()
            if self.take() != ":":
                raise ValueError("?: without ':'")
            b = self.expr()
            if cond is None:
                return a if a == b else None
            return a if cond else b
        return cond

    def lor(self) -> Value:
        v = self.land()
        while self.peek() == "||":
            self.take()
            w = self.land()
            v = 1 if (v or w) else (0 if v == 0 and w == 0 else None)
        return v

    def land(self) -> Value:
        v = self.binary(0)
        while self.peek() == "&&":
            self.take()
            w = self.binary(0)
            v = 0 if (v == 0 or w == 0) else (1 if v is not None and w is not None else None)
        return v

    _LEVELS = (("|",), ("^",), ("&",), ("==", "!="), ("<", ">", "<=", ">="), ("<<", ">>"),
               ("+", "-"), ("*", "/", "%"))

    def binary(self, level: int) -> Value:
        if level == len(self._LEVELS):
            return self.unary()
        v = self.binary(level + 1)
        while self.peek() in self._LEVELS[level]:
            op = self.take()
            w = self.binary(level + 1)
            v = None if v is None or w is None else _apply(op, v, w)
        return v

    def unary(self) -> Value:
        t = self.take()
        if t == "!":
            v = self.unary()
            return None if v is None else int(not v)
        if t in ("-", "~", "+"):
            v = self.unary()
            return None if v is None else {"-": -v, "~": ~v, "+": v}[t]
        if t == "(":
            v = self.expr()
            if self.take() != ")":
                raise ValueError("unbalanced parenthesis")
            return v
        if t[:1].isdigit():
            return int(_INT_SUFFIX.sub("", t), 0)
        if t == "defined":
            paren = self.peek() == "("
            if paren:
                self.take()
            name = self.take()
            if paren and self.take() != ")":
                raise ValueError("defined( without ')'")
            return self.defined(name)
        if t in ("IS_ENABLED", "IS_BUILTIN", "IS_MODULE", "IS_REACHABLE"):
            if self.take() != "(":
                raise ValueError(f"{t} without '('")
            name = self.take()
            if self.take() != ")":
                raise ValueError(f"{t}( without ')'")
            y = self.defined(name)
            m = self.defined(name + "_MODULE")
            if y is None or m is None:
                return None
            if t == "IS_ENABLED":
                return int(bool(y or m))
            if t == "IS_BUILTIN":
                return y
            if t == "IS_MODULE":
                return m
            return None if m else y  # IS_REACHABLE: a module depends on the includer
        if t[:1].isalpha() or t[:1] == "_":
            if self.peek() == "(":
                return None  # a function-like macro the scanner does not expand
            if t in self.d.macros:
                return self.d.macros[t] if self.d.macros[t] >= 0 else None
            return 0 if t.startswith("CONFIG_") or t in self.d.known_undefined else None
        raise ValueError(f"unexpected {t!r}")


def _apply(op: str, a: int, b: int) -> Value:
    if op in ("/", "%") and b == 0:
        return None
    return {
        "|": lambda: a | b, "^": lambda: a ^ b, "&": lambda: a & b, "==": lambda: int(a == b),
        "!=": lambda: int(a != b), "<": lambda: int(a < b), ">": lambda: int(a > b),
        "<=": lambda: int(a <= b), ">=": lambda: int(a >= b), "<<": lambda: a << min(b, 64),
        ">>": lambda: a >> min(b, 64), "+": lambda: a + b, "-": lambda: a - b,
        "*": lambda: a * b, "/": lambda: int(a / b), "%": lambda: a % b,
    }[op]()


def evaluate(condition: str, d: Defines) -> Value:
    """The value of a #if condition under ``d``; None when it cannot be decided."""
    if condition in d.memo:
        return d.memo[condition]
    d.memo[condition] = value = _evaluate(condition, d)
    return value


def _evaluate(condition: str, d: Defines) -> Value:
    condition = re.sub(r"/\*.*?\*/|//.*", " ", condition.replace("\\\n", " "), flags=re.S)
    e = _Expr(condition, d)
    try:
        v = e.expr()
    except (ValueError, IndexError, OverflowError):
        return None
    return v if e.i == len(e.toks) else None


@dataclass
class _Frame:
    outer_live: bool  # the enclosing branch is not blanked
    seen_true: Value = 0  # has an earlier branch certainly (1) / maybe (None) been taken
    live: bool = True  # the current branch is kept
    directives: list[tuple[int, int]] = field(default_factory=list)
    all_known: bool = True


def _line_end(data: bytes, start: int) -> int:
    """End of the logical line at ``start`` (backslash continuations included)."""
    end = data.find(b"\n", start)
    while end != -1 and data[end - 1:end] == b"\\":
        end = data.find(b"\n", end + 1)
    return len(data) if end == -1 else end


_GUARD = re.compile(rb"\s*#\s*define\s+(\w+)")


def blank_inactive(data: bytes, d: Defines) -> tuple[bytes, int, int]:
    """``data`` with the branches ``d`` certainly does not build blanked, the number of
    conditionals decided and the number left undecided (both branches kept)."""
    buf = bytearray(data)
    stack: list[_Frame] = []
    decided = undecided = 0
    dead_from = -1  # start of the current blanked stretch
    for m in _DIRECTIVE.finditer(data):
        line_start = data.rfind(b"\n", 0, m.start()) + 1
        if data[line_start:m.start()].strip(b" \t"):
            continue  # not at the start of a line (in a comment, a string, after code)
        kind = m.group(1)
        end = _line_end(data, m.end())
        live_before = not stack or (stack[-1].live and stack[-1].outer_live)
        if kind in (b"if", b"ifdef", b"ifndef"):
            text = data[m.end():end].decode("utf-8", "replace").strip()
            if kind == b"if":
                v = evaluate(text, d)
            else:
                name = text.split()[0] if text.split() else ""
                v = evaluate(f"defined({name})", d) if name else None
                if kind == b"ifndef":
                    guard = _GUARD.match(data, end + 1)
                    if v is None and guard is not None and guard.group(1).decode() == name:
                        v = 0  # an include guard: entered
                    v = None if v is None else int(not v)
            f = _Frame(live_before)
            _enter(f, v)
            stack.append(f)
        elif not stack:
            continue  # an #else/#endif without its #if: leave the text alone
        elif kind == b"elif":
            f = stack[-1]
            v = evaluate(data[m.end():end].decode("utf-8", "replace"), d)
            _enter(f, v)
        elif kind == b"else":
            _enter(stack[-1], 1)
        else:  # endif
            f = stack.pop()
            f.directives.append((line_start, end))
            if f.all_known:
                decided += 1
                for s, e in f.directives:
                    blank(buf, s, e)
            else:
                undecided += 1
        if kind != b"endif":
            stack[-1].directives.append((line_start, end))
        live_after = not stack or (stack[-1].live and stack[-1].outer_live)
        if live_before and not live_after:
            dead_from = end
        elif not live_before and live_after and dead_from >= 0:
            blank(buf, dead_from, line_start)
            dead_from = -1
    if dead_from >= 0:  # an unterminated #if: blank to the end, as cpp would
        blank(buf, dead_from, len(buf))
    return bytes(buf), decided, undecided


def _enter(f: _Frame, cond: Value) -> None:
    """Start a branch whose own condition is ``cond``, after the frame's earlier branches."""
    if cond is None:
        f.all_known = False
    if f.seen_true == 1:
        f.live = False
        return
    active: Value = cond if f.seen_true == 0 else (None if cond != 0 else 0)
    f.live = active != 0
    if cond == 1:
        f.seen_true = 1  # this branch or an earlier one is certainly taken
    elif cond is None:
        f.seen_true = None


# Directives that change what an included file sees: conditionals (nesting), #define, #undef
# and #include.
_INCLUDER_DIRECTIVE = re.compile(
    rb"^[ \t]*#[ \t]*(ifdef|ifndef|if|elif|else|endif|define|undef|include)\b[ \t]*(.*)$", re.M)
_MACRO_NAME = re.compile(rb"([A-Za-z_]\w*)(\(?)[ \t]*(.*)")
_COMMENT = re.compile(rb"/\*.*?\*/", re.S)


def includer_defines(includer: bytes, spelled: str, included: bytes,
                     d: Defines | None = None) -> tuple[tuple[str, int], ...]:
    """The macros an including file certainly has defined where it does ``#include "spelled"``
    (ni_pcimio.c: `#define PCIDMA` ... `#include "ni_mio_common.c"`; ``spelled`` may also be
    written with its delimiters, `<asm-generic/io.h>`), as (name, value; -1 when the value is
    not a number). Only what is certain: `#define`s and `#undef`s before the first such
    `#include`, both in branches that are certainly compiled. Without ``d`` that means outside
    any conditional; with the config's defines ``d``, a conditional the config decides counts
    as decided (x86's asm/io.h defines `readq_relaxed` under `#ifdef CONFIG_X86_64` before it
    includes asm-generic/io.h), and what a branch the config leaves out defines is ignored.
    The includer's own include guard (its first directive `#ifndef G` with `#define G` next)
    does not count as a conditional. A name the includer also defines or undefines in an
    undecided branch, or that the included file defines or undefines itself, is left out,
    except a fallback definition (`#ifndef X` directly followed by `#define X`), which never
    happens once X is defined. No include found, or one in an undecided branch: ()."""
    includer = _uncommented(includer)
    written = spelled if spelled[:1] in ('"', "<") else f'"{spelled}"'
    # one (live, seen_true) per open conditional: the branch is certainly compiled (1),
    # certainly not (0) or undecided (None); seen_true as in _Frame
    stack: list[tuple[Value, Value]] = []
    found: dict[str, int] = {}
    doubtful: set[str] = set()
    guard = _include_guard(includer)
    for m in _INCLUDER_DIRECTIVE.finditer(includer):
        kind, rest = m.group(1), m.group(2)
        if m.start() in guard:
            continue
        if kind in (b"if", b"ifdef", b"ifndef"):
            cond = _condition(kind, rest, d)
            stack.append((cond, cond))
            continue
        if kind in (b"elif", b"else"):
            if stack:
                _live, seen = stack[-1]
                cond = 1 if kind == b"else" else _condition(b"if", rest, d)
                live = 0 if seen else (None if seen is None or cond is None else cond)
                stack[-1] = (live, 1 if seen or cond == 1 else
                             (None if seen is None or cond is None else 0))
            continue
        if kind == b"endif":
            if stack:
                stack.pop()
            continue
        state: Value = 1
        for live, _seen in stack:
            if live == 0:
                state = 0
                break
            if live is None:
                state = None
        if state == 0:
            continue  # a branch this build leaves out
        if kind in (b"define", b"undef"):
            name = _MACRO_NAME.match(rest)
            if name is None:
                continue
            ident = name.group(1).decode()
            if state is None:
                doubtful.add(ident)
            elif kind == b"undef":
                found.pop(ident, None)
            else:
                value = name.group(3).split(b"/*")[0].split(b"//")[0].strip()
                number = None if name.group(2) else _number(value.decode("utf-8", "replace"))
                found[ident] = -1 if number is None else number
        elif kind == b"include" and rest.strip().startswith(written.encode()):
            if state is None:
                return ()
            own = _redefined(included)
            return tuple(sorted((k, v) for k, v in found.items()
                                if k not in doubtful and k not in own))
    return ()


def _condition(kind: bytes, rest: bytes, d: Defines | None) -> Value:
    """1 / 0 when the config ``d`` decides an `#if`/`#ifdef`/`#ifndef`, else None."""
    if d is None:
        return None
    text = rest.decode("utf-8", "replace").strip()
    if kind != b"if":
        name = text.split()[0] if text.split() else ""
        text = f"defined({name})" if kind == b"ifdef" else f"!defined({name})"
    value = evaluate(text, d)
    return None if value is None else int(value != 0)


def _uncommented(text: bytes) -> bytes:
    return _COMMENT.sub(lambda m: b"\n" * m.group().count(b"\n"), text)


def _include_guard(text: bytes) -> tuple[int, ...]:
    """Offsets of the file's include guard, `#ifndef G` as its first directive and `#define G`
    as the next one (neither is a definition the included file could test), or ()."""
    it = _INCLUDER_DIRECTIVE.finditer(text)
    first, second = next(it, None), next(it, None)
    if first is None or second is None or first.group(1) != b"ifndef" \
            or second.group(1) != b"define":
        return ()
    name, defined = first.group(2).split(), _MACRO_NAME.match(second.group(2))
    return (first.start(), second.start()) if name and defined and \
        name[0].decode() == defined.group(1).decode() else ()


def _redefined(text: bytes) -> set[str]:
    """Names a file may define or undefine itself, other than in a fallback definition
    (`#ifndef X`, or an `#if` conjunction with `!defined(X)`, directly followed by
    `#define X`)."""
    out: set[str] = set()
    previous = b""
    for m in _INCLUDER_DIRECTIVE.finditer(_uncommented(text)):
        kind, rest = m.group(1), m.group(2)
        if kind in (b"define", b"undef") and (name := _MACRO_NAME.match(rest)) is not None:
            ident = name.group(1)
            if not (kind == b"define" and _falls_back(previous, ident)):
                out.add(ident.decode())
        previous = kind + b" " + rest
    return out


def _falls_back(directive: bytes, ident: bytes) -> bool:
    """``directive`` (kind and text) only holds while ``ident`` is undefined: `#ifndef X`, or
    an `#if` that is a conjunction with `!defined(X)` (asm-generic/io.h's `#if defined(readq)
    && !defined(readq_relaxed)`)."""
    if directive.split() == [b"ifndef", ident]:
        return True
    if not directive.startswith(b"if ") or b"||" in directive:
        return False
    return re.search(rb"!\s*defined\s*(\(\s*)?" + re.escape(ident) + rb"\b", directive) is not None


def _number(text: str) -> int | None:
    try:
        return int(_INT_SUFFIX.sub("", text.strip("()")), 0)
    except ValueError:
        return None
