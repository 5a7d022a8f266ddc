"""All evidence about one guest, gathered before analysis; every part is optional.

A part that is None was not given: rules that need it evaluate to *unknown*, never pass.
"""

from __future__ import annotations

from dataclasses import dataclass

from cocoscope.evidence.cmdline import Cmdline
from cocoscope.evidence.dotconfig import KernelConfig
from cocoscope.evidence.system import RunningSystem
from cocoscope.model.platform import Platform


@dataclass(frozen=True)
class GuestEvidence:
    config: KernelConfig | None = None
    cmdline: Cmdline | None = None
    system: RunningSystem | None = None
    # Audited platform, None when unknown.
    platform: Platform | None = None
