"""Gather: read and parse every input of the audit exactly once into typed evidence.

I/O happens here and nowhere later in the audit: the config, the command line (from a string,
a file, an event log or the running system), the running system, the attestation evidence
with its trust inputs and policy, the event log, rule files and waivers. Each input is
recorded with its hash for the report.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cocoscope.attest.tdx.cmdline import locate_kernel_cmdline
from cocoscope.attest.tdx.eventlog import EventLog, parse_eventlog
from cocoscope.audit.attest import AttestationInput, load_attestation
from cocoscope.audit.request import AuditRequest
from cocoscope.evidence import files
from cocoscope.evidence.cmdline import Cmdline, load_cmdline, parse_cmdline
from cocoscope.evidence.dotconfig import KernelConfig, is_fragment, load_config
from cocoscope.evidence.guest import GuestEvidence
from cocoscope.evidence.system import RunningSystem, read_system
from cocoscope.report.model import InputRecord
from cocoscope.rules import Rule, Waiver, load_rules
from cocoscope.rules.keep import Keep, parse_keep
from cocoscope.rules.target import Target, decide_target


@dataclass(frozen=True)
class Gathered:
    guest: GuestEvidence
    inputs: tuple[InputRecord, ...]
    rules: tuple[Rule, ...]
    waivers: dict[str, Waiver]
    attestation: AttestationInput | None
    eventlog: EventLog | None  # the log the command line came from
    target: Target  # platform, hypervisor and config kind, with where each came from
    keep: Keep  # what the deployment keeps on purpose (--keep)


def _eventlog(path: str) -> tuple[EventLog, str]:
    data = files.read_input(path, files.EVENT_LOG)
    return parse_eventlog(data, path), files.sha256_hex(data)


def _cmdline_from(log: EventLog) -> tuple[Cmdline | None, str]:
    """The command line the log measured, placed by the boot chain's structure; None (the
    cmdline rules are then unknown) with the reason when the log does not say which it was.
    A relabelled or edited command-line event raises VerificationError (NOT TRUSTED)."""
    search = locate_kernel_cmdline(log)
    if search.found is None:
        return None, f"command line not known from the event log: {search.reason}"
    return parse_cmdline(search.found.text, log.source), "measured in the TDX event log"


def gather(req: AuditRequest) -> Gathered:
    req.check()
    keep = parse_keep(req.keep)  # a bad name is a usage error before any file is read
    inputs: list[InputRecord] = []
    system: RunningSystem | None = None
    if req.live:
        system = read_system(req.root or "/")
        inputs.append(InputRecord("system", system.root, None,
                                  f"release {system.release}" if system.release else ""))
    config: KernelConfig | None = None
    config_path = req.config or (system.config_path if system else None)
    if config_path:
        config = load_config(config_path)
        inputs.insert(0, InputRecord("config", config_path, config.sha256,
                                     config.version_text or ""))
    resolved = None
    if config is not None and req.kconfig_tree and is_fragment(config):
        from cocoscope.evidence.kconfig.resolve import resolve_fragment
        from cocoscope.evidence.kconfig.tree import load_tree

        resolved = resolve_fragment(config, load_tree(Path(req.kconfig_tree)),
                                    req.fragment_base)
        config = resolved.config
    cmdline: Cmdline | None = None
    log: EventLog | None = None
    if req.cmdline is not None:
        cmdline = parse_cmdline(req.cmdline, "<cmdline>")
        inputs.append(InputRecord("cmdline", "<cmdline>", cmdline.sha256, req.cmdline))
    elif req.cmdline_file:
        cmdline = load_cmdline(req.cmdline_file)
        inputs.append(InputRecord("cmdline", req.cmdline_file, files.sha256_file(req.cmdline_file, files.CMDLINE)))
    elif req.cmdline_eventlog:
        log, digest = _eventlog(req.cmdline_eventlog)
        cmdline, how = _cmdline_from(log)
        inputs.append(InputRecord("cmdline", req.cmdline_eventlog, digest, how))
    elif system is not None and system.cmdline_path:
        cmdline = load_cmdline(system.cmdline_path)
        inputs.append(InputRecord("cmdline", system.cmdline_path, cmdline.sha256))
    target = decide_target(req.platform, req.hypervisor, system, config, keep, resolved)
    ruleset = load_rules(req.rule_files, req.waivers)
    inputs.extend(InputRecord("rules", path, files.sha256_file(path, files.RULES)) for path in req.rule_files)
    if req.waivers:
        inputs.append(InputRecord("waivers", req.waivers, files.sha256_file(req.waivers, files.WAIVERS)))
    if req.kconfig_tree:
        inputs.append(InputRecord("kconfig-tree", req.kconfig_tree, None))
    attestation = None
    if req.evidence:
        attestation = load_attestation(req.evidence, req.platform, req.policy, req.certs,
                                       req.collateral_dir)
        inputs.append(InputRecord("evidence", req.evidence, attestation.sha256,
                                  attestation.kind))
    if req.source:
        inputs.append(InputRecord("source", req.source, None, "kernel source tree"))
    guest = GuestEvidence(config, cmdline, system, target.platform, target.hypervisor,
                          keep=keep.symbols)
    return Gathered(guest, tuple(inputs), tuple(ruleset.rules), ruleset.waivers, attestation, log,
                    target, keep)
