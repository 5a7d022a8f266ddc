"""A thin layer that makes kconfiglib 14.1.0 agree with the kernel's C kconfig (scripts/kconfig).

kconfiglib is the right tool (a complete Kconfig evaluator in Python), but it was last released
in 2020 and differs from the C implementation of kernel 6.x in two ways that matter here:

1. Syntax: since Linux 5.13 (commit "kconfig: change "modules" from sub-option to first-level
   attribute") ``kernel/module/Kconfig`` marks MODULES with a bare ``modules`` line. kconfiglib
   only knows ``option modules`` and stops with "couldn't parse 'modules'". We rewrite the
   token list of that one line to the old spelling, which kconfiglib handles (it assumes the
   symbol is MODULES, which is what the kernel uses; anything else is rejected).

2. Semantics of ``imply``: kconfiglib promotes a tristate whose value is ``m`` to ``y`` when
   some ``imply`` of it is ``y`` and removes ``m`` from its assignable values. The C code
   (scripts/kconfig/symbol.c, sym_calc_value() and sym_tristate_within_range()) does neither:
   a user value wins over ``imply``; without one, the implied value is OR-ed with the default
   and then limited by the symbol's own ``depends on``; ``m`` stays ``m``. A Debian config
   read through stock kconfiglib therefore silently turns modules into built-ins. We replace
   ``Symbol.tri_value`` and ``Symbol._assignable`` for symbols owned by a KernelKconfig only;
   other kconfiglib users in the same process keep the stock behaviour.

3. Choices (found by comparing with scripts/kconfig/conf, benchmarks/kconfig_vs_c.py): since
   Linux 6.11 sym_calc_choice() honours a member the user set to n: if no visible member is
   set to y, the default is used unless the user set it to n, then the first visible member
   without a user value, then the last visible one. kconfiglib ignores "n" on choice members
   and picks the default anyway, so an old config saying "# CONFIG_INTEL_IOMMU_DEFAULT_ON is
   not set" came out with INTEL_IOMMU_DEFAULT_ON=y where the C tools pick the next member.
   ``Choice._selection`` is replaced for KernelKconfig choices, and ``Symbol.set_value``
   records the order in which members were assigned (C's "choice_members" priority list:
   each assignment moves the member to the front; the last y wins, and when every visible
   member is n, the one assigned first is taken).

``$(shell,...)`` is routed through kconfiglib's documented extension point (the module named by
KCONFIG_FUNCTIONS, whose ``functions`` dict overrides the built-ins) to the ``probe`` callable
of the KernelKconfig, so the toolchain environment is decided by the caller
(see toolchain.py).
"""

from __future__ import annotations

import itertools
import os
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import kconfiglib

ShellProbe = Callable[[str, str, int], str]  # (command, Kconfig file, line) -> output

_BOOL = kconfiglib.BOOL
_TRISTATE = kconfiglib.TRISTATE
_expr_value = kconfiglib.expr_value

# kconfiglib reads srctree, ARCH, CC, ... from os.environ while parsing; loads are serialised
# so two trees in one process cannot see each other's environment.
_ENV_LOCK = threading.Lock()


class KernelKconfig(kconfiglib.Kconfig):  # type: ignore[misc]
    """kconfiglib.Kconfig with kernel-6.x syntax and C-kconfig ``imply`` semantics."""

    def __init__(self, filename: str, probe: ShellProbe) -> None:
        self.shell_probe = probe
        # (file, line, raw text) of every preprocessor assignment, before expansion: lets us
        # tell which variables carry probe output (a ":=" variable keeps only the result).
        self.assignments: list[tuple[str, int, str]] = []
        # Order in which choice members got user values (y or n); the C tools keep it.
        self.choice_assignments: dict[str, int] = {}
        self.choice_counter = itertools.count()
        super().__init__(filename, warn=True, warn_to_stderr=False)

    def load_config(self, filename: str, replace: bool = True) -> str:
        if replace:
            self.choice_assignments.clear()
        return str(super().load_config(filename, replace))

    def _parse_assignment(self, s: str) -> None:
        self.assignments.append((self.filename, self.linenr, s))
        super()._parse_assignment(s)

    def _tokenize(self, s: str) -> Any:
        tokens = super()._tokenize(s)
        if tokens[0] is kconfiglib._T_MODULES:
            # Bare "modules" attribute (Linux >= 5.13) -> "option modules" (kconfiglib).
            if tokens[1] is not None:
                self._parse_error("unexpected tokens after 'modules'")
            return (kconfiglib._T_OPTION, kconfiglib._T_MODULES, None)
        return tokens


def _shell(kconf: Any, _name: str, command: str) -> str:
    probe: ShellProbe | None = getattr(kconf, "shell_probe", None)
    if probe is None:  # a plain kconfiglib.Kconfig somehow loaded with our KCONFIG_FUNCTIONS
        return str(kconfiglib._shell_fn(kconf, _name, command))
    return probe(command, kconf.filename, kconf.linenr)


# Read by kconfiglib.Kconfig._init() through KCONFIG_FUNCTIONS (name, min args, max args).
functions = {"shell": (_shell, 1, 1)}


