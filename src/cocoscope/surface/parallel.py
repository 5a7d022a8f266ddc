"""Running a per-file function on all cores, with progress on stderr.

The workers are forked processes of our own, each fed chunks of items through a pipe, rather
than ``multiprocessing.Pool``: the pool's worker-maintenance thread waits on the result pipe
too, so while a result sits unread it wakes up again and again (1.4 s of the parent's CPU
during a cold scan's pass 1, on 2 cores shared with the workers), and a worker killed by the
kernel (out of memory) leaves the pool waiting forever; here it ends the run with an error.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import signal
import sys
import time
import traceback
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from multiprocessing.connection import Connection, wait
from typing import Any, TextIO, TypeVar

from cocoscope.errors import EXIT_INTERNAL, CocoscopeError

T = TypeVar("T")
R = TypeVar("R")

CHUNK = 8  # items a worker is handed at a time (pass 1: ~30 ms of work)


def run_parallel(func: Callable[[T], R], items: list[T], jobs: int, label: str,
                 progress: Progress | None, more: Callable[[R], list[T]] | None = None,
                 ) -> Iterator[R]:
    """``func`` of every item, in the order they are done (not the items' order); ``more``,
    called with each result before it is handed on, names further items to do (pass 1
    follows #include lines: the headers a file includes)."""
    task = progress.add_task(label, total=len(items)) if progress else None
    grow = more
    if more is not None and progress is not None and task is not None:
        def grow(r: R) -> list[T]:
            new = more(r)
            if new:
                progress.grow(task, len(new))
            return new
    results: Iterable[R]
    if jobs <= 1 or len(items) < CHUNK:
        results = _here(func, items, grow)
    else:
        results = _forked(func, items, jobs, grow)
    for r in results:
        if progress is not None and task is not None:
            progress.advance(task)
        yield r


def _here(func: Callable[[T], R], items: list[T], more: Callable[[R], list[T]] | None,
          ) -> Iterator[R]:
    todo = deque(items)
    while todo:
        r = func(todo.popleft())
        if more is not None:
            todo.extend(more(r))
        yield r


class WorkerError(CocoscopeError):
    """A worker process ended without answering: killed, most often by the kernel's
    out-of-memory killer. Not the input's fault, not a verdict: exit code 70."""

    exit_code = EXIT_INTERNAL

    @classmethod
    def of(cls, code: int | None) -> WorkerError:
        if code is not None and code < 0:
            how = f"was killed by {signal.Signals(-code).name}"
            if -code == signal.SIGKILL:
                how += " (the kernel's out-of-memory killer sends it)"
        else:
            how = f"ended unexpectedly (exit code {code})"
        return cls(f"a scan worker process {how}; retry with fewer --jobs")


def _forked(func: Callable[[T], R], items: list[T], jobs: int,
            more: Callable[[R], list[T]] | None) -> Iterator[R]:
    todo = deque(items)
    ctx = multiprocessing.get_context("fork")
    workers: dict[Connection, Any] = {}  # the parent's end of each worker's pipe -> process
    finished = False
    try:
        for _ in range(min(jobs, len(items))):  # (-j 64 on a few files forks a few)
            mine, theirs = ctx.Pipe()
            proc = ctx.Process(target=_serve, args=(func, theirs, list(workers)), daemon=True)
            proc.start()
            theirs.close()
            workers[mine] = proc
        idle = list(workers)
        busy: dict[Any, Connection] = {}  # wait() answers its arguments, typed loosely
        while True:
            while idle and todo:
                conn = idle.pop()
                conn.send(_chunk(todo, len(idle) + 1 + len(busy)))
                busy[conn] = conn
            if not busy:
                break
            answers = []
            for ready in wait(list(busy)):
                conn = busy.pop(ready)
                try:
                    answers.append(conn.recv_bytes())
                except EOFError:
                    workers[conn].join(timeout=1.0)
                    raise WorkerError.of(workers[conn].exitcode) from None
                if todo:  # its next chunk before any answer is unpickled and handed on
                    conn.send(_chunk(todo, len(workers)))
                    busy[conn] = conn
                else:
                    idle.append(conn)
            for data in answers:
                ok, out = pickle.loads(data)
                if not ok:
                    raise out
                for r in out:
                    if more is not None:
                        todo.extend(more(r))
                    yield r
        for conn in workers:
            conn.send(None)  # done: the worker exits
        finished = True
    finally:
        for conn, proc in workers.items():
            if not finished:  # Ctrl-C, an error, or the caller stopped early
                proc.terminate()
            conn.close()
            proc.join()


def _chunk(todo: deque[T], ways: int) -> list[T]:
    """The next chunk: CHUNK items, fewer when what is left is to be shared ``ways`` ways
    (not all given to the first worker while the other waits)."""
    n = max(1, min(CHUNK, len(todo) // ways))
    return [todo.popleft() for _ in range(min(n, len(todo)))]


def _serve(func: Callable[[Any], Any], conn: Connection, others: list[Connection]) -> None:
    """A worker: answer each chunk with (True, results) or (False, the exception)."""
    # Ctrl-C is the parent's to handle (it ends the workers); a worker would only print a
    # traceback of its own.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for c in others:  # the parent's ends of the other workers' pipes, inherited by fork
        c.close()
    try:
        while (chunk := conn.recv()) is not None:
            try:
                answer: tuple[bool, Any] = (True, [func(x) for x in chunk])
                data = pickle.dumps(answer, protocol=pickle.HIGHEST_PROTOCOL)
            except Exception as exc:  # handed to the parent, which raises it
                data = _failure(exc)
            conn.send_bytes(data)
    except (EOFError, OSError):  # the parent is gone
        pass
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)  # no interpreter teardown: the parent owns every shared resource


def _failure(exc: Exception) -> bytes:
    try:
        return pickle.dumps((False, exc), protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:  # an exception that does not pickle: its text
        text = "".join(traceback.format_exception(exc))
        return pickle.dumps((False, RuntimeError(text)), protocol=pickle.HIGHEST_PROTOCOL)


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
