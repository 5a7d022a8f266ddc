"""Running a per-file function on all cores.

The workers are forked processes of our own, each fed chunks of items through a pipe, rather
than ``multiprocessing.Pool``: the pool's worker-maintenance thread waits on the result pipe
too, so while a result sits unread it wakes up again and again (1.4 s of the parent's CPU
during a cold scan's pass 1, on 2 cores shared with the workers), and a worker killed by the
kernel (out of memory) leaves the pool waiting forever; here it ends the run with an error.

One set of workers serves a whole scan (``Workers``). Between the passes the parent computes
the fixpoint alone, a second or more on one core; meanwhile the workers parse, ahead of time,
files pass 2 is going to ask for (``Workers.prepare``), and pass 2 hands each of those files to
the worker that holds its parse.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import pickle
import signal
import sys
import traceback
from collections import deque
from collections.abc import Callable, Hashable, Iterable, Iterator
from multiprocessing.connection import Connection, wait
from types import TracebackType
from typing import Any, TypeVar

from cocoscope.errors import EXIT_INTERNAL, CocoscopeError
from cocoscope.surface.progress import Progress

T = TypeVar("T")
R = TypeVar("R")

CHUNK = 8  # items a worker is handed at a time (pass 1: ~30 ms of work)

# In a worker: what Workers.prepare had it compute ahead, by key (taken once by `prepared`;
# dropped when the phase that could use it ends).
_PREPARED: dict[Hashable, Any] = {}


def prepared(key: Hashable) -> Any:
    """In a worker, the value ``Workers.prepare`` computed ahead for ``key`` (handed out once);
    None when there is none."""
    return _PREPARED.pop(key, None)


def run_parallel(func: Callable[[T], R], items: list[T], jobs: int, label: str,
                 progress: Progress | None, more: Callable[[R], list[T]] | None = None,
                 ) -> Iterator[R]:
    """``func`` of every item on workers of its own (``Workers.map``), which end with it."""
    with Workers(jobs) as workers:
        yield from workers.map(func, items, label, progress, more)


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


class Workers:
    """Forked worker processes for a run of several phases, started when a phase first needs
    them (never with ``jobs`` <= 1). Leaving the context ends them: killed when it is left by
    an exception (Ctrl-C, an error, a caller that stopped reading results)."""

    def __init__(self, jobs: int) -> None:
        self.jobs = jobs
        self._procs: dict[Connection, Any] = {}  # the parent's end of each pipe -> process
        self._ahead: set[Connection] = set()  # workers sent something to prepare
        self._settled = True  # no phase was left half done

    def __enter__(self) -> Workers:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close(ended_well=kind is None)

    def close(self, ended_well: bool = True) -> None:
        for conn, proc in self._procs.items():
            if ended_well and self._settled:
                conn.send(None)  # done: the worker exits
            else:
                proc.terminate()
            conn.close()
        for proc in self._procs.values():
            proc.join()
        self._procs = {}

    def map(self, func: Callable[[T], R], items: list[T], label: str,
            progress: Progress | None, more: Callable[[R], list[T]] | None = None,
            key: Callable[[T], Hashable] | None = None) -> Iterator[R]:
        """``func`` of every item, in the order they are done (not the items' order); ``more``,
        called with each result before it is handed on, names further items to do (pass 1
        follows #include lines: the headers a file includes). An item whose ``key`` a worker
        holds from ``prepare`` goes to that worker. With one job, or a few items and no
        workers yet, everything runs in this process."""
        task = progress.add_task(label, total=len(items)) if progress else None
        grow = more
        if more is not None and progress is not None and task is not None:
            def grow(r: R) -> list[T]:
                new = more(r)
                if new:
                    progress.grow(task, len(new))
                return new
        results: Iterable[R]
        if self.jobs <= 1 or (not self._procs and len(items) < CHUNK):
            results = _here(func, items, grow)
        else:
            results = self._forked(func, items, grow, key)
        for r in results:
            if progress is not None and task is not None:
                progress.advance(task)
            yield r

    def start(self) -> None:
        """Fork the workers now rather than when a phase first needs them, so that they can
        ``prepare`` before it."""
        if self.jobs > 1 and not self._procs:
            self._start(self.jobs)

    def prepare(self, func: Callable[[T], tuple[Hashable, Any]], items: list[T]) -> None:
        """Have the workers compute ``func`` of ``items`` (shared out in turn) while the parent
        does something else; each keeps ``(key, value)`` for ``prepared``. A worker stops as
        soon as the next phase begins; what it did not get to is done by that phase itself.
        The parent is busy meanwhile: with no core to spare, one worker fewer prepares (on 2
        cores, a second one would slow the parent's fixpoint, which pass 2 waits for)."""
        conns = list(self._procs)
        if len(conns) > 1 and len(conns) >= (os.cpu_count() or 1):
            conns = conns[:-1]
        for i, conn in enumerate(conns):
            if part := items[i::len(conns)]:
                self._send(conn, ("prepare", func, part))
                self._ahead.add(conn)

    def _start(self, n: int) -> None:
        ctx = multiprocessing.get_context("fork")
        for _ in range(n):
            mine, theirs = ctx.Pipe()
            proc = ctx.Process(target=_serve, args=(theirs, list(self._procs)), daemon=True)
            proc.start()
            theirs.close()
            self._procs[mine] = proc

    def _send(self, conn: Connection, message: Any) -> None:
        try:
            conn.send(message)
        except OSError:  # (a broken pipe) the worker is gone
            raise self._lost(conn) from None

    def _recv(self, conn: Connection) -> Any:
        try:
            return conn.recv_bytes()
        except EOFError:
            raise self._lost(conn) from None

    def _lost(self, conn: Connection) -> WorkerError:
        """The error for a worker whose pipe broke: how its process ended."""
        proc = self._procs[conn]
        proc.join(timeout=1.0)
        return WorkerError.of(proc.exitcode)

    def _holders(self) -> dict[Hashable, Connection]:
        """Which worker holds each key it prepared (asking stops their preparing)."""
        asked = list(self._ahead)
        self._ahead.clear()
        for conn in asked:
            self._send(conn, ("held", None, None))
        return {k: conn for conn in asked for k in pickle.loads(self._recv(conn))}

    def _forked(self, func: Callable[[T], R], items: list[T],
                more: Callable[[R], list[T]] | None, key: Callable[[T], Hashable] | None,
                ) -> Iterator[R]:
        if not self._procs:
            self._start(min(self.jobs, len(items)))  # (-j 64 on a few files forks a few)
        holders = self._holders() if self._ahead else {}
        queues = _Queues(list(self._procs))
        for item in items:
            queues.add(item, holders.get(key(item)) if key is not None and holders else None)
        self._settled = False
        for conn in self._procs:
            self._send(conn, ("func", func, None))
        idle = list(self._procs)
        busy: dict[Any, Connection] = {}  # wait() answers its arguments, typed loosely
        while True:
            while idle and (chunk := queues.take(idle[-1])):
                conn = idle.pop()
                self._send(conn, ("chunk", chunk, None))
                busy[conn] = conn
            if not busy:
                break
            answers = []
            for ready in wait(list(busy)):
                conn = busy.pop(ready)
                answers.append(self._recv(conn))
                if chunk := queues.take(conn):  # its next chunk before any answer is handled
                    self._send(conn, ("chunk", chunk, None))
                    busy[conn] = conn
                else:
                    idle.append(conn)
            for data in answers:
                ok, out = pickle.loads(data)
                if not ok:
                    raise out
                for r in out:
                    if more is not None:
                        queues.extend(more(r))
                    yield r
        if holders:
            for conn in self._procs:  # parses nobody asked for: memory back
                self._send(conn, ("forget", None, None))
        self._settled = True


class _Queues:
    """A phase's items still to hand out: each worker's own (those it prepared) first, then
    the shared ones; a worker with nothing left takes another's rather than idle."""

    def __init__(self, workers: list[Connection]) -> None:
        self._own: dict[Connection, deque[Any]] = {w: deque() for w in workers}
        self._shared: deque[Any] = deque()
        self._left = 0

    def add(self, item: Any, worker: Connection | None) -> None:
        (self._own[worker] if worker is not None else self._shared).append(item)
        self._left += 1

    def extend(self, items: list[Any]) -> None:
        self._shared.extend(items)
        self._left += len(items)

    def take(self, worker: Connection) -> list[Any]:
        """The next chunk for ``worker``: CHUNK items, fewer when what is left is to be shared
        among the workers (not all given to the first one while the other waits)."""
        n = min(self._left, max(1, min(CHUNK, self._left // len(self._own))))
        out: list[Any] = []
        for q in (self._own[worker], self._shared):
            while q and len(out) < n:
                out.append(q.popleft())
        if not out and self._left:  # only other workers' own items are left: help
            q = max(self._own.values(), key=len)
            while q and len(out) < n:
                out.append(q.pop())
        self._left -= len(out)
        return out


def _here(func: Callable[[T], R], items: list[T], more: Callable[[R], list[T]] | None,
          ) -> Iterator[R]:
    todo = deque(items)
    while todo:
        r = func(todo.popleft())
        if more is not None:
            todo.extend(more(r))
        yield r


def _serve(conn: Connection, others: list[Connection]) -> None:
    """A worker: answer each chunk with (True, results) or (False, the exception)."""
    # Ctrl-C is the parent's to handle (it ends the workers); a worker would only print a
    # traceback of its own.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for c in others:  # the parent's ends of the other workers' pipes, inherited by fork
        c.close()
    func: Callable[[Any], Any] | None = None
    try:
        while (msg := conn.recv()) is not None:
            kind, arg, items = msg
            if kind == "chunk":
                try:
                    if func is None:  # the parent's mistake, not to be waited on forever
                        raise RuntimeError("a scan worker was sent items before a function")
                    answer: tuple[bool, Any] = (True, _each(func, arg))
                    data = pickle.dumps(answer, protocol=pickle.HIGHEST_PROTOCOL)
                except Exception as exc:  # handed to the parent, which raises it
                    data = _failure(exc)
                conn.send_bytes(data)
            elif kind == "func":
                func = arg
            elif kind == "prepare":
                _prepare(conn, arg, items)
            elif kind == "held":
                conn.send_bytes(pickle.dumps(list(_PREPARED), protocol=pickle.HIGHEST_PROTOCOL))
            elif kind == "forget":
                _PREPARED.clear()
    except (EOFError, OSError):  # the parent is gone
        pass
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)  # no interpreter teardown: the parent owns every shared resource


def _prepare(conn: Connection, func: Callable[[Any], tuple[Hashable, Any]],
             items: list[Any]) -> None:
    """Compute ahead until a message arrives (the next phase, or the end); the collector is
    paused for each item, as in ``_each``."""
    for item in items:
        if conn.poll():
            return
        gc.disable()
        try:
            k, value = func(item)
        except Exception:  # the phase itself does the item again, and reports what fails
            continue
        finally:
            gc.enable()
        _PREPARED[k] = value


def _each(func: Callable[[Any], Any], chunk: list[Any]) -> list[Any]:
    """``func`` of each item with the garbage collector paused. An item (a file's parse and
    summary or sites) makes ~10^5 objects that live until it ends and hardly a reference
    cycle: refcounting frees them, while the collector's rounds walked them again and again
    and its full rounds the whole heap inherited from the parent (2-4 % of a pass-1 worker's
    CPU). Between items it runs as before, so what cyclic garbage an item leaves is collected
    and a worker's memory stays bounded."""
    out = []
    for x in chunk:
        gc.disable()
        try:
            out.append(func(x))
        finally:
            gc.enable()
    return out


def _failure(exc: Exception) -> bytes:
    try:
        return pickle.dumps((False, exc), protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:  # an exception that does not pickle: its text
        text = "".join(traceback.format_exception(exc))
        return pickle.dumps((False, RuntimeError(text)), protocol=pickle.HIGHEST_PROTOCOL)
