"""What the HTML pages show, computed from a Report or a surface Inventory: the verdict banner,
the guest/host picture (one lane per interface class of the threat model), findings in severity
order, attestation checks and the source surface. Templates only lay these records out."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from cocoscope.finding import Finding, Severity, Status
from cocoscope.model import INTERFACES, InterfaceId, ThreatId
from cocoscope.model.platform import Platform
from cocoscope.report.model import Report, shown_findings

# Status order inside one severity: what needs action first.
_STATUS_ORDER = (Status.FAIL, Status.WAIVED, Status.UNKNOWN, Status.ADVICE, Status.PASS,
                 Status.NOT_APPLICABLE)
STATUSES = tuple(s.value for s in _STATUS_ORDER)
SEVERITIES = tuple(s.value for s in sorted(Severity, key=lambda s: -s.rank))

# Picture geometry (SVG user units; the SVG scales to the page width).
LANE_H = 34
LANE_GAP = 6
TOP = 64
WIDTH = 960
GUEST_W = 190
HOST_W = 190
BOX_CHARS = 25  # the guest and host boxes hold about this many characters per line
HOST_LINES: tuple[str, ...] = ("supplies every value the", "guest reads through these", "interfaces")


@dataclass(frozen=True)
class Banner:
    level: str  # css class: critical, high, medium, low, info, unknown, ok, none
    headline: str
    lines: tuple[str, ...]


@dataclass(frozen=True)
class Lane:
    """One interface class between the guest and the host VMM."""

    id: str
    name: str
    description: str
    state: str  # css class: sev-<severity> when failing, waived, unknown, advice, pass, none
    label: str  # short text on the lane: what the findings say
    counts: dict[str, int]
    sites: int | None  # host-input sites in built source (audit --source / surface)
    y: int


@dataclass(frozen=True)
class Picture:
    guest_title: str
    guest_lines: tuple[str, ...]
    host_title: str
    host_lines: tuple[str, ...]
    lanes: tuple[Lane, ...]
    height: int
    width: int = WIDTH
    guest_w: int = GUEST_W
    host_w: int = HOST_W
    lane_h: int = LANE_H


@dataclass(frozen=True)
class Check:
    name: str
    status: str
    detail: str


@dataclass(frozen=True)
class Attestation:
    summary: str
    checks: tuple[Check, ...]
    facts: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class SurfaceRow:
    key: str
    sites: int
    risky: int | None


@dataclass(frozen=True)
class Surface:
    sites: int
    risky: int
    by_interface: tuple[SurfaceRow, ...]
    by_subsystem: tuple[SurfaceRow, ...]
    drivers: tuple[SurfaceRow, ...]
    note: str = ""


def sort_findings(findings: Iterable[Finding]) -> list[Finding]:
    """Severity first (critical on top), then what needs action, then rule id."""
    return sorted(findings, key=lambda f: (-f.severity.rank, _STATUS_ORDER.index(f.status),
                                           f.rule_id))


def banner(r: Report) -> Banner:
    counts = Counter(f.status for f in r.findings)
    failing = Counter(f.severity for f in r.findings if f.status is Status.FAIL)
    totals = ", ".join(f"{counts[s]} {s.value}" for s in _STATUS_ORDER if counts[s])
    lines = [f"Rules evaluated: {len(r.findings)} ({totals or 'none'})."]
    if r.platform is not None:
        lines.insert(0, "Platform: " + _platform_text(r.platform.platform) + ".")
    if failing:
        worst = max(failing, key=lambda s: s.rank)
        parts = ", ".join(f"{failing[s]} {s.value}" for s in sorted(failing, key=lambda s: -s.rank))
        return Banner(worst.value, f"Exposed: {sum(failing.values())} failing findings ({parts})",
                      tuple(lines))
    if counts[Status.UNKNOWN]:
        return Banner("unknown", f"No failing rule, but {counts[Status.UNKNOWN]} could not be "
                      "decided for lack of evidence", tuple(lines))
    if counts[Status.PASS]:
        return Banner("ok", "No failing rule", tuple(lines))
    return Banner("none", "Nothing could be evaluated", tuple(lines))


def _platform_text(p: Platform) -> str:
    if p.confidential:
        return f"running under {p.value.upper()}"
    if p is Platform.NONE:
        return "not a confidential guest (no TDX or SEV-SNP found)"
    return f"{p.value.upper()}: memory encryption without integrity, not a confidential guest"


def _lane_state(fs: list[Finding]) -> tuple[str, str]:
    by = Counter(f.status for f in fs)
    failing = [f for f in fs if f.status is Status.FAIL]
    if failing:
        worst = max(failing, key=lambda f: f.severity.rank).severity
        return f"sev-{worst.value}", f"{len(failing)} failing ({worst.value})"
    for status, label in ((Status.WAIVED, "waived"), (Status.UNKNOWN, "undecided"),
                          (Status.ADVICE, "advice")):
        if by[status]:
            return status.value, f"{by[status]} {label}"
    if by[Status.PASS]:
        return "pass", f"{by[Status.PASS]} passing"
    return "none", "no rule applies"


def lanes(findings: Iterable[Finding], sites: Mapping[str, int] | None) -> tuple[Lane, ...]:
    per: dict[InterfaceId, list[Finding]] = {i.id: [] for i in INTERFACES}
    for f in findings:
        if f.interface is not None:
            per[f.interface].append(f)
    out = []
    for n, i in enumerate(INTERFACES):
        fs = per[i.id]
        state, label = _lane_state(fs)
        out.append(Lane(i.id.value, i.name, i.description, state, label,
                        {s.value: c for s, c in Counter(f.status for f in fs).items()},
                        None if sites is None else sites.get(i.id.value, 0),
                        TOP + n * (LANE_H + LANE_GAP)))
    return tuple(out)


def _fit(text: str) -> str:
    return text if len(text) <= BOX_CHARS else text[: BOX_CHARS - 1] + "…"


def picture(guest_lines: Iterable[str], host_lines: Iterable[str],
            lane_list: tuple[Lane, ...]) -> Picture:
    height = TOP + len(lane_list) * (LANE_H + LANE_GAP) + 24
    return Picture("CoCo guest", ("trusted", *map(_fit, guest_lines)), "Host VMM",
                   ("untrusted", *map(_fit, host_lines)), lane_list, height)


def audit_picture(r: Report, surface: Surface | None) -> Picture:
    guest = []
    if r.platform is not None:
        guest.append(f"platform: {r.platform.platform.value}")
    guest += [f"{i.kind}: {i.path.rsplit('/', 1)[-1]}" for i in r.inputs
              if i.kind in ("config", "system", "cmdline", "evidence")][:4]
    host: tuple[str, ...] = HOST_LINES
    if r.devices:
        host += (f"presents {len(r.devices)} devices",)
    sites = {row.key: row.sites for row in surface.by_interface} if surface else None
    return picture(guest, host, lanes(r.findings, sites))


_CHECK = re.compile(r"^(?P<name>[^:]+): (?P<status>pass|fail|skipped)(?: \((?P<detail>.*)\))?$",
                    re.S)


def attestation(r: Report) -> Attestation | None:
    facts = next((row.facts for row in r.rows
                  if row.threat is ThreatId.GUEST_MALICIOUS_CONFIGURATION), {})
    if "attestation" not in facts:
        return None
    checks = []
    for line in facts.get("checks", []) or []:  # type: ignore[attr-defined]
        m = _CHECK.match(str(line))
        checks.append(Check(m["name"], m["status"], m["detail"] or "") if m
                      else Check(str(line), "unknown", ""))
    other = tuple((k, ", ".join(map(str, v)) if isinstance(v, list) else str(v))
                  for k, v in facts.items() if k not in ("attestation", "checks"))
    return Attestation(str(facts["attestation"]), tuple(checks), other)


def surface_from_counts(r: Report) -> Surface | None:
    """The source surface the audit counted (audit --source), from the row's facts."""
    facts = next((row.facts for row in r.rows
                  if row.threat is ThreatId.MALFORMED_RUNTIME_INPUT), {})
    counts = facts.get("surface_counts")
    if not isinstance(counts, dict):
        return None

    def rows(prefix: str) -> tuple[SurfaceRow, ...]:
        got = [SurfaceRow(k[len(prefix):], int(v), None) for k, v in counts.items()
               if k.startswith(prefix)]
        return tuple(sorted(got, key=lambda x: (-x.sites, x.key)))

    return Surface(int(counts.get("sites", 0)), int(counts.get("risky", 0)),
                   rows("interface:"), rows("subsystem:"), rows("driver:"))


def findings_for(r: Report, show: str) -> list[Finding]:
    return sort_findings(shown_findings(r, show))


def statuses_of(findings: Iterable[Finding]) -> tuple[str, ...]:
    """The statuses a filter offers: those present, in action order."""
    present = {f.status for f in findings}
    return tuple(s.value for s in _STATUS_ORDER if s in present)
