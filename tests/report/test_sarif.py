"""SARIF 2.1.0 for GitHub code scanning: schema-valid, relative URIs under SRCROOT, stable
fingerprints, security-severity, only what needs attention as results (moved here from
tests/commands/test_audit.py, which checked schema and anchoring)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from cocoscope.cli import main
from tests.paths import DATA, REPO

SARIF_SCHEMA = DATA / "sarif" / "sarif-schema-2.1.0.json"
KCONFIGS = sorted((DATA / "kconfig").glob("*.config"))


def _sarif(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, Any]]:
    code = main(["audit", *argv, "--format", "sarif"])
    doc = json.loads(capsys.readouterr().out)
    jsonschema.validate(doc, json.loads(SARIF_SCHEMA.read_text()))
    return code, doc


@pytest.mark.parametrize("config", KCONFIGS, ids=[p.name for p in KCONFIGS])
def test_sarif_validates_and_is_anchored(config: Path, capsys: pytest.CaptureFixture[str],
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    code, doc = _sarif(capsys, "--config", str(config), "--cmdline", "console=hvc0 nokaslr")
    run = doc["runs"][0]
    assert run["originalUriBaseIds"]["SRCROOT"]["uri"] == REPO.as_uri() + "/"
    results = run["results"]
    assert results and code == 1
    # Only failing, waived and advice findings are results; the rest are counted.
    assert {r["properties"]["status"] for r in results} <= {"fail", "waived", "advice"}
    counts = run["properties"]["counts"]
    assert len(results) == counts["fail"] + counts["waived"] + counts["advice"]
    assert counts["pass"] > 0
    # Config findings: a relative URI under SRCROOT and the line; the command line given as
    # a string has no file, so its findings carry a logical location.
    rel = config.relative_to(REPO).as_posix()
    in_config = [r for r in results if "physicalLocation" in r["locations"][0]]
    assert in_config and all(
        r["locations"][0]["physicalLocation"]["artifactLocation"] == {"uri": rel,
                                                                      "uriBaseId": "SRCROOT"}
        for r in in_config)
    # A symbol the config sets has its line; an absent symbol points at the whole file.
    lines = [r["locations"][0]["physicalLocation"].get("region", {}).get("startLine")
             for r in in_config]
    assert any(lines) and all(n is None or n >= 1 for n in lines)
    on_cmdline = [r for r in results if "logicalLocations" in r["locations"][0]]
    assert any(r["ruleId"] == "CCS-CMD-001" for r in on_cmdline)  # nokaslr
    assert all(r["locations"][0]["logicalLocations"][0]["name"] == "kernel command line"
               for r in on_cmdline)
    # Every rule: a security-severity GitHub can read; every result: a fingerprint.
    for rule in run["tool"]["driver"]["rules"]:
        assert 0.0 < float(rule["properties"]["security-severity"]) <= 10.0
    assert all(len(r["partialFingerprints"]["cocoscopeFinding/v1"]) == 32 for r in results)


def test_cmdline_file_findings_point_at_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "cmdline").write_text("root=/dev/vda1 nokaslr\n")
    _, doc = _sarif(capsys, "--cmdline-file", "cmdline")
    r = next(r for r in doc["runs"][0]["results"] if r["ruleId"] == "CCS-CMD-001")
    phys = r["locations"][0]["physicalLocation"]
    assert phys["artifactLocation"] == {"uri": "cmdline", "uriBaseId": "SRCROOT"}
    assert phys["region"] == {"startLine": 1, "startColumn": 16}


def test_file_outside_srcroot_keeps_an_absolute_uri(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    _, doc = _sarif(capsys, "--config", str(KCONFIGS[0]))
    art = doc["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert art == {"uri": KCONFIGS[0].as_uri()}


def test_fingerprints_survive_a_line_shift_and_waivers_are_suppressions(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    shutil.copy(KCONFIGS[0], tmp_path / "guest.config")
    _, before = _sarif(capsys, "--config", "guest.config")
    cfg = tmp_path / "guest.config"
    cfg.write_text("# a new first line\n" + cfg.read_text())
    waived_id = before["runs"][0]["results"][0]["ruleId"]
    (tmp_path / "w.toml").write_text(f'[[waiver]]\nid = "{waived_id}"\nrationale = "lab"\n'
                                     'expires = 2999-12-31\n')
    _, after = _sarif(capsys, "--config", "guest.config", "--waivers", "w.toml")

    def prints(doc: dict[str, Any]) -> dict[str, str]:
        return {r["ruleId"]: r["partialFingerprints"]["cocoscopeFinding/v1"]
                for r in doc["runs"][0]["results"]}

    assert prints(after) == prints(before)
    lines = {r["ruleId"]: r["locations"][0]["physicalLocation"]["region"]["startLine"]
             for d in (before, after) for r in d["runs"][0]["results"] if r["ruleId"] == waived_id}
    waived = next(r for r in after["runs"][0]["results"] if r["ruleId"] == waived_id)
    assert waived["suppressions"] == [{"kind": "external", "status": "accepted",
                                       "justification": "waived until 2999-12-31: lab"}]
    assert waived["properties"]["status"] == "waived" and lines
