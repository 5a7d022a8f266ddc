"""One rendering of a ``Verification`` for both platforms: text and a JSON-ready mapping.

The text is the verdict line, the facts, then every check in order; the JSON carries the same
fields. Platform-specific decoding of the evidence itself lives in ``snp/show.py`` and
``tdx/show.py``.
"""

from __future__ import annotations

from typing import Any

from cocoscope.attest.result import VERDICT_WORDS, Verdict, Verification
from cocoscope.errors import EXIT_FINDINGS, EXIT_OK, EXIT_VERIFY
from cocoscope.report.envelope import plain

TITLES = {"snp-report": "SEV-SNP report", "tdx-quote": "TDX quote"}


def _fact(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, list | tuple):
        return ", ".join(map(str, value)) or "-"
    return str(value)


# Exit codes of `attest snp|tdx verify` (docs/attest-snp.md, docs/attest-tdx.md).
EXIT_CODES = {Verdict.VERIFIED: EXIT_OK, Verdict.NOT_APPRAISED: EXIT_FINDINGS,
              Verdict.FAILED: EXIT_VERIFY}
MEASUREMENT_KEYS = {"snp-report": "measurement", "tdx-quote": "mrtd"}


def exit_code(v: Verification) -> int:
    return EXIT_CODES[v.verdict]


def _closing(v: Verification) -> list[str]:
    lines = []
    checked = [c.name.removeprefix("policy.") for c in v.appraised]
    lines.append(f"reference values checked: {', '.join(checked) or 'none'}")
    if v.not_checked:
        lines.append(f"not checked (no reference value): {', '.join(v.not_checked)}")
    if v.verdict is Verdict.NOT_APPRAISED:
        key = MEASUREMENT_KEYS.get(v.kind, "measurement")
        lines.append(f"launch measurement NOT CHECKED: the evidence is authentic, but without a "
                     f"reference value (policy key {key!r}) it does not show which firmware, "
                     "kernel and command line the host loaded")
    if not v.ok:
        lines.append(f"{len(v.failed)} check(s) failed: {', '.join(c.name for c in v.failed)}")
    return lines


def render_verification(v: Verification) -> str:
    lines = [f"{TITLES.get(v.kind, v.kind)} {v.subject}: {VERDICT_WORDS[v.verdict]}"]
    for key, value in v.facts.items():
        lines.append(f"  {key + ':':<20} {_fact(value)}")
    for c in v.checks:
        lines.append(f"  {c.status.value.upper():<7} {c.name:<36} {c.detail}")
    return "\n".join(lines + _closing(v))


def verification_json(v: Verification) -> dict[str, Any]:
    return {"subject": v.subject, "kind": v.kind, "ok": v.ok, "verdict": v.verdict.value,
            "authentic": v.authentic, "measurement_checked": v.measurement_checked,
            "reference_values": {"checked": [c.name for c in v.appraised],
                                 "not_checked": list(v.not_checked)},
            "facts": plain(v.facts), "checks": plain(list(v.checks)),
            "failed": [c.name for c in v.failed]}
