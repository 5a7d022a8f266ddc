"""`cocoscope surface` speed and memory on Debian's linux-source-6.12 with the cloud config.

    .venv/bin/python benchmarks/surface.py [--tree DIR] [--config F] [--jobs N] [--all-files]
        [--work DIR]

Runs the real command line (`python -m cocoscope surface ... --format json`) with a fresh cache
under --work and reports, for each step, wall time and the peak RSS of the process tree:

1. cold: empty cache;
2. warm: the same command again (nothing changed);
3. one edit: a hard-linked copy of the tree (`cp -al`, no data copied) is scanned once to prime
   its snapshot, then one driver file is replaced by an edited copy (a function appended; the
   original tree is never written) and the copy is scanned again: the cost of re-running after
   editing one file.

With --all-files the cold step scans every .c file of the tree instead (the whole-tree
robustness run) and the other steps are skipped. Prints Markdown for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CACHE = Path("/root/.cache/cocoscope/debian")
DEFAULT_TREE = CACHE / "linux-source-6.12" / "tree"
DEFAULT_CONFIG = (CACHE / "linux-config-6.12" / "usr/src/linux-config-6.12"
                  / "config.amd64_none_cloud-amd64.xz")
EDITED = "drivers/virtio/virtio_pci_modern_dev.c"

_RUNNER = """
import json, resource, subprocess, sys, time
t = time.perf_counter()
p = subprocess.run(sys.argv[2:], stdout=open(sys.argv[1], "wb"), stderr=subprocess.PIPE)
wall = time.perf_counter() - t
rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(json.dumps({"rc": p.returncode, "wall": wall, "rss_kib": rss,
                  "stderr": p.stderr.decode("utf-8", "replace")[-2000:]}))
"""


def run(label: str, tree: Path, args: argparse.Namespace, out: Path) -> dict[str, object]:
    cmd = [sys.executable, "-m", "cocoscope", "surface", "--source", str(tree),
           "--config", str(args.config), "--format", "json", "--jobs", str(args.jobs)]
    if args.all_files:
        cmd.append("--all-files")
    env = dict(os.environ, COCOSCOPE_CACHE=str(args.work / "cache"),
               PYTHONPATH=str(REPO / "src"))
    res = subprocess.run([sys.executable, "-c", _RUNNER, str(out), *cmd], env=env,
                         capture_output=True, text=True, check=True)
    meas = json.loads(res.stdout)
    if meas["rc"] != 0:
        raise SystemExit(f"{label}: exit {meas['rc']}: {meas['stderr']}")
    doc = json.loads(out.read_text())
    return {"label": label, "wall": meas["wall"], "rss_mib": meas["rss_kib"] / 1024,
            "timing": doc["timing_s"], "totals": doc["totals"]}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tree", type=Path, default=DEFAULT_TREE)
    ap.add_argument("--config", type=Path, default=DEFAULT_CONFIG)
    ap.add_argument("--jobs", type=int, default=0)
    ap.add_argument("--all-files", action="store_true")
    ap.add_argument("--work", type=Path, default=Path("/tmp/cocoscope-surface-bench"))
    args = ap.parse_args()
    shutil.rmtree(args.work, ignore_errors=True)
    args.work.mkdir(parents=True)
    rows = [run("cold" if not args.all_files else "cold, all files", args.tree, args,
                args.work / "cold.json")]
    if not args.all_files:
        rows.append(run("warm", args.tree, args, args.work / "warm.json"))
        copy = args.work / "tree"
        subprocess.run(["cp", "-al", str(args.tree), str(copy)], check=True)
        run("prime the copy", copy, args, args.work / "prime.json")
        edited = copy / EDITED
        text = edited.read_bytes()
        edited.unlink()  # break the hard link: the original tree is never written
        edited.write_bytes(text + b"\nu32 bench_extra_read(void __iomem *p)\n{\n"
                           b"\treturn ioread32(p);\n}\n")
        rows.append(run(f"one edit ({EDITED})", copy, args, args.work / "edit.json"))
        shutil.rmtree(copy)
    print(f"`.venv/bin/python benchmarks/surface.py{' --all-files' if args.all_files else ''}` "
          f"({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {os.cpu_count()} cores, "
          f"load average {os.getloadavg()[0]:.1f})\n")
    print("| run | wall | peak RSS | files re-parsed | sites | risky | parse-error files | failed |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        t, tot = r["timing"], r["totals"]
        assert isinstance(t, dict) and isinstance(tot, dict)
        print(f"| {r['label']} | {r['wall']:.1f} s | {r['rss_mib']:.0f} MiB | "
              f"{int(t.get('files_reparsed', 0))} | {tot['sites']} | {tot['risky']} | "
              f"{tot['files_with_parse_errors']} | {tot['files_failed']} |")
    print()
    for r in rows:
        print(f"- {r['label']}: {json.dumps(r['timing'])}; {r['totals']['files_scanned']} .c files"
              f" + {r['totals']['headers_scanned']} headers, "
              f"{r['totals']['bytes_lost_to_parse_errors']} of {r['totals']['bytes_scanned']} "
              f".c bytes in unparsed ranges")


if __name__ == "__main__":
    main()
