"""The one result type every analysis produces (rules, surface, attestation)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum, StrEnum

from cocoscope.model.ids import InterfaceId, ThreatId


class Status(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    NOT_APPLICABLE = "not-applicable"
    UNKNOWN = "unknown"
    WAIVED = "waived"
    # An advisory rule whose condition does not hold ("keep only if used"): shown and counted,
    # but never a failure, so a compliant config does not fail on it.
    ADVICE = "advice"


class Severity(Enum):
    """Ordered severities; ``rank`` compares, ``value`` is the stable spelling."""

    INFO = "info"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return _SEVERITY_ORDER.index(self)

    @classmethod
    def parse(cls, text: str) -> Severity:
        try:
            return cls(text.strip().lower())
        except ValueError:
            allowed = ", ".join(s.value for s in cls)
            raise ValueError(f"unknown severity {text!r} (expected one of {allowed})") from None


_SEVERITY_ORDER = list(Severity)


class LocationKind(StrEnum):
    CONFIG = "config"
    CMDLINE = "cmdline"
    SOURCE = "source"
    EVIDENCE = "evidence"
    SYSTEM = "system"


@dataclass(frozen=True)
class Location:
    """Where a finding points: a file (and line) that SARIF and editors can open."""

    path: str
    kind: LocationKind
    line: int | None = None
    column: int | None = None
    snippet: str | None = None


@dataclass(frozen=True)
class Finding:
    rule_id: str
    title: str
    threat: ThreatId
    status: Status
    severity: Severity
    message: str
    interface: InterfaceId | None = None
    rationale: str = ""
    remediation: str = ""
    references: tuple[str, ...] = ()
    location: Location | None = None
    mitigation: str | None = None  # mitigation id from the threat model this finding evidences
    # Extra context for renderers (e.g. Kconfig "why", waiver rationale); never used for logic.
    notes: tuple[str, ...] = field(default=())
