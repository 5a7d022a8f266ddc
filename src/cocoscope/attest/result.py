"""Verification results shared by SNP and TDX: a list of named checks, failing closed."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class CheckStatus(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    # A check that could not run (missing input) is not a pass: ``Verification.ok`` is False.
    SKIPPED = "skipped"


@dataclass(frozen=True)
class Check:
    name: str  # stable, e.g. "signature", "chain.ask", "policy.debug"
    status: CheckStatus
    detail: str = ""

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

    @property
    def ok(self) -> bool:
        """True only when there is at least one check and every check passed (fail closed)."""
        return bool(self.checks) and all(c.passed for c in self.checks)

    @property
    def failed(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if not c.passed)


def passed(name: str, detail: str = "") -> Check:
    return Check(name, CheckStatus.PASS, detail)


def failed(name: str, detail: str) -> Check:
    return Check(name, CheckStatus.FAIL, detail)
