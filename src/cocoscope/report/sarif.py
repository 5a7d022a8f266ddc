"""SARIF 2.1.0 that GitHub code scanning accepts and tracks, for every command that emits it.

One builder (``sarif_log``) serves ``audit`` and ``surface``:
- file locations are relative URIs under ``originalUriBaseIds.SRCROOT`` (the directory the
  run started in, as code scanning expects the repository root); a file outside it keeps an
  absolute ``file://`` URI and no base id rather than a made-up relative path;
- every result carries ``partialFingerprints`` computed from what identifies it (rule,
  file, symbol or function), never from line numbers, so an alert survives unrelated edits;
- every rule carries ``properties.security-severity`` (GitHub's 0.0-10.0 scale) and tags;
- only what needs attention is a result: audit failures, waived findings (with an accepted
  external suppression) and advice (kind informational, level note). Passes, not-applicable
  and unknown findings are counted in the run's properties instead of flooding the alerts;
- a finding about a command line given as a string, or about the running system as a whole,
  has no file: it gets a logical location instead of a pseudo-file.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cocoscope import __version__
from cocoscope.finding import Finding, LocationKind, Severity, Status
from cocoscope.report.model import Report

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SRCROOT = "SRCROOT"
LEVEL = {Severity.CRITICAL: "error", Severity.HIGH: "error", Severity.MEDIUM: "warning",
         Severity.LOW: "note", Severity.INFO: "note"}
# GitHub reads properties.security-severity: >= 9.0 critical, 7.0-8.9 high, 4.0-6.9 medium,
# 0.1-3.9 low.
SECURITY_SEVERITY = {Severity.CRITICAL: "9.5", Severity.HIGH: "8.0", Severity.MEDIUM: "5.5",
                     Severity.LOW: "3.0", Severity.INFO: "1.0"}


@dataclass(frozen=True)
class SarifRule:
    id: str
    name: str
    short: str
    full: str = ""
    help: str = ""
    help_uri: str | None = None
    severity: Severity = Severity.MEDIUM
    tags: tuple[str, ...] = ()
    properties: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SarifResult:
    rule_id: str
    message: str
    fingerprint: tuple[str, ...]  # what identifies the result across runs (no line numbers)
    path: str | None = None  # file the result is in (absolute or relative to the run's cwd)
    line: int | None = None
    column: int | None = None
    snippet: str | None = None
    logical: str | None = None  # a logical location when there is no file
    level: str | None = None  # default: the rule's
    kind: str = "fail"  # SARIF result kind: fail, informational, ...
    suppressed: str | None = None  # justification of an accepted suppression (waiver)
    suppression_status: str = "accepted"  # "underReview" for a triage label carried fuzzily
    properties: Mapping[str, Any] = field(default_factory=dict)


class UriMapper:
    """Paths -> (uri, uriBaseId) relative to SRCROOT when under it."""

    def __init__(self, root: str | None = None) -> None:
        self.root = Path(os.path.abspath(root or os.getcwd()))

    def __call__(self, path: str) -> tuple[str, str | None]:
        # normpath, not resolve(): a symlinked file inside the root stays inside it.
        full = Path(os.path.normpath(os.path.join(self.root, path)))
        try:
            return full.relative_to(self.root).as_posix(), SRCROOT
        except ValueError:
            return full.as_uri(), None

    @property
    def base(self) -> dict[str, Any]:
        return {SRCROOT: {"uri": self.root.as_uri() + "/",
                          "description": {"text": "directory the run started in"}}}


def _fingerprint(parts: tuple[str, ...]) -> str:
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:32]


def _result(r: SarifResult, rules: Mapping[str, tuple[int, SarifRule]],
            uris: UriMapper, fp_key: str) -> dict[str, Any]:
    index, rule = rules[r.rule_id]
    res: dict[str, Any] = {
        "ruleId": r.rule_id, "ruleIndex": index, "kind": r.kind,
        "level": r.level or LEVEL[rule.severity],
        "message": {"text": r.message},
        "partialFingerprints": {fp_key: _fingerprint(r.fingerprint)},
    }
    loc: dict[str, Any] = {}
    if r.path is not None:
        uri, base = uris(r.path)
        art: dict[str, Any] = {"uri": uri}
        if base:
            art["uriBaseId"] = base
        phys: dict[str, Any] = {"artifactLocation": art}
        if r.line:
            region: dict[str, Any] = {"startLine": r.line}
            if r.column:
                region["startColumn"] = r.column
            if r.snippet:
                region["snippet"] = {"text": r.snippet}
            phys["region"] = region
        loc["physicalLocation"] = phys
    if r.logical is not None:
        loc["logicalLocations"] = [{"name": r.logical, "kind": "resource"}]
    if loc:
        res["locations"] = [loc]
    if r.suppressed is not None:
        res["suppressions"] = [{"kind": "external", "status": r.suppression_status,
                                "justification": r.suppressed}]
    if r.properties:
        res["properties"] = dict(r.properties)
    return res


def _rule(rule: SarifRule) -> dict[str, Any]:
    d: dict[str, Any] = {
        "id": rule.id, "name": rule.name,
        "shortDescription": {"text": rule.short},
        "fullDescription": {"text": rule.full or rule.short},
        "help": {"text": rule.help or rule.full or rule.short},
        "defaultConfiguration": {"level": LEVEL[rule.severity]},
        "properties": {"security-severity": SECURITY_SEVERITY[rule.severity],
                       "tags": ["security", *rule.tags], **rule.properties},
    }
    if rule.help_uri:
        d["helpUri"] = rule.help_uri
    return d


def sarif_log(tool: str, rules: Iterable[SarifRule], results: Iterable[SarifResult], *,
              fingerprint_key: str, root: str | None = None,
              notifications: Iterable[dict[str, Any]] = (),
              properties: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """One SARIF log with one run; ``root`` is SRCROOT (default: the current directory)."""
    uris = UriMapper(root)
    rule_list = list(rules)
    by_id = {r.id: (i, r) for i, r in enumerate(rule_list)}
    run: dict[str, Any] = {
        "tool": {"driver": {"name": tool, "version": __version__,
                            "semanticVersion": __version__,
                            "rules": [_rule(r) for r in rule_list]}},
        "originalUriBaseIds": uris.base,
        "invocations": [{"executionSuccessful": True,
                         "toolExecutionNotifications": list(notifications)}],
        "results": [_result(r, by_id, uris, fingerprint_key) for r in results],
    }
    if properties:
        run["properties"] = dict(properties)
    return {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}


# --- the audit ----------------------------------------------------------------------------

def _rule_name(rule_id: str) -> str:
    return "".join(w.capitalize() for w in rule_id.split("-"))


def audit_rule(f: Finding) -> SarifRule:
    uri = next((r for r in f.references if "://" in r), None)
    return SarifRule(
        id=f.rule_id, name=_rule_name(f.rule_id), short=f.title, full=f.rationale,
        help=f.remediation, help_uri=uri, severity=f.severity,
        tags=tuple(t for t in (f.threat.value, f.interface.value if f.interface else None) if t),
        properties={"threat": f.threat.value, "severity": f.severity.value,
                    "interface": f.interface.value if f.interface else None,
                    "references": list(f.references)})


def audit_result(f: Finding) -> SarifResult:
    loc = f.location
    path: str | None = None
    line: int | None = None
    column: int | None = None
    snippet: str | None = None
    logical: str | None = None
    if loc is not None:
        if loc.kind is LocationKind.CMDLINE and loc.path.startswith("<"):
            logical = "kernel command line"  # given as a string: no file holds it
        elif loc.kind is LocationKind.SYSTEM:
            logical = f"running system {loc.path}"  # devices, drivers: not one file
        else:
            path = loc.path
            line, column = loc.line, loc.column
            snippet = loc.snippet if loc.kind is LocationKind.CONFIG else None
    anchor = path or logical or ""
    return SarifResult(
        rule_id=f.rule_id, message=f"{f.title}: {f.message}",
        fingerprint=(f.rule_id, Path(anchor).name if path else anchor),
        path=path, line=line, column=column, snippet=snippet, logical=logical,
        suppressed="; ".join(f.notes) if f.status is Status.WAIVED else None,
        kind="informational" if f.status is Status.ADVICE else "fail",
        level="note" if f.status is Status.ADVICE else None,
        properties={"status": f.status.value, "threat": f.threat.value,
                    "interface": f.interface.value if f.interface else None})


_EMITTED = (Status.FAIL, Status.WAIVED, Status.ADVICE)


def report_sarif(r: Report, root: str | None = None) -> dict[str, Any]:
    alerts = [f for f in r.findings if f.status in _EMITTED]
    rules = {f.rule_id: audit_rule(f) for f in alerts}
    counts = Counter(f.status.value for f in r.findings)
    return sarif_log(
        "cocoscope", rules.values(), (audit_result(f) for f in alerts),
        fingerprint_key="cocoscopeFinding/v1", root=root,
        properties={"platform": r.platform.platform if r.platform else None,
                    "target": dict(r.target), "notes": list(r.notes),
                    "counts": {s.value: counts[s.value] for s in Status},
                    "inputs": [{"kind": i.kind, "path": i.path, "sha256": i.sha256}
                               for i in r.inputs]})


def render_sarif(r: Report, root: str | None = None) -> str:
    return json.dumps(report_sarif(r, root), indent=2)
