"""The audit job: request -> gather (every input parsed exactly once) -> evaluate (rules,
surface, attestation) -> one Report for the renderers in cocoscope.report.

Modules: request (flags, checked once), gather (all I/O and parsing), attest (evidence and
the outcomes the CCS-ATTEST rules read), evaluate (rules, Kconfig "why", surface, Report).
"""

from __future__ import annotations

from cocoscope.audit.evaluate import AuditResult
from cocoscope.audit.request import AuditRequest


def run_audit(req: AuditRequest) -> AuditResult:
    from cocoscope.audit.evaluate import evaluate
    from cocoscope.audit.gather import gather

    return evaluate(req, gather(req))


__all__ = ["AuditRequest", "AuditResult", "run_audit"]
