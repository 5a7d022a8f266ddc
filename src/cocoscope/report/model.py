"""The Report: per threat, the interface classes exposed, findings, mitigations present and
missing, and a one-line summary. Renderers only format it; nothing here prints."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from cocoscope import __version__
from cocoscope.evidence.system import Device, PlatformDetection
from cocoscope.finding import Finding, Location, LocationKind, Severity, Status
from cocoscope.model import THREATS, InterfaceId, ThreatId


@dataclass(frozen=True)
class InputRecord:
    kind: str  # config, cmdline, system, evidence, source, rules, waivers, policy, collateral
    path: str
    sha256: str | None = None
    detail: str = ""


@dataclass(frozen=True)
class ThreatRow:
    threat: ThreatId
    name: str
    findings: tuple[Finding, ...]
    exposed: tuple[InterfaceId, ...]  # interface classes with failing or waived findings
    mitigations_present: tuple[str, ...]
    mitigations_missing: tuple[str, ...]
    mitigations_unknown: tuple[str, ...]
    counts: dict[str, int]
    summary: str
    # Per-threat facts from other analyses (attestation result, surface site counts).
    facts: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class Report:
    tool_version: str
    created: str
    inputs: tuple[InputRecord, ...]
    rows: tuple[ThreatRow, ...]
    platform: PlatformDetection | None
    devices: tuple[Device, ...]
    # What the audit was about (platform, hypervisor, config kind, each with its source) and
    # what the reader should know first (how to choose a platform, a fragment's limits).
    target: Mapping[str, str | None] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    @property
    def findings(self) -> tuple[Finding, ...]:
        return tuple(f for r in self.rows for f in r.findings)


def target_text(r: Report) -> str | None:
    """One line saying what the audit was about, for the renderers (None: not recorded)."""
    t = r.target
    if not t:
        return None
    plat = t.get("platform") or "unknown"
    hyp = t.get("hypervisor") or "unknown"
    return (f"platform {plat} ({t.get('platform_source')}); hypervisor {hyp} "
            f"({t.get('hypervisor_source')}); config input: {t.get('config')}"
            + (f"; kept on purpose: {t['keep']}" if t.get("keep") else ""))


# What each --show choice lists; the matrix counts always cover every status.
SHOW_CHOICES = ("fail", "all")


def _by_severity(findings: tuple[Finding, ...]) -> tuple[Finding, ...]:
    """Most severe first, then by rule id: the order every renderer lists findings in."""
    return tuple(sorted(findings, key=lambda f: (-f.severity.rank, f.rule_id)))


def shown_findings(r: Report, show: str = "fail") -> tuple[Finding, ...]:
    """The findings a renderer lists, most severe first: failing and waived (``fail``, the
    default) or all."""
    if show not in SHOW_CHOICES:
        raise ValueError(f"unknown --show {show!r}")
    if show == "all":
        return _by_severity(r.findings)
    return _by_severity(tuple(f for f in r.findings
                              if f.status in (Status.FAIL, Status.WAIVED)))


def failing(r: Report, fail_on: Severity) -> tuple[Finding, ...]:
    """Failing findings at or above ``fail_on``: what makes ``audit`` exit 1."""
    return tuple(f for f in r.findings
                 if f.status is Status.FAIL and f.severity.rank >= fail_on.rank)


def totals(r: Report) -> dict[Status, int]:
    counts = Counter(f.status for f in r.findings)
    return {s: counts[s] for s in Status}


def _summary(counts: Counter[str], missing: list[str], facts: dict[str, object]) -> str:
    parts = []
    if counts["fail"]:
        parts.append(f"{counts['fail']} failing")
    if counts["waived"]:
        parts.append(f"{counts['waived']} waived")
    if counts["advice"]:
        parts.append(f"{counts['advice']} advice (review; never failing)")
    if counts["unknown"]:
        parts.append(f"{counts['unknown']} undecided for lack of evidence")
    if not parts:
        parts.append("no failing rule" if counts["pass"] else "no rule could be evaluated")
    text = ", ".join(parts)
    if missing:
        text += "; missing mitigations: " + ", ".join(missing)
    for key in ("attestation", "surface"):
        if key in facts:
            text += f"; {key}: {facts[key]}"
    return text


def _anchor(f: Finding, fallback: Location | None) -> Finding:
    """SARIF needs every result anchored; fall back to the main input of the audit."""
    return f if f.location is not None or fallback is None else replace(f, location=fallback)


def build_report(
    findings: list[Finding],
    inputs: list[InputRecord],
    platform: PlatformDetection | None = None,
    devices: tuple[Device, ...] = (),
    facts: dict[ThreatId, dict[str, object]] | None = None,
    created: dt.datetime | None = None,
    target: Mapping[str, str | None] | None = None,
    notes: tuple[str, ...] = (),
) -> Report:
    fallback = None
    if inputs:
        kind = {"config": LocationKind.CONFIG, "cmdline": LocationKind.CMDLINE,
                "system": LocationKind.SYSTEM}.get(inputs[0].kind, LocationKind.EVIDENCE)
        fallback = Location(inputs[0].path, kind)
    rows = []
    for t in THREATS:
        mine = tuple(_anchor(f, fallback) for f in findings if f.threat == t.id)
        counts = Counter(f.status.value for f in mine)
        exposed = sorted({f.interface for f in mine
                          if f.interface and f.status in (Status.FAIL, Status.WAIVED)})
        present, missing, unknown = [], [], []
        for m in t.mitigations:
            statuses = {f.status for f in mine if f.mitigation == m.id}
            if Status.FAIL in statuses or Status.WAIVED in statuses:
                missing.append(m.id)
            elif Status.PASS in statuses and Status.UNKNOWN not in statuses:
                present.append(m.id)
            else:
                unknown.append(m.id)
        row_facts = dict((facts or {}).get(t.id, {}))
        rows.append(ThreatRow(
            threat=t.id, name=t.name, findings=mine, exposed=tuple(exposed),
            mitigations_present=tuple(present), mitigations_missing=tuple(missing),
            mitigations_unknown=tuple(unknown),
            counts={s.value: counts[s.value] for s in Status},
            summary=_summary(counts, missing, row_facts), facts=row_facts,
        ))
    when = (created or dt.datetime.now(dt.UTC)).replace(microsecond=0)
    return Report(__version__, when.isoformat(), tuple(inputs), tuple(rows), platform, devices,
                  dict(target or {}), notes)
