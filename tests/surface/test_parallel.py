"""surface/parallel.py: the forked workers (every item answered once, a worker's exception
raised in the parent, a worker that dies ends the run instead of hanging it, no worker outlives
the call) and progress on stderr (a phase line every few seconds when stderr is not a terminal,
nothing with --quiet)."""

from __future__ import annotations

import gc
import io
import multiprocessing
import os
import pickle
import signal
import threading
import time

import pytest

from cocoscope.cli import main
from cocoscope.surface.parallel import CHUNK, WorkerError, Workers, _each, prepared, run_parallel
from cocoscope.surface.progress import Progress
from tests.paths import DATA


def _square_and_pid(x: int) -> tuple[int, int]:
    return x * x, os.getpid()


def test_every_item_once_from_worker_processes() -> None:
    items = list(range(10 * CHUNK + 3))  # a last, short chunk
    out = list(run_parallel(_square_and_pid, items, 2, "t", None))
    assert sorted(v for v, _pid in out) == [x * x for x in items]
    pids = {pid for _v, pid in out}
    assert os.getpid() not in pids and 1 <= len(pids) <= 2
    assert multiprocessing.active_children() == []


def _collector_state(x: int) -> tuple[int, bool]:
    return x, gc.isenabled()


def _fails_at_3(x: int) -> int:
    if x == 3:
        raise ValueError(f"bad item {x}")
    return x


def test_workers_pause_the_collector_during_an_item_only() -> None:
    items = list(range(4 * CHUNK))
    assert {on for _x, on in run_parallel(_collector_state, items, 2, "t", None)} == {False}
    assert _each(_collector_state, [1]) == [(1, False)]
    assert gc.isenabled()  # on again after the item
    with pytest.raises(ValueError, match="bad item 3"):
        _each(_fails_at_3, [1, 2, 3])
    assert gc.isenabled()  # even after an item that failed


def test_no_more_workers_than_items() -> None:
    results = run_parallel(_square_and_pid, list(range(CHUNK)), 64, "t", None)
    next(results)  # the workers are running now
    assert 1 <= len(multiprocessing.active_children()) <= CHUNK
    results.close()


def test_one_job_or_few_items_run_in_this_process() -> None:
    assert {pid for _v, pid in run_parallel(_square_and_pid, list(range(50)), 1, "t", None)} \
        == {os.getpid()}
    assert {pid for _v, pid in run_parallel(_square_and_pid, [1, 2], 4, "t", None)} \
        == {os.getpid()}


def _fails_at_41(x: int) -> int:
    if x == 41:
        raise ValueError(f"bad item {x}")
    return x


def test_a_workers_exception_is_raised_here() -> None:
    with pytest.raises(ValueError, match="bad item 41"):
        list(run_parallel(_fails_at_41, list(range(100)), 2, "t", None))
    assert multiprocessing.active_children() == []


class _Unpicklable(Exception):
    def __init__(self, lock: object) -> None:
        super().__init__("cannot travel")
        self.lock = lock

    def __reduce__(self) -> str | tuple[object, ...]:
        raise TypeError("not picklable")


def _raises_unpicklable(x: int) -> int:
    raise _Unpicklable(threading.Lock())


def test_an_exception_that_does_not_pickle_arrives_as_its_text() -> None:
    with pytest.raises(RuntimeError, match="cannot travel"):
        list(run_parallel(_raises_unpicklable, list(range(20)), 2, "t", None))


def _killed_at_7(x: int) -> int:
    if x == 7:
        os.kill(os.getpid(), signal.SIGKILL)  # as the kernel's out-of-memory killer would
    return x


def test_a_killed_worker_ends_the_run_with_an_error() -> None:
    with pytest.raises(WorkerError, match=r"killed by SIGKILL .*out-of-memory.*fewer --jobs") as err:
        list(run_parallel(_killed_at_7, list(range(100)), 2, "t", None))
    assert err.value.exit_code == 70
    assert multiprocessing.active_children() == []


def test_stopping_early_ends_the_workers() -> None:
    results = run_parallel(_square_and_pid, list(range(400)), 2, "t", None)
    next(results)
    results.close()  # the caller gave up (an error of its own, Ctrl-C)
    assert multiprocessing.active_children() == []


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


def _ident(x: int) -> int:
    return x


