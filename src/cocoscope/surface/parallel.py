"""Running a per-file function on all cores, with a progress bar on stderr."""

from __future__ import annotations

import multiprocessing
import sys
from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def run_parallel(func: Callable[[T], R], items: list[T], jobs: int, label: str,
         progress: Progress | None) -> Iterator[R]:
    task = progress.add_task(label, total=len(items)) if progress else None
    if jobs <= 1 or len(items) < 8:
        results: Iterable[R] = map(func, items)
        pool = None
    else:
        pool = multiprocessing.get_context("fork").Pool(jobs)
        results = pool.imap_unordered(func, items, chunksize=8)
    try:
        for r in results:
            if progress is not None and task is not None:
                progress.advance(task)
            yield r
    except BaseException:
        if pool is not None:  # Ctrl-C or an error: do not wait for the remaining files
            pool.terminate()
            pool.join()
        raise
    if pool is not None:
        pool.close()
        pool.join()


class Progress:
    """A rich progress bar on stderr, shown only when stderr is a terminal."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
        from rich.progress import Progress as RichProgress

        self._p = RichProgress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                               TimeElapsedColumn(), console=Console(stderr=True), transient=True,
                               disable=not sys.stderr.isatty())

    def __enter__(self) -> Progress:
        self._p.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._p.__exit__(None, None, None)

    def add_task(self, label: str, total: int) -> int:
        return int(self._p.add_task(label, total=total))

    def advance(self, task: int) -> None:
        self._p.advance(task)  # type: ignore[arg-type]
