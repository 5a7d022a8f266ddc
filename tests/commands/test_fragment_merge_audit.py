"""Issue 9 "Done when": a config merged from `cocoscope fragment` fails no rule of severity low
or above on its platform and still builds what the deployment keeps.

End to end on Debian 6.12's cloud-amd64 config and the 6.12 tree, for TDX and SNP, with no
profile, with --keep kata and with --keep azure-cvm --hypervisor hyperv: fragment -> merge
(kconfiglib's olddefconfig through the tree, and the tree's own scripts/kconfig/merge_config.sh
followed by the same resolution) -> audit with the same --keep/--hypervisor.

One failure is left on SNP, and no config can remove it: CCS-TIME-004 (Secure TSC) needs a
6.15 kernel; 6.12 lists the feature in SNP_FEATURES_IMPL_REQ but not in SNP_FEATURES_PRESENT
(arch/x86/boot/compressed/sev.c:355,368). The test asserts exactly that and nothing else.
"""

from __future__ import annotations

import json
import lzma
import os
import re
import subprocess
from collections import Counter
from functools import cache
from pathlib import Path

import pytest

from cocoscope.cli import main
from cocoscope.evidence.dotconfig import load_config
from cocoscope.evidence.kconfig import KconfigTree, load_tree
from cocoscope.rules.keep import parse_keep

COMBINATIONS = [
    ("tdx", ()),
    ("snp", ()),
    ("tdx", ("--keep", "kata")),
    ("snp", ("--keep", "kata")),
    ("tdx", ("--keep", "kata,vfio")),
    ("snp", ("--keep", "kata,vfio")),
    ("tdx", ("--keep", "azure-cvm", "--hypervisor", "hyperv")),
    ("snp", ("--keep", "azure-cvm", "--hypervisor", "hyperv")),
]
# What no 6.12 config can satisfy, per platform (see the module docstring).
KERNEL_TOO_OLD = {"tdx": set(), "snp": {"CCS-TIME-004"}}
LOW_OR_ABOVE = {"low", "medium", "high", "critical"}


@cache
def _tree(path: str) -> KconfigTree:
    return load_tree(Path(path))


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    return code, capsys.readouterr().out


def _merge_with_kernel_script(tree_dir: Path, base: Path, frag: Path, out: Path) -> Path:
    """scripts/kconfig/merge_config.sh -m (merge only; `make olddefconfig` needs flex and
    bison), then the same resolution through the tree."""
    work = out.parent / (out.name + ".d")
    work.mkdir()
    run = subprocess.run(
        ["sh", str(tree_dir / "scripts" / "kconfig" / "merge_config.sh"), "-m", str(base),
         str(frag)], cwd=work, env={**os.environ, "KCONFIG_CONFIG": str(work / ".config")},
        capture_output=True, text=True, check=True)
    assert "does not exist" not in run.stdout + run.stderr
    assert "invalid" not in run.stdout + run.stderr
    tree = _tree(str(tree_dir))
    tree.apply(load_config(str(work / ".config")))
    out.write_text(tree.config_text())
    return out


def _not_in_final(fragment: str, final: str) -> list[str]:
    """merge_config.sh's last check, for the fragment's symbols: the lines naming CFG as a word
    (`grep -w`) in the fragment and in the final .config must be equal, else the script prints
    'Value requested for CFG not in final .config'."""
    out = []
    for cfg in re.findall(r"^(?:# )?(CONFIG_\w+)", fragment, re.M):
        word = re.compile(rf"(?<!\w){cfg}(?!\w)")
        want = [line for line in fragment.splitlines() if word.search(line)]
        have = [line for line in final.splitlines() if word.search(line)]
        if want != have:
            out.append(cfg)
    return out


@pytest.mark.parametrize(("platform", "extra"), COMBINATIONS,
                         ids=[p + "".join(e).replace("--", "-") for p, e in COMBINATIONS])
