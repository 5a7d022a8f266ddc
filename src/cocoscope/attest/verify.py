"""One verification API for SEV-SNP and TDX: ``verify(evidence, trust, policy, time)``.

    evidence  what the guest produced, parsed once: ``snp.evidence.ReportEvidence`` or
              ``tdx.quote.QuoteEvidence`` (``load_evidence`` sniffs a file's kind);
    trust     what it is checked against besides the pinned vendor roots:
              ``snp.verify.SnpTrust`` (VCEK/VLEK, intermediates, CRL) or ``tdx.verify.TdxTrust``
              (PCS collateral);
    policy    the owner's appraisal policy: ``SnpPolicy`` or ``TdxPolicy``, loaded by the one
              loader ``cocoscope.attest.policy.load_policy``;
    time      when certificates and collateral must be valid.

Each platform module exposes the same four names (``load_evidence``, ``load_trust``,
``verify``, ``verify_file``); this module routes by the evidence's type so callers that take
either (the audit) write no platform switch of their own.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from cocoscope.attest.result import Verification
from cocoscope.errors import UsageError
from cocoscope.evidence import files
from cocoscope.model.platform import Platform

if TYPE_CHECKING:  # the verifiers pull in cryptography: import them when used
    from cocoscope.attest.snp.evidence import ReportEvidence
    from cocoscope.attest.snp.policy import SnpPolicy
    from cocoscope.attest.snp.verify import SnpTrust
    from cocoscope.attest.tdx.policy import TdxPolicy
    from cocoscope.attest.tdx.quote import QuoteEvidence
    from cocoscope.attest.tdx.verify import TdxTrust

    Evidence = ReportEvidence | QuoteEvidence
    Trust = SnpTrust | TdxTrust
    Policy = SnpPolicy | TdxPolicy

MAX_EVIDENCE_SIZE = 1 << 20  # larger than any SNP report (HCL included) or TDX quote


def evidence_platform(data: bytes) -> Platform:
    """TDX for a DCAP quote, SNP otherwise (raw, hex or HCL-wrapped report)."""
    from cocoscope.attest.tdx.quote import is_tdx_quote

    return Platform.TDX if is_tdx_quote(data) else Platform.SNP


def load_evidence(path: str, platform: Platform | None = None) -> Evidence:
    """Read and parse an evidence file; without ``platform`` SNP and TDX are told apart by
    content."""
    if platform is None:
        platform = evidence_platform(files.read_input(path, files.EVIDENCE))
    if platform is Platform.TDX:
        from cocoscope.attest.tdx.quote import load_evidence as load_quote

        return load_quote(path)
    if platform is Platform.SNP:
        from cocoscope.attest.snp.evidence import load_evidence as load_report

        return load_report(path)
    raise UsageError(f"no attestation evidence format for platform {platform.value!r} "
                     "(expected snp or tdx)")


def verify(evidence: Evidence, trust: Trust, policy: Policy, time: datetime) -> Verification:
    """Verify either platform's evidence; the trust and policy must be the same platform's."""
    from cocoscope.attest.snp.evidence import ReportEvidence
    from cocoscope.attest.snp.policy import SnpPolicy
    from cocoscope.attest.snp.verify import SnpTrust
    from cocoscope.attest.snp.verify import verify as verify_snp
    from cocoscope.attest.tdx.policy import TdxPolicy
    from cocoscope.attest.tdx.verify import TdxTrust
    from cocoscope.attest.tdx.verify import verify as verify_tdx

    if isinstance(evidence, ReportEvidence):
        if not isinstance(trust, SnpTrust) or not isinstance(policy, SnpPolicy):
            raise UsageError("SEV-SNP evidence needs SNP certificates and an SNP policy")
        return verify_snp(evidence, trust, policy, time)
    if not isinstance(trust, TdxTrust) or not isinstance(policy, TdxPolicy):
        raise UsageError("a TDX quote needs TDX collateral and a TDX policy")
    return verify_tdx(evidence, trust, policy, time)
