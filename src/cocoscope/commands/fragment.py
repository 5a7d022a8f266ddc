"""`cocoscope fragment`: a Kconfig fragment and command line that satisfy the built-in rules."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from cocoscope.commands._common import emit
from cocoscope.errors import UsageError
from cocoscope.model.hypervisor import Hypervisor
from cocoscope.model.platform import CONFIDENTIAL, Platform


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
                   "sysrq, tpm, ima), profiles (kata, azure-cvm) or CONFIG_ symbols; repeatable")
    p.add_argument("--rules", metavar="F", action="append", default=[], help="user rule file")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.add_argument("--config", metavar="F",
                   help="merge the fragment into this .config (needs --kconfig-tree)")
    p.add_argument("--kconfig-tree", metavar="DIR",
                   help="kernel source tree used to resolve the merged config (olddefconfig)")
    p.add_argument("--output", "-o", metavar="FILE")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from cocoscope.rules import load_rules  # loaded when used
    from cocoscope.rules.fragment import build_fragment
    from cocoscope.rules.keep import parse_keep

    keep = parse_keep(args.keep)
    frag = build_fragment(load_rules(args.rules).rules, Platform(args.platform),
                          Hypervisor(args.hypervisor) if args.hypervisor else None, keep.symbols)
    for sym, rid in sorted(frag.kept.items()):
        print(f"cocoscope: keeping CONFIG_{sym} ({keep.label}); `cocoscope audit "
              f"{keep.label}` accepts it ({rid} is advice there, not a failure)", file=sys.stderr)
    if args.config or args.kconfig_tree:
        if not (args.config and args.kconfig_tree):
            raise UsageError("--config and --kconfig-tree go together")
        from cocoscope.evidence.dotconfig import load_config
        from cocoscope.evidence.kconfig import load_tree

        tree = load_tree(Path(args.kconfig_tree))
        merged = tree.merge_fragment(load_config(args.config), frag.kconfig_plain(),
                                     f"fragment for {args.platform}")
        for line in merged.not_taken:
            print(f"cocoscope: fragment line CONFIG_{line.symbol}={line.requested} did not take "
                  f"(now {line.result}): {line.reason}", file=sys.stderr)
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
    text = (f"# cocoscope Kconfig fragment for {args.platform}: satisfies the built-in rules\n"
            + frag.kconfig_text()
            + f"# kernel command line:\n# {frag.cmdline_text()}\n")
    emit(text, args.output)
    return 0
