"""What the user asked the audit to look at: paths and flags, checked for consistency once."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from cocoscope.attest.fetch.config import FetchConfig
from cocoscope.errors import UsageError
from cocoscope.model.hypervisor import Hypervisor
from cocoscope.model.platform import Platform


@dataclass(frozen=True)
class AuditRequest:
    config: str | None = None
    cmdline: str | None = None
    cmdline_file: str | None = None
    cmdline_eventlog: str | None = None
    root: str | None = None
    platform: Platform | None = None  # None: detected (live) or told from the evidence
    hypervisor: Hypervisor | None = None  # None: detect where possible
    kconfig_tree: str | None = None
    fragment_base: str = "alldefconfig"  # how a fragment is resolved through kconfig_tree
    source: str | None = None
    evidence: str | None = None
    policy: str | None = None
    certs: tuple[str, ...] = ()
    collateral_dir: str | None = None
    time: datetime | None = None
    rule_files: tuple[str, ...] = ()
    waivers: str | None = None
    keep: tuple[str, ...] = ()  # --keep items: groups, profiles, symbols the deployment keeps
    fetch: FetchConfig = field(default_factory=FetchConfig)  # offline unless --fetch

    @property
    def live(self) -> bool:
        """Read the running system: asked for with --root, or nothing else was given."""
        explicit = (self.config, self.cmdline, self.cmdline_file, self.cmdline_eventlog,
                    self.evidence)
        return self.root is not None or not any(explicit)

    def check(self) -> None:
        """Flag combinations that cannot work, before any file is read (exit 2)."""
        if self.policy and not self.evidence:
            raise UsageError("--policy needs --evidence")
        if (self.certs or self.collateral_dir) and not self.evidence:
            raise UsageError("--certs and --collateral-dir need --evidence")
        if self.fetch.network and not self.evidence:
            raise UsageError("--fetch needs --evidence")
