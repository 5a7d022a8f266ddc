"""The Kconfig language of a kernel source tree (optional input): symbol values, "why", fragments.

A ``.config`` file alone is read by ``cocoscope.evidence.dotconfig``; this package evaluates the
tree's Kconfig (through kconfiglib, fixed for kernel 6.x in ``compat.py``) when the user gives
one, so that absent symbols can be resolved, a value can be explained (``explain.py``) and a
fragment merged as ``scripts/kconfig/merge_config.sh`` + ``make olddefconfig`` would.
Compiler probes (``$(cc-option ...)`` in Kconfig) are answered from a recorded toolchain table
or the host compiler (``toolchain.py``).

    from cocoscope.evidence.kconfig import load_tree
    tree = load_tree(srcdir)
    tree.apply(config); tree.explain("HYPERV")
"""

from __future__ import annotations

from cocoscope.evidence.kconfig.explain import Explanation, TurnOffPlan, ValueChange
from cocoscope.evidence.kconfig.toolchain import Toolchain, host_toolchain, recorded_toolchain
from cocoscope.evidence.kconfig.tree import (
    ApplyResult,
    FragmentLine,
    KconfigTree,
    MergeResult,
    kernel_version,
    load_tree,
    parse_fragment,
    probe_symbols_markdown,
)

__all__ = [
    "ApplyResult",
    "Explanation",
    "FragmentLine",
    "KconfigTree",
    "MergeResult",
    "Toolchain",
    "TurnOffPlan",
    "ValueChange",
    "host_toolchain",
    "kernel_version",
    "load_tree",
    "parse_fragment",
    "probe_symbols_markdown",
    "recorded_toolchain",
]
