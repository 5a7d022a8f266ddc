"""`cocoscope rules list|show`: the built-in knowledge base (plus user files)."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, Any

from cocoscope.commands._common import emit
from cocoscope.errors import InputError

if TYPE_CHECKING:
    from cocoscope.rules import Rule


def register(sub: argparse._SubParsersAction[Any]) -> None:
    p = sub.add_parser("rules", help="list or show the audit rules")
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    ls = actions.add_parser("list", help="list rules")
    ls.add_argument("--rules", metavar="F", action="append", default=[], help="user rule file")
    ls.add_argument("--format", choices=("text", "json"), default="text")
    ls.add_argument("--threat", help="only rules for this threat id")
    ls.set_defaults(func=run_list)
    show = actions.add_parser("show", help="show one rule")
    show.add_argument("rule_id", metavar="ID")
    show.add_argument("--rules", metavar="F", action="append", default=[], help="user rule file")
    show.add_argument("--format", choices=("text", "json"), default="text")
    show.set_defaults(func=run_show)


def _rules(files: list[str]) -> list[Rule]:
    from cocoscope.rules import load_rules  # loaded when used

    return load_rules(files).rules


def rule_dict(r: Rule) -> dict[str, Any]:
    return {
        "id": r.id, "title": r.title, "threat": r.threat.value, "severity": r.severity.value,
        "advice": r.advice,
        "interface": r.interface.value if r.interface else None,
        "platforms": sorted(r.platforms) if r.platforms else None, "mitigation": r.mitigation,
        "rationale": r.rationale, "remediation": r.remediation, "references": list(r.references),
        "version_note": r.version_note, "fix": {"config": r.fix.config, "cmdline": list(r.fix.cmdline)},
        "origin": r.origin,
    }


def run_list(args: argparse.Namespace) -> int:
    rules = [r for r in _rules(args.rules) if not args.threat or r.threat.value == args.threat]
    if args.format == "json":
        emit(json.dumps([rule_dict(r) for r in rules], indent=2), args.output if hasattr(args, "output") else None)
        return 0
    lines = [f"{r.id:16} {r.severity.value:8} {r.threat.value:30} {r.title}"
             + (" [advice]" if r.advice else "") for r in rules]
    lines.append(f"{len(rules)} rules")
    emit("\n".join(lines), None)
    return 0


def run_show(args: argparse.Namespace) -> int:
    rules = {r.id: r for r in _rules(args.rules)}
    r = rules.get(args.rule_id)
    if r is None:
        raise InputError(f"no rule with id {args.rule_id!r}")
    d = rule_dict(r)
    if args.format == "json":
        emit(json.dumps(d, indent=2), None)
        return 0
    emit("\n".join(f"{k}: {v}" for k, v in d.items() if v not in (None, "", [], {})), None)
    return 0
