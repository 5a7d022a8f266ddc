from __future__ import annotations

import json

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
