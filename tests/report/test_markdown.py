"""The Markdown report (report/markdown.py), rendered through `cocoscope audit --format markdown`."""

from __future__ import annotations

from pathlib import Path

import pytest

from cocoscope.cli import main
from tests.paths import DATA

KCONFIG = DATA / "kconfig" / "kafl_linux_kernel_tdx_guest_5.15-rc6.config"


def test_markdown(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(["audit", "--config", str(KCONFIG), "--format", "markdown", "--show", "all"])
    out = capsys.readouterr().out
    assert out.startswith("# cocoscope audit") and "| Malformed runtime input |" in out
