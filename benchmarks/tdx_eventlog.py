"""TDX CCEL event-log replay throughput against the floor of bare hashlib SHA-384.

Input: every real CCEL log in tests/data/attestation/tdx (7 logs, 254 events). Three rates:

* floor: the extends alone, ``rtmr[i] = sha384(rtmr[i] + digest).digest()`` in a bare loop over
  the pre-extracted (index, digest) pairs, what any replay must at least do;
* replay: ``cocoscope.attest.tdx.eventlog.replay`` on pre-parsed logs;
* parse + replay: ``parse_eventlog`` of the raw bytes then ``replay``, what ``cocoscope attest
  tdx eventlog --quote`` does per log (without decoding event data for display).

Rates are events/s and MB/s of log bytes (events only, up to where the padding starts).
Usage: .venv/bin/python benchmarks/tdx_eventlog.py [--seconds 2] [--rounds 5]
"""

from __future__ import annotations

import argparse
import hashlib
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from cocoscope.attest.tdx.eventlog import parse_eventlog, replay

TDX = Path(__file__).resolve().parents[1] / "tests" / "data" / "attestation" / "tdx"


def logs() -> list[tuple[str, bytes]]:
    paths = sorted(p for p in (TDX / "trustee" / "eventlog").iterdir() if not p.name.endswith(".json"))
    paths.append(TDX / "go-tdx-guest" / "ccel" / "ccel_data.dat")
    return [(str(p), p.read_bytes()) for p in paths]


def rate(fn: Callable[[], None], seconds: float) -> float:
    """Calls of fn per second over about ``seconds``."""
    n, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        fn()
        n += 1
    return n / elapsed


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=2.0)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()

    raw = logs()
    parsed = [parse_eventlog(data, name) for name, data in raw]
    events = sum(len(log.measured) for log in parsed)
    log_bytes = sum(log.end for log in parsed)
    pairs = [[(e.mr_index - 1, e.digest()) for e in log.measured] for log in parsed]
    expected = [replay(log) for log in parsed]

    def floor() -> None:
        sha384 = hashlib.sha384
        for plist in pairs:
            r = [bytes(48)] * 4
            for i, d in plist:
                r[i] = sha384(r[i] + d).digest()  # type: ignore[operator]

    def ours_replay() -> None:
        for log in parsed:
            replay(log)

    def ours_full() -> None:
        for name, data in raw:
            replay(parse_eventlog(data, name))

    assert [replay(parse_eventlog(d, n)) for n, d in raw] == expected
    results: dict[str, list[float]] = {"floor": [], "replay": [], "parse+replay": []}
    for _ in range(args.rounds):  # alternate so load changes hit every variant alike
        results["floor"].append(rate(floor, args.seconds))
        results["replay"].append(rate(ours_replay, args.seconds))
        results["parse+replay"].append(rate(ours_full, args.seconds))

    print(f"{len(raw)} logs, {events} measured events, {log_bytes} bytes of events")
    floor_med = statistics.median(results["floor"])
    for name, runs in results.items():
        med = statistics.median(runs)
        print(f"{name:<13} {med * events:>12,.0f} events/s {med * log_bytes / 1e6:>8.2f} MB/s "
              f"  ratio to floor {med / floor_med:.2f}   rounds: "
              + ", ".join(f"{r * events:,.0f}" for r in runs))


if __name__ == "__main__":
    main()
