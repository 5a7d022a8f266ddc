#!/usr/bin/env python3
"""Cross-check the Kconfig layer against the kernel's own C kconfig (scripts/kconfig/conf).

For each input config (and each config + fragment), run ``make O=<tmp> olddefconfig`` in
linux-source-6.12 (the C tools, real host toolchain) and cocoscope's
``load_tree(toolchain=host_toolchain())`` + ``apply``/``merge_fragment``, and compare the
resulting assignments symbol by symbol. Both use the same host toolchain, so any difference is
a difference in Kconfig evaluation. Also times both.

Needs make, gcc, flex and bison (to build scripts/kconfig/conf). Writes only to a temporary
directory (out-of-tree build, O=).

Usage: benchmarks/kconfig_vs_c.py [TREE]
"""

from __future__ import annotations

import lzma
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from cocoscope.evidence.dotconfig import parse_config_text  # noqa: E402
from cocoscope.evidence.kconfig import load_tree  # noqa: E402
from cocoscope.evidence.kconfig.toolchain import host_toolchain  # noqa: E402

FRAGMENTS = {
    "none": "",
    "coco-off": "".join(f"# CONFIG_{s} is not set\n" for s in (
        "VIRTIO_MMIO", "VIRTIO_PCI_LEGACY", "HYPERV", "XEN", "VIRTIO", "FW_CFG_SYSFS",
        "SERIO_I8042", "HPET", "KVM_GUEST")) + "CONFIG_INTEL_TDX_GUEST=y\nCONFIG_TDX_GUEST_DRIVER=m\n"
                 "CONFIG_AMD_MEM_ENCRYPT=y\nCONFIG_SEV_GUEST=m\nCONFIG_TSM_REPORTS=y\n",
}


def rule_fragments() -> dict[str, str]:
    """The fragments `cocoscope fragment --platform tdx|snp` merges (built-in rules)."""
    from cocoscope.rules import load_builtin_rules
    from cocoscope.rules.fragment import build_fragment

    rules = load_builtin_rules()
    return {f"rules-{p}": build_fragment(rules, p).kconfig_plain() for p in ("tdx", "snp")}


def fetch(name: str) -> Path:
    out = subprocess.run([sys.executable, str(REPO / "scripts" / "fetch_debian.py"), name],
                         check=True, capture_output=True, text=True)
    return Path(out.stdout.strip().splitlines()[-1])


def assignments(text: str, name: str) -> dict[str, str]:
    return {k: e.value for k, e in parse_config_text(text, name).entries.items()}


def c_olddefconfig(tree: Path, build: Path, config_text: str) -> tuple[str, float]:
    (build / ".config").write_text(config_text)
    start = time.perf_counter()
    subprocess.run(["make", "-s", f"O={build}", "ARCH=x86_64", "olddefconfig"], cwd=tree,
                   check=True, capture_output=True)
    return (build / ".config").read_text(), time.perf_counter() - start


def main() -> int:
    tree = Path(sys.argv[1]) if len(sys.argv) > 1 else fetch("linux-source-6.12") / "tree"
    configs = {"debian-cloud": lzma.decompress(next(
        (fetch("linux-config-6.12") / "usr/src/linux-config-6.12").glob(
            "config.amd64_none_cloud-amd64.xz")).read_bytes()).decode()}
    for p in sorted((REPO / "tests" / "data" / "kconfig").glob("*.config")):
        configs[p.stem] = p.read_text()
    FRAGMENTS.update(rule_fragments())
    with tempfile.TemporaryDirectory(prefix="cocoscope-kconf-c-") as tmp:
        build = Path(tmp)
        c_olddefconfig(tree, build, configs["debian-cloud"])  # builds conf once
        start = time.perf_counter()
        ours = load_tree(tree, host_toolchain())
        print(f"cocoscope load_tree (host probes): {time.perf_counter() - start:.2f} s, "
              f"{len(ours.probes)} probes")
        print("| config | fragment | C olddefconfig | cocoscope | symbols | differ |")
        print("|---|---|---|---|---|---|")
        total = 0
        for cname, ctext in configs.items():
            for fname, frag in FRAGMENTS.items():
                c_text, c_secs = c_olddefconfig(tree, build, ctext + "\n" + frag)
                start = time.perf_counter()
                base = parse_config_text(ctext, cname)
                res = ours.merge_fragment(base, frag)
                o_secs = time.perf_counter() - start
                want, got = assignments(c_text, "C"), assignments(res.config_text, "ours")
                diff = sorted(k for k in want.keys() | got.keys() if want.get(k) != got.get(k))
                total += len(diff)
                print(f"| {cname} | {fname} | {c_secs:.2f} s | {o_secs:.2f} s | {len(want)} "
                      f"| {len(diff)} |")
                for k in diff[:20]:
                    print(f"    {k}: C={want.get(k)!r} ours={got.get(k)!r}", file=sys.stderr)
        shutil.rmtree(build, ignore_errors=True)
    return 1 if total else 0


if __name__ == "__main__":
    raise SystemExit(main())
