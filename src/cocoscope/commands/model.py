"""`cocoscope model`: print the threat model the tool reasons over."""

from __future__ import annotations

import argparse
from typing import Any

from cocoscope.commands._common import add_output_options, emit
from cocoscope.model import ASSETS, INTERFACES, OBJECTIVES, OUT_OF_SCOPE, THREATS


def register(sub: argparse._SubParsersAction[Any]) -> None:
    p = sub.add_parser("model", help="print the CoCo threat model (assets, interfaces, threats)")
    add_output_options(p, ("text", "json"))
    p.set_defaults(func=run)


def as_dict() -> dict[str, Any]:
    from cocoscope.report.envelope import plain

    return {
        "assets": plain(ASSETS),
        "objectives": plain(OBJECTIVES),
        "interfaces": plain(INTERFACES),
        "threats": plain(THREATS),
        "out_of_scope": list(OUT_OF_SCOPE),
    }


def render_text() -> str:
    out = ["Linux CoCo guest threat model", "", "Assets:"]
    out += [f"  - {a.name}: {a.description}" for a in ASSETS]
    out += ["", "Security objectives:"]
    out += [f"  - {o.description}" for o in OBJECTIVES]
    out += ["", "Threats:"]
    for t in THREATS:
        out.append(f"  [{t.id}] {t.name}")
        out.append(f"      {t.description}")
        for m in t.mitigations:
            out.append(f"      mitigation {m.id}: {m.description}")
        out.append(f"      cocoscope: {t.evidence}")
    out += ["", "Host interfaces:"]
    for i in INTERFACES:
        feeds = ", ".join(i.threats)
        out.append(f"  [{i.id}] {i.name} (feeds: {feeds})")
        out.append(f"      {i.description}")
    out += ["", "Out of scope:"]
    out += [f"  - {s}" for s in OUT_OF_SCOPE]
    return "\n".join(out)


def run(args: argparse.Namespace) -> int:
    if args.format == "json":
        from cocoscope.report.envelope import render_envelope

        emit(render_envelope("model", as_dict()), args.output)
    else:
        emit(render_text(), args.output)
    return 0
