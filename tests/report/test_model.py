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
