"""Derive a Kconfig fragment and command line that satisfy the built-in rules for a platform.

The fix of each rule is data (``[rule.fix]``); this only gathers them. Two rules asking for
different values of one symbol or parameter are a knowledge-base bug and are refused. A rule
whose condition already holds for the target (a Hyper-V guest needs HYPERV) contributes no fix,
and what the deployment keeps (``--keep vsock,virtio-scsi``, a profile; rules/keep.py) is never
turned off.

The text output is what the kernel's own scripts/kconfig/merge_config.sh reads: one assignment
per line with nothing after the value (the rule ids go on the comment line above), so every
value reaches the merged .config.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from cocoscope.errors import InputError
from cocoscope.evidence.cmdline import normalise, parse_cmdline
from cocoscope.evidence.dotconfig import parse_config_text
from cocoscope.evidence.guest import GuestEvidence
from cocoscope.model.hypervisor import Hypervisor
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
    kept: dict[str, str] = field(default_factory=dict)  # symbol -> rule whose fix was skipped
    hypervisor: Hypervisor | None = None

    def kconfig_text(self) -> str:
        """merge_config.sh-compatible: the rule ids on a comment line above each assignment."""
        lines = []
        for sym, (val, rid) in sorted(self.config.items()):
            lines.append(f"# {rid}")
            lines.append(f"# CONFIG_{sym} is not set" if val == "n" else f"CONFIG_{sym}={val}")
        return "\n".join(lines) + "\n"

    def kconfig_plain(self) -> str:
        """The fragment without rule-id comments, for merging."""
        return "".join(
            (f"# CONFIG_{s} is not set\n" if v == "n" else f"CONFIG_{s}={v}\n")
            for s, (v, _) in sorted(self.config.items()))

    def without(self, symbols: frozenset[str]) -> Fragment:
        """The fragment less the lines for ``symbols`` (e.g. already off in the base config)."""
        return replace(self, config={s: v for s, v in self.config.items() if s not in symbols})

    def cmdline_text(self) -> str:
        return " ".join(arg for arg, _ in self.cmdline.values())


def _already_holds(rule: Rule, target: GuestEvidence) -> bool:
    """The rule holds for the target whatever the config says (e.g. HYPERV on Hyper-V)."""
    if rule.applies_if is not None and rule.applies_if.evaluate(target) is False:
        return True
    return rule.pass_if.evaluate(target) is True


def build_fragment(rules: list[Rule], platform: Platform, hypervisor: Hypervisor | None = None,
                   keep: frozenset[str] = frozenset(),
                   evidence: GuestEvidence | None = None) -> Fragment:
    """``evidence``: the config the fragment is for (fragment --config); conditions that depend on
    it add their lines (the PCI drivers CCS-DRV-001 found), kept symbols still win."""
    target = GuestEvidence(platform=platform, hypervisor=hypervisor, keep=keep)
    config: dict[str, tuple[str, str]] = {}
    cmdline: dict[str, tuple[str, str]] = {}
    kept: dict[str, str] = {}
    clashes = []
    for r in rules:
        if not rule_applies(r.platforms, platform) or _already_holds(r, target):
            continue
        fixes = dict(r.fix.config)
        for leaf in r.pass_if.leaves():
            fixes.update(leaf.config_fix(evidence if evidence is not None else target))
        for sym, val in fixes.items():
            if val == "n" and sym in keep:
                kept[sym] = r.id
                continue
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
    # A fix for a rule that no longer applies once the fragment is in (the 8250 UART count when
    # the fragment drops the 8250 driver) names a symbol olddefconfig then hides, which
    # merge_config.sh reports as "Value requested ... not in final .config": leave it out.
    if config:
        merged = GuestEvidence(platform=platform, hypervisor=hypervisor, config=parse_config_text(
            Fragment(platform, config, {}).kconfig_plain(), "fragment"))
        moot = {r.id for r in rules if r.applies_if is not None
                and r.applies_if.evaluate(merged) is False}
        config = {s: (v, rid) for s, (v, rid) in config.items() if rid not in moot}
    return Fragment(platform, config, cmdline, kept, hypervisor)
