"""One Report (the threat matrix filled in) and its renderers: terminal, JSON, SARIF, Markdown."""

from cocoscope.report.model import InputRecord, Report, ThreatRow, build_report

__all__ = ["InputRecord", "Report", "ThreatRow", "build_report"]
