"""Attestation in the audit: the evidence (SNP report or TDX quote), its trust inputs and
policy parsed once; verification; and the outcomes the CCS-ATTEST rules read.

The rules themselves are data (rules/packs/attestation.toml); this module only establishes
the facts they test: did the evidence verify, does the event log replay to the quote.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from cocoscope.attest.fetch.complete import verify_completed
from cocoscope.attest.fetch.config import FetchConfig
from cocoscope.attest.policy import load_policy
from cocoscope.attest.result import Verification
from cocoscope.attest.snp.evidence import ReportEvidence, parse_evidence
from cocoscope.attest.snp.policy import SnpPolicy
from cocoscope.attest.snp.verify import SnpTrust
from cocoscope.attest.snp.verify import load_trust as load_snp_trust
from cocoscope.attest.tdx.eventlog import EventLog, compare_rtmrs
from cocoscope.attest.tdx.policy import TdxPolicy
from cocoscope.attest.tdx.quote import QuoteEvidence, parse_quote
from cocoscope.attest.tdx.verify import TdxTrust
from cocoscope.attest.tdx.verify import load_trust as load_tdx_trust
from cocoscope.attest.verify import evidence_platform
from cocoscope.errors import UsageError
from cocoscope.evidence import files
from cocoscope.evidence.guest import AttestationOutcome
from cocoscope.model.platform import Platform

# Outcome names, as the `attestation` rule condition spells them.
EVIDENCE_VERIFIED = "evidence-verified"
EVENTLOG_BOUND = "eventlog-bound"
CMDLINE_FROM_EVENTLOG = "cmdline-from-eventlog"


@dataclass(frozen=True)
class AttestationInput:
    """The evidence file parsed once, with its trust inputs and policy (same platform)."""

    path: str
    sha256: str
    evidence: ReportEvidence | QuoteEvidence
    trust: SnpTrust | TdxTrust
    policy: SnpPolicy | TdxPolicy

    @property
    def kind(self) -> str:
        return "tdx-quote" if isinstance(self.evidence, QuoteEvidence) else "snp-report"

    @property
    def quote(self) -> QuoteEvidence | None:
        return self.evidence if isinstance(self.evidence, QuoteEvidence) else None


def load_attestation(path: str, platform: Platform | None, policy: str | None,
                     certs: tuple[str, ...],
                     collateral_dir: str | None) -> AttestationInput:
    """Read the evidence once, tell SNP from TDX (unless --platform says), parse it with its
    trust inputs and policy. Raises InputError naming the file on malformed input."""
    data = files.read_input(path, files.EVIDENCE)
    digest = files.sha256_hex(data)
    kind = platform if platform is not None and platform.confidential else evidence_platform(data)
    if kind is Platform.TDX:
        if certs:
            raise UsageError("--certs is for SNP reports; TDX takes --collateral-dir")
        return AttestationInput(path, digest, QuoteEvidence(path, parse_quote(data, source=path)),
                                load_tdx_trust(collateral_dir), load_policy(TdxPolicy, policy))
    if collateral_dir:
        raise UsageError("--collateral-dir is for TDX quotes; SNP takes --certs")
    return AttestationInput(path, digest, parse_evidence(data, path=path),
                            load_snp_trust(certs), load_policy(SnpPolicy, policy))


def verify(att: AttestationInput, at: datetime | None,
           fetch: FetchConfig | None = None) -> Verification:
    """Verify, after filling missing certificates/collateral from the cache (and with --fetch
    from AMD KDS / Intel PCS)."""
    return verify_completed(att.evidence, att.trust, att.policy, at or datetime.now(UTC),
                            fetch or FetchConfig())


def evidence_outcome(v: Verification) -> AttestationOutcome:
    """CCS-ATTEST-001 passes only when the launch measurement matched an owner's reference
    value: authentic evidence of an unknown launch does not mitigate a malicious configuration,
    so it is unknown (with that reason), never a pass."""
    if v.failed:
        detail = "failed: " + "; ".join(f"{c.name}: {c.detail}" for c in v.failed)
        return AttestationOutcome(False, detail, v.subject)
    if not v.measurement_matched:
        return AttestationOutcome(None, f"{v.kind}: authentic (all {len(v.checks)} checks "
                                        "passed), but the launch measurement was not checked "
                                        "against a reference value, so which firmware, kernel "
                                        "and command line the host loaded is not shown",
                                  v.subject)
    return AttestationOutcome(True, f"{v.kind}: all {len(v.checks)} checks passed, launch "
                                    "measurement matched the reference value", v.subject)


def eventlog_outcome(log: EventLog, att: AttestationInput | None
                     ) -> tuple[AttestationOutcome, bool]:
    """Is the event log that supplied the command line bound to the quote's RTMRs?

    Event data is not signed; only a replay that reproduces the RTMRs of the quote makes the
    measured command line trustworthy. Without a TDX quote the binding is unknown. Returns the
    outcome and whether the binding failed (a verification failure).
    """
    quote = att.quote if att is not None else None
    if quote is None:
        return AttestationOutcome(None, "no TDX quote given: the log is not bound to signed "
                                        "evidence", log.source), False
    v = compare_rtmrs(log, quote.quote.body.rtmrs, subject=log.source)
    detail = ("RTMR0-3 replay to the quote's values" if v.ok else
              "mismatch: " + "; ".join(f"{c.name}: {c.detail}" for c in v.failed))
    return AttestationOutcome(v.ok, detail, log.source), not v.ok


def summary(v: Verification) -> str:
    status = v.facts.get("tcb_status")
    extra = f", TCB {status}" if status else ""
    if not v.ok:
        return f"{v.kind} FAILED ({len(v.failed)} of {len(v.checks)} checks{extra})"
    if not v.measurement_matched:
        return f"{v.kind} authentic, launch measurement not checked{extra}"
    return f"{v.kind} verified{extra}"
