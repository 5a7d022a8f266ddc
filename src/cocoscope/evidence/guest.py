"""All evidence about one guest, gathered before analysis; every part is optional.

A part that is None was not given: rules that need it evaluate to *unknown*, never pass.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from cocoscope.evidence.cmdline import Cmdline
from cocoscope.evidence.dotconfig import KernelConfig
from cocoscope.evidence.pcidrivers import DriverIndex
from cocoscope.evidence.system import RunningSystem
from cocoscope.model.hypervisor import Hypervisor
from cocoscope.model.platform import Platform


@dataclass(frozen=True)
class AttestationOutcome:
    """One attestation fact established before the rules run (the audit verifies the evidence
    and replays the event log, then the ``attestation`` rule condition reads the outcome).

    ``ok`` is None when it could not be decided (e.g. no quote to bind the log to).
    """

    ok: bool | None
    detail: str  # what was found, in words: shown as the finding's message
    subject: str | None = None  # file the outcome is about (the finding points at it)


@dataclass(frozen=True)
class GuestEvidence:
    config: KernelConfig | None = None
    cmdline: Cmdline | None = None
    system: RunningSystem | None = None
    # Audited platform, None when unknown.
    platform: Platform | None = None
    # Hypervisor the guest runs on (--hypervisor or detected), None when unknown.
    hypervisor: Hypervisor | None = None
    # Attestation outcomes by name ("evidence-verified", "eventlog-bound", ...); a name that is
    # absent was not examined and the conditions on it are unknown.
    attestation: Mapping[str, AttestationOutcome] = field(default_factory=dict)
    # The PCI drivers the config builds, read from the kernel source (--source/--kconfig-tree),
    # ranked by host-input sites with --source; None: not read (rules use their knowledge list).
    drivers: DriverIndex | None = None
    # Symbols the user keeps (--keep groups, profiles or symbols): the guest needs them.
    keep: frozenset[str] = frozenset()
