"""A small GNU make interpreter: just what Kbuild files need to say which objects they list.

It evaluates variable assignments (``=``, ``:=``, ``::=``, ``+=``, ``?=``, ``!=`` is not run),
``$(var)``/``${var}``/``$(var:a=b)`` expansion, the text functions, ``foreach``/``call``/``eval``,
conditional directives and ``include`` of files in the tree. Rules and their recipes are skipped.
Nothing is executed: ``$(shell)`` and calls of functions defined in files not read
(``cc-option`` and friends from ``scripts/Kbuild.include``) expand to empty text and bump
``unknown_hits`` so the caller can tell when such a guess touched an object list.

Every word appended to a variable can carry the CONFIG symbol that brought it in (from the
variable name, ``obj-$(CONFIG_X)``, or from the innermost enclosing conditional); that is the
``symbol`` of a built file.
"""

from __future__ import annotations

import glob
import posixpath
import re
from dataclasses import dataclass, field
from pathlib import Path

from cocoscope.evidence.files import read_tree_file
from cocoscope.evidence.kbuild.context import Var
from cocoscope.evidence.kbuild.funcs import FUNCTIONS as _FUNCTIONS
from cocoscope.evidence.kbuild.funcs import patsubst_word
from cocoscope.evidence.kbuild.lex import (
    classify,
    collect_define,
    cond_args,
    logical_lines,
    matching,
    strip_comment,
    top_level,
    top_level_chars,
)
from cocoscope.evidence.kbuild.records import Diagnostic

MAX_DEPTH = 40  # expansion / include / eval nesting; beyond this the text is not understood
MAX_FILE_BYTES = 4 << 20  # the largest kernel Makefile is ~100 KiB
# References expanded per context: a real Kbuild directory needs a few thousand; the cap stops
# "a = $(b)$(b)", "b = $(c)$(c)", ... from taking exponential time.
MAX_REFERENCES = 2_000_000

_DIRECTIVES = ("ifdef", "ifndef", "ifeq", "ifneq")
# Variables that list objects or directories (provenance is kept, guesses are reported);
# compiler flags (ccflags-y, subdir-ccflags-y, CFLAGS_foo.o, ...) never decide what is built.
_OBJECT_LIST = re.compile(r"^(obj|lib|subdir|core|drivers|libs)-|-(objs|y|m)$")
_FLAGS = re.compile(r"flags", re.I)


@dataclass
class Cond:
    parent_active: bool
    active: bool
    taken: bool
    symbol: str | None