@contextmanager
def kernel_environment(env: Mapping[str, str]) -> Iterator[None]:
    """Set ``env`` (plus KCONFIG_FUNCTIONS) in os.environ for one load, then restore it."""
    wanted = dict(env)
    wanted["KCONFIG_FUNCTIONS"] = __name__
    with _ENV_LOCK:
        saved = {k: os.environ.get(k) for k in wanted}
        os.environ.update(wanted)
        try:
            yield
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v


# --- imply: C semantics ------------------------------------------------------------------------

_STOCK_TRI_VALUE = kconfiglib.Symbol.tri_value
_STOCK_ASSIGNABLE = kconfiglib.Symbol._assignable


def _c_tri_value(sym: Any) -> int:
    """sym_calc_value() of scripts/kconfig/symbol.c for a non-choice bool/tristate symbol."""
    if sym._cached_tri_val is not None:
        return int(sym._cached_tri_val)
    vis = sym.visibility
    write = vis != 0
    if vis and sym.user_value is not None:
        val = min(sym.user_value, vis)  # a user value wins; imply is not consulted
    else:
        val = 0
        for default, cond in sym.defaults:  # first default whose condition holds
            cond_val = _expr_value(cond)
            if cond_val:
                val = min(_expr_value(default), cond_val)
                write = write or val != 0
                break
        implied = _expr_value(sym.weak_rev_dep)
        if implied == 1 and sym.type is _BOOL:
            implied = 2
        if implied:
            write = True
            # OR with the default, then AND with the symbol's own "depends on".
            val = min(max(val, implied), _expr_value(sym.direct_dep))
    selected = _expr_value(sym.rev_dep)
    if selected == 1 and sym.type is _BOOL:
        selected = 2
    if selected:
        if _expr_value(sym.direct_dep) < selected:
            sym._warn_select_unsatisfied_deps()
        val = max(val, selected)
        write = True
    if val == 1 and sym.type is _BOOL:  # the only m -> y promotion the C code does
        val = 2
    sym._write_to_conf = write
    sym._cached_tri_val = val
    return int(val)


def _tri_value(sym: Any) -> int:
    if (not isinstance(sym.kconfig, KernelKconfig) or sym.choice is not None
            or sym.orig_type not in (_BOOL, _TRISTATE)):
        return int(_STOCK_TRI_VALUE.fget(sym))
    return int(_c_tri_value(sym))


def _assignable(sym: Any) -> tuple[int, ...]:
    """sym_tristate_within_range(): rev_dep.tri <= value <= visibility; imply plays no part."""
    if (not isinstance(sym.kconfig, KernelKconfig) or sym.choice is not None
            or sym.orig_type not in (_BOOL, _TRISTATE)):
        return tuple(_STOCK_ASSIGNABLE(sym))
    vis = sym.visibility
    selected = _expr_value(sym.rev_dep)
    if sym.type is _BOOL and selected == 1:
        selected = 2
    if not vis:
        return ()
    if vis <= selected:  # pinned by a select; kconfiglib's convention lists the pinned value
        return (selected,)
    return tuple(v for v in (0, 1, 2)
                 if selected <= v <= vis and not (v == 1 and sym.type is _BOOL))


_STOCK_SELECTION = kconfiglib.Choice._selection
_STOCK_SET_VALUE = kconfiglib.Symbol.set_value


def _set_value(sym: Any, value: Any) -> bool:
    ok = bool(_STOCK_SET_VALUE(sym, value))
    kconf = sym.kconfig
    if ok and sym.choice is not None and isinstance(kconf, KernelKconfig):
        kconf.choice_assignments[sym.name] = next(kconf.choice_counter)
        sym.choice._rec_invalidate()  # an n on a member can change the selection
    return ok


def _choice_selection(choice: Any) -> Any:
    """sym_calc_choice() of scripts/kconfig/symbol.c (Linux >= 6.11)."""
    kconf = choice.kconfig
    if not isinstance(kconf, KernelKconfig):
        return _STOCK_SELECTION(choice)
    if choice.tri_value != 2:
        return None
    order = kconf.choice_assignments
    assigned = sorted((s for s in choice.syms if s.user_value is not None and s.name in order),
                      key=lambda s: -order[s.name])
    # Priority list: assigned members, most recent first, then the rest in menu order.
    priority = assigned + [s for s in choice.syms if s not in assigned]
    visible = [s for s in priority if s.visibility]
    for sym in visible:
        if sym.user_value == 2:
            return sym
    default = choice._selection_from_defaults()  # defaults, then the first visible member
    if default is not None and default.user_value != 0:
        return default
    for sym in choice.syms:
        if sym.visibility and sym.user_value is None:
            return sym
    return visible[-1] if visible else None


kconfiglib.Symbol.set_value = _set_value
kconfiglib.Choice._selection = _choice_selection
kconfiglib.Symbol.tri_value = property(_tri_value, doc=_STOCK_TRI_VALUE.__doc__)
kconfiglib.Symbol._assignable = _assignable
