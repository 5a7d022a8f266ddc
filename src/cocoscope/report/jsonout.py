"""JSON rendering of a Report in the shared envelope (report/envelope.py); its schema is
schemas/audit.schema.json."""

from __future__ import annotations

import json
from typing import Any

from cocoscope.evidence.system import Device
from cocoscope.finding import Finding
from cocoscope.report.envelope import envelope
from cocoscope.report.model import Report


def finding_dict(f: Finding) -> dict[str, Any]:
    loc = None
    if f.location is not None:
        loc = {"path": f.location.path, "kind": f.location.kind.value,
               "line": f.location.line, "column": f.location.column}
    return {
        "rule_id": f.rule_id, "title": f.title, "threat": f.threat.value,
        "interface": f.interface.value if f.interface else None,
        "status": f.status.value, "severity": f.severity.value, "message": f.message,
        "rationale": f.rationale, "remediation": f.remediation,
        "references": list(f.references), "mitigation": f.mitigation,
        "location": loc, "notes": list(f.notes),
    }


def device_dict(d: Device) -> dict[str, Any]:
    return {"bus": d.bus, "name": d.name, "driver": d.driver, "vendor": d.vendor,
            "device": d.device, "class": d.klass, "modalias": d.modalias}


def _plain(v: object) -> Any:
    if isinstance(v, dict):
        return {str(k): _plain(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_plain(x) for x in v]
    if isinstance(v, str | int | float | bool) or v is None:
        return v
    return str(v)


def report_dict(r: Report) -> dict[str, Any]:
    return envelope("audit", {
        "platform": None if r.platform is None else
        {"detected": r.platform.platform, "signs": list(r.platform.signs)},
        "target": dict(r.target),
        "notes": list(r.notes),
        "threats": [
            {
                "threat": row.threat.value, "name": row.name, "summary": row.summary,
                "counts": row.counts,
                "exposed_interfaces": [i.value for i in row.exposed],
                "mitigations": {"present": list(row.mitigations_present),
                                "missing": list(row.mitigations_missing),
                                "unknown": list(row.mitigations_unknown)},
                "facts": _plain(row.facts),
                "findings": [finding_dict(f) for f in row.findings],
            }
            for row in r.rows
        ],
        "devices": [device_dict(d) for d in r.devices],
    }, r.inputs, r.created)


def render_json(r: Report) -> str:
    return json.dumps(report_dict(r), indent=2)
