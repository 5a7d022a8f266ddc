"""Derived sources: functions and macros that hand host data to their callers, to a fixpoint
across all files (the inter-procedural step smatch gets from its cross-function database).

Names resolve the way the C compiler and preprocessor would for one file, approximately (the
scanner does not follow #include): a ``static`` function or a macro defined in a ``.c`` file is
private to that file; a definition in a driver's own header (outside ``include/`` and
``arch/*/include/``) is visible to the files of that directory and its subdirectories; functions
and macros of the global include directories are visible everywhere. Closer scopes hide wider
ones.
"""

from __future__ import annotations

import posixpath
from collections import defaultdict, deque
from collections.abc import Iterable
from dataclasses import dataclass

from cocoscope.model import InterfaceId
from cocoscope.surface.catalogue import Catalogue, Flow
from cocoscope.surface.dataflow import Def, FileSummary, Ref
from cocoscope.surface.literals import Expr
from cocoscope.surface.write_conditions import written_under

Key = tuple[str, str]  # (file for private definitions or "" for global, name)


@dataclass(frozen=True)
class Source:
    name: str
    interface: InterfaceId
    flow: Flow
    returns: bool
    out_args: frozenset[int]
    primitive: str  # the catalogue primitive at the end of the chain
    via: Key | None  # the source this one was derived from; None for catalogue entries
    defined_in: str  # file of the deriving definition ("" for catalogue entries)
    line: int
    # (out-argument, guard argument, truthy): the out-argument receives host data only when
    # the guard argument is (truthy) / is not zero; see dataflow.Def.guards.
    guards: tuple[tuple[int, int, bool], ...] = ()
    # (out-argument, condition): the out-argument receives host data only when the condition,
    # an integer expression of the other arguments, holds (literals.Expr; Def.counts).
    counts: tuple[tuple[int, Expr], ...] = ()


def _global_header(path: str) -> bool:
    return path.startswith("include/") or (path.startswith("arch/") and "/include/" in path)


def scope_key(path: str, d: Def, catalogue_names: frozenset[str] | set[str] = frozenset()) -> Key:
    if d.name in catalogue_names:
        # A definition of a catalogue name (serial_in in 8250.h, a static read_msr) is that
        # primitive's implementation: it must not hide the primitive from its callers.
        return ("", d.name)
    if path.endswith(".c"):
        return (path, d.name) if (d.static or d.kind == "macro") else ("", d.name)
    if _global_header(path):
        return ("", d.name)
    return ("dir:" + posixpath.dirname(path), d.name)


def resolve_in(private: frozenset[Key] | set[Key], names: frozenset[str] | set[str], path: str,
               name: str) -> Key:
    """The definition ``name`` means in file ``path``: file, then directories, then global."""
    if name not in names:
        return ("", name)
    if (path, name) in private:
        return (path, name)
    d = posixpath.dirname(path)
    while d:
        key = ("dir:" + d, name)
        if key in private:
            return key
        d = posixpath.dirname(d)
    return ("", name)


class Resolver:
    def __init__(self, summaries: Iterable[FileSummary], catalogue_names: frozenset[str]) -> None:
        self.private: set[Key] = set()
        self.names: set[str] = set()  # names with at least one non-global definition
        self.defs: list[tuple[str, Key, Def]] = []
        append = self.defs.append
        for s in summaries:
            # scope_key, with what depends only on the file decided once per file (a whole
            # tree has ~150,000 definitions in ~11,000 files)
            path = s.path
            if path.endswith(".c"):
                scope = ""  # static functions and macros are the file's, the rest global
            elif _global_header(path):
                scope = "-"  # every definition global
            else:
                scope = "dir:" + posixpath.dirname(path)
            for d in s.defs:
                name = d.name
                if name in catalogue_names or scope == "-" or \
                        not (scope or d.static or d.kind == "macro"):
                    key = ("", name)
                else:
                    key = (scope or path, name)
                    self.private.add(key)
                    self.names.add(name)
                append((path, key, d))

    def resolve(self, path: str, name: str) -> Key:
        return resolve_in(self.private, self.names, path, name)


