"""Regenerate tests/data/snp_measure/kat.json by running the real sev-snp-measure.

    python3 -m venv /tmp/measure-venv && /tmp/measure-venv/bin/pip install sev-snp-measure==0.0.13
    .venv/bin/python -m tests.attest.snp.measure.make_snp_kat

Inputs: Debian's OVMF.fd and OVMF_CODE_4M.fd (package ovmf, scripts/fetch_debian.py), and a
small AmdSev-shaped image built by snp_ovmf_builder (Debian ships no AmdSev build, and only it
has the kernel-hashes section) with deterministic kernel/initrd bytes. Every expected digest is
the peer's output, never ours.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.attest.snp.measure.snp_ovmf_builder import build_image, filler
from tests.paths import DATA, REPO

PEER = Path("/tmp/measure-venv/bin/sev-snp-measure")
OUT = DATA / "snp_measure" / "kat.json"
VCPU_TYPES = (
    "EPYC", "EPYC-v1", "EPYC-v2", "EPYC-IBPB", "EPYC-v3", "EPYC-v4", "EPYC-Rome", "EPYC-Rome-v1",
    "EPYC-Rome-v2", "EPYC-Rome-v3", "EPYC-Milan", "EPYC-Milan-v1", "EPYC-Milan-v2", "EPYC-Genoa",
    "EPYC-Genoa-v1", "EPYC-Turin",
)
# What the synthetic direct-boot inputs are; tests rebuild the same bytes.
SYNTH_KERNEL = ("kernel", 300_000)
SYNTH_INITRD = ("initrd", 70_001)
SYNTH_APPEND = "console=ttyS0 root=/dev/vda1 ro"


def debian_ovmf() -> Path:
    out = subprocess.run([sys.executable, str(REPO / "scripts" / "fetch_debian.py"), "ovmf"],
                         check=True, capture_output=True, text=True)
    return Path(out.stdout.strip().splitlines()[-1]) / "usr" / "share"


def cases() -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for fw in ("OVMF.fd", "OVMF_CODE_4M.fd"):
        rows.append({"firmware": fw, "mode": "snp:ovmf-hash"})
        rows.append({"firmware": fw, "mode": "sev"})
    for t in VCPU_TYPES:
        for n in (1, 4):
            rows.append({"firmware": "OVMF.fd", "mode": "snp", "vcpus": n, "vcpu_type": t})
    for n in (2, 3, 8, 16, 64, 255):
        for f in ("0x1", "0x21"):
            rows.append({"firmware": "OVMF.fd", "mode": "snp", "vcpus": n, "vcpu_type": "EPYC-v4",
                         "guest_features": f})
    for vmm in ("ec2", "gce"):
        for n in (1, 2, 4, 32):
            for f in ("0x1", "0x21"):
                rows.append({"firmware": "OVMF.fd", "mode": "snp", "vcpus": n, "vmm": vmm,
                             "guest_features": f})
    rows.append({"firmware": "OVMF.fd", "mode": "snp", "vcpus": 4, "vcpu_type": "EPYC-Genoa",
                 "guest_features": "0x221"})
    rows.append({"firmware": "OVMF_CODE_4M.fd", "mode": "snp", "vcpus": 2, "vcpu_type": "EPYC-Milan"})
    for n in (1, 4):
        for vmm in ("QEMU", "ec2", "gce"):
            rows.append({"firmware": "OVMF.fd", "mode": "seves", "vcpus": n, "vmm": vmm,
                         "vcpu_type": "EPYC-Rome"})
    # The AmdSev-shaped image: measured direct boot in every mode and VMM.
    for vmm in ("QEMU", "ec2", "gce"):
        for n in (1, 3):
            rows.append({"firmware": "synthetic-amdsev", "mode": "snp", "vcpus": n, "vmm": vmm,
                         "vcpu_type": "EPYC-Milan", "kernel": True, "initrd": True,
                         "append": SYNTH_APPEND, "guest_features": "0x21"})
    rows.append({"firmware": "synthetic-amdsev", "mode": "snp", "vcpus": 1, "vcpu_type": "EPYC-v4",
                 "kernel": True})
    rows.append({"firmware": "synthetic-amdsev", "mode": "snp", "vcpus": 2, "vcpu_type": "EPYC-v4"})
    rows.append({"firmware": "synthetic-amdsev", "mode": "seves", "vcpus": 2,
                 "vcpu_type": "EPYC-v4", "kernel": True, "initrd": True, "append": SYNTH_APPEND})
    rows.append({"firmware": "synthetic-amdsev", "mode": "sev", "kernel": True, "initrd": True,
                 "append": SYNTH_APPEND})
    rows.append({"firmware": "synthetic-amdsev", "mode": "sev", "kernel": True})
    return rows


def main() -> None:
    share = debian_ovmf()
    with tempfile.TemporaryDirectory() as tmp:
        files = {
            "OVMF.fd": share / "ovmf" / "OVMF.fd",
            "OVMF_CODE_4M.fd": share / "OVMF" / "OVMF_CODE_4M.fd",
            "synthetic-amdsev": Path(tmp) / "amdsev.fd",
        }
        files["synthetic-amdsev"].write_bytes(build_image())
        kernel, initrd = Path(tmp) / "kernel", Path(tmp) / "initrd"
        kernel.write_bytes(filler(SYNTH_KERNEL[1], SYNTH_KERNEL[0].encode()))
        initrd.write_bytes(filler(SYNTH_INITRD[1], SYNTH_INITRD[0].encode()))
        version = subprocess.run([str(PEER), "--version"], check=True, capture_output=True,
                                 text=True).stdout.strip()
        rows = []
        for row in cases():
            cmd = [str(PEER), "--mode", str(row["mode"]), "--ovmf", str(files[str(row["firmware"])])]
            if "vcpus" in row:
                cmd += ["--vcpus", str(row["vcpus"])]
            if "vcpu_type" in row:
                cmd += ["--vcpu-type", str(row["vcpu_type"])]
            if "vmm" in row:
                cmd += ["--vmm-type", str(row["vmm"])]
            if "guest_features" in row:
                cmd += ["--guest-features", str(row["guest_features"])]
            if row.get("kernel"):
                cmd += ["--kernel", str(kernel)]
            if row.get("initrd"):
                cmd += ["--initrd", str(initrd)]
            if "append" in row:
                cmd += ["--append", str(row["append"])]
            out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.strip()
            rows.append({**row, "expected": out})
        doc = {
            "_provenance": f"expected values are the output of {version} (PyPI, venv "
            "/tmp/measure-venv) run by tests/attest/snp/measure/make_snp_kat.py as "
            "`sev-snp-measure --mode M --ovmf F [--vcpus N] [--vcpu-type T] [--vmm-type V] "
            "[--guest-features X] [--kernel K] [--initrd I] [--append S]` per row",
            "_firmware_sha256": {
                name: hashlib.sha256(path.read_bytes()).hexdigest() for name, path in files.items()
            },
            "_debian_package": "ovmf 2025.02-8+deb13u1 (trixie)",
            "cases": rows,
        }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(doc, indent=1) + "\n")
    print(f"{len(rows)} cases -> {OUT}")


if __name__ == "__main__":
    main()
