"""Gather reads and parses every input of the audit exactly once."""

from __future__ import annotations

import builtins
import hashlib
import os
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from cocoscope.attest.snp.evidence import ReportEvidence
from cocoscope.attest.tdx import eventlog
from cocoscope.attest.tdx.quote import QuoteEvidence
from cocoscope.audit import AuditRequest, run_audit
from cocoscope.audit.gather import gather
from cocoscope.errors import UsageError
from tests.paths import ATTESTATION

ATT = ATTESTATION
GCP = ATT / "tdx" / "go-tdx-guest" / "ccel"
SNP = ATT / "snp" / "virtee-sev"


@pytest.fixture
def opened(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """Count every open() and os.open() of a file, by path (evidence.files reads with os.open)."""
    counts: Counter[str] = Counter()
    real, real_os = builtins.open, os.open

    def counting(file: Any, *args: Any, **kw: Any) -> Any:
        counts[str(file)] += 1
        return real(file, *args, **kw)

    def counting_os(file: Any, *args: Any, **kw: Any) -> Any:
        counts[str(file)] += 1
        return real_os(file, *args, **kw)

    monkeypatch.setattr(builtins, "open", counting)
    monkeypatch.setattr(os, "open", counting_os)
    return counts


def test_quote_and_eventlog_read_and_parsed_once(tmp_path: Path, opened: Counter[str],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    policy = tmp_path / "p.toml"
    policy.write_text('[tdx]\naccepted_tcb = ["Unknown"]\n')
    parses: list[str] = []
    real_parse = eventlog.parse_eventlog

    def counting_parse(data: bytes, path: str = "<eventlog>") -> eventlog.EventLog:
        parses.append(path)
        return real_parse(data, path)

    monkeypatch.setattr("cocoscope.audit.gather.parse_eventlog", counting_parse)
    quote, log = GCP / "cos-113-tdx-quote.dat", GCP / "ccel_data.dat"
    req = AuditRequest(cmdline_eventlog=str(log), evidence=str(quote), policy=str(policy))
    result = run_audit(req)
    assert opened[str(quote)] == 1 and opened[str(log)] == 1 and opened[str(policy)] == 1
    assert parses == [str(log)]
    # The hashes in the report come from the bytes that were parsed.
    digests = {i.kind: i.sha256 for i in result.report.inputs}
    assert digests["evidence"] == hashlib.sha256(quote.read_bytes()).hexdigest()
    assert digests["cmdline"] == hashlib.sha256(log.read_bytes()).hexdigest()


def test_evidence_kind_sniffed_or_forced() -> None:
    g = gather(AuditRequest(evidence=str(GCP / "cos-113-tdx-quote.dat")))
    assert g.attestation is not None and g.attestation.kind == "tdx-quote"
    assert isinstance(g.attestation.evidence, QuoteEvidence)
    g = gather(AuditRequest(evidence=str(SNP / "report_milan.hex")))
    assert g.attestation is not None and g.attestation.kind == "snp-report"
    assert isinstance(g.attestation.evidence, ReportEvidence)
    assert g.attestation.evidence.form == "hex"
    assert g.guest.system is None and g.guest.config is None  # evidence alone is not live


def test_policy_needs_evidence_checked_before_reading() -> None:
    with pytest.raises(UsageError, match="--policy needs --evidence"):
        gather(AuditRequest(config="/nonexistent", policy="/nonexistent"))
