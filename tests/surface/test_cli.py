"""`cocoscope surface` end to end on the fixture tree (--all-files: no Kbuild needed)."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import jsonschema
import pytest

from cocoscope.cli import main
from tests.paths import DATA
from tests.report.schemas import validate

TREE = DATA / "surface" / "tree"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["surface", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_json_inventory_has_the_documented_keys(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--source", str(TREE), "--all-files", "--format", "json",
                       "--no-cache", "--jobs", "1")
    assert code == 0
    doc = json.loads(out)
    assert doc["totals"]["sites"] == len(doc["sites"]) > 20
    for site in doc["sites"]:
        assert {"file", "line", "function", "primitive", "interface", "grade", "built",
                "symbol"} <= site.keys()
    assert {r["key"] for r in doc["by_interface"]} >= {"mmio", "port-io", "cpuid"}
    broken = [p for p in doc["problems"] if p["file"] == "drivers/demo/broken.c"]
    assert broken and broken[0]["lost_ranges"]


def test_sarif_validates_against_the_official_schema(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--source", str(TREE), "--all-files", "--format", "sarif",
                       "--no-cache", "--jobs", "1")
    assert code == 0
    doc = json.loads(out)
    schema = json.loads((DATA / "sarif" / "sarif-schema-2.1.0.json").read_text())
    jsonschema.validate(doc, schema)
    results = doc["runs"][0]["results"]
    assert all(r["locations"][0]["physicalLocation"]["region"]["startLine"] > 0 for r in results)
    assert {r["level"] for r in results} == {"warning", "note"}


def test_csv_and_table(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, "--source", str(TREE), "--all-files", "--format", "csv",
                    "--no-cache", "--jobs", "1")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert any(r["chain"] == "demo_status > RDEMO_R32 > readl" for r in rows)
    _, out, _ = run(capsys, "--source", str(TREE), "--all-files", "--no-cache", "--jobs", "1")
    assert "By interface class" in out and "By Kconfig symbol" in out
    assert "demo_status > RDEMO_R32 > readl" in out


def test_platform_tdx_drops_trusted_cpuid(capsys: pytest.CaptureFixture[str]) -> None:
    _, generic, _ = run(capsys, "--source", str(TREE), "--all-files", "--format", "json",
                        "--no-cache", "--jobs", "1")
    _, tdx, _ = run(capsys, "--source", str(TREE), "--all-files", "--format", "json",
                    "--no-cache", "--jobs", "1", "--platform", "tdx")
    # cpuid_eax(0x16), cpuid_ebx(0x1f), MSR_IA32_TSC, and leaf 0xd read directly and through
    # a wrapper (drivers/demo/leaf.c)
    assert json.loads(tdx)["totals"]["trusted_on_platform"] == 5
    assert json.loads(generic)["totals"]["sites"] == json.loads(tdx)["totals"]["sites"] + 5


def test_diff_two_trees(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    other = tmp_path / "tree"
    shutil.copytree(TREE, other)
    f = other / "drivers" / "demo" / "consumer.c"
    f.write_text(f.read_text() + "\nint demo_more(void) { return inl(0xcfc); }\n")
    code, out, _ = run(capsys, "diff", "--source", str(TREE), "--all-files", "--no-cache",
                       "--jobs", "1", "--against-source", str(other), "--format", "json")
    assert code == 0
    doc = json.loads(out)
    validate(doc)
    assert doc["command"] == "surface diff"
    assert [(a["file"], a["primitive"]) for a in doc["added"]] == [
        ("drivers/demo/consumer.c", "inl")]
    assert doc["removed"] == []


def test_user_catalogue_extends_the_builtin(capsys: pytest.CaptureFixture[str],
                                            tmp_path: Path) -> None:
    extra = tmp_path / "extra.toml"
    _, out, _ = run(capsys, "--source", str(TREE), "--all-files", "--format", "json",
                    "--no-cache", "--jobs", "1")
    assert not any(s["primitive"] == "memcpy" for s in json.loads(out)["sites"])
    extra.write_text('[[group]]\ninterface = "mmio"\nvalue = "args 3"\nnames = ["memcpy"]\n')
    _, out, _ = run(capsys, "--source", str(TREE), "--all-files", "--format", "json",
                    "--no-cache", "--jobs", "1", "--catalogue", str(extra))
    assert any(s["primitive"] == "memcpy" for s in json.loads(out)["sites"])


@pytest.mark.parametrize("argv", [
    ("--source", "/nonexistent", "--all-files"),
    ("--source", str(TREE), "--all-files", "--catalogue", "/nonexistent.toml"),
])
def test_bad_input_exits_3_naming_the_file(capsys: pytest.CaptureFixture[str],
                                           argv: tuple[str, ...]) -> None:
    code, out, err = run(capsys, *argv)
    assert code == 3 and out == "" and "nonexistent" in err and "Traceback" not in err


def test_bad_catalogue_content(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[[group]]\ninterface = "nope"\nvalue = "return"\nnames = ["x"]\n')
    code, _, err = run(capsys, "--source", str(TREE), "--all-files", "--catalogue", str(bad))
    assert code == 3 and "bad.toml" in err and "interface" in err
    bad.write_text('[[group]]\ninterface = "mmio"\nvalue = "args two"\nnames = ["x"]\n')
    code, _, err = run(capsys, "--source", str(TREE), "--all-files", "--catalogue", str(bad))
    assert code == 3 and "integers" in err


def test_usage_errors(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "--source", str(TREE))[0] == 2  # neither --config nor --all-files
    assert run(capsys, "diff", "--source", str(TREE), "--all-files")[0] == 2


def test_sarif_fingerprints_are_unique_and_survive_a_line_shift(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    def prints(tree: Path) -> list[str]:
        _, out, _ = run(capsys, "--source", str(tree), "--all-files", "--format", "sarif",
                        "--no-cache", "--jobs", "1")
        return [r["partialFingerprints"]["cocoscopeSurface/v1"]
                for r in json.loads(out)["runs"][0]["results"]]

    base = prints(TREE)
    assert len(set(base)) == len(base)
    other = tmp_path / "tree"
    shutil.copytree(TREE, other)
    f = other / "drivers" / "demo" / "pci_virtio.c"
    f.write_text("// a new first line\n" + f.read_text())
    assert set(prints(other)) == set(base)
