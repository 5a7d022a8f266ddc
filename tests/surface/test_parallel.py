"""Progress of a scan on stderr (surface/parallel.py): a phase line every few seconds when
stderr is not a terminal (CI logs), nothing with --quiet."""

from __future__ import annotations

import io

import pytest

from cocoscope.cli import main
from cocoscope.surface.parallel import Progress
from tests.paths import DATA


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_phase_lines_at_the_interval_and_at_the_end() -> None:
    out, clock = io.StringIO(), Clock()
    with Progress(stream=out, interval=5.0, clock=clock) as p:
        task = p.add_task("surface: sites", total=10)
        for _ in range(10):
            clock.now += 2.0  # one file every 2 s: a line after 6 s, 12 s, 18 s, then done
            p.advance(task)
    assert out.getvalue().splitlines() == [
        "surface: sites: 10 files to do",
        "surface: sites: 3/10 files, 6 s",
        "surface: sites: 6/10 files, 12 s",
        "surface: sites: 9/10 files, 18 s",
        "surface: sites: 10/10 files, done in 20.0 s",
    ]


def test_quiet_prints_nothing() -> None:
    out = io.StringIO()
    with Progress(stream=out, quiet=True, interval=0.0) as p:
        task = p.add_task("surface: sites", total=3)
        for _ in range(3):
            p.advance(task)
    assert out.getvalue() == ""


def test_terminal_gets_the_bar_not_lines() -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    out = Tty()
    with Progress(stream=out, interval=0.0) as p:
        task = p.add_task("surface: sites", total=2)
        p.advance(task)
        p.advance(task)
    assert "files to do" not in out.getvalue() and "done in" not in out.getvalue()


@pytest.mark.parametrize("quiet", [False, True])
def test_surface_command_on_a_non_terminal(capsys: pytest.CaptureFixture[str], quiet: bool) -> None:
    argv = ["surface", "--source", str(DATA / "surface" / "tree"), "--all-files", "--no-cache",
            "--jobs", "1", "--format", "json"]
    assert main(argv + (["--quiet"] if quiet else [])) == 0
    err = capsys.readouterr().err
    if quiet:
        assert err == ""
    else:
        lines = err.splitlines()
        assert lines[0].startswith("surface: summaries: ") and lines[0].endswith(" files to do")
        assert any(ln.startswith("surface: sites: ") and " done in " in ln for ln in lines)
