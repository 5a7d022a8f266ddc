"""Attestation evidence in the audit: verify an SNP report or TDX quote and turn the result
into a finding of the guest-malicious-configuration row (issue: "into the audit")."""

from __future__ import annotations

import datetime as dt
import struct
from dataclasses import dataclass

from cocoscope.attest.policy import load as load_policy_file
from cocoscope.attest.result import Verification
from cocoscope.errors import InputError, UsageError, read_bytes
from cocoscope.finding import Finding, Location, LocationKind, Severity, Status
from cocoscope.model import InterfaceId, ThreatId

RULE_ID = "CCS-ATTEST-001"
_TDX_TEE_TYPE = 0x81


@dataclass(frozen=True)
class AttestationRequest:
    evidence: str
    platform: str  # "auto", "tdx", "snp"
    policy: str | None
    certs: tuple[str, ...]
    collateral_dir: str | None
    time: str | None


def evidence_kind(data: bytes) -> str:
    """"tdx" for a DCAP quote (version 4/5, TEE type 0x81), "snp" otherwise (raw, hex, HCL)."""
    if len(data) >= 8:
        version, _key_type, tee_type = struct.unpack_from("<HHI", data, 0)
        if version in (4, 5) and tee_type == _TDX_TEE_TYPE:
            return "tdx"
    return "snp"


def parse_time(text: str | None) -> dt.datetime | None:
    if text is None:
        return None
    try:
        when = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(f"--time {text!r} is not an ISO 8601 time") from None
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


def verify(req: AttestationRequest) -> Verification:
    kind = req.platform if req.platform in ("tdx", "snp") else \
        evidence_kind(read_bytes(req.evidence, what="attestation evidence", max_size=1 << 20))
    at = parse_time(req.time)
    if kind == "tdx":
        from cocoscope.attest.tdx.policy import TdxPolicy
        from cocoscope.attest.tdx.verify import verify_tdx_quote

        tdx_policy = load_policy_file(TdxPolicy, req.policy, section="tdx")
        return verify_tdx_quote(req.evidence, req.collateral_dir, tdx_policy, at)
    from cocoscope.attest.snp.policy import load_policy as load_snp_policy
    from cocoscope.attest.snp.verify import verify_snp_report

    if req.collateral_dir:
        raise UsageError("--collateral-dir is for TDX quotes; SNP takes --certs")
    return verify_snp_report(req.evidence, req.certs, load_snp_policy(req.policy), at)


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
