"""`cocoscope fragment`: a Kconfig fragment and command line that satisfy the built-in rules."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cocoscope.commands._common import emit
from cocoscope.errors import UsageError
from cocoscope.model.hypervisor import Hypervisor
from cocoscope.model.platform import CONFIDENTIAL, Platform

if TYPE_CHECKING:
    from cocoscope.evidence.dotconfig import KernelConfig
    from cocoscope.evidence.kconfig import KconfigTree
    from cocoscope.rules.fragment import Fragment
    from cocoscope.rules.keep import Keep
    from cocoscope.rules.rule import Rule


def register(sub: argparse._SubParsersAction[Any]) -> None:
    p = sub.add_parser("fragment", help="print a Kconfig fragment and command line that "
                       "satisfy the built-in rules for a platform")
    p.add_argument("--platform", choices=[p.value for p in CONFIDENTIAL], required=True)
    p.add_argument("--hypervisor", choices=tuple(h.value for h in Hypervisor),
                   help="hypervisor the guest runs on: rules that already hold there give no "
                   "fix (hyperv keeps HYPERV for Azure confidential VMs)")
    p.add_argument("--keep", metavar="LIST", action="append", default=[],
                   help="never turn these off: comma-separated groups (vsock, virtio-scsi, "
                   "virtio-blk, virtio-net, virtio-console, virtiofs, 9p, virtio-rng, hyperv, "
                   "sysrq, tpm, ima, vfio), profiles (kata, azure-cvm) or CONFIG_ symbols; repeatable")
    p.add_argument("--rules", metavar="F", action="append", default=[], help="user rule file")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.add_argument("--config", metavar="F",
                   help="merge the fragment into this .config (needs --kconfig-tree)")
    p.add_argument("--kconfig-tree", metavar="DIR",
                   help="kernel source tree used to resolve the merged config (olddefconfig)")
    p.add_argument("--fragment-out", metavar="FILE",
                   help="with --config and --kconfig-tree, also write the fragment tailored to "
                   "that config: '# CONFIG_X is not set' lines for symbols already hidden there "
                   "(their dependencies off) are left out, so the tree's merge_config.sh merges "
                   "it without a 'not in final .config' warning")
    p.add_argument("--output", "-o", metavar="FILE")
    p.set_defaults(func=run)


def fragment_text(frag: Fragment) -> str:
    return (f"# cocoscope Kconfig fragment for {frag.platform.value}: satisfies the built-in "
            "rules\n" + frag.kconfig_text()
            + f"# kernel command line:\n# {frag.cmdline_text()}\n")


def run(args: argparse.Namespace) -> int:
    from cocoscope.rules import load_rules  # loaded when used
    from cocoscope.rules.fragment import build_fragment
    from cocoscope.rules.keep import parse_keep

    if args.fragment_out and not (args.config and args.kconfig_tree):
        raise UsageError("--fragment-out needs --config and --kconfig-tree")
    keep = parse_keep(args.keep)
    hypervisor = Hypervisor(args.hypervisor) if args.hypervisor else None
    for_config = None
    if args.config and args.kconfig_tree:
        # Rules whose fix depends on the config (the PCI drivers CCS-DRV-001 finds) add theirs.
        from cocoscope.audit.drivers import driver_index
        from cocoscope.evidence.dotconfig import load_config
        from cocoscope.evidence.guest import GuestEvidence

        config = load_config(args.config)
        for_config = GuestEvidence(config=config, platform=Platform(args.platform),
                                   hypervisor=hypervisor, keep=keep.symbols,
                                   drivers=driver_index(args.kconfig_tree, config))
    rules = load_rules(args.rules).rules
    frag = build_fragment(rules, Platform(args.platform), hypervisor, keep.symbols,
                          for_config)
    for sym, rid in sorted(frag.kept.items()):
        print(f"cocoscope: keeping CONFIG_{sym} ({keep.label}); `cocoscope audit "
              f"{keep.label}` accepts it ({rid} is advice there, not a failure)", file=sys.stderr)
    if args.config or args.kconfig_tree:
        if not (args.config and args.kconfig_tree):
            raise UsageError("--config and --kconfig-tree go together")
        from cocoscope.evidence.dotconfig import load_config
        from cocoscope.evidence.kconfig import load_tree

        tree = load_tree(Path(args.kconfig_tree))
        if for_config is not None and for_config.config is not None:
            _turn_off_selectors(frag, tree, for_config.config, static_fixes(rules),
                                keep.symbols)
        merged = tree.merge_fragment(load_config(args.config), frag.kconfig_plain(),
                                     f"fragment for {args.platform}")
        for line in merged.not_taken:
            print(f"cocoscope: fragment line CONFIG_{line.symbol}={line.requested} did not take "
                  f"(now {line.result}): {line.reason}", file=sys.stderr)
        if args.fragment_out:
            written = set(merged.config_text.splitlines())
            hidden = frozenset(s for s, (v, _) in frag.config.items()
                               if v == "n" and f"# CONFIG_{s} is not set" not in written)
            if hidden:
                print(f"cocoscope: {args.fragment_out}: {len(hidden)} lines left out, already "
                      f"off in {args.config} (dependencies off): "
                      + ", ".join(f"CONFIG_{s}" for s in sorted(hidden)), file=sys.stderr)
            emit(fragment_text(frag.without(hidden)), args.fragment_out)
        for left in still_failing(rules, merged.config_text, Platform(args.platform),
                                  hypervisor, keep):
            print(f"cocoscope: {left}", file=sys.stderr)
        emit(merged.config_text, args.output)
        return 0
    if args.format == "json":
        from cocoscope.report.envelope import file_input, render_envelope

        emit(render_envelope("fragment", {
            "platform": frag.platform,
            "hypervisor": frag.hypervisor,
            "kept": dict(sorted(frag.kept.items())),
            "config": {s: {"value": v, "rule": r} for s, (v, r) in sorted(frag.config.items())},
            "cmdline": frag.cmdline_text(),
            "cmdline_rules": {a: r for a, r in frag.cmdline.values()},
        }, [file_input("rules", f) for f in args.rules]), args.output)
        return 0
    emit(fragment_text(frag), args.output)
    return 0


def still_failing(rules: list[Rule], config_text: str, platform: Platform,
                  hypervisor: Hypervisor | None, keep: Keep) -> list[str]:
    """What the merged config still fails, from its config alone (the command line is the
    fragment's to give): rules the fragment has no fix for on this kernel, e.g. one that needs a
    newer kernel version."""
    from cocoscope.evidence.dotconfig import parse_config_text
    from cocoscope.evidence.guest import GuestEvidence
    from cocoscope.finding import Status
    from cocoscope.rules import evaluate_rules

    ev = GuestEvidence(config=parse_config_text(config_text, "merged config"), platform=platform,
                       hypervisor=hypervisor, keep=keep.symbols)
    return [f"still failing on the merged config ({f.severity.value}): {f.rule_id} {f.title}: "
            f"{f.message}" + (f" ({f.notes[-1]})" if f.notes else "")
            for f in evaluate_rules(rules, ev, keep=keep) if f.status is Status.FAIL]


def static_fixes(rules: list[Rule]) -> frozenset[str]:
    return frozenset(sym for r in rules for sym in r.fix.config)


def _turn_off_selectors(frag: Fragment, tree: KconfigTree, config: KernelConfig,
                        static: frozenset[str], keep: frozenset[str]) -> None:
    """A line the config decided (a PCI driver CCS-DRV-001 found) would not take while other
    built symbols select it (MLX4_EN selects MLX4_CORE): turn those off too, unless kept."""
    tree.apply(config)
    for sym, (value, rid) in sorted(frag.config.items()):
        if value != "n" or sym in static or not tree.has_symbol(sym):
            continue
        for other in tree.turn_off_plan(sym).turn_off:
            if other in keep:
                frag.kept.setdefault(other, rid)
            elif other != sym:
                frag.config.setdefault(other, ("n", rid))
