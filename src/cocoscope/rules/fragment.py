"""Derive a Kconfig fragment and command line that satisfy the built-in rules for a platform.

The fix of each rule is data (``[rule.fix]``); this only gathers them. Two rules asking for
different values of one symbol or parameter are a knowledge-base bug and are refused.
"""

from __future__ import annotations

from dataclasses import dataclass

from cocoscope.errors import InputError
from cocoscope.evidence.cmdline import normalise, parse_cmdline
from cocoscope.model.platform import Platform, rule_applies
from cocoscope.rules.rule import Rule

# Parameters whose __setup handler parses a comma-separated option list on every occurrence
# (arch/x86/pci/common.c pcibios_setup, kernel/printk console_setup, arch/x86/kernel/tsc.c
# tsc_setup, iommu_setup): two rules each asking for one option are merged into one argument,
# not refused as a clash.
OPTION_LISTS = frozenset({"pci", "tsc", "iommu"})


@dataclass(frozen=True)
class Fragment:
    platform: Platform
    config: dict[str, tuple[str, str]]  # symbol -> (value, rule id)
    cmdline: dict[str, tuple[str, str]]  # normalised name -> (argument, rule id)

    def kconfig_text(self) -> str:
        lines = []
        for sym, (val, rid) in sorted(self.config.items()):
            line = f"# CONFIG_{sym} is not set" if val == "n" else f"CONFIG_{sym}={val}"
            lines.append(f"{line:60} # {rid}")
        return "\n".join(lines) + "\n"

    def kconfig_plain(self) -> str:
        """The fragment without rule-id comments, for merging."""
        return "".join(
            (f"# CONFIG_{s} is not set\n" if v == "n" else f"CONFIG_{s}={v}\n")
            for s, (v, _) in sorted(self.config.items()))

    def cmdline_text(self) -> str:
        return " ".join(arg for arg, _ in self.cmdline.values())


def build_fragment(rules: list[Rule], platform: Platform) -> Fragment:
    config: dict[str, tuple[str, str]] = {}
    cmdline: dict[str, tuple[str, str]] = {}
    clashes = []
    for r in rules:
        if not rule_applies(r.platforms, platform):
            continue
        for sym, val in r.fix.config.items():
            if sym in config and config[sym][0] != val:
                clashes.append(f"CONFIG_{sym}: {config[sym][1]} wants {config[sym][0]}, "
                               f"{r.id} wants {val}")
            config.setdefault(sym, (val, r.id))
        for arg in r.fix.cmdline:
            parsed = parse_cmdline(arg, r.origin).params
            if len(parsed) != 1:
                raise InputError(f"fix.cmdline entry {arg!r} must be one parameter", path=r.origin)
            key = normalise(parsed[0].name)
            if key in OPTION_LISTS and key in cmdline and parsed[0].value:
                have, rids = cmdline[key]
                opts = have.split("=", 1)[1].split(",") if "=" in have else []
                opts += [o for o in parsed[0].value.split(",") if o not in opts]
                cmdline[key] = (f"{parsed[0].name}={','.join(opts)}",
                                rids if r.id in rids else f"{rids},{r.id}")
                continue
            if key in cmdline and cmdline[key][0] != arg:
                clashes.append(f"{key}: {cmdline[key][1]} wants {cmdline[key][0]}, {r.id} wants {arg}")
            cmdline.setdefault(key, (arg, r.id))
    if clashes:
        raise InputError("rules disagree on the fix: " + "; ".join(clashes))
    return Fragment(platform, config, cmdline)
