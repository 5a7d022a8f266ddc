"""`cocoscope audit --source`: the malformed-runtime-input row counts host-input sites."""

from __future__ import annotations

import json

from cocoscope.cli import main


def test_source_counts_sites_in_input_row(linux_tree, debian_cloud_config, capsys) -> None:  # type: ignore[no-untyped-def]
    main(["audit", "--config", str(debian_cloud_config), "--source", str(linux_tree),
          "--format", "json"])
    doc = json.loads(capsys.readouterr().out)
    row = next(t for t in doc["threats"] if t["threat"] == "malformed-runtime-input")
    counts = row["facts"]["surface_counts"]
    assert counts["sites"] > 1000 and 0 < counts["risky"] < counts["sites"]
    assert counts["interface:mmio"] > 0 and counts["interface:pci-config"] > 0
    assert "host-input sites" in row["summary"]
    assert any(i["kind"] == "source" for i in doc["inputs"])


def test_source_without_config_is_usage_error(linux_tree, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["audit", "--cmdline", "quiet", "--source", str(linux_tree)]) == 2
    assert "needs a kernel config" in capsys.readouterr().err
