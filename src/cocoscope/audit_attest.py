"""Attestation evidence in the audit: verify an SNP report or TDX quote and turn the result
into a finding of the guest-malicious-configuration row (issue: "into the audit")."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from cocoscope.attest.policy import load_policy
from cocoscope.attest.result import Verification
from cocoscope.attest.tdx.quote import is_tdx_quote
from cocoscope.errors import InputError, UsageError, read_bytes
from cocoscope.finding import Finding, Location, LocationKind, Severity, Status
from cocoscope.model import InterfaceId, ThreatId

RULE_ID = "CCS-ATTEST-001"


@dataclass(frozen=True)
class AttestationRequest:
    evidence: str
    platform: str  # "auto", "tdx", "snp"
    policy: str | None
    certs: tuple[str, ...]
    collateral_dir: str | None
    time: dt.datetime | None  # certificates are checked at this time (None: now)


def evidence_kind(data: bytes) -> str:
    """"tdx" for a DCAP quote, "snp" otherwise (raw, hex or HCL-wrapped report)."""
    return "tdx" if is_tdx_quote(data) else "snp"


def verify(req: AttestationRequest) -> Verification:
    kind = req.platform if req.platform in ("tdx", "snp") else \
        evidence_kind(read_bytes(req.evidence, what="attestation evidence", max_size=1 << 20))
    at = req.time
    if kind == "tdx":
        from cocoscope.attest.tdx.policy import TdxPolicy
        from cocoscope.attest.tdx.verify import verify_file as verify_quote_file

        return verify_quote_file(req.evidence, req.collateral_dir,
                                 load_policy(TdxPolicy, req.policy), at)
    from cocoscope.attest.snp.policy import SnpPolicy
    from cocoscope.attest.snp.verify import verify_file as verify_report_file

    if req.collateral_dir:
        raise UsageError("--collateral-dir is for TDX quotes; SNP takes --certs")
    return verify_report_file(req.evidence, req.certs, load_policy(SnpPolicy, req.policy), at)


def as_finding(v: Verification) -> Finding:
    if not v.checks:
        raise InputError("verifier returned no checks", path=v.subject)
    failed = v.failed
    if failed:
        msg = "failed: " + "; ".join(f"{c.name}: {c.detail}" for c in failed)
    else:
        msg = f"all {len(v.checks)} checks passed"
    return Finding(
        rule_id=RULE_ID,
        title=f"attestation evidence ({v.kind}) verifies against the policy",
        threat=ThreatId.GUEST_MALICIOUS_CONFIGURATION,
        status=Status.PASS if v.ok else Status.FAIL,
        severity=Severity.CRITICAL,
        message=msg,
        interface=InterfaceId.BOOT_CONFIGURATION,
        rationale="The host loads firmware, kernel and command line; only signed launch "
                  "evidence checked against expected values shows it loaded the right ones.",
        remediation="Fix what the failed checks name: measurements, policy bits, certificates "
                    "or TCB level; never trust a guest whose evidence does not verify.",
        location=Location(v.subject, LocationKind.EVIDENCE),
        mitigation="remote-attestation",
    )


def summary(v: Verification) -> str:
    extra = ""
    status = v.facts.get("tcb_status")
    if status:
        extra = f", TCB {status}"
    return (f"{v.kind} verified{extra}" if v.ok
            else f"{v.kind} FAILED ({len(v.failed)} of {len(v.checks)} checks{extra})")


EVENTLOG_RULE_ID = "CCS-ATTEST-002"


def eventlog_binding(log_path: str, evidence: str | None) -> tuple[Finding, bool]:
    """Is the event log that supplied the command line bound to the quote's RTMRs?

    Event data is not signed; only a replay that reproduces the RTMRs of a verified quote makes
    the measured command line trustworthy. Without a TDX quote the binding is unknown.
    Returns the finding and whether it failed verification.
    """
    from cocoscope.attest.tdx import eventlog
    from cocoscope.attest.tdx.quote import parse_quote

    base = dict(
        rule_id=EVENTLOG_RULE_ID,
        title="event log that supplied the command line replays to the quote's RTMRs",
        threat=ThreatId.GUEST_MALICIOUS_CONFIGURATION,
        severity=Severity.HIGH,
        interface=InterfaceId.BOOT_CONFIGURATION,
        rationale="The command line in an event log is only as trustworthy as the replay that "
                  "ties the log to a signed quote.",
        remediation="Pass the TDX quote with --evidence so the log is bound to it.",
        location=Location(log_path, LocationKind.EVIDENCE),
        mitigation="remote-attestation",
    )
    data = read_bytes(evidence, what="attestation evidence", max_size=1 << 20) if evidence else b""
    if not evidence or evidence_kind(data) != "tdx":
        return Finding(status=Status.UNKNOWN,
                       message="no TDX quote given: the log is not bound to signed evidence",
                       **base), False  # type: ignore[arg-type]
    log = eventlog.parse_eventlog(read_bytes(log_path, what="event log"), log_path)
    quote = parse_quote(data, source=evidence)
    v = eventlog.compare_rtmrs(log, quote.body.rtmrs, subject=log_path)
    msg = ("RTMR0-3 replay to the quote's values" if v.ok else
           "mismatch: " + "; ".join(f"{c.name}: {c.detail}" for c in v.failed))
    return Finding(status=Status.PASS if v.ok else Status.FAIL, message=msg,
                   **base), not v.ok  # type: ignore[arg-type]
