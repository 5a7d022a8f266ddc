#!/usr/bin/env python3
"""`measure snp --target`: the full default search against what a user of the peer must do.

    .venv/bin/python benchmarks/snp_measure_search.py [--peer-samples N]

No peer searches launch parameters, so the peer figure is the loop a user would write around
sev-snp-measure 0.0.13 (PyPI, own venv /tmp/measure-venv, installed if missing): one
``guest.calc_launch_digest`` per candidate, either hashing the firmware each time (naive) or
with the firmware digest precomputed (``snp_ovmf_hash_str``, the peer's fastest mode). The peer
is timed on N random candidates of the same space and extrapolated to the whole space; ours is
the whole search, timed end to end (CLI) and in-process. The target is a digest from inside the
space (vCPUs 97, EPYC-Genoa, qemu, 0x21), checked to be found.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))
from snp_measure import PEER_VENV, PEER_VERSION, ensure_peer, ovmf_path  # noqa: E402

_PEER_LOOP = """
import json, random, sys, time
from sevsnpmeasure import guest, vcpu_types
from sevsnpmeasure.sev_mode import SevMode
from sevsnpmeasure.vmm_types import VMMType
a = json.loads(sys.argv[1])
rng = random.Random(7)
sigs = sorted(set(vcpu_types.CPU_SIGS.values()))
ovmf_hash = ""
if a["precomputed"]:  # the digest after the firmware pages, computed the peer's own way
    from sevsnpmeasure.gctx import GCTX
    from sevsnpmeasure.ovmf import OVMF
    g = GCTX(); o = OVMF(a["ovmf"]); g.update_normal_pages(o.gpa(), o.data()); ovmf_hash = g.ld().hex()
t = time.perf_counter()
for _ in range(a["n"]):
    vmm = rng.choice([VMMType.QEMU, VMMType.ec2, VMMType.gce])
    guest.calc_launch_digest(SevMode.SEV_SNP, rng.randint(1, 128), rng.choice(sigs), a["ovmf"],
                             None, None, None, rng.choice([0x1, 0x21, 0x221]), ovmf_hash, vmm)
print(json.dumps((time.perf_counter() - t) / a["n"]))
"""


def peer_per_candidate(ovmf: Path, n: int, precomputed: bool) -> float:
    arg = json.dumps({"ovmf": str(ovmf), "n": n, "precomputed": precomputed})
    out = subprocess.run([str(PEER_VENV / "bin" / "python"), "-c", _PEER_LOOP, arg],
                         check=True, capture_output=True, text=True).stdout
    return float(json.loads(out))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--peer-samples", type=int, default=200)
    n = ap.parse_args().peer_samples
    ensure_peer()
    ovmf = ovmf_path()
    sys.path.insert(0, str(REPO / "src"))
    from cocoscope.attest.snp.measure import (
        LaunchConfig,
        Mode,
        VmmType,
        measure,
        parse_ovmf,
        vcpu_signature,
    )
    from cocoscope.attest.snp.measure.search import SearchSpace, search

    image = parse_ovmf(ovmf.read_bytes(), str(ovmf))
    target = measure(image, LaunchConfig(Mode.SNP, 97, vcpu_signature("EPYC-Genoa"),
                                         VmmType.QEMU, 0x21)).digest
    t = time.perf_counter()
    result = search(image, target, SearchSpace.default())
    ours = time.perf_counter() - t
    assert [(m.vcpus, m.guest_features) for m in result.matches] == [(97, 0x21)], result.matches
    cmd = [str(REPO / ".venv" / "bin" / "cocoscope"), "measure", "snp", "--ovmf", str(ovmf),
           "--target", target.hex()]
    t = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True, env={**os.environ, "COLUMNS": "80"})
    ours_cli = time.perf_counter() - t
    naive = peer_per_candidate(ovmf, max(n // 10, 5), precomputed=False)
    fast = peer_per_candidate(ovmf, n, precomputed=True)
    total = result.candidates
    load = os.getloadavg()[0]
    print(f"# {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {platform.machine()}, "
          f"Python {platform.python_version()}, load {load:.1f}, sev-snp-measure {PEER_VERSION}, "
          f"{ovmf.name} ({ovmf.stat().st_size} bytes), {total:,} candidates")
    print("| what | time for the whole space | per candidate | ratio to ours (in-process) |")
    print("|---|---|---|---|")
    print(f"| cocoscope search, in-process | {ours:.2f} s | {ours / total * 1e6:.2f} us | 1 |")
    print(f"| cocoscope measure snp --target (CLI) | {ours_cli:.2f} s | "
          f"{ours_cli / total * 1e6:.2f} us | {ours_cli / ours:.2f} |")
    print(f"| peer loop, firmware digest precomputed (extrapolated from {n}) | "
          f"{fast * total:.0f} s | {fast * 1e3:.2f} ms | {fast * total / ours:.0f} |")
    print(f"| peer loop, naive (extrapolated from {max(n // 10, 5)}) | {naive * total:.0f} s | "
          f"{naive * 1e3:.2f} ms | {naive * total / ours:.0f} |")


if __name__ == "__main__":
    main()
