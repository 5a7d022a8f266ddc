"""#include "x.c" following: which includes a config leaves in, by config-only #if evaluation."""

from __future__ import annotations

import pytest

from cocoscope.evidence.dotconfig import parse_config_text
from cocoscope.evidence.kbuild.includes import _active_c_includes, _condition

CONFIG = parse_config_text("CONFIG_Y=y\nCONFIG_M=m\n# CONFIG_N is not set\n", "cfg")


@pytest.mark.parametrize(("word", "expr", "expected"), [
    ("ifdef", "CONFIG_Y", True),
    ("ifdef", "CONFIG_M", False),  # autoconf.h has CONFIG_M_MODULE, not CONFIG_M
    ("ifdef", "CONFIG_M_MODULE", True),
    ("ifndef", "CONFIG_N", True),
    ("ifdef", "__KERNEL__", None),  # not a config symbol: unknown
    ("if", "IS_ENABLED(CONFIG_M) && !defined(CONFIG_N)", True),
    ("if", "IS_BUILTIN(CONFIG_M) || IS_MODULE(CONFIG_Y)", False),
    ("if", "defined CONFIG_Y && IS_REACHABLE(CONFIG_ABSENT)", False),
    ("if", "IS_ENABLED(CONFIG_Y) && FOO > 2", None),
    ("if", "0", False),
    ("if", "(1", None),  # unbalanced: unknown, not an exception
])
def test_condition(word: str, expr: str, expected: bool | None) -> None:
    assert _condition(word, expr, CONFIG) is expected


def test_branches() -> None:
    text = """
#include "always.c"
#ifdef CONFIG_N
#include "n.c"
#elif IS_ENABLED(CONFIG_M)
# include "m.c"   /* taken */
#else
#include "else.c"
#endif
#if defined(STATIC) /* unknown: taken, and so is its #else */
#include "maybe.c"
#else
#include "maybe_not.c"
#endif
#include <linux/angle.c>
"""
    assert _active_c_includes(text, CONFIG) == [
        "always.c", "m.c", "maybe.c", "maybe_not.c"]


@pytest.mark.parametrize("expr", ["!" * 100_000 + "1", "(" * 5_000 + "1" + ")" * 5_000,
                                  "1" + "&&1" * 10_000])
def test_pathological_conditions_are_unknown(expr: str) -> None:
    assert _condition("if", expr, CONFIG) is None
