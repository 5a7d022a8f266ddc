#!/usr/bin/env python3
"""Run every benchmark in turn (``make bench``); each prints its own figures.

The figures in docs/benchmarks.md come from these scripts; paste a new run there with the date,
the machine's load and the command. Peers are installed by the scripts themselves (a separate
virtualenv for sev-snp-measure, apt-get for coccinelle and ripgrep). ``--quick`` skips the
slow peers (Coccinelle over the cloud config takes minutes; the C kconfig needs flex/bison).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

# (script, arguments, slow)
BENCHMARKS: tuple[tuple[str, tuple[str, ...], bool], ...] = (
    ("snp_verify.py", ("--seconds", "2", "--rounds", "3"), False),
    ("tdx_verify.py", ("--seconds", "2", "--rounds", "3"), False),
    ("tdx_eventlog.py", ("--seconds", "2", "--rounds", "3"), False),
    ("snp_measure.py", ("--runs", "9"), False),
    ("snp_measure_search.py", (), False),
    ("kbuild_check.py", (), False),
    ("surface.py", (), False),
    ("surface_peers.py", ("--cocoscope",), True),
    ("kconfig_vs_c.py", (), True),
)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="skip the slow peer comparisons")
    ap.add_argument("--only", metavar="NAME", action="append", help="run only these scripts")
    args = ap.parse_args()
    failed = []
    for script, extra, slow in BENCHMARKS:
        if args.only and script.removesuffix(".py") not in args.only and script not in args.only:
            continue
        if slow and args.quick:
            continue
        print(f"\n=== {script} {' '.join(extra)}", flush=True)
        t0 = time.monotonic()
        rc = subprocess.call([sys.executable, str(HERE / script), *extra])
        print(f"=== {script}: exit {rc}, {time.monotonic() - t0:.1f} s", flush=True)
        if rc != 0:
            failed.append(script)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
