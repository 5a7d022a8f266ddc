"""The terminal report: fits the terminal, sorted, a legend, a closing verdict line."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from cocoscope.cli import main
from cocoscope.finding import Severity
from tests.paths import DATA

CONFIG = DATA / "kconfig" / "kafl_linux_kernel_tdx_guest_5.15-rc6.config"
_SEV = [s.value for s in Severity]


def _run(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
         columns: int | None, *argv: str) -> list[str]:
    if columns is None:
        monkeypatch.delenv("COLUMNS", raising=False)  # a pipe: no terminal to ask
    else:
        monkeypatch.setenv("COLUMNS", str(columns))
    main(["audit", *argv, "--color", "never"])
    return capsys.readouterr().out.splitlines()


@pytest.mark.parametrize("columns", [80, 200, None])
def test_width_from_the_terminal(columns: int | None, capsys: pytest.CaptureFixture[str],
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    lines = _run(capsys, monkeypatch, columns, "--config", str(CONFIG), "--cmdline",
                 "console=ttyS0 nokaslr", "--show", "all")
    width = columns or 80
    assert max(len(line) for line in lines) <= width
    assert not any("…" in line for line in lines if "│" in line)  # no cell is cut
    if columns == 200:
        assert max(len(line) for line in lines) > 80  # the room is used


def test_findings_sorted_legend_and_verdict(capsys: pytest.CaptureFixture[str],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    lines = _run(capsys, monkeypatch, 120, "--config", str(CONFIG), "--show", "all")
    rows = [m.groups() for line in lines
            if (m := re.match(r"│ (\w+)\s+│ (CCS-[A-Z]+-\d{3})\s+│", line))]
    assert len(rows) > 100
    keys = [(-_SEV.index(sev), rid) for sev, rid in rows]
    assert keys == sorted(keys)
    text = "\n".join(lines)
    assert "+ present" in text and "- missing" in text and "? undecided" in text
    for word in ("fail", "waived", "unknown", "advice", "pass", "n/a"):
        assert f"{word} =" in text or f"; {word};" in text, word
    verdict = text[text.index("Verdict:"):]
    assert re.search(r"Totals: \d+ fail, \d+ waived, \d+ unknown, \d+ advice, \d+ pass, "
                     r"\d+ not-applicable\.", " ".join(verdict.split()))
    assert lines[-1].strip().endswith("not-applicable.")


def test_plain_vm_short_answer_first(fake_root: Callable[..., Path],
                                     capsys: pytest.CaptureFixture[str],
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    root = str(fake_root())
    lines = _run(capsys, monkeypatch, 80, "--root", root)
    text = "\n".join(lines)
    # the answer, the next step and the verdict before anything else; the verdict again last
    assert lines[1].startswith("Answer:")
    assert text.index("Answer:") < text.index("Next step:") < text.index("Verdict:") \
        < text.index("CoCo threat matrix") < text.rindex("Verdict:")
    assert "not a CoCo guest" in text and "Folded away:" in text
    assert "most severe of" in text and "--show fail lists them all" in text
    assert len(lines) < 120
    full = _run(capsys, monkeypatch, 80, "--root", root, "--show", "all")
    assert len(full) > len(lines) and "Answer:" not in "\n".join(full)
