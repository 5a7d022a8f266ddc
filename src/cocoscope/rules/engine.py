"""Evaluate rules against a guest's evidence and produce Findings."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import replace

from cocoscope.evidence.dotconfig import ConfigEntry, KernelConfig
from cocoscope.evidence.guest import GuestEvidence
from cocoscope.finding import Finding, Location, LocationKind, Status
from cocoscope.model.platform import CONFIDENTIAL, rule_applies
from cocoscope.rules.conditions import Condition
from cocoscope.rules.keep import Keep
from cocoscope.rules.rule import Rule
from cocoscope.rules.waivers import Waiver


def _location(cond: Condition, ev: GuestEvidence) -> Location | None:
    """Anchor a finding to the first config line or command-line argument it reads."""
    for leaf in cond.leaves():
        loc = leaf.location(ev)
        if loc is not None:
            # line 0: a symbol a resolved fragment does not set (evidence/kconfig/resolve.py);
            # the finding points at the fragment, not at a line of it
            return replace(loc, line=None, snippet=None) if loc.line == 0 else loc
    if ev.system is not None:
        return Location(ev.system.root, LocationKind.SYSTEM)
    return None


def _message(rule: Rule, status: Status, ev: GuestEvidence) -> str:
    facts = [d for leaf in rule.pass_if.leaves() if (d := leaf.describe(ev))]
    facts = list(dict.fromkeys(facts))  # keep order, drop repeats
    if status is Status.UNKNOWN:
        return "not enough evidence to decide" + (f" ({'; '.join(facts)})" if facts else "")
    if status is Status.NOT_APPLICABLE:
        if ev.platform is None and vendor_specific(rule):
            return (f"applies to {', '.join(sorted(rule.platforms or ()))} only and the platform "
                    "is unknown: pass --platform tdx or --platform snp")
        return "does not apply to this guest"
    if status is Status.ADVICE:
        return "review: " + ("; ".join(facts) if facts else "condition not met")
    return "; ".join(facts) if facts else ("satisfied" if status is Status.PASS else "not satisfied")


def vendor_specific(rule: Rule) -> bool:
    """A rule for one vendor's platform (TDX, or the SEV family), not for every CoCo guest."""
    return bool(rule.platforms) and not set(CONFIDENTIAL) <= set(rule.platforms or ())


def evaluate_rule(rule: Rule, ev: GuestEvidence) -> Status:
    if not rule_applies(rule.platforms, ev.platform):
        return Status.NOT_APPLICABLE
    # With no platform known, holding an SNP-only kernel to the TDX rules (or the other way
    # round) fails a critical rule for nothing; the report says how to choose instead.
    if ev.platform is None and vendor_specific(rule):
        return Status.NOT_APPLICABLE
    if rule.applies_if is not None:
        applies = rule.applies_if.evaluate(ev)
        if applies is False:
            return Status.NOT_APPLICABLE
        if applies is None:
            return Status.UNKNOWN
    result = rule.pass_if.evaluate(ev)
    if result is None:
        return Status.UNKNOWN
    if result:
        return Status.PASS
    return Status.ADVICE if rule.advice else Status.FAIL


def _turned_off(config: KernelConfig, symbols: Iterable[str]) -> KernelConfig:
    """``config`` as it would be with ``symbols`` set to n (what the fragment would do)."""
    entries = dict(config.entries)
    for sym in symbols:
        old = entries[sym]
        entries[sym] = ConfigEntry(sym, "n", old.line, f"# CONFIG_{sym} is not set")
    return replace(config, entries=entries)


def kept_cause(rule: Rule, ev: GuestEvidence, keep: Keep) -> tuple[str, ...]:
    """The kept symbols a failing rule fails for alone: with them off it would pass. Empty if
    the rule fails for anything else too (then it stays a failure)."""
    if not keep or ev.config is None:
        return ()
    kept_on = tuple(sorted(s for s in set(rule.pass_if.config_symbols()) & keep.symbols
                           if ev.config.is_on(s)))
    if not kept_on:
        return ()
    without = replace(ev, config=_turned_off(ev.config, kept_on))
    return kept_on if evaluate_rule(rule, without) is Status.PASS else ()


def evaluate_rules(
    rules: Iterable[Rule],
    ev: GuestEvidence,
    waivers: dict[str, Waiver] | None = None,
    today: dt.date | None = None,
    keep: Keep | None = None,
) -> list[Finding]:
    """``keep``: what the deployment keeps on purpose (``--keep``, as given to ``cocoscope
    fragment``). A rule that fails only because of a kept symbol is advice, with a note naming
    it: visible for review, never failing, so a guest built from the fragment audits clean
    under the same --keep."""
    today = today or dt.date.today()
    findings = []
    for rule in rules:
        status = evaluate_rule(rule, ev)
        notes: list[str] = []
        if status is Status.FAIL and keep and (kept := kept_cause(rule, ev, keep)):
            status = Status.ADVICE
            notes.append("accepted: fails only because of what the deployment keeps ("
                         f"{keep.label}): " + ", ".join(f"CONFIG_{s}" for s in kept))
        waiver = (waivers or {}).get(rule.id)
        if waiver is not None and status is Status.FAIL:
            if waiver.expires >= today:
                status = Status.WAIVED
                notes.append(f"waived until {waiver.expires}: {waiver.rationale}")
            else:
                notes.append(f"waiver expired on {waiver.expires}: {waiver.rationale}")
        if status is not Status.NOT_APPLICABLE:
            notes.extend(n for leaf in rule.pass_if.leaves() for n in leaf.details(ev))
        if rule.version_note:
            notes.append(rule.version_note)
        findings.append(
            Finding(
                rule_id=rule.id,
                title=rule.title,
                threat=rule.threat,
                status=status,
                severity=rule.severity,
                message=_message(rule, status, ev),
                interface=rule.interface,
                rationale=rule.rationale,
                remediation=rule.remediation,
                references=rule.references,
                location=_location(rule.pass_if, ev),
                mitigation=rule.mitigation,
                notes=tuple(notes),
            )
        )
    return findings
