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
        "applies_if": r.applies_if_doc, "pass_if": r.pass_if_doc,
        "origin": r.origin,
    }


def inline_toml(v: Any) -> str:
    """A condition table written back as the TOML inline table it was read from."""
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{k} = {inline_toml(x)}" for k, x in v.items()) + " }"
    if isinstance(v, list):
        return "[" + ", ".join(inline_toml(x) for x in v) + "]"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return json.dumps(v)  # a TOML basic string
    return str(v)


def condition_lines(v: Any, indent: int = 2, width: int = 78) -> list[str]:
    """A condition as TOML on one line when it fits, else all/any/not spread over lines
    (nested parts indented) so a long condition stays readable."""
    pad = " " * indent
    text = inline_toml(v)
    if (indent + len(text) <= width or not isinstance(v, dict) or len(v) != 1
            or next(iter(v)) not in ("all", "any", "not")):
        return [pad + text]
    key, inner = next(iter(v.items()))
    if key == "not":
        return [pad + "{ not =", *condition_lines(inner, indent + 2, width), pad + "}"]
    lines = [pad + "{ " + key + " = ["]
    for part in inner:
        sub = condition_lines(part, indent + 2, width)
        lines += [*sub[:-1], sub[-1] + ","]
    return [*lines, pad + "] }"]


def rule_text(r: Rule) -> str:
    """`rules show` as text: what is checked (the condition), why, and how to fix it."""
    import textwrap

    def para(label: str, text: str) -> list[str]:
        return [f"{label}:", *textwrap.wrap(text, 78, initial_indent="  ",
                                            subsequent_indent="  ")]

    out = [f"{r.id}  {r.title}" + ("  [advice]" if r.advice else ""),
           f"threat: {r.threat.value}   severity: {r.severity.value}"
           + (f"   interface: {r.interface.value}" if r.interface else ""),
           "platforms: " + (", ".join(sorted(r.platforms)) if r.platforms else "all")
           + (f"   mitigation: {r.mitigation}" if r.mitigation else "")]
    for label, cond in (("applies if", r.applies_if_doc), ("passes if", r.pass_if_doc)):
        if cond is not None:
            lines = condition_lines(cond)
            if len(lines) == 1:
                out.append(f"{label}: {lines[0].strip()}")
            else:
                out += [f"{label}:", *lines]
    for label, text in (("rationale", r.rationale), ("remediation", r.remediation),
                        ("version note", r.version_note)):
        if text:
            out += para(label, text)
    fixes = [f"CONFIG_{k}={v}" for k, v in r.fix.config.items()] + list(r.fix.cmdline)
    if fixes:
        out.append("fix: " + " ".join(fixes))
    if r.references:
        out += ["references:"] + [f"  - {ref}" for ref in r.references]
    out.append(f"origin: {r.origin}")
    return "\n".join(out)


def run_list(args: argparse.Namespace) -> int:
    from cocoscope.report.envelope import file_input, render_envelope

    rules = [r for r in _rules(args.rules) if not args.threat or r.threat.value == args.threat]
    if args.format == "json":
        emit(render_envelope("rules list", {"rules": [rule_dict(r) for r in rules]},
                             [file_input("rules", f) for f in args.rules]), None)
        return 0
    lines = [f"{r.id:16} {r.severity.value:8} {r.threat.value:30} {r.title}"
             + (" [advice]" if r.advice else "") for r in rules]
    lines.append(f"{len(rules)} rules")
    emit("\n".join(lines), None)
    return 0


def run_show(args: argparse.Namespace) -> int:
    from cocoscope.report.envelope import file_input, render_envelope

    rules = {r.id: r for r in _rules(args.rules)}
    r = rules.get(args.rule_id)
    if r is None:
        raise InputError(f"no rule with id {args.rule_id!r}")
    d = rule_dict(r)
    if args.format == "json":
        emit(render_envelope("rules show", {"rule": d},
                             [file_input("rules", f) for f in args.rules]), None)
        return 0
    emit(rule_text(r), None)
    return 0
