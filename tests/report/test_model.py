"""The Report model: rows per threat, and the one "which findings to list" filter."""

from __future__ import annotations

import pytest

from cocoscope.finding import Finding, Severity, Status
from cocoscope.model import ThreatId
from cocoscope.report.model import build_report, shown_findings


def _finding(rid: str, status: Status) -> Finding:
    return Finding(rid, "t", ThreatId.GUEST_DATA_ATTACKS, status, Severity.LOW, "m")


def test_show_fail_lists_failing_and_waived_only() -> None:
    r = build_report([_finding(f"CCS-X-00{i}", s) for i, s in enumerate(Status)], [])
    assert [f.status for f in shown_findings(r, "fail")] == [Status.FAIL, Status.WAIVED]
    assert len(shown_findings(r, "all")) == len(Status)
    assert shown_findings(r) == shown_findings(r, "fail")
    with pytest.raises(ValueError, match="--show"):
        shown_findings(r, "some")


def test_listed_most_severe_first_then_by_id() -> None:
    fs = [Finding(rid, "t", ThreatId.GUEST_DATA_ATTACKS, Status.FAIL, sev, "m")
          for rid, sev in (("CCS-B-001", Severity.LOW), ("CCS-A-002", Severity.CRITICAL),
                           ("CCS-A-001", Severity.LOW), ("CCS-C-001", Severity.CRITICAL))]
    r = build_report(fs, [])
    assert [f.rule_id for f in shown_findings(r, "all")] == [
        "CCS-A-002", "CCS-C-001", "CCS-A-001", "CCS-B-001"]


def test_failing_and_totals() -> None:
    from cocoscope.report.model import failing, totals

    fs = [_finding("CCS-X-001", Status.FAIL), _finding("CCS-X-002", Status.WAIVED)]
    r = build_report(fs, [])
    assert [f.rule_id for f in failing(r, Severity.LOW)] == ["CCS-X-001"]
    assert failing(r, Severity.MEDIUM) == ()
    assert totals(r)[Status.FAIL] == 1 and totals(r)[Status.PASS] == 0
