"""The audit's target (issue 9.1): platform from the flag, the running guest or the config;
hypervisor; full config or fragment. Recorded in every report format."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cocoscope.cli import main
from cocoscope.evidence.dotconfig import load_config, parse_config_text
from cocoscope.model.hypervisor import Hypervisor
from cocoscope.model.platform import Platform
from cocoscope.rules.target import decide_target, infer_platform
from tests.paths import DATA


def _findings(doc: dict) -> dict[str, dict]:  # type: ignore[type-arg]
    return {f["rule_id"]: f for t in doc["threats"] for f in t["findings"]}


def _audit(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    code = main(["audit", *argv, "--format", "json", "--show", "all"])
    return code, json.loads(capsys.readouterr().out)


SYZ = DATA / "kconfig" / "syzkaller_guest_5.12.config"


def test_platform_inferred_from_a_tdx_only_config(capsys: pytest.CaptureFixture[str]) -> None:
    cfg = load_config(str(SYZ))
    assert cfg.is_on("INTEL_TDX_GUEST") and not cfg.is_on("AMD_MEM_ENCRYPT")
    assert infer_platform(cfg)[0] is Platform.TDX
    _, doc = _audit(capsys, "--config", str(SYZ))
    assert doc["target"]["platform"] == "tdx"
    assert doc["target"]["platform_source"].startswith("inferred from the config")
    assert doc["target"]["config"] == "full"
    f = _findings(doc)
    assert f["CCS-PLAT-001"]["status"] == "pass"
    assert f["CCS-PLAT-002"]["status"] == "not-applicable"  # was a critical failure
    assert f["CCS-PLAT-013"]["status"] == "pass"


def test_both_platforms_built_needs_a_choice(debian_cloud_config: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    _, doc = _audit(capsys, "--config", str(debian_cloud_config))
    assert doc["target"]["platform"] is None
    assert any("--platform tdx or --platform snp" in n for n in doc["notes"])
    f = _findings(doc)
    assert f["CCS-PLAT-001"]["status"] == f["CCS-PLAT-002"]["status"] == "not-applicable"
    assert "--platform" in f["CCS-PLAT-001"]["message"]
    _, doc = _audit(capsys, "--config", str(debian_cloud_config), "--platform", "snp")
    assert doc["target"] == {"platform": "snp", "platform_source": "--platform",
                             "hypervisor": None,
                             "hypervisor_source": "not given (--hypervisor) and not detected",
                             "config": "full", "keep": None}


def test_fragment_absent_symbols_are_unknown(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    frag = tmp_path / "coco.fragment"
    frag.write_text("CONFIG_INTEL_TDX_GUEST=y\n# CONFIG_VIRTIO_MMIO is not set\n")
    _, doc = _audit(capsys, "--config", str(frag))
    assert doc["target"]["config"] == "fragment" and doc["target"]["platform"] == "tdx"
    assert any("Kconfig fragment" in n for n in doc["notes"])
    f = _findings(doc)
    assert f["CCS-KCFG-001"]["status"] == "pass"  # the fragment says VIRTIO_MMIO is not set
    # MODULES and HPET_TIMER absent from a fragment: unknown, never pass (issue 9)
    assert f["CCS-MOD-001"]["status"] == "unknown"
    assert f["CCS-KCFG-044"]["status"] == "unknown"
    assert "not in the fragment" in f["CCS-KCFG-044"]["message"]


def test_hypervisor_flag(debian_cloud_config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, doc = _audit(capsys, "--config", str(debian_cloud_config), "--platform", "snp",
                    "--hypervisor", "hyperv")
    assert doc["target"]["hypervisor"] == "hyperv"
    assert _findings(doc)["CCS-KCFG-101"]["status"] == "pass"  # Azure needs HYPERV
    _, doc = _audit(capsys, "--config", str(debian_cloud_config), "--platform", "snp",
                    "--hypervisor", "kvm")
    assert _findings(doc)["CCS-KCFG-101"]["status"] == "fail"


def test_target_in_every_format(capsys: pytest.CaptureFixture[str]) -> None:
    main(["audit", "--config", str(SYZ), "--color", "never"])
    assert "Target: platform tdx (inferred from the config" in capsys.readouterr().out
    main(["audit", "--config", str(SYZ), "--format", "markdown"])
    assert "**Target:** platform tdx" in capsys.readouterr().out
    main(["audit", "--config", str(SYZ), "--format", "html"])
    assert "<b>Target:</b> platform tdx" in capsys.readouterr().out
    main(["audit", "--config", str(SYZ), "--format", "sarif"])
    run = json.loads(capsys.readouterr().out)["runs"][0]
    assert run["properties"]["target"]["platform"] == "tdx"


def test_decide_target_sources() -> None:
    cfg = parse_config_text("CONFIG_AMD_MEM_ENCRYPT=y\n", "frag")
    t = decide_target(None, None, None, cfg)
    assert (t.platform, t.config_kind, t.hypervisor) == (Platform.SNP, "fragment", None)
    t = decide_target(Platform.TDX, Hypervisor.HYPERV, None, cfg)
    assert (t.platform, t.platform_source, t.hypervisor) == (Platform.TDX, "--platform",
                                                              Hypervisor.HYPERV)
    assert decide_target(None, None, None, None).platform is None
