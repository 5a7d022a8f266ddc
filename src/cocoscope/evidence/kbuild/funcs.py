"""GNU make's built-in functions for the Kbuild interpreter (``make.py``).

Each takes the interpreter and the unexpanded argument text, because ``if``/``or``/``and``/
``foreach`` expand their arguments lazily as make does.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable

from cocoscope.evidence.kbuild.context import MakeContext

Function = Callable[[MakeContext, str], str]


def _args(it: MakeContext, text: str, limit: int) -> list[str]:
    return [it.expand(a) for a in it.split_args(text, limit)]


def _words(fn: Callable[[str], str]) -> Function:
    def apply(it: MakeContext, text: str) -> str:
        return " ".join(r for r in (fn(w) for w in it.expand(text).split()) if r)
    return apply


def _subst(it: MakeContext, text: str) -> str:
    a = _args(it, text, 3)
    if len(a) < 3:
        return ""
    return a[2].replace(a[0], a[1]) if a[0] else a[2]


def _patsubst(it: MakeContext, text: str) -> str:
    a = _args(it, text, 3)
    if len(a) < 3:
        return ""
    pat, rep = a[0].strip(), a[1].strip()
    return " ".join(patsubst_word(pat, rep, w) for w in a[2].split())


def _filter(keep: bool) -> Function:
    def apply(it: MakeContext, text: str) -> str:
        a = _args(it, text, 2)
        if len(a) < 2:
            return ""
        pats = a[0].split()
        return " ".join(w for w in a[1].split()
                        if any(match_pattern(p, w) for p in pats) == keep)
    return apply


def _sort(it: MakeContext, text: str) -> str:
    return " ".join(sorted(set(it.expand(text).split())))


def _strip(it: MakeContext, text: str) -> str:
    return " ".join(it.expand(text).split())


def _findstring(it: MakeContext, text: str) -> str:
    a = _args(it, text, 2)
    return a[0] if len(a) == 2 and a[0] in a[1] else ""


def _prefix(suffix: bool) -> Function:
    def apply(it: MakeContext, text: str) -> str:
        a = _args(it, text, 2)
        if len(a) < 2:
            return ""
        x = a[0].strip()
        return " ".join((w + x) if suffix else (x + w) for w in a[1].split())
    return apply


def _join(it: MakeContext, text: str) -> str:
    a = _args(it, text, 2)
    if len(a) < 2:
        return ""
    x, y = a[0].split(), a[1].split()
    n = max(len(x), len(y))
    return " ".join((x[i] if i < len(x) else "") + (y[i] if i < len(y) else "")
                    for i in range(n))


def _word(it: MakeContext, text: str) -> str:
    a = _args(it, text, 2)
    try:
        n = int(a[0].strip())
    except (ValueError, IndexError):
        return ""
    ws = a[1].split() if len(a) > 1 else []
    return ws[n - 1] if 0 < n <= len(ws) else ""


def _wordlist(it: MakeContext, text: str) -> str:
    a = _args(it, text, 3)
    try:
        s, e = int(a[0].strip()), int(a[1].strip())
    except (ValueError, IndexError):
        return ""
    ws = a[2].split() if len(a) > 2 else []
    return " ".join(ws[max(s, 1) - 1:e])


def _firstword(it: MakeContext, text: str) -> str:
    ws = it.expand(text).split()
    return ws[0] if ws else ""


def _lastword(it: MakeContext, text: str) -> str:
    ws = it.expand(text).split()
    return ws[-1] if ws else ""


def _words_count(it: MakeContext, text: str) -> str:
    return str(len(it.expand(text).split()))


def _dir(w: str) -> str:
    head, _, _ = w.rpartition("/")
    return head + "/" if "/" in w else "./"


def _suffix(w: str) -> str:
    base = w.rsplit("/", 1)[-1]
    return base[base.rfind("."):] if "." in base else ""


def _basename(w: str) -> str:
    base = w.rsplit("/", 1)[-1]
    return w[:len(w) - len(base) + base.rfind(".")] if "." in base else w


def _intcmp(it: MakeContext, text: str) -> str:
    # $(intcmp lhs,rhs[,lt[,eq[,gt]]]) of make 4.4; gt defaults to eq, eq to empty.
    a = _args(it, text, 5)
    try:
        x, y = int(a[0].strip()), int(a[1].strip())
    except (ValueError, IndexError):
        it.unknown_hits += 1
        return ""
    if len(a) == 2:
        return a[0].strip() if x == y else ""
    lt = a[2]
    eq = a[3] if len(a) > 3 else ""
    gt = a[4] if len(a) > 4 else eq
    return lt if x < y else (eq if x == y else gt)


def _if(it: MakeContext, text: str) -> str:
    a = it.split_args(text, 3)
    if it.expand(a[0]).strip():
        return it.expand(a[1]) if len(a) > 1 else ""
    return it.expand(a[2]) if len(a) > 2 else ""


def _or(it: MakeContext, text: str) -> str:
    for a in it.split_args(text, 1 << 16):
        v = it.expand(a).strip()
        if v:
            return v
    return ""


def _and(it: MakeContext, text: str) -> str:
    v = ""
    for a in it.split_args(text, 1 << 16):
        v = it.expand(a).strip()
        if not v:
            return ""
    return v


def _foreach(it: MakeContext, text: str) -> str:
    a = it.split_args(text, 3)
    if len(a) < 3:
        return ""
    name = it.expand(a[0]).strip()
    saved = it.vars.get(name)
    out: list[str] = []
    for w in it.expand(a[1]).split():
        it.set(name, w)
        out.append(it.expand(a[2]))
    if saved is None:
        it.vars.pop(name, None)
    else:
        it.vars[name] = saved
    return " ".join(x for x in out if x.strip())


def _call(it: MakeContext, text: str) -> str:
    a = _args(it, text, 1 << 16)
    name = a[0].strip()
    var = it.lookup(name)
    if var is None:
        it.unknown_hits += 1  # cc-option & co. live in scripts/Kbuild.include, not read
        return ""
    saved = {k: it.vars.get(k) for k in map(str, range(len(a) + 10))}
    for i in range(len(a) + 10):
        it.set(str(i), a[i] if i < len(a) else "")
    try:
        return it.expand(var.value) if var.recursive else var.value
    finally:
        for k, v in saved.items():
            if v is None:
                it.vars.pop(k, None)
            else:
                it.vars[k] = v


def _eval(it: MakeContext, text: str) -> str:
    it.eval_here(it.expand(text))
    return ""


def _shell(it: MakeContext, text: str) -> str:
    it.unknown_hits += 1  # never run commands from a Makefile we are only reading
    return ""


def _value(it: MakeContext, text: str) -> str:
    v = it.lookup(it.expand(text).strip())
    return "" if v is None else v.value


def _origin(it: MakeContext, text: str) -> str:
    name = it.expand(text).strip()
    if name in it.vars:
        return "file"
    return "environment" if name in it.base else "undefined"


def _flavor(it: MakeContext, text: str) -> str:
    v = it.lookup(it.expand(text).strip())
    return "undefined" if v is None else ("recursive" if v.recursive else "simple")


def _wildcard(it: MakeContext, text: str) -> str:
    return " ".join(it.wildcard(it.expand(text)))


def _error(it: MakeContext, text: str) -> str:
    it.diag(f"$(error {it.expand(text).strip()[:80]}) reached")
    return ""


def _ignore(it: MakeContext, text: str) -> str:
    return ""


FUNCTIONS: dict[str, Function] = {
    "subst": _subst,
    "patsubst": _patsubst,
    "filter": _filter(True),
    "filter-out": _filter(False),
    "sort": _sort,
    "strip": _strip,
    "findstring": _findstring,
    "addprefix": _prefix(False),
    "addsuffix": _prefix(True),
    "join": _join,
    "word": _word,
    "wordlist": _wordlist,
    "words": _words_count,
    "firstword": _firstword,
    "lastword": _lastword,
    "dir": _words(_dir),
    "notdir": _words(lambda w: w.rsplit("/", 1)[-1]),
    "suffix": _words(_suffix),
    "basename": _words(_basename),
    "abspath": _words(posixpath.normpath),
    "realpath": _words(posixpath.normpath),
    "intcmp": _intcmp,
    "if": _if,
    "or": _or,
    "and": _and,
    "foreach": _foreach,
    "call": _call,
    "eval": _eval,
    "shell": _shell,
    "value": _value,
    "origin": _origin,
    "flavor": _flavor,
    "wildcard": _wildcard,
    "error": _error,
    "warning": _ignore,
    "info": _ignore,
}


def patsubst_word(pat: str, rep: str, word: str) -> str:
    pre, _, post = pat.partition("%")
    if "%" not in pat:
        return rep if word == pat else word
    if len(word) >= len(pre) + len(post) and word.startswith(pre) and word.endswith(post):
        stem = word[len(pre):len(word) - len(post)]
        return rep.replace("%", stem, 1) if "%" in rep else rep
    return word


def match_pattern(pat: str, word: str) -> bool:
    if "%" not in pat:
        return word == pat
    pre, _, post = pat.partition("%")
    return len(word) >= len(pre) + len(post) and word.startswith(pre) and word.endswith(post)
