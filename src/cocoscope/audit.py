"""The audit job: collect evidence (I/O at the edge), evaluate, build the Report."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from cocoscope import audit_attest
from cocoscope.errors import UsageError
from cocoscope.evidence.cmdline import Cmdline, load_cmdline, parse_cmdline
from cocoscope.evidence.dotconfig import KernelConfig, load_config
from cocoscope.evidence.guest import GuestEvidence
from cocoscope.evidence.system import RunningSystem, read_system
from cocoscope.finding import Finding, Status
from cocoscope.model import ThreatId
from cocoscope.model.platform import Platform
from cocoscope.report.model import InputRecord, Report, build_report, sha256_file
from cocoscope.rules import Rule, evaluate_rules, load_rules


@dataclass(frozen=True)
class AuditRequest:
    config: str | None = None
    cmdline: str | None = None
    cmdline_file: str | None = None
    cmdline_eventlog: str | None = None
    root: str | None = None
    platform: str = "auto"
    kconfig_tree: str | None = None
    source: str | None = None
    evidence: str | None = None
    policy: str | None = None
    certs: tuple[str, ...] = ()
    collateral_dir: str | None = None
    time: datetime | None = None
    rule_files: tuple[str, ...] = ()
    waivers: str | None = None


@dataclass(frozen=True)
class AuditResult:
    report: Report
    verification_failed: bool


def _is_live(req: AuditRequest) -> bool:
    explicit = (req.config, req.cmdline, req.cmdline_file, req.cmdline_eventlog, req.evidence)
    return req.root is not None or not any(explicit)


def gather(req: AuditRequest) -> tuple[GuestEvidence, list[InputRecord]]:
    inputs: list[InputRecord] = []
    system: RunningSystem | None = None
    if _is_live(req):
        system = read_system(req.root or "/")
        inputs.append(InputRecord("system", system.root, None,
                                  f"release {system.release}" if system.release else ""))
    config: KernelConfig | None = None
    config_path = req.config or (system.config_path if system else None)
    if config_path:
        config = load_config(config_path)
        inputs.insert(0, InputRecord("config", config_path, config.sha256,
                                     config.version_text or ""))
    cmdline: Cmdline | None = None
    if req.cmdline is not None:
        cmdline = parse_cmdline(req.cmdline, "<cmdline>")
        inputs.append(InputRecord("cmdline", "<cmdline>", cmdline.sha256, req.cmdline))
    elif req.cmdline_file:
        cmdline = load_cmdline(req.cmdline_file)
        inputs.append(InputRecord("cmdline", req.cmdline_file, sha256_file(req.cmdline_file)))
    elif req.cmdline_eventlog:
        cmdline = _cmdline_from_eventlog(req.cmdline_eventlog)
        inputs.append(InputRecord("cmdline", req.cmdline_eventlog,
                                  sha256_file(req.cmdline_eventlog),
                                  "measured in the TDX event log"))
    elif system is not None and system.cmdline_path:
        cmdline = load_cmdline(system.cmdline_path)
        inputs.append(InputRecord("cmdline", system.cmdline_path, cmdline.sha256))
    platform: Platform | None
    if req.platform != "auto":
        platform = Platform(req.platform)
    elif system is not None:
        platform = system.detection.platform
    else:
        platform = None
    return GuestEvidence(config, cmdline, system, platform), inputs


def _cmdline_from_eventlog(path: str) -> Cmdline:
    from cocoscope.attest.tdx import eventlog
    from cocoscope.errors import InputError, read_bytes

    log = eventlog.parse_eventlog(read_bytes(path, what="event log"), path)
    text = eventlog.kernel_cmdline(log)
    if text is None:
        raise InputError("no kernel command line event in the event log", path=path)
    return parse_cmdline(text, path)


def explain_findings(findings: list[Finding], rules: list[Rule], config: KernelConfig,
                     tree_dir: str) -> list[Finding]:
    """Add the Kconfig "why" to failing config findings: who selects, implies or defaults the
    symbol on, and what turning it off would drag along."""
    from pathlib import Path

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


def surface_facts(req: AuditRequest, ev: GuestEvidence) -> dict[str, object]:
    """Count the host-input sites the config builds (cocoscope surface) for the input row."""
    from cocoscope.surface.api import site_counts

    config_path = req.config or (ev.system.config_path if ev.system else None)
    if config_path is None:
        raise UsageError("--source needs a kernel config (--config, or a live system with one)")
    platform = ev.platform if ev.platform is not None and ev.platform.confidential else None
    counts = site_counts(req.source or "", config_path, platform)
    return {
        "surface": f"{counts['sites']} host-input sites in built code, {counts['risky']} risky",
        "surface_counts": counts,
    }


def run_audit(req: AuditRequest) -> AuditResult:
    if req.policy and not req.evidence:
        raise UsageError("--policy needs --evidence")
    ev, inputs = gather(req)
    ruleset = load_rules(req.rule_files, req.waivers)
    rules = ruleset.rules
    inputs.extend(InputRecord("rules", path, sha256_file(path)) for path in req.rule_files)
    if req.waivers:
        inputs.append(InputRecord("waivers", req.waivers, sha256_file(req.waivers)))
    findings: list[Finding] = evaluate_rules(rules, ev, ruleset.waivers)
    if req.kconfig_tree:
        if ev.config is None:
            raise UsageError("--kconfig-tree needs a kernel config to explain")
        findings = explain_findings(findings, rules, ev.config, req.kconfig_tree)
        inputs.append(InputRecord("kconfig-tree", req.kconfig_tree, None))
    facts: dict[ThreatId, dict[str, object]] = {}
    verification_failed = False
    if req.evidence:
        v = audit_attest.verify(audit_attest.AttestationRequest(
            req.evidence, req.platform, req.policy, req.certs, req.collateral_dir, req.time))
        findings.append(audit_attest.as_finding(v))
        facts[ThreatId.GUEST_MALICIOUS_CONFIGURATION] = {
            "attestation": audit_attest.summary(v),
            "checks": [f"{c.name}: {c.status.value}" + (f" ({c.detail})" if c.detail else "")
                       for c in v.checks],
            **{k: val for k, val in v.facts.items() if isinstance(val, str | int | list)},
        }
        inputs.append(InputRecord("evidence", req.evidence, sha256_file(req.evidence), v.kind))
        verification_failed = not v.ok
    else:
        facts[ThreatId.GUEST_MALICIOUS_CONFIGURATION] = {
            "attestation": "not checked (no --evidence given)"}
    if req.cmdline_eventlog:
        bound, broken = audit_attest.eventlog_binding(req.cmdline_eventlog, req.evidence)
        findings.append(bound)
        verification_failed = verification_failed or broken
    if req.source:
        facts[ThreatId.MALFORMED_RUNTIME_INPUT] = surface_facts(req, ev)
        inputs.append(InputRecord("source", req.source, None, "kernel source tree"))
    report = build_report(
        findings, inputs,
        platform=ev.system.detection if ev.system else None,
        devices=ev.system.devices if ev.system else (),
        facts=facts,
    )
    return AuditResult(report, verification_failed)
