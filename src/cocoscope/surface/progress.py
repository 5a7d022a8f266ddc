"""Progress of the scan's phases on stderr: a bar on a terminal, a line every few seconds on a
pipe or in a CI log (so a long scan never looks hung), nothing with --quiet."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any, TextIO

# On a terminal the bar redraws itself; elsewhere (CI logs, pipes) a phase line is printed at
# most this often, so a long scan never looks hung.
PHASE_INTERVAL = 5.0


class Progress:
    """Progress on stderr: a rich bar on a terminal, a phase line every few seconds otherwise,
    nothing with ``quiet``."""

    def __init__(self, *, quiet: bool = False, interval: float = PHASE_INTERVAL,
                 stream: TextIO | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
        from rich.progress import Progress as RichProgress

        self._stream = stream or sys.stderr
        tty = self._stream.isatty()
        self._lines = not quiet and not tty
        self._interval, self._clock = interval, clock
        self._tasks: list[list[Any]] = []  # label, total, done, started, last printed, bar id
        self._p = RichProgress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                               TimeElapsedColumn(), console=Console(file=self._stream),
                               transient=True, disable=quiet or not tty)

    def __enter__(self) -> Progress:
        self._p.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._p.__exit__(None, None, None)

    def add_task(self, label: str, total: int) -> int:
        now = self._clock()
        self._tasks.append([label, total, 0, now, now, self._p.add_task(label, total=total)])
        self._say(f"{label}: {total} files to do")
        return len(self._tasks) - 1

    def grow(self, task: int, n: int) -> None:
        """``n`` more files to do than announced."""
        t = self._tasks[task]
        t[1] += n
        self._p.update(t[5], total=t[1])

    def advance(self, task: int) -> None:
        t = self._tasks[task]
        self._p.advance(t[5])
        t[2] += 1
        now = self._clock()
        if t[2] == t[1]:
            self._say(f"{t[0]}: {t[1]}/{t[1]} files, done in {now - t[3]:.1f} s")
        elif now - t[4] >= self._interval:
            t[4] = now
            self._say(f"{t[0]}: {t[2]}/{t[1]} files, {now - t[3]:.0f} s")

    def _say(self, line: str) -> None:
        if self._lines:
            print(line, file=self._stream, flush=True)