@dataclass
class Interp:
    """One make evaluation context (one Kbuild directory, or the arch Makefile)."""

    tree: Path
    base: dict[str, Var]  # shared config and exported variables; never written
    diags: list[Diagnostic]
    vars: dict[str, Var] = field(default_factory=dict)
    provenance: dict[str, dict[str, str]] = field(default_factory=dict)
    exported: set[str] = field(default_factory=set)
    unknown_hits: int = 0
    kbuild_file: str = ""  # the directory's Kbuild file, for diagnostics after evaluation
    _refs: list[str] = field(default_factory=list)  # CONFIG_ names read while tracking
    _tracking: int = 0  # > 0 while expanding an assignment's name or a condition
    _depth: int = 0
    _references: int = 0
    _file: str = ""
    _line: int = 0

    # ---- variables -------------------------------------------------------------------

    def lookup(self, name: str) -> Var | None:
        v = self.vars.get(name)
        return v if v is not None else self.base.get(name)

    def get(self, name: str) -> str:
        """Expanded value of a variable ("" if undefined)."""
        if self._tracking and name.startswith("CONFIG_"):
            self._refs.append(name)
        v = self.lookup(name)
        if v is None:
            return ""
        return self.expand(v.value) if v.recursive else v.value

    def set(self, name: str, value: str, *, recursive: bool = False) -> None:
        self.vars[name] = Var(value, recursive)

    def symbol_of(self, var: str, word: str) -> str | None:
        return self.provenance.get(var, {}).get(word)

    # ---- expansion -------------------------------------------------------------------

    def expand(self, text: str) -> str:
        if "$" not in text:
            return text
        if self._depth >= MAX_DEPTH:
            self.diag("expansion nested too deeply; treated as empty")
            return ""
        self._depth += 1
        try:
            return self._expand(text)
        finally:
            self._depth -= 1

    def _expand(self, text: str) -> str:
        out: list[str] = []
        i, n = 0, len(text)
        while i < n:
            j = text.find("$", i)
            if j < 0:
                out.append(text[i:])
                break
            out.append(text[i:j])
            if j + 1 >= n:
                break  # a lone trailing "$" expands to nothing
            c = text[j + 1]
            if c == "$":
                out.append("$")
                i = j + 2
            elif c in "({":
                end = matching(text, j + 1)
                if end < 0:
                    self.diag("unterminated variable reference")
                    return "".join(out)
                out.append(self._reference(text[j + 2:end]))
                i = end + 1
            else:
                out.append(self.get(c))
                i = j + 2
        return "".join(out)

    def _reference(self, body: str) -> str:
        self._references += 1
        if self._references > MAX_REFERENCES:
            if self._references == MAX_REFERENCES + 1:
                self.diag(f"more than {MAX_REFERENCES} variable references; the rest are empty")
            return ""
        m = re.match(r"([a-z-]+)[ \t]", body)
        if m and m.group(1) in _FUNCTIONS:
            return _FUNCTIONS[m.group(1)](self, body[m.end():].lstrip())
        colon = top_level(body, ":")
        if colon >= 0 and "=" in body[colon:]:
            name = self.expand(body[:colon])
            pat, _, rep = self.expand(body[colon + 1:]).partition("=")
            if "%" not in pat:
                pat, rep = "%" + pat, "%" + rep
            return " ".join(patsubst_word(pat, rep, w) for w in self.get(name).split())
        name = self.expand(body)
        if " " in name.strip():
            self.unknown_hits += 1  # a function this interpreter does not know
            return ""
        return self.get(name)

    def split_args(self, text: str, limit: int) -> list[str]:
        """Split a function's argument text at top-level commas, into at most ``limit`` args."""
        args: list[str] = []
        start = 0
        for i in top_level_chars(text, ","):
            if len(args) == limit - 1:
                break
            args.append(text[start:i])
            start = i + 1
        args.append(text[start:])
        return args

    def wildcard(self, pattern: str) -> list[str]:
        found: list[str] = []
        for pat in pattern.split():
            if pat.startswith("/") or posixpath.normpath(pat).startswith(".."):
                continue  # nothing outside the tree is looked at
            found.extend(sorted(glob.glob(pat, root_dir=self.tree)))
        return found

    # ---- evaluation ------------------------------------------------------------------

    def eval_file(self, rel: str) -> bool:
        """Evaluate a file relative to the tree; False (and a diagnostic) if unreadable."""
        path = self.tree / rel
        try:
            if path.stat().st_size > MAX_FILE_BYTES:
                self.diag(f"{rel} is larger than {MAX_FILE_BYTES} bytes; not read")
                return False
            text = read_tree_file(path).decode("utf-8", errors="replace")
        except OSError as exc:
            self.diag(f"cannot read {rel}: {exc.strerror or exc}")
            return False
        self.eval_text(text, rel)
        return True

    def eval_text(self, text: str, filename: str, first_line: int = 1) -> None:
        if self._depth >= MAX_DEPTH:
            self.diag(f"{filename}: include/eval nested too deeply; not read")
            return
        saved = (self._file, self._line)
        self._file = filename
        self._depth += 1
        try:
            self._eval_lines(text, first_line)
        finally:
            self._depth -= 1
            self._file, self._line = saved

    def eval_here(self, text: str) -> None:
        """``$(eval text)``: evaluated as if written at the current file and line."""
        self.eval_text(text, self._file + " (eval)", self._line)

    def _eval_lines(self, text: str, first_line: int) -> None:
        conds: list[Cond] = []
        in_rule = False
        lines = logical_lines(text, first_line)
        for lineno, raw in lines:
            self._line = lineno
            if raw.startswith("\t") and in_rule:
                continue  # a recipe line
            line = strip_comment(raw).strip()
            if not line:
                continue
            word = line.split(None, 1)[0]
            if word in _DIRECTIVES or word in ("else", "endif"):
                self._conditional(word, line, conds)
                continue
            active = all(c.active for c in conds)
            if word == "define":
                body = collect_define(lines)
                if active:
                    self._define(line[len("define"):].strip(), body)
                continue
            if not active:
                continue
            in_rule = self._statement(line, word, conds, in_rule)
        if conds:
            self.diag(f"{len(conds)} conditional(s) not closed by endif at end of file")

    def _statement(self, line: str, word: str, conds: list[Cond], in_rule: bool) -> bool:
        """Evaluate one active non-conditional line; return the new rule-context flag."""
        if word in ("include", "-include", "sinclude"):
            self._include(line[len(word):], optional=word != "include")
            return False
        if word in ("vpath", "undefine", "unexport"):
            if word == "undefine":
                self.vars.pop(self.expand(line[len(word):]).strip(), None)
            return False
        export = False
        while word in ("export", "override", "private"):
            export = export or word == "export"
            line = line[len(word):].strip()
            if not line:
                return False
            word = line.split(None, 1)[0]
        kind, lhs, op, rhs = classify(line)
        if kind == "assign":
            self._assign(lhs, op, rhs, conds, export)
            return False
        if kind == "rule":
            return True
        # A bare expansion: $(eval ...), $(foreach ...), $(info ...), or "export VAR".
        before = self.unknown_hits
        result = self.expand(line).strip()
        if export:
            self.exported.update(result.split())
        elif result and self.unknown_hits == before:
            self.diag(f"line is neither assignment, rule nor directive: {line[:60]!r}")
        return in_rule

    def _assign(self, lhs: str, op: str, rhs: str, conds: list[Cond], export: bool) -> None:
        mark = len(self._refs)
        before = self.unknown_hits
        self._tracking += 1
        try:
            name = self.expand(lhs).strip()
        finally:
            self._tracking -= 1
            refs = self._refs[mark:]
            del self._refs[mark:]
        if not name or any(c in name for c in " \t"):
            if name:
                self.diag(f"assignment to a name with spaces: {name[:60]!r}")
            return
        if export:
            self.exported.add(name)
        symbol = refs[-1][len("CONFIG_"):] if refs else self._condition_symbol(conds)
        old = self.lookup(name)
        if op == "?=" and old is not None:
            return
        if op == "!=":
            self.unknown_hits += 1
            self.set(name, "")
        elif op in (":=", "::=", ":::="):
            self.set(name, self.expand(rhs))
        elif op == "+=" and old is not None:
            value = rhs if old.recursive else self.expand(rhs)
            sep = " " if old.value and value else ""
            self.set(name, old.value + sep + value, recursive=old.recursive)
        else:  # "=", "?=" on a new variable, "+=" on a new variable
            self.set(name, rhs, recursive=True)
        if op in ("=", ":=", "::=", ":::=", "!="):
            self.provenance.pop(name, None)
        if _OBJECT_LIST.search(name) and not _FLAGS.search(name):
            words = self.expand(rhs).split()
            if symbol:
                prov = self.provenance.setdefault(name, {})
                for w in words:
                    prov.setdefault(w, symbol)
            if self.unknown_hits != before:
                self.diag(f"{name}: uses $(shell) or an unknown function; treated as empty")

    def _define(self, header: str, body: str) -> None:
        parts = header.split(None, 1)
        if not parts:
            self.diag("define without a name")
            return
        name = self.expand(parts[0])
        op = parts[1].strip() if len(parts) > 1 else "="
        if op in (":=", "::="):
            self.set(name, self.expand(body))
        elif op == "+=" and (old := self.lookup(name)) is not None:
            self.set(name, old.value + "\n" + body, recursive=old.recursive)
        else:
            self.set(name, body, recursive=True)

    def _include(self, arg: str, *, optional: bool) -> None:
        for name in self.expand(arg).split():
            rel = posixpath.normpath(name)
            if rel.startswith(("scripts/", "include/config/")):
                continue  # build machinery and generated files: the config is already read
            if rel == ".." or rel.startswith(("../", "/")):
                self.diag(f"included file {name} is outside the tree; not read")
                continue
            if not (self.tree / rel).is_file():
                if not optional:
                    self.diag(f"included file {name} not in the tree")
                continue
            self.eval_file(rel)

    def _conditional(self, word: str, line: str, conds: list[Cond]) -> None:
        if word == "endif":
            if not conds:
                self.diag("endif without a matching if")
            else:
                conds.pop()
            return
        if word == "else":
            if not conds:
                self.diag("else without a matching if")
                return
            c = conds[-1]
            rest = line[4:].strip()
            if rest and rest.split(None, 1)[0] in _DIRECTIVES:
                if c.taken or not c.parent_active:
                    c.active = False
                    return
                ok, sym = self._test(rest.split(None, 1)[0], rest)
                c.active, c.taken, c.symbol = ok, ok, sym or c.symbol
            else:
                c.active = c.parent_active and not c.taken
                c.taken = True
            return
        parent = all(c.active for c in conds)
        ok, sym = self._test(word, line) if parent else (False, None)
        conds.append(Cond(parent, ok, ok, sym))

    def _test(self, word: str, line: str) -> tuple[bool, str | None]:
        mark = len(self._refs)
        self._tracking += 1
        try:
            return self._evaluate_test(word, line, mark)
        finally:
            self._tracking -= 1
            del self._refs[mark:]

    def _evaluate_test(self, word: str, line: str, mark: int) -> tuple[bool, str | None]:
        before = self.unknown_hits
        arg = line[len(word):].strip()
        if word in ("ifdef", "ifndef"):
            name = self.expand(arg).strip()
            if name.startswith("CONFIG_"):
                self._refs.append(name)
            v = self.lookup(name)
            result = v is not None and v.value != ""
            result = result if word == "ifdef" else not result
        else:
            pair = cond_args(arg)
            if pair is None:
                self.diag(f"cannot parse {word} arguments: {arg[:60]!r}; taken as false")
                return False, None
            a, b = (self.expand(x).strip() for x in pair)
            result = (a == b) == (word == "ifeq")
        refs = self._refs[mark:]
        if self.unknown_hits != before:
            self.diag(f"condition uses $(shell) or an unknown function: {arg[:60]!r}")
        return result, (refs[-1][len("CONFIG_"):] if refs else None)

    def _condition_symbol(self, conds: list[Cond]) -> str | None:
        """The innermost enclosing condition's symbol that is set: the one whose turning off
        removes the line. A branch taken because a symbol is off (``ifndef CONFIG_UML``, an
        ``else``) names none, so the symbol of an outer condition or the directory applies."""
        for c in reversed(conds):
            if c.symbol:
                v = self.lookup("CONFIG_" + c.symbol)
                if v is not None and v.value not in ("", "n"):
                    return c.symbol
        return None

    def diag(self, message: str) -> None:
        self.diags.append(Diagnostic(self._file, self._line, message))
