#!/usr/bin/env python3
"""SEV-SNP launch measurement: cocoscope vs sev-snp-measure (PyPI 0.0.13) on the same inputs.

    .venv/bin/python benchmarks/snp_measure.py [--runs N]

The peer is installed, if missing, into its own venv (/tmp/measure-venv; never the project's
.venv) with ``python3 -m venv /tmp/measure-venv && /tmp/measure-venv/bin/pip install
sev-snp-measure==0.0.13``. Input: Debian's OVMF.fd (scripts/fetch_debian.py ovmf).

Two figures per configuration, median of N runs each:
  * in-process: one digest computation with the files already on disk (ours: read, parse,
    measure; the peer: guest.calc_launch_digest), timed inside each tool's own interpreter;
  * CLI wall time: the whole command, interpreter start-up included, as a user runs it.
Every configuration first checks that both tools print the same digest.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PEER_VENV = Path("/tmp/measure-venv")
PEER_VERSION = "0.0.13"
OURS = [str(REPO / ".venv" / "bin" / "python"), "-m", "cocoscope", "measure", "snp"]

CONFIGS = [
    ("snp, qemu, 1 vCPU", ["--mode", "snp", "--vcpus", "1", "--vcpu-type", "EPYC-v4"]),
    ("snp, qemu, 64 vCPUs", ["--mode", "snp", "--vcpus", "64", "--vcpu-type", "EPYC-Milan"]),
    ("snp, ec2, 4 vCPUs", ["--mode", "snp", "--vcpus", "4", "--vmm-type", "ec2"]),
    ("seves, qemu, 4 vCPUs", ["--mode", "seves", "--vcpus", "4", "--vcpu-type", "EPYC-Rome"]),
]

_PEER_TIMER = """
import json, sys, time
from sevsnpmeasure import guest, vcpu_types
from sevsnpmeasure.sev_mode import SevMode
from sevsnpmeasure.vmm_types import VMMType
a = json.loads(sys.argv[1])
mode = SevMode.from_str(a["mode"]); vmm = VMMType[a["vmm"]]
sig = vcpu_types.CPU_SIGS[a["type"]] if a["type"] else 0
times = []
for _ in range(a["runs"]):
    t = time.perf_counter()
    guest.calc_launch_digest(mode, a["vcpus"], sig, a["ovmf"], None, None, None, 1, vmm_type=vmm)
    times.append(time.perf_counter() - t)
print(json.dumps(times))
"""


def ensure_peer() -> Path:
    exe = PEER_VENV / "bin" / "sev-snp-measure"
    if not exe.exists():
        subprocess.run([sys.executable, "-m", "venv", str(PEER_VENV)], check=True)
        subprocess.run([str(PEER_VENV / "bin" / "pip"), "install", "-q",
                        f"sev-snp-measure=={PEER_VERSION}"], check=True)
    return exe


def ovmf_path() -> Path:
    out = subprocess.run([sys.executable, str(REPO / "scripts" / "fetch_debian.py"), "ovmf"],
                         check=True, capture_output=True, text=True)
    return Path(out.stdout.strip().splitlines()[-1]) / "usr" / "share" / "ovmf" / "OVMF.fd"


def wall(cmd: list[str], runs: int) -> tuple[float, str]:
    times, out = [], ""
    for _ in range(runs):
        t = time.perf_counter()
        out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.strip()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def ours_in_process(ovmf: Path, flags: list[str], runs: int) -> float:
    sys.path.insert(0, str(REPO / "src"))
    from cocoscope.attest.snp.measure import (
        LaunchConfig,
        Mode,
        VmmType,
        measure,
        parse_ovmf,
        vcpu_signature,
    )
    from cocoscope.errors import read_bytes

    opts = dict(zip(flags[::2], flags[1::2], strict=True))
    config = LaunchConfig(
        Mode(opts["--mode"]), int(opts["--vcpus"]),
        vcpu_signature(opts["--vcpu-type"]) if "--vcpu-type" in opts else 0,
        VmmType(opts.get("--vmm-type", "qemu")),
    )
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        measure(parse_ovmf(read_bytes(str(ovmf)), str(ovmf)), config)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def peer_in_process(ovmf: Path, flags: list[str], runs: int) -> float:
    opts = dict(zip(flags[::2], flags[1::2], strict=True))
    arg = json.dumps({"mode": opts["--mode"], "vcpus": int(opts["--vcpus"]),
                      "type": opts.get("--vcpu-type"), "vmm": opts.get("--vmm-type", "QEMU"),
                      "ovmf": str(ovmf), "runs": runs})
    out = subprocess.run([str(PEER_VENV / "bin" / "python"), "-c", _PEER_TIMER, arg],
                         check=True, capture_output=True, text=True).stdout
    return statistics.median(json.loads(out))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=15)
    runs = ap.parse_args().runs
    peer = ensure_peer()
    ovmf = ovmf_path()
    print(f"# {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {platform.processor() or platform.machine()}, "
          f"Python {platform.python_version()}, sev-snp-measure {PEER_VERSION}, {ovmf} "
          f"({ovmf.stat().st_size} bytes), median of {runs} runs")
    print("| configuration | in-process ours | in-process peer | ratio | CLI ours | CLI peer | ratio |")
    print("|---|---|---|---|---|---|---|")
    for name, flags in CONFIGS:
        t_ours_cli, d_ours = wall([*OURS, "--ovmf", str(ovmf), *flags], runs)
        t_peer_cli, d_peer = wall([str(peer), "--ovmf", str(ovmf), *flags], runs)
        if d_ours != d_peer:
            raise SystemExit(f"{name}: digests differ: ours {d_ours} peer {d_peer}")
        t_ours = ours_in_process(ovmf, flags, runs)
        t_peer = peer_in_process(ovmf, flags, runs)
        print(f"| {name} | {t_ours * 1e3:.1f} ms | {t_peer * 1e3:.1f} ms | {t_ours / t_peer:.2f} "
              f"| {t_ours_cli * 1e3:.0f} ms | {t_peer_cli * 1e3:.0f} ms | "
              f"{t_ours_cli / t_peer_cli:.2f} |")


if __name__ == "__main__":
    main()
