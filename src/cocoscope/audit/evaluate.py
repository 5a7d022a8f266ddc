"""Evaluate: attestation first (its outcomes feed the CCS-ATTEST rules), then every rule,
the Kconfig "why" for failing symbols, the source surface; then build the one Report."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from cocoscope.attest.result import Verification
from cocoscope.audit import attest
from cocoscope.audit.gather import Gathered
from cocoscope.audit.request import AuditRequest
from cocoscope.errors import UsageError
from cocoscope.evidence.dotconfig import KernelConfig
from cocoscope.evidence.guest import AttestationOutcome, GuestEvidence
from cocoscope.finding import Finding, Status
from cocoscope.model import ThreatId
from cocoscope.report.model import Report, build_report
from cocoscope.rules import Rule, evaluate_rules

if TYPE_CHECKING:
    from cocoscope.surface.inventory import Inventory


@dataclass(frozen=True)
class AuditResult:
    report: Report
    verification_failed: bool


def explain_findings(findings: list[Finding], rules: tuple[Rule, ...], config: KernelConfig,
                     tree_dir: str) -> list[Finding]:
    """Add the Kconfig "why" to failing config findings: who selects, implies or defaults the
    symbol on, and what turning it off would drag along."""
    from cocoscope.evidence.kconfig import load_tree

    tree = load_tree(Path(tree_dir))
    tree.apply(config)
    by_id = {r.id: r for r in rules}
    out = []
    for f in findings:
        rule = by_id.get(f.rule_id)
        if f.status not in (Status.FAIL, Status.WAIVED) or rule is None:
            out.append(f)
            continue
        notes = list(f.notes)
        for symbol in rule.pass_if.config_symbols():
            if not tree.has_symbol(symbol):
                continue
            ex = tree.explain(symbol)
            if ex.why:
                notes.append(f"CONFIG_{symbol} is {ex.value}: " + "; ".join(ex.why))
            if ex.value != "n":
                if not ex.can_turn_off:
                    notes.append(f"CONFIG_{symbol} cannot simply be turned off: "
                                 + "; ".join(ex.blocked_by))
                elif ex.turning_off_changes:
                    dragged = ", ".join(f"{c.symbol} {c.before}->{c.after}"
                                        for c in ex.turning_off_changes[:12])
                    more = len(ex.turning_off_changes) - 12
                    notes.append(f"turning CONFIG_{symbol} off also changes: {dragged}"
                                 + (f" (+{more} more)" if more > 0 else ""))
        out.append(replace(f, notes=tuple(notes)))
    return out


def surface_facts(source: str, ev: GuestEvidence) -> tuple[dict[str, object], Inventory]:
    """Count the host-input sites the config builds (cocoscope surface) for the input row;
    the inventory also ranks the PCI drivers (CCS-DRV-001)."""
    from cocoscope.surface.api import inventory, summarise

    if ev.config is None:
        raise UsageError("--source needs a kernel config (--config, or a live system with one)")
    platform = ev.platform if ev.platform is not None and ev.platform.confidential else None
    inv = inventory(source, ev.config.path, platform=platform)
    counts = summarise(inv)
    return {
        "surface": f"{counts['sites']} host-input sites in built code, {counts['risky']} risky",
        "surface_counts": counts,
    }, inv


def with_drivers(req: AuditRequest, ev: GuestEvidence, inv: Inventory | None) -> GuestEvidence:
    """The PCI drivers the config builds, from --source (ranked by ``inv``) or --kconfig-tree."""
    tree = req.source or req.kconfig_tree
    if tree is None or ev.config is None:
        return ev
    from cocoscope.audit.drivers import driver_index

    sites = inv.host_sites if inv is not None else None
    return replace(ev, drivers=driver_index(tree, ev.config, sites))


def driver_facts(rules: tuple[Rule, ...], ev: GuestEvidence) -> dict[str, object]:
    """The PCI drivers each CCS-DRV rule reports, most exposed first, for the JSON facts."""
    from cocoscope.audit.drivers import ranking_facts
    from cocoscope.rules.conditions import PciDrivers

    out: dict[str, object] = {}
    for rule in rules:
        for leaf in rule.pass_if.leaves():
            if isinstance(leaf, PciDrivers) and (v := leaf.verdict(ev)) is not None:
                out[f"pci_drivers:{rule.id}"] = {
                    "origin": v.index.origin, "ranked": v.index.ranked,
                    "reported": ranking_facts(v.index, v.reported),
                    "fragment": [f"# CONFIG_{s} is not set"
                                 for s in leaf.config_fix(ev)],
                }
    return out


def _attestation_facts(v: Verification | None) -> dict[str, object]:
    if v is None:
        return {"attestation": "not checked (no --evidence given)"}
    return {
        "attestation": attest.summary(v),
        "checks": [f"{c.name}: {c.status.value}" + (f" ({c.detail})" if c.detail else "")
                   for c in v.checks],
        **{k: val for k, val in v.facts.items() if isinstance(val, str | int | list)},
    }


def evaluate(req: AuditRequest, g: Gathered) -> AuditResult:
    outcomes: dict[str, AttestationOutcome] = {
        attest.CMDLINE_FROM_EVENTLOG: AttestationOutcome(
            g.eventlog is not None,
            "command line measured in the event log" if g.eventlog is not None
            else "command line not taken from an event log"),
    }
    verification = None
    verification_failed = False
    if g.attestation is not None:
        verification = attest.verify(g.attestation, req.time, req.fetch)
        outcomes[attest.EVIDENCE_VERIFIED] = attest.evidence_outcome(verification)
        verification_failed = not verification.ok
    else:
        outcomes[attest.EVIDENCE_VERIFIED] = AttestationOutcome(
            None, "no attestation evidence given (--evidence)")
    if g.eventlog is not None:
        bound, broken = attest.eventlog_outcome(g.eventlog, g.attestation)
        outcomes[attest.EVENTLOG_BOUND] = bound
        verification_failed = verification_failed or broken
    guest = replace(g.guest, attestation=outcomes)
    surface: dict[str, object] = {}
    inv = None
    if req.source:
        surface, inv = surface_facts(req.source, guest)
    guest = with_drivers(req, guest, inv)
    findings = evaluate_rules(g.rules, guest, g.waivers, keep=g.keep)
    if req.kconfig_tree:
        if guest.config is None:
            raise UsageError("--kconfig-tree needs a kernel config to explain")
        findings = explain_findings(findings, g.rules, guest.config, req.kconfig_tree)
    facts: dict[ThreatId, dict[str, object]] = {
        ThreatId.GUEST_MALICIOUS_CONFIGURATION: _attestation_facts(verification)}
    facts[ThreatId.MALFORMED_RUNTIME_INPUT] = {**surface, **driver_facts(g.rules, guest)}
    system = guest.system
    report = build_report(findings, list(g.inputs),
                          platform=system.detection if system else None,
                          devices=system.devices if system else (), facts=facts,
                          target=g.target.as_dict(), notes=g.target.notes)
    return AuditResult(report, verification_failed)
