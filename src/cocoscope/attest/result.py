"""Verification results shared by SNP and TDX: a list of named checks, failing closed.

Authenticity and appraisal are kept apart. Authenticity checks (format, signatures, chains,
collateral, TCB) show that a genuine platform produced the evidence; appraisal checks compare
what it says with the owner's reference values (launch measurement, MRTD/RTMRs, REPORT_DATA or
nonce, host data, policy bits). A valid signature proves the platform signed *something*; only
a launch measurement that matched a reference value shows the host loaded the firmware, kernel
and command line the owner expected. Hence three verdicts:

  VERIFIED                  every check passed and the launch measurement matched a reference
  AUTHENTIC, NOT APPRAISED  every check passed, but no reference launch measurement was given
  FAILED                    at least one check failed (or none ran)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class CheckStatus(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    # A check that could not run (missing input) is not a pass: ``Verification.ok`` is False.
    SKIPPED = "skipped"


class Part(StrEnum):
    AUTHENTICITY = "authenticity"  # signature, chain, collateral, TCB
    APPRAISAL = "appraisal"  # comparison with an owner's reference value or policy bit


class Verdict(StrEnum):
    VERIFIED = "verified"
    NOT_APPRAISED = "authentic-not-appraised"
    FAILED = "failed"


VERDICT_WORDS = {Verdict.VERIFIED: "VERIFIED", Verdict.NOT_APPRAISED: "AUTHENTIC, NOT APPRAISED",
                 Verdict.FAILED: "FAILED"}


@dataclass(frozen=True)
class Check:
    name: str  # stable, e.g. "signature", "chain.ask", "policy.debug"
    status: CheckStatus
    detail: str = ""
    part: Part = Part.AUTHENTICITY

    @property
    def passed(self) -> bool:
        return self.status is CheckStatus.PASS


@dataclass(frozen=True)
class Verification:
    subject: str  # file verified
    kind: str  # "snp-report", "tdx-quote", "tdx-eventlog"
    checks: tuple[Check, ...]
    # Facts worth showing next to the result (product, TCB status, advisory ids, ...).
    facts: dict[str, object] = field(default_factory=dict)
    # The check that compares the launch measurement (SNP MEASUREMENT, TDX MRTD) with a
    # reference value, and the reference values the policy left unset (named by policy key).
    measurement_check: str = ""
    not_checked: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """True only when there is at least one check and every check passed (fail closed)."""
        return bool(self.checks) and all(c.passed for c in self.checks)

    @property
    def failed(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if not c.passed)

    @property
    def measurement_checked(self) -> bool:
        """The launch measurement was compared with an owner's reference value."""
        return bool(self.measurement_check) and any(
            c.name == self.measurement_check for c in self.checks)

    @property
    def measurement_matched(self) -> bool:
        """... and matched it (what the audit's configuration row needs)."""
        return bool(self.measurement_check) and any(
            c.name == self.measurement_check and c.passed for c in self.checks)

    @property
    def authentic(self) -> bool:
        """Every authenticity check passed (signatures, chains, collateral, TCB)."""
        own = [c for c in self.checks if c.part is Part.AUTHENTICITY]
        return bool(own) and all(c.passed for c in own)

    @property
    def appraised(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if c.part is Part.APPRAISAL)

    @property
    def verdict(self) -> Verdict:
        if not self.ok:
            return Verdict.FAILED
        return Verdict.VERIFIED if self.measurement_matched else Verdict.NOT_APPRAISED


def passed(name: str, detail: str = "") -> Check:
    return Check(name, CheckStatus.PASS, detail)


def failed(name: str, detail: str) -> Check:
    return Check(name, CheckStatus.FAIL, detail)


def appraisal(*checks: Check | None) -> tuple[Check, ...]:
    """Mark checks as comparisons with the owner's reference values (None: not configured)."""
    return tuple(Check(c.name, c.status, c.detail, Part.APPRAISAL) for c in checks
                 if c is not None)