def derive(summaries: list[FileSummary], catalogue: Catalogue) -> tuple[dict[Key, Source], Resolver]:
    # In path order: summaries arrive in whatever order the workers finish, and when a
    # definition reaches a source along two paths the first one found names its chain, so the
    # report would otherwise differ from run to run (mlx4_mf_bond's chain did).
    res = Resolver(sorted(summaries, key=lambda s: s.path), frozenset(catalogue.primitives))
    sources: dict[Key, Source] = {
        ("", p.name): Source(p.name, p.interface, p.flow, p.returns, p.out_args, p.name, None,
                             "", 0)
        for p in catalogue.primitives.values()
    }
    # callee name -> definitions whose summary mentions it, so a new source wakes only those
    # (by name, not resolved key: waking a definition that resolves elsewhere is harmless and
    # resolving every reference up front would cost more than the fixpoint itself).
    # A definition naming a callee twice is listed twice, next to itself: harmless, since a
    # definition already queued is not queued again (and cheaper than a set per definition).
    # Each list is in definition order (the queue's order, hence the chains, depend on it).
    dependants: defaultdict[str, list[int]] = defaultdict(list)
    for i, (_path, _key, d) in enumerate(res.defs):
        for callee, _k in d.ret:
            dependants[callee].append(i)
        for _p, (callee, _k) in d.outs:
            dependants[callee].append(i)
        for _p, (callee, _k), _l in d.literal_outs:
            dependants[callee].append(i)
        for callee, _k in d.decided:
            dependants[callee].append(i)
    # a member call `x->op(...)` also wakes on a catalogue `->op`
    members: defaultdict[str, list[int]] = defaultdict(list)
    for callee in [c for c in dependants if "->" in c]:
        members["->" + callee.rsplit("->", 1)[1]] += dependants[callee]
    for member, found_in in members.items():
        dependants[member] = sorted(dependants.get(member, []) + found_in)
    # Only definitions that mention a catalogue primitive can become sources first.
    queue = deque(dict.fromkeys(i for name in catalogue.primitives
                                for i in dependants.get(name, ())))
    queued = set(queue)
    while queue:
        i = queue.popleft()
        queued.discard(i)
        path, key, d = res.defs[i]
        old = sources.get(key)
        returns = old.returns if old else False
        outs = set(old.out_args) if old else set()
        found: Key | None = None
        refs: list[tuple[int, Ref, tuple[tuple[int, bool], ...]]] = \
            [(0, ref, ()) for ref in d.ret] + [(p, ref, ()) for p, ref in d.outs] + \
            list(d.literal_outs)
        guard_of = {(p, r): (g, t) for p, r, g, t in d.guards}
        out_guards: dict[int, set[tuple[int, bool] | None]] = {}
        out_conds: dict[int, set[Expr | None]] = {}
        for param, (callee, k), literals in refs:
            ckey = res.resolve(path, callee)
            src = sources.get(ckey)
            if src is None and "->" in callee:  # a member call matching a catalogue `->op`
                ckey = ("", "->" + callee.rsplit("->", 1)[1])
                src = sources.get(ckey)
            if ckey == key or src is None or src.flow not in (Flow.VALUE, Flow.BUFFER):
                continue
            if literals and k in _other_direction(src, literals):
                continue  # a literal guard argument selects the direction that writes
            cond = written_under(d.counts, d.passes, param, (callee, k), src.counts) \
                if param and (d.counts or src.counts) else None
            if cond == ("i", 0):
                continue  # an argument that switches the write off (a command receiving nothing)
            if (k == 0 and src.returns) or k in src.out_args:
                if param == 0:
                    returns = True
                else:
                    outs.add(param)
                    out_guards.setdefault(param, set()).add(guard_of.get((param, (callee, k))))
                    out_conds.setdefault(param, set()).add(cond)
                found = found or ckey
        if found is None:
            continue
        if outs and not returns and _host_decides(res, sources, path, key, d.decided):
            returns = True  # a status chosen by a test of host data (control.py)
        prim = catalogue.primitives.get(d.name)
        if old is not None and key[0] == "" and prim is not None:
            # A catalogue primitive that the tree implements over another primitive (e.g. an
            # accessor over ioread32): keep the catalogue's facts, record the deeper chain.
            if old.via is None and prim.accessor:
                sources[key] = Source(old.name, old.interface, old.flow, old.returns,
                                      old.out_args, sources[found].primitive, found, path, d.line)
            continue
        counts = tuple(sorted((p, _any_of(cs)) for p, cs in out_conds.items() if None not in cs))
        if old is not None and old.returns == returns and set(old.out_args) == outs and \
                old.counts == counts:
            continue
        base = old or sources[found]
        guards = tuple(sorted((p, g[0], g[1]) for p, gs in out_guards.items()
                              if len(gs) == 1 and (g := next(iter(gs))) is not None))
        sources[key] = Source(d.name, base.interface, Flow.VALUE, returns, frozenset(outs),
                              base.primitive, old.via if old else found, path, d.line, guards,
                              counts)
        for j in dependants.get(d.name, ()):
            if j not in queued:
                queue.append(j)
                queued.add(j)
    return sources, res


def _host_decides(res: Resolver, sources: dict[Key, Source], path: str, key: Key,
                  decided: tuple[Ref, ...]) -> bool:
    """Is one of the data a definition's conditions test (Def.decided) host data?"""
    for callee, k in decided:
        ckey = res.resolve(path, callee)
        src = sources.get(ckey)
        if src is None and "->" in callee:
            src = sources.get(("", "->" + callee.rsplit("->", 1)[1]))
        if ckey != key and src is not None and src.flow in (Flow.VALUE, Flow.BUFFER) and \
                ((k == 0 and src.returns) or k in src.out_args):
            return True
    return False


def _other_direction(src: Source, literals: tuple[tuple[int, bool], ...]) -> set[int]:
    """Out-arguments of ``src`` that a call with these literal arguments cannot fill: their
    guard argument is a literal selecting the other direction (sites.py applies the same rule
    at a direct call)."""
    given = dict(literals)
    return {out for out, guard, truthy in src.guards
            if guard in given and given[guard] != truthy}


def _any_of(conds: set[Expr | None]) -> Expr:
    """Alternative conditions (writes of several callees' data) or-ed, in a stable order."""
    alts = sorted(c for c in conds if c is not None)
    out = alts[0]
    for c in alts[1:]:
        out = ("||", out, c)
    return out


def chain(sources: dict[Key, Source], key: Key) -> tuple[str, ...]:
    """Names from ``key`` down to the catalogue primitive it wraps."""
    out: list[str] = []
    seen: set[Key] = set()
    cur: Key | None = key
    while cur is not None and cur not in seen and cur in sources:
        seen.add(cur)
        out.append(sources[cur].name)
        cur = sources[cur].via
    return tuple(out)
