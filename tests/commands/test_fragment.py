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
    for item in ("mce=off", "oops=panic", "pci=nommconf", "random.trust_cpu=y"):
        assert item in out
