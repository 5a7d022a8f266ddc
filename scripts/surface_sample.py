#!/usr/bin/env python3
"""Draw a random sample of `cocoscope surface` sites for hand labelling (tests/data/surface/labels).

    .venv/bin/python scripts/surface_sample.py draw --source DIR --config F --seed N --size 150 \
        --out tests/data/surface/labels/sample-x.json --context /tmp/context.txt
    .venv/bin/python scripts/surface_sample.py merge SAMPLE.json LABELS.tsv

`draw` scans (no platform, then TDX and SNP for the per-platform trust), picks --size sites with
random.Random(seed).sample over the inventory in its (deterministic) order, and writes the sample
with the tool's grade and trust at this commit. The context file shows each site's source
*without* the tool's grade, so the labeller reads the code first. `merge` fills the label fields
from a TSV: fingerprint, host_tdx, host_snp, grade, runs, reason (README.md there).
"""

from __future__ import annotations

import argparse
import csv
import datetime
import json
import random
import subprocess
import sys
from pathlib import Path

from cocoscope.model.platform import CONFIDENTIAL
from cocoscope.surface.api import inventory
from cocoscope.surface.grade import Grade
from cocoscope.surface.triage_fingerprint import site_keys

LABEL_FIELDS = ("host_tdx", "host_snp", "grade", "runs", "reason")


RUNS = ("both", "tdx", "snp", "neither")


def _commit() -> str:
    out = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True,
                         cwd=Path(__file__).resolve().parents[1])
    return out.stdout.strip()


def _provenance(source: str) -> str:
    """The Debian package line fetch_debian.py wrote beside the tree, else the path."""
    prov = Path(source).parent / "PROVENANCE"
    return prov.read_text().split(" from ")[0] if prov.is_file() else str(source)


def draw(args: argparse.Namespace) -> int:
    inv = inventory(args.source, args.config)
    on = {p: inventory(args.source, args.config, platform=p).sites for p in CONFIDENTIAL}
    trust = {p: [s.trust.value for s in sites] for p, sites in on.items()}
    unreachable = {p: [s.unreachable for s in sites] for p, sites in on.items()}
    keys = site_keys(inv.sites, args.source)
    # Sites already in an earlier sample are not drawn again: a fresh sample is independent.
    taken = {r["fingerprint"] for path in args.exclude
             for r in json.loads(Path(path).read_text())["sites"]}
    pool = [i for i, k in enumerate(keys) if k.fingerprint not in taken]
    picks = sorted(random.Random(args.seed).sample(pool, args.size))
    records = []
    ctx_out = []
    for n, i in enumerate(picks, 1):
        s, k = inv.sites[i], keys[i]
        records.append({
            "fingerprint": k.fingerprint, "file": s.file, "line": s.line, "column": s.column,
            "function": s.function, "primitive": s.primitive, "chain": list(s.chain),
            "interface": s.interface, "tool_grade": s.grade.value,
            "tool_trust_tdx": trust["tdx"][i], "tool_trust_snp": trust["snp"][i],
            "tool_unreachable_tdx": unreachable["tdx"][i],
            "tool_unreachable_snp": unreachable["snp"][i],
            **{f: None for f in LABEL_FIELDS}})
        lines = (Path(args.source) / s.file).read_text(errors="replace").split("\n")
        lo, hi = max(0, s.line - 1 - args.before), min(len(lines), s.line + args.after)
        ctx_out.append(f"=== #{n} {k.fingerprint} {s.file}:{s.line}:{s.column} "
                       f"fn={s.function or '-'} prim={s.primitive} chain={' > '.join(s.chain)} "
                       f"iface={s.interface}")
        ctx_out += [f"{j + 1:6}{'>' if j + 1 == s.line else ' '} {lines[j]}" for j in range(lo, hi)]
    doc = {
        "sample": Path(args.out).stem, "seed": args.seed, "size": args.size,
        "excluded_samples": [Path(p).stem for p in args.exclude],
        "drawn_from": {"commit": _commit(), "source": _provenance(args.source),
                       "config": Path(args.config).name, "sites": len(inv.sites),
                       "date": datetime.date.today().isoformat()},
        "sites": records,
    }
    Path(args.out).write_text(json.dumps(doc, indent=1) + "\n")
    Path(args.context).write_text("\n".join(ctx_out) + "\n")
    print(f"{args.size} of {len(inv.sites)} sites -> {args.out}; context -> {args.context}")
    return 0


def merge(args: argparse.Namespace) -> int:
    doc = json.loads(Path(args.sample).read_text())
    by_fp = {r["fingerprint"]: r for r in doc["sites"]}
    grades = {g.value for g in Grade} | {"-"}
    with open(args.labels, newline="") as fh:
        for row in csv.reader(fh, delimiter="\t"):
            if not row or row[0].startswith("#"):
                continue
            fp, tdx, snp, grade, runs, reason = row
            if fp not in by_fp or tdx not in ("yes", "no") or snp not in ("yes", "no") \
                    or grade not in grades or runs not in RUNS:
                raise SystemExit(f"bad label row: {row}")
            by_fp[fp].update(host_tdx=tdx == "yes", host_snp=snp == "yes", grade=grade,
                             runs=runs, reason=reason)
    missing = [fp for fp, r in by_fp.items() if r["grade"] is None]
    Path(args.sample).write_text(json.dumps(doc, indent=1) + "\n")
    print(f"{len(by_fp) - len(missing)} labelled, {len(missing)} still unlabelled")
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser("draw")
    d.add_argument("--source", required=True)
    d.add_argument("--config", required=True)
    d.add_argument("--seed", type=int, required=True)
    d.add_argument("--size", type=int, default=150)
    d.add_argument("--exclude", action="append", default=[], metavar="SAMPLE",
                   help="do not draw sites of this earlier sample (repeatable)")
    d.add_argument("--out", required=True)
    d.add_argument("--context", required=True)
    d.add_argument("--before", type=int, default=12)
    d.add_argument("--after", type=int, default=30)
    d.set_defaults(func=draw)
    m = sub.add_parser("merge")
    m.add_argument("sample")
    m.add_argument("labels")
    m.set_defaults(func=merge)
    args = ap.parse_args()
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
