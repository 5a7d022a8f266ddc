from __future__ import annotations

import json
import lzma
import os
import subprocess
from pathlib import Path

import pytest

from cocoscope.cli import main


@pytest.mark.parametrize("platform", ["tdx", "snp"])
def test_fragment_json(platform: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["fragment", "--platform", platform, "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["config"], "the built-in rules carry config fixes"
    assert doc["config"]["VIRTIO_MMIO"]["value"] == "n"
    key = "INTEL_TDX_GUEST" if platform == "tdx" else "AMD_MEM_ENCRYPT"
    assert doc["config"][key]["value"] == "y"


def test_fragment_text_has_intel_cmdline(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["fragment", "--platform", "tdx"]) == 0
    out = capsys.readouterr().out
    assert "# CONFIG_VIRTIO_MMIO is not set" in out
    for item in ("mce=off", "nommconf", "noearly", "no-kvmclock", "random.trust_cpu=y",
                 "random.trust_bootloader=n"):
        assert item in out


def _fails(doc: dict) -> list[dict]:  # type: ignore[type-arg]
    return [f for t in doc["threats"] for f in t["findings"] if f["status"] == "fail"]


@pytest.mark.parametrize("platform", ["tdx", "snp"])
def test_fragment_on_debian_cloud_leaves_no_high_config_failure(
    platform: str, linux_tree, debian_cloud_config, tmp_path, capsys  # type: ignore[no-untyped-def]
) -> None:
    merged = tmp_path / "merged.config"
    assert main(["fragment", "--platform", platform, "--config", str(debian_cloud_config),
                 "--kconfig-tree", str(linux_tree), "-o", str(merged)]) == 0
    capsys.readouterr()
    # Before: the stock cloud config fails high-severity rules (e.g. virtio-mmio is built).
    main(["audit", "--config", str(debian_cloud_config), "--platform", platform, "--format", "json"])
    before = _fails(json.loads(capsys.readouterr().out))
    assert any(f["severity"] in ("high", "critical") for f in before)
    main(["audit", "--config", str(merged), "--platform", platform, "--format", "json"])
    after = _fails(json.loads(capsys.readouterr().out))
    high = [f["rule_id"] for f in after if f["severity"] in ("high", "critical")]
    assert high == []
    assert len(after) < len(before)


def test_kconfig_tree_explains_failing_rules(linux_tree, debian_cloud_config, capsys) -> None:  # type: ignore[no-untyped-def]
    main(["audit", "--config", str(debian_cloud_config), "--kconfig-tree", str(linux_tree),
          "--format", "json"])
    fails = {f["rule_id"]: f for f in _fails(json.loads(capsys.readouterr().out))}
    kexec = fails["CCS-MOD-004"]
    assert any("turning CONFIG_KEXEC_FILE off also changes" in n for n in kexec["notes"])
    assert any(n.startswith("CONFIG_VIRTIO_FS is y") for n in fails["CCS-DATA-009"]["notes"])


# --- issue 9.4: a fragment that is safe to apply ------------------------------------------------

def test_fragment_keeps_what_the_profile_needs(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["fragment", "--platform", "tdx", "--format", "json"]) == 0
    plain = json.loads(capsys.readouterr().out)
    assert plain["config"]["SCSI_VIRTIO"]["value"] == "n"
    assert main(["fragment", "--platform", "tdx", "--keep", "kata", "--format", "json"]) == 0
    kata = json.loads(capsys.readouterr().out)
    for sym in ("SCSI_VIRTIO", "VIRTIO_VSOCKETS", "VIRTIO_FS"):
        assert sym not in kata["config"], sym
    assert kata["kept"]["SCSI_VIRTIO"] == "CCS-KCFG-007"
    assert main(["fragment", "--platform", "tdx", "--keep", "nonsense-group"]) == 2


def test_fragment_on_hyperv_keeps_hyperv(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["fragment", "--platform", "snp", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["config"]["HYPERV"]["value"] == "n"
    assert main(["fragment", "--platform", "snp", "--hypervisor", "hyperv",
                 "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert "HYPERV" not in doc["config"] and doc["hypervisor"] == "hyperv"


def test_tdx_fragment_keeps_x2apic_path(capsys: pytest.CaptureFixture[str]) -> None:
    # arch/x86/kernel/apic/apic.c:1832: without interrupt remapping x2APIC stays on only if
    # x86_init.hyper.x2apic_available(), which is kvm_para_available for KVM (kvm.c:1058); the
    # TDX fragment turns IRQ_REMAP off, so it must not turn KVM_GUEST off too.
    assert main(["fragment", "--platform", "tdx", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["config"]["IRQ_REMAP"]["value"] == "n"
    assert "KVM_GUEST" not in doc["config"]
    assert "nopv" not in doc["cmdline"].split()


@pytest.mark.parametrize("platform", ["tdx", "snp"])
def test_kernel_merge_config_takes_every_line(platform: str, linux_tree: Path,
                                              debian_cloud_config: Path, tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    """The text output through the 6.12 tree's own scripts/kconfig/merge_config.sh (-m: merge
    only; the olddefconfig step is kconfiglib's, as `make` would need flex and bison): every
    fragment line reaches the merged .config verbatim, and after resolution every value holds."""
    from cocoscope.evidence.dotconfig import load_config
    from cocoscope.evidence.kconfig import load_tree

    frag = tmp_path / "coco.config"
    assert main(["fragment", "--platform", platform, "--keep", "kata", "-o", str(frag)]) == 0
    capsys.readouterr()
    base = tmp_path / "base.config"
    base.write_bytes(lzma.decompress(debian_cloud_config.read_bytes()))
    out = subprocess.run(
        ["sh", str(linux_tree / "scripts" / "kconfig" / "merge_config.sh"), "-m",
         str(base), str(frag)],
        cwd=tmp_path, env={**os.environ, "KCONFIG_CONFIG": str(tmp_path / ".config")},
        capture_output=True, text=True, check=True)
    assert "does not exist" not in out.stdout + out.stderr
    merged = (tmp_path / ".config").read_text()
    wanted = [line for line in frag.read_text().splitlines()
              if line.startswith("CONFIG_") or (line.startswith("# CONFIG_") and
                                               line.endswith(" is not set"))]
    assert len(wanted) > 40
    missing = [w for w in wanted if w not in merged.splitlines()]
    assert missing == []
    tree = load_tree(linux_tree)
    tree.apply(load_config(str(tmp_path / ".config")))
    lost = [w for w in wanted if w.startswith("CONFIG_")
            and tree.value(w.split("=", 1)[0]) != w.split("=", 1)[1].strip('"')]
    lost += [w for w in wanted if w.startswith("# ") and tree.value(w.split()[1]) != "n"]
    assert lost == [], "fragment values that olddefconfig did not keep"
    final = tmp_path / "final.config"
    final.write_text(tree.config_text())
    # what the kata profile keeps is still built
    cfg = load_config(str(final))
    for sym in ("VIRTIO_VSOCKETS", "SCSI_VIRTIO", "VIRTIO_FS", "VIRTIO_CONSOLE"):
        assert cfg.is_on(sym), sym


def test_fragment_out_needs_a_config_and_a_tree(tmp_path: Path) -> None:
    assert main(["fragment", "--platform", "tdx", "--fragment-out", str(tmp_path / "f")]) == 2
    assert not (tmp_path / "f").exists()