@pytest.mark.parametrize("jobs", [1, 2])
def test_more_items_named_by_results_are_done_too(jobs: int) -> None:
    # each first-round result names one more item (as a file names the headers it includes);
    # the progress total grows with them
    out = io.StringIO()
    with Progress(stream=out, interval=1e9) as p:
        done = list(run_parallel(_ident, list(range(3 * CHUNK)), jobs, "t", p,
                                 more=lambda r: [r + 1000] if r < 1000 else []))
    assert sorted(done) == list(range(3 * CHUNK)) + [x + 1000 for x in range(3 * CHUNK)]
    assert out.getvalue().splitlines()[-1].startswith(f"t: {6 * CHUNK}/{6 * CHUNK} files, done")
    assert multiprocessing.active_children() == []


def _mark_ahead(arg: tuple[str, int]) -> tuple[int, int]:
    """Prepared value of an item: the preparing worker's pid; a file marks that it is done."""
    where, x = arg
    with open(os.path.join(where, str(x)), "w"):
        pass
    return x, os.getpid()


def _with_prepared(x: int) -> tuple[int, int | None, int]:
    return x, prepared(x), os.getpid()


def _prepared_all(where: str, n: int) -> None:
    deadline = time.monotonic() + 60
    while len(os.listdir(where)) < n:
        assert time.monotonic() < deadline, "the workers prepared nothing in 60 s"
        time.sleep(0.01)


def test_prepared_items_go_to_the_worker_holding_them(tmp_path: pytest.TempPathFactory) -> None:
    ahead = [0, 1, 2, 3, 4, 5]
    with Workers(2) as w:
        assert list(w.map(_ident, list(range(3 * CHUNK)), "t", None))  # starts the workers
        w.prepare(_mark_ahead, [(str(tmp_path), x) for x in ahead])
        _prepared_all(str(tmp_path), len(ahead))
        out = list(w.map(_with_prepared, list(range(3 * CHUNK)), "t", None, key=lambda x: x))
        # the prepared values are gone once the phase ends
        again = list(w.map(_with_prepared, ahead * CHUNK, "t", None))
    assert sorted(x for x, _p, _pid in out) == list(range(3 * CHUNK))
    for x, held_by, pid in out:
        assert (held_by == pid) if x in ahead else held_by is None
    assert all(held_by is None for _x, held_by, _pid in again)
    assert multiprocessing.active_children() == []


def test_one_worker_fewer_prepares_when_no_core_is_spare(tmp_path: pytest.TempPathFactory,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    # the parent works meanwhile (the fixpoint): on 2 cores, 2 preparing workers would slow it
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    with Workers(2) as w:
        list(w.map(_ident, list(range(3 * CHUNK)), "t", None))
        w.prepare(_mark_ahead, [(str(tmp_path), x) for x in range(6)])
        _prepared_all(str(tmp_path), 6)
        out = list(w.map(_with_prepared, list(range(6)), "t", None, key=lambda x: x))
    # (the other worker may take some of them rather than idle: it holds none)
    assert len({held_by for _x, held_by, _pid in out if held_by is not None}) == 1


def _killed_ahead(where: str) -> tuple[int, int]:
    with open(os.path.join(where, "killed"), "w"):
        pass
    os.kill(os.getpid(), signal.SIGKILL)
    return 0, 0


def test_a_worker_killed_while_preparing_ends_the_next_phase_with_an_error(
        tmp_path: pytest.TempPathFactory) -> None:
    with pytest.raises(WorkerError, match="killed by SIGKILL"), Workers(2) as w:
        list(w.map(_ident, list(range(3 * CHUNK)), "t", None))
        w.prepare(_killed_ahead, [str(tmp_path)])
        _prepared_all(str(tmp_path), 1)
        while len(multiprocessing.active_children()) == 2:  # (reaps the killed one)
            time.sleep(0.01)
        list(w.map(_ident, list(range(3 * CHUNK)), "t", None, key=lambda x: x))
    assert multiprocessing.active_children() == []


def _collector_while_preparing(where: str) -> tuple[str, bool]:
    with open(os.path.join(where, "done"), "w"):
        pass
    return "state", gc.isenabled()


def test_preparing_pauses_the_collector_during_an_item(tmp_path: pytest.TempPathFactory) -> None:
    with Workers(2) as w:
        w.start()
        w.prepare(_collector_while_preparing, [str(tmp_path)])
        _prepared_all(str(tmp_path), 1)
        out = list(w.map(_with_prepared, ["state"] * CHUNK, "t", None, key=lambda x: x))
    assert [held for _x, held, _pid in out if held is not None] == [False]


def test_items_before_a_function_are_an_error_not_a_hang() -> None:
    # (the parent always sends the function first; a worker answers a slip rather than wait)
    with Workers(2) as w:
        w.start()
        conn = next(iter(w._procs))
        conn.send(("chunk", [1], None))
        assert conn.poll(60), "the worker did not answer"
        ok, exc = pickle.loads(conn.recv_bytes())
    assert not ok and "before a function" in str(exc)
