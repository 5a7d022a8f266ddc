"""Directory walk of Kbuild (work in progress; see kbuild.py for the API)."""

from __future__ import annotations

from pathlib import Path

from cocoscope.evidence.kbuild import KbuildResult
from cocoscope.evidence.kconfig import KernelConfig


def walk(tree: Path, config: KernelConfig, *, arch: str = "x86") -> KbuildResult:
    raise NotImplementedError("kbuild resolution is being written")
