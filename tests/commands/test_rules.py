"""`cocoscope rules list|show`: text that shows what is checked, JSON in the envelope."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from cocoscope.cli import main
from cocoscope.rules import load_builtin_rules
from tests.report.schemas import validate


def _out(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    assert main(["rules", *argv]) == 0
    return capsys.readouterr().out


def test_show_text_has_the_condition_and_no_python_reprs(
        capsys: pytest.CaptureFixture[str]) -> None:
    out = _out(capsys, "show", "CCS-KCFG-003")
    assert 'applies if: { symbol = "VIRTIO_PCI", is = "on" }' in out
    assert "fix: CONFIG_VIRTIO_PCI_LEGACY=n" in out
    assert "['" not in out and "{'" not in out  # no Python list or dict reprs
    # Prose is wrapped; a long condition is spread over lines, nested parts indented.
    assert all(len(line) <= 80 for line in out.splitlines() if not line.lstrip().startswith("{"))


def test_show_spreads_long_conditions_over_lines(capsys: pytest.CaptureFixture[str]) -> None:
    out = _out(capsys, "show", "CCS-KCFG-003")
    assert "passes if:\n  { any = [\n" in out
    assert '    { symbol = "VIRTIO_PCI_LEGACY", is = "off" },' in out


def test_show_condition_round_trips_as_toml() -> None:
    """A condition printed on one line is TOML that parses back to the rule's own table."""
    from cocoscope.commands.rules import rule_text

    checked = 0
    for rule in load_builtin_rules():
        for line in rule_text(rule).splitlines():
            if line.startswith("passes if: "):
                parsed = tomllib.loads("c = " + line.removeprefix("passes if: "))["c"]
                assert parsed == rule.pass_if_doc, rule.id
                checked += 1
    assert checked > 100


def test_show_and_list_json_in_the_envelope(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    doc = json.loads(_out(capsys, "show", "CCS-ATTEST-002", "--format", "json"))
    validate(doc)
    assert doc["command"] == "rules show"
    assert doc["rule"]["pass_if"] == {"attestation": "eventlog-bound"}
    assert doc["rule"]["applies_if"] == {"attestation": "cmdline-from-eventlog"}
    extra = tmp_path / "mine.toml"
    extra.write_text('[[rule]]\nid = "CCS-MINE-001"\ntitle = "t"\nthreat = "guest-data-attacks"\n'
                     'severity = "low"\npass_if = { cmdline = "quiet" }\n')
    doc = json.loads(_out(capsys, "list", "--format", "json", "--rules", str(extra)))
    validate(doc)
    assert doc["command"] == "rules list" and doc["inputs"][0]["path"] == str(extra)
    assert len(doc["rules"]) == len(load_builtin_rules()) + 1
