"""SARIF 2.1.0 rendering: one result per finding, each anchored to a file location.

Status maps to SARIF ``kind`` (pass, fail, notApplicable, review for unknown) and waived
findings carry an external suppression with the waiver's rationale, so code-scanning UIs keep
them visible but closed. A command line given as a string is embedded as artifact contents.
"""

from __future__ import annotations

import json
import os
from typing import Any

from cocoscope.finding import Finding, LocationKind, Severity, Status
from cocoscope.report.model import Report

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_KIND = {Status.PASS: "pass", Status.FAIL: "fail", Status.NOT_APPLICABLE: "notApplicable",
         Status.UNKNOWN: "review", Status.WAIVED: "fail",
         Status.ADVICE: "informational"}
_LEVEL = {Severity.CRITICAL: "error", Severity.HIGH: "error", Severity.MEDIUM: "warning",
          Severity.LOW: "note", Severity.INFO: "note"}


def _uri(path: str) -> str:
    if path.startswith("<"):
        return path.strip("<>").replace(" ", "-")
    return path if not os.path.isabs(path) else "file://" + path


def _result(f: Finding, rule_index: int, artifacts: dict[str, int]) -> dict[str, Any]:
    res: dict[str, Any] = {
        "ruleId": f.rule_id,
        "ruleIndex": rule_index,
        "kind": _KIND[f.status],
        "level": _LEVEL[f.severity] if f.status in (Status.FAIL, Status.WAIVED) else "none",
        "message": {"text": f"{f.title}: {f.message}"},
        "properties": {"status": f.status.value, "threat": f.threat.value,
                       "interface": f.interface.value if f.interface else None},
    }
    if f.location is not None:
        uri = _uri(f.location.path)
        art: dict[str, Any] = {"uri": uri}
        if uri in artifacts:
            art["index"] = artifacts[uri]
        phys: dict[str, Any] = {"artifactLocation": art}
        if f.location.line:
            region: dict[str, Any] = {"startLine": f.location.line}
            if f.location.column:
                region["startColumn"] = f.location.column
            if f.location.snippet and f.location.kind is LocationKind.CONFIG:
                region["snippet"] = {"text": f.location.snippet}
            phys["region"] = region
        res["locations"] = [{"physicalLocation": phys}]
    if f.status is Status.WAIVED:
        res["suppressions"] = [{"kind": "external", "status": "accepted",
                                "justification": "; ".join(f.notes)}]
    return res


def report_sarif(r: Report) -> dict[str, Any]:
    findings = r.findings
    rule_ids = list(dict.fromkeys(f.rule_id for f in findings))
    by_id = {f.rule_id: f for f in findings}
    artifacts: list[dict[str, Any]] = []
    index: dict[str, int] = {}
    for f in findings:
        loc = f.location
        if loc is None or _uri(loc.path) in index:
            continue
        art: dict[str, Any] = {"location": {"uri": _uri(loc.path)}}
        if loc.kind is LocationKind.CMDLINE and loc.snippet is not None:
            art["contents"] = {"text": loc.snippet}
        rec = next((i for i in r.inputs if i.path == loc.path), None)
        if rec is not None and rec.sha256:
            art["hashes"] = {"sha-256": rec.sha256}
        index[_uri(loc.path)] = len(artifacts)
        artifacts.append(art)
    rules = []
    for rid in rule_ids:
        f = by_id[rid]
        rules.append({
            "id": rid,
            "name": "".join(w.capitalize() for w in rid.split("-")),
            "shortDescription": {"text": f.title},
            "fullDescription": {"text": f.rationale or f.title},
            "help": {"text": f.remediation or f.title},
            "helpUri": f.references[0] if f.references and "://" in f.references[0] else None,
            "defaultConfiguration": {"level": _LEVEL[f.severity]},
            "properties": {"threat": f.threat.value, "severity": f.severity.value,
                           "interface": f.interface.value if f.interface else None,
                           "references": list(f.references)},
        })
        if rules[-1]["helpUri"] is None:
            del rules[-1]["helpUri"]
    pos = {rid: i for i, rid in enumerate(rule_ids)}
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "cocoscope", "version": r.tool_version,
                                "semanticVersion": r.tool_version, "rules": rules}},
            "artifacts": artifacts,
            "results": [_result(f, pos[f.rule_id], index) for f in findings],
            "properties": {"platform": r.platform.platform if r.platform else None},
        }],
    }


def render_sarif(r: Report) -> str:
    return json.dumps(report_sarif(r), indent=2)
