"""Why a Kconfig symbol has its value, and what turning it off would take and drag along.

Works on a loaded KernelKconfig (tree.py). The "drag along" answer is not guessed from
the dependency graph: the symbol is set to n, every value is recomputed, the differences are
recorded, and the previous user value is restored.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import kconfiglib

from cocoscope.errors import InputError

_TRI = ("n", "m", "y")
_BOOL_TRI = (kconfiglib.BOOL, kconfiglib.TRISTATE)


@dataclass(frozen=True)
class ValueChange:
    symbol: str
    before: str  # "n" for off
    after: str


@dataclass(frozen=True)
class Trigger:
    """A ``select`` or ``imply`` of the explained symbol by another symbol."""

    symbol: str
    symbol_value: str
    condition: str  # the "if ..." written after select/imply; "" if none
    active: bool  # the selecting symbol is on and the condition holds
    location: str  # file:line of the selecting symbol


@dataclass(frozen=True)
class DefaultRule:
    value: str  # the default expression as written
    condition: str  # "" if unconditional (after "depends on" propagation: see kconfiglib)
    evaluates_to: str
    in_effect: bool  # the first default whose condition holds; used when there is no user value


@dataclass(frozen=True)
class Explanation:
    symbol: str
    type: str  # bool, tristate, string, int, hex
    value: str  # y, m, n or the value
    defined_at: tuple[str, ...]  # file:line
    prompt: str | None  # None: no prompt, the user cannot set it
    visibility: str  # the highest value the user could choose
    user_value: str | None  # the value the loaded .config/fragment asked for
    depends_on: str  # "" if none
    depends_on_value: str
    unmet_dependencies: tuple[str, ...]  # top-level "depends on" terms that are n
    selected_by: tuple[Trigger, ...]
    implied_by: tuple[Trigger, ...]
    defaults: tuple[DefaultRule, ...]
    can_turn_off: bool
    blocked_by: tuple[str, ...]  # why it cannot be turned off (active selects, no prompt, ...)
    turning_off_changes: tuple[ValueChange, ...]  # other symbols whose value would change

    @property
    def why(self) -> tuple[str, ...]:
        """One line per reason the symbol has its current value, most forceful first."""
        out = [f"selected by {t.symbol}={t.symbol_value}" + (f" if {t.condition}" if t.condition
               else "") for t in self.selected_by if t.active]
        if self.user_value is not None and self.visibility != "n":
            out.append(f"set to {self.user_value} in the configuration")
        else:
            out += [f"implied by {t.symbol}={t.symbol_value}" for t in self.implied_by if t.active]
            out += [f"default {d.value}" + (f" if {d.condition}" if d.condition else "")
                    for d in self.defaults if d.in_effect and d.evaluates_to != "n"]
        if self.value == "n" and self.unmet_dependencies:
            out.append("depends on unmet: " + ", ".join(self.unmet_dependencies))
        return tuple(out)


    @property
    def summary(self) -> str:
        """One line for a report: value, why, and what turning it off takes or drags along."""
        parts = [f"{self.symbol}={self.value}"]
        if self.why:
            parts.append("; ".join(self.why))
        if self.depends_on:
            parts.append(f"depends on {self.depends_on} (={self.depends_on_value})")
        if self.value != "n":
            if not self.can_turn_off:
                parts.append("cannot be turned off: " + "; ".join(self.blocked_by))
            else:
                off = [c.symbol for c in self.turning_off_changes if c.after == "n"]
                if off:
                    shown = ", ".join(off[:8]) + (f" and {len(off) - 8} more" if len(off) > 8
                                                  else "")
                    parts.append(f"turning it off also turns off {shown}")
        return "; ".join(parts)


@dataclass(frozen=True)
class ReverseIndex:
    """symbol name -> (selecting/implying symbol, written condition, full condition) triples."""

    selects: dict[str, tuple[tuple[Any, Any, Any], ...]]
    implies: dict[str, tuple[tuple[Any, Any, Any], ...]]

    @staticmethod
    def build(kconf: Any) -> ReverseIndex:
        selects: dict[str, list[tuple[Any, Any, Any]]] = defaultdict(list)
        implies: dict[str, list[tuple[Any, Any, Any]]] = defaultdict(list)
        for sym in kconf.unique_defined_syms:
            for node in sym.nodes:
                for (target, orig), (_t, full) in zip(node.orig_selects, node.selects,
                                                      strict=True):
                    selects[target.name].append((sym, orig, full))
                for (target, orig), (_t, full) in zip(node.orig_implies, node.implies,
                                                      strict=True):
                    implies[target.name].append((sym, orig, full))
        return ReverseIndex({k: tuple(v) for k, v in selects.items()},
                            {k: tuple(v) for k, v in implies.items()})


def lookup(kconf: Any, name: str) -> Any:
    name = name.removeprefix("CONFIG_")
    sym = kconf.syms.get(name)
    if sym is None or not sym.nodes:
        raise InputError(f"symbol {name} is not defined in this Kconfig tree")
    return sym


def explain(kconf: Any, index: ReverseIndex, name: str) -> Explanation:
    sym = lookup(kconf, name)
    selected_by = _triggers(kconf, index.selects.get(sym.name, ()))
    implied_by = _triggers(kconf, index.implies.get(sym.name, ()))
    prompts = [n.prompt[0] for n in sym.nodes if n.prompt]
    can_off, blocked, changes = _turn_off(kconf, sym, selected_by)
    user = sym.user_value
    if user is not None and sym.orig_type in _BOOL_TRI:
        user = _TRI[user]
    return Explanation(
        symbol=sym.name,
        type=kconfiglib.TYPE_TO_STR[sym.orig_type],
        value=_val(sym),
        defined_at=tuple(f"{n.filename}:{n.linenr}" for n in sym.nodes),
        prompt=prompts[0] if prompts else None,
        visibility=_TRI[sym.visibility],
        user_value=user,
        depends_on="" if sym.direct_dep is kconf.y else kconfiglib.expr_str(sym.direct_dep),
        depends_on_value=_TRI[kconfiglib.expr_value(sym.direct_dep)],
        unmet_dependencies=_unmet(sym.direct_dep),
        selected_by=selected_by,
        implied_by=implied_by,
        defaults=_defaults(sym),
        can_turn_off=can_off,
        blocked_by=blocked,
        turning_off_changes=changes,
    )


def why_not(kconf: Any, index: ReverseIndex, sym: Any, requested: str) -> str:
    """Why ``sym`` did not take the value ``requested`` (it is something else now)."""
    if sym.orig_type not in _BOOL_TRI:
        if not sym.visibility:
            return "no prompt, or its dependencies are not met: " + _dep_text(sym)
        return f"value {requested!r} not accepted (out of range or malformed)"
    want = kconfiglib.STR_TO_TRI.get(requested)
    if want is None:
        return f"{requested!r} is not a valid {kconfiglib.TYPE_TO_STR[sym.orig_type]} value"
    have = sym.tri_value
    if sym.choice is not None:
        return "member of a choice; the choice picked " + \
            (sym.choice.selection.name if sym.choice.selection else "nothing")
    if want == 1 and sym.type is kconfiglib.BOOL:
        return "bool symbol (or MODULES is off), m becomes y" if have == 2 else \
            "bool symbol: m is not a value it can take"
    if want < have:
        active = [t for t in _triggers(kconf, index.selects.get(sym.name, ())) if t.active]
        if active:
            return "forced by " + ", ".join(f"select from {t.symbol}={t.symbol_value}"
                                            for t in active)
        if not sym.visibility:
            return "has no prompt (not user-settable); its default applies"
        return "the configuration cannot lower it here"
    if kconfiglib.expr_value(sym.direct_dep) < want:
        return "depends on " + _dep_text(sym)
    if not any(n.prompt for n in sym.nodes):
        return "has no prompt (not user-settable); only selects and defaults set it"
    return f"not visible at {requested} (prompt condition not met)"


def _val(sym: Any) -> str:
    if sym.orig_type in _BOOL_TRI:
        return _TRI[sym.tri_value]
    return str(sym.str_value)


def _triggers(kconf: Any, entries: tuple[tuple[Any, Any, Any], ...]) -> tuple[Trigger, ...]:
    out = []
    for src, orig, full in entries:
        active = min(src.tri_value, kconfiglib.expr_value(full)) > 0
        cond = "" if orig is kconf.y else kconfiglib.expr_str(orig)
        loc = f"{src.nodes[0].filename}:{src.nodes[0].linenr}"
        out.append(Trigger(src.name, _val(src), cond, active, loc))
    return tuple(sorted(out, key=lambda t: (not t.active, t.symbol)))


def _defaults(sym: Any) -> tuple[DefaultRule, ...]:
    out = []
    chosen = False
    for node in sym.nodes:
        for (value, orig_cond), (_v, cond) in zip(node.orig_defaults, node.defaults, strict=True):
            holds = kconfiglib.expr_value(cond) > 0
            if sym.orig_type in _BOOL_TRI:
                result = _TRI[min(kconfiglib.expr_value(value), kconfiglib.expr_value(cond))]
            else:
                result = str(value.str_value)
            out.append(DefaultRule(kconfiglib.expr_str(value),
                                   "" if orig_cond is sym.kconfig.y
                                   else kconfiglib.expr_str(orig_cond),
                                   result, holds and not chosen))
            chosen = chosen or holds
    return tuple(out)


def _unmet(expr: Any) -> tuple[str, ...]:
    return tuple(kconfiglib.expr_str(term) for term in kconfiglib.split_expr(expr, kconfiglib.AND)
                 if kconfiglib.expr_value(term) == 0)


def _dep_text(sym: Any) -> str:
    unmet = _unmet(sym.direct_dep)
    return ", ".join(f"{u} (n)" for u in unmet) if unmet else \
        kconfiglib.expr_str(sym.direct_dep) + f" (={_TRI[kconfiglib.expr_value(sym.direct_dep)]})"


def _turn_off(kconf: Any, sym: Any, selected_by: tuple[Trigger, ...]
              ) -> tuple[bool, tuple[str, ...], tuple[ValueChange, ...]]:
    if sym.orig_type not in _BOOL_TRI:
        return False, ("not a bool/tristate symbol",), ()
    if sym.tri_value == 0:
        return True, (), ()
    blocked = [f"selected by {t.symbol}={t.symbol_value}" for t in selected_by if t.active]
    if sym.choice is not None:
        return False, ("member of a choice: select another member instead",), ()
    if not sym.visibility:
        blocked.append("no prompt: set only by defaults and selects"
                       if not any(n.prompt for n in sym.nodes) else
                       "prompt not visible: " + _dep_text(sym))
    if blocked or 0 not in sym.assignable:
        return False, tuple(blocked) or ("cannot be set to n here",), ()
    changes, _after = _simulate_off(kconf, [sym])
    return True, (), tuple(c for c in changes if c.symbol != sym.name)


def _simulate_off(kconf: Any, syms: list[Any]) -> tuple[tuple[ValueChange, ...], str]:
    """Set ``syms`` to n, record every value that changes, restore the user values.

    Returns the changes and the value the last symbol ends at.
    """
    before = {s.name: _val(s) for s in kconf.unique_defined_syms}
    saved = [(s, s.user_value) for s in syms]
    try:
        for s in syms:
            s.set_value(0)
        after = _val(syms[-1])
        changes = tuple(ValueChange(s.name, before[s.name], _val(s))
                        for s in kconf.unique_defined_syms if _val(s) != before[s.name])
    finally:
        for s, value in reversed(saved):
            if value is None:
                s.unset_value()
            else:
                s.set_value(value)
    return changes, after


@dataclass(frozen=True)
class TurnOffPlan:
    """What to set to n in the configuration so that ``symbol`` ends up off."""

    symbol: str
    feasible: bool
    turn_off: tuple[str, ...]  # user-settable symbols to set to n, the selectors first
    reason: str  # why it is not feasible; "" if it is
    changes: tuple[ValueChange, ...]  # every symbol whose value changes, these included


def turn_off_plan(kconf: Any, index: ReverseIndex, name: str) -> TurnOffPlan:
    """Follow active ``select``s upwards to user-settable symbols, then verify by simulation."""
    sym = lookup(kconf, name)
    if sym.orig_type not in _BOOL_TRI:
        return TurnOffPlan(sym.name, False, (), "not a bool/tristate symbol", ())
    if sym.tri_value == 0:
        return TurnOffPlan(sym.name, True, (), "", ())
    steps, why = _plan(kconf, index, sym, set())
    if steps is None:
        return TurnOffPlan(sym.name, False, (), why, ())
    targets = [kconf.syms[n] for n in steps if n != sym.name] + [sym]
    changes, after = _simulate_off(kconf, targets)
    if after != "n":
        return TurnOffPlan(sym.name, False, tuple(steps),
                           f"still {after} after turning off {', '.join(steps)}"
                           " (a default or imply keeps it on)", changes)
    return TurnOffPlan(sym.name, True, tuple(steps), "", changes)


def _plan(kconf: Any, index: ReverseIndex, sym: Any,
          visiting: set[str]) -> tuple[list[str] | None, str]:
    if sym.name in visiting:
        return None, f"select cycle through {sym.name}"
    visiting.add(sym.name)
    if sym.choice is not None:
        return None, f"{sym.name} is a choice member: select another member instead"
    steps: list[str] = []
    for src, _orig, full in index.selects.get(sym.name, ()):
        if min(src.tri_value, kconfiglib.expr_value(full)) == 0:
            continue
        sub, why = _plan(kconf, index, src, visiting)
        if sub is None:
            return None, why
        steps += sub
    # ``visiting`` is the current select path: a symbol reached again through another branch
    # (A and B both select C, which selects D) is a diamond, not a cycle.
    visiting.discard(sym.name)
    if any(n.prompt for n in sym.nodes):
        steps.append(sym.name)
    elif not steps:
        return None, f"{sym.name} has no prompt and no active select: its default keeps it on"
    return list(dict.fromkeys(steps)), ""
