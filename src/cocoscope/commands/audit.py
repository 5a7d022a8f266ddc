"""`cocoscope audit`: gather a guest's evidence, evaluate the rules, render the threat matrix."""

from __future__ import annotations

import argparse
from typing import Any

from cocoscope.commands._common import emit, parse_time
from cocoscope.commands._fetch import add_fetch_options, fetch_config
from cocoscope.errors import EXIT_FINDINGS, EXIT_OK, EXIT_VERIFY, UsageError
from cocoscope.finding import Severity
from cocoscope.model.hypervisor import Hypervisor
from cocoscope.model.platform import CONFIDENTIAL, Platform


def register(sub: argparse._SubParsersAction[Any]) -> None:
    p = sub.add_parser(
        "audit",
        help="audit a guest's config, command line and running system against the threat model",
        description="With no options, audits the running system (/proc/config.gz or "
        "/boot/config-*, /proc/cmdline, /sys devices, CoCo platform detection).",
    )
    src = p.add_argument_group("evidence")
    src.add_argument("--config", metavar="F", help="kernel .config (plain, .gz or .xz)")
    cl = src.add_mutually_exclusive_group()
    cl.add_argument("--cmdline", metavar="STRING", help="kernel command line")
    cl.add_argument("--cmdline-file", metavar="F", help="file holding the kernel command line")
    cl.add_argument("--cmdline-from-eventlog", metavar="LOG",
                    help="take the command line measured in a TDX CCEL event log")
    src.add_argument("--root", metavar="DIR",
                     help="audit the running system rooted at DIR (default / when no "
                     "--config/--cmdline is given)")
    src.add_argument("--platform", choices=("auto", *(p.value for p in CONFIDENTIAL)),
                     default="auto",
                     help="platform the guest targets (auto: detect on a live system, or infer "
                     "from a config that builds only one of INTEL_TDX_GUEST / AMD_MEM_ENCRYPT)")
    src.add_argument("--hypervisor", choices=tuple(h.value for h in Hypervisor),
                     help="hypervisor the guest runs on (Azure confidential VMs: hyperv); "
                     "default: detect on a live system, else unknown")
    src.add_argument("--kconfig-tree", metavar="DIR",
                     help="kernel source tree: explain why failing symbols are on, resolve "
                     "a Kconfig fragment given as --config into a whole config; also read "
                     "which PCI drivers the config builds")
    src.add_argument("--fragment-base", choices=("alldefconfig", "allnoconfig"),
                     default="alldefconfig",
                     help="with --kconfig-tree, what a fragment's unset symbols become: their "
                     "defaults (merge_config.sh, the default) or n (merge_config.sh -n, as Kata "
                     "Containers builds its guest kernel)")
    src.add_argument("--source", metavar="DIR",
                     help="kernel source tree: count host-input sites the config builds "
                     "(and rank the PCI drivers CCS-DRV-001 reports by them)")
    att = p.add_argument_group("attestation")
    att.add_argument("--evidence", metavar="F", help="SNP attestation report or TDX quote")
    att.add_argument("--policy", metavar="F", help="attestation policy (TOML or JSON)")
    att.add_argument("--certs", metavar="F|DIR", action="append", default=[],
                     help="SNP certificates (VCEK/VLEK, ASK, ARK)")
    att.add_argument("--collateral-dir", metavar="DIR", help="TDX collateral directory")
    att.add_argument("--time", metavar="ISO8601", help="verify certificates at this time")
    add_fetch_options(att)
    rules = p.add_argument_group("rules")
    rules.add_argument("--rules", metavar="F", action="append", default=[],
                       help="user rule file (TOML) layered on the built-ins; repeatable")
    rules.add_argument("--waivers", metavar="F", help="waiver file (TOML)")
    rules.add_argument("--keep", metavar="LIST", action="append", default=[],
                       help="what the deployment keeps on purpose, as given to `cocoscope "
                       "fragment --keep`: a rule failing only because of a kept symbol is "
                       "reported as advice, not fail, and a kept PCI driver is not reported by "
                       "CCS-DRV-001; comma-separated groups, profiles (kata, "
                       "azure-cvm) or CONFIG_ symbols; repeatable")
    out = p.add_argument_group("output")
    out.add_argument("--format", choices=("table", "json", "sarif", "markdown", "html"), default="table")
    out.add_argument("--output", "-o", metavar="FILE")
    out.add_argument("--show", choices=("fail", "all"), default=None,
                     help="findings to list: fail (failing and waived; the default) or all. "
                     "Without it, a live audit of a machine that is not a CoCo guest prints a "
                     "short page: the answer, the next step and the most severe findings")
    out.add_argument("--fail-on", metavar="SEVERITY", default="medium",
                     help="exit 1 when a failing finding has this severity or higher "
                     "(info, low, medium, high, critical; default medium)")
    out.add_argument("--color", choices=("auto", "always", "never"), default="auto")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    # Imported here so that `cocoscope --help` and other commands start fast.
    from cocoscope.audit import AuditRequest, run_audit
    from cocoscope.report.html import render_html
    from cocoscope.report.jsonout import render_json
    from cocoscope.report.markdown import render_markdown
    from cocoscope.report.model import failing
    from cocoscope.report.sarif import render_sarif
    from cocoscope.report.terminal import is_plain_live_vm, render_terminal

    try:
        fail_on = Severity.parse(args.fail_on)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    result = run_audit(AuditRequest(
        config=args.config, cmdline=args.cmdline, cmdline_file=args.cmdline_file,
        cmdline_eventlog=args.cmdline_from_eventlog, root=args.root,
        platform=None if args.platform == "auto" else Platform(args.platform),
        hypervisor=Hypervisor(args.hypervisor) if args.hypervisor else None,
        kconfig_tree=args.kconfig_tree, fragment_base=args.fragment_base, source=args.source, evidence=args.evidence,
        policy=args.policy, certs=tuple(args.certs), collateral_dir=args.collateral_dir,
        time=parse_time(args.time) if args.time else None, rule_files=tuple(args.rules), waivers=args.waivers,
        keep=tuple(args.keep),
        fetch=fetch_config(args),
    ))
    report = result.report
    show = args.show or "fail"
    if args.format == "json":
        text = render_json(report)
    elif args.format == "sarif":
        text = render_sarif(report)
    elif args.format == "markdown":
        text = render_markdown(report, show)
    elif args.format == "html":
        text = render_html(report, show)
    else:
        text = render_terminal(report, show, args.color, fail_on=fail_on,
                               brief=args.show is None and is_plain_live_vm(report))
    emit(text, args.output)
    if result.verification_failed:
        return EXIT_VERIFY
    return EXIT_FINDINGS if failing(report, fail_on) else EXIT_OK
