"""``{ attestation = "..." }``: an outcome the audit established from attestation evidence
before the rules ran (GuestEvidence.attestation), so the CCS-ATTEST rules are data too."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cocoscope.evidence.guest import GuestEvidence
from cocoscope.finding import Location, LocationKind
from cocoscope.rules.conditions.base import Condition, ConditionError, Tri, register

# The outcomes cocoscope.audit.attest establishes: the --evidence report or quote verified
# against the policy; the event log replays to the quote's RTMRs; the command line was taken
# from an event log.
OUTCOMES = frozenset({"evidence-verified", "eventlog-bound", "cmdline-from-eventlog"})


@register
@dataclass(frozen=True)
class Attestation(Condition):
    outcome: str

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> Attestation | None:
        if set(doc) != {"attestation"}:
            return None
        if doc["attestation"] not in OUTCOMES:
            raise ConditionError(f"'attestation' must be one of {sorted(OUTCOMES)}")
        return cls(doc["attestation"])

    def evaluate(self, ev: GuestEvidence) -> Tri:
        outcome = ev.attestation.get(self.outcome)
        return None if outcome is None else outcome.ok

    def describe(self, ev: GuestEvidence) -> str | None:
        outcome = ev.attestation.get(self.outcome)
        return None if outcome is None else outcome.detail

    def location(self, ev: GuestEvidence) -> Location | None:
        outcome = ev.attestation.get(self.outcome)
        if outcome is None or outcome.subject is None:
            return None
        return Location(outcome.subject, LocationKind.EVIDENCE)