@pytest.mark.parametrize("merge", ["kconfig-tree", "merge_config.sh", "merge_config.sh-tailored"])
def test_fragment_merge_audit(platform: str, extra: tuple[str, ...], merge: str,
                              linux_tree: Path, debian_cloud_config: Path, tmp_path: Path,
                              capsys: pytest.CaptureFixture[str]) -> None:
    base = tmp_path / "base.config"
    base.write_bytes(lzma.decompress(debian_cloud_config.read_bytes()))
    merged = tmp_path / "merged.config"
    if merge == "kconfig-tree":
        assert main(["fragment", "--platform", platform, *extra, "--config", str(base),
                     "--kconfig-tree", str(linux_tree), "-o", str(merged)]) == 0
        # stderr names what the merge leaves failing, and nothing else
        left = [line for line in capsys.readouterr().err.splitlines() if "still failing" in line]
        assert [line.split(": ")[2].split()[0] for line in left] == \
            sorted(KERNEL_TOO_OLD[platform])
    elif merge == "merge_config.sh":  # the fragment as printed
        plain = tmp_path / "coco.config"
        assert _run(capsys, "fragment", "--platform", platform, *extra, "-o", str(plain))[0] == 0
        _merge_with_kernel_script(linux_tree, base, plain, merged)
    else:
        # The fragment as printed, and tailored to the base config (--fragment-out): every line
        # of the printed one the script would warn about is one the tailored one leaves out, a
        # symbol that stays off (hidden) in the final config.
        plain, tailored = tmp_path / "coco.config", tmp_path / "coco-for-debian.config"
        assert _run(capsys, "fragment", "--platform", platform, *extra, "-o", str(plain))[0] == 0
        assert _run(capsys, "fragment", "--platform", platform, *extra, "--config", str(base),
                    "--kconfig-tree", str(linux_tree), "--fragment-out", str(tailored),
                    "-o", str(tmp_path / "unused.config"))[0] == 0
        _merge_with_kernel_script(linux_tree, base, tailored, merged)
        final = merged.read_text()
        assert _not_in_final(tailored.read_text(), final) == []
        warned = _not_in_final(plain.read_text(), final)
        assert warned, "the untailored fragment names symbols Debian's config already hides"
        dropped = {line.split()[1] for line in plain.read_text().splitlines()
                   if line.startswith("# CONFIG_")} - set(re.findall(r"CONFIG_\w+",
                                                                   tailored.read_text()))
        assert set(warned) <= dropped
        assert not any(re.search(rf"^{cfg}=", final, re.M) for cfg in warned)

    code, out = _run(capsys, "audit", "--config", str(merged), "--platform", platform, *extra,
                     "--format", "json", "--show", "all", "--fail-on", "low")
    doc = json.loads(out)
    findings = {f["rule_id"]: f for t in doc["threats"] for f in t["findings"]}
    failing = {rid for rid, f in findings.items()
               if f["status"] == "fail" and f["severity"] in LOW_OR_ABOVE}
    assert failing == KERNEL_TOO_OLD[platform]
    assert code == (1 if failing else 0)
    if failing:  # the one left says why: the kernel version, not the config
        assert "kernel 6.12" in findings["CCS-TIME-004"]["message"]

    # What the deployment keeps is still built, and the rules it fails are accepted advice.
    cfg, before = load_config(str(merged)), load_config(str(base))
    kept = parse_keep(extra[1:2]).symbols
    names = set(extra[1].split(",")) if extra else set()
    lost = sorted(s for s in kept if before.is_on(s) and not cfg.is_on(s))
    assert lost == []
    accepted = {rid for rid, f in findings.items()
                if any(n.startswith("accepted: fails only because of what the deployment keeps")
                       for n in f["notes"])}
    assert all(findings[rid]["status"] == "advice" for rid in accepted)
    if "kata" in names:
        # virtio-scsi and virtiofs are kept; FUSE_DAX (the host page-cache window) is not
        assert {"CCS-KCFG-007", "CCS-DATA-009", "CCS-DATA-010"} <= accepted
        assert cfg.is_on("VIRTIO_FS") and not cfg.is_on("FUSE_DAX")
    if "vfio" in names:
        # Kata's vfio_mode=vfio: VFIO and the host's vIOMMU stay, accepted
        assert {"CCS-KCFG-067", "CCS-IRQ-003", "CCS-KCFG-066"} <= accepted
        assert cfg.is_on("VFIO_PCI") and cfg.is_on("INTEL_IOMMU")
    if "azure-cvm" in names:
        assert "CCS-KCFG-125" in accepted  # the paravisor's vTPM, reached through TCG_CRB
        assert findings["CCS-KCFG-101"]["status"] == "pass"  # HYPERV on Hyper-V
        assert cfg.is_on("HYPERV") and cfg.is_on("TCG_CRB") and not cfg.is_on("IMA")
    if not extra:
        assert accepted == set()
        assert not cfg.is_on("TCG_TIS") and not cfg.is_on("TCG_CRB") and not cfg.is_on("IMA")
    assert doc["target"]["keep"] == (extra[1] if extra else None)


def test_same_merge_without_keep_fails_what_was_kept(linux_tree: Path, debian_cloud_config: Path,
                                                     tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    """Kept items are accepted only when the audit is told the same --keep: without it the
    kata-merged config fails the rules for virtio-scsi and virtiofs."""
    base = tmp_path / "base.config"
    base.write_bytes(lzma.decompress(debian_cloud_config.read_bytes()))
    merged = tmp_path / "merged.config"
    assert _run(capsys, "fragment", "--platform", "tdx", "--keep", "kata", "--config", str(base),
                "--kconfig-tree", str(linux_tree), "-o", str(merged))[0] == 0
    code, out = _run(capsys, "audit", "--config", str(merged), "--platform", "tdx",
                     "--format", "json", "--show", "all")
    findings = {f["rule_id"]: f for t in json.loads(out)["threats"] for f in t["findings"]}
    statuses = Counter(findings[r]["status"] for r in ("CCS-KCFG-007", "CCS-DATA-009",
                                                       "CCS-DATA-010"))
    assert statuses == Counter({"fail": 3})
    assert code == 1  # DATA-009/010 are medium
