"""`cocoscope surface triage` and `surface diff --baseline` on a copy of the fixture tree that is
edited between two scans the way a kernel upgrade edits code: lines move, a call line changes,
a file is renamed, a new risky site appears."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from cocoscope.cli import main
from cocoscope.errors import InputError
from cocoscope.surface import triage
from cocoscope.surface.triage import Label, Record, Verdict
from tests.paths import DATA
from tests.report.schemas import validate

TREE = DATA / "surface" / "tree"
GRADES, LEAF = "drivers/demo/grades.c", "drivers/demo/leaf.c"
SCAN = ("--all-files", "--no-cache", "--jobs", "1")


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["surface", *argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture()
def tree(tmp_path: Path) -> Path:
    dst = tmp_path / "linux"
    shutil.copytree(TREE, dst)
    return dst


def records(path: Path) -> list[Record]:
    return triage.load(path)


def fp_of(recs: list[Record], file: str, primitive: str, text: str = "") -> str:
    """The one site of ``primitive`` in ``file`` whose call line contains ``text`` (located by
    what it is, not by line: other fixtures' edits move lines)."""
    (rec,) = [r for r in recs if r.file == file and r.primitive == primitive
              and text in r.context]
    return rec.fingerprint


def start(capsys: pytest.CaptureFixture[str], tree: Path, labels: Path) -> list[Record]:
    """A labels file for the unedited tree, with three verdicts given by --set."""
    code, out, _ = cli(capsys, "triage", "--source", str(tree), *SCAN, "--labels", str(labels),
                       "--who", "alice")
    assert code == 0 and "0 labelled" in out
    recs = records(labels)
    sets = [f"{fp_of(recs, GRADES, 'readq')}=concern:desc pointer from the device",
            f"{fp_of(recs, GRADES, 'inw')}=t:state is checked by the caller",
            f"{fp_of(recs, LEAF, 'cpuid_eax')}=excluded:CPUID leaf answered by the TDX module"]
    code, out, _ = cli(capsys, "triage", "--source", str(tree), *SCAN, "--labels", str(labels),
                       "--who", "alice", *(a for s in sets for a in ("--set", s)))
    assert code == 0 and "3 labelled" in out and "3 new" in out
    return records(labels)


def test_set_records_label_reason_who_when(capsys: pytest.CaptureFixture[str], tree: Path,
                                            tmp_path: Path) -> None:
    recs = start(capsys, tree, tmp_path / "labels.jsonl")
    verdicts = {(r.file, r.primitive): r.verdict for r in recs if r.verdict}
    v = verdicts[(GRADES, "inw")]
    assert v is not None and v.label is Label.TRUSTED and v.who == "alice"
    assert v.reason == "state is checked by the caller" and v.when.endswith("Z")
    assert len(recs) == len({r.fingerprint for r in recs}) > 30


def test_labels_follow_moved_and_edited_code(capsys: pytest.CaptureFixture[str], tree: Path,
                                             tmp_path: Path) -> None:
    labels = tmp_path / "labels.jsonl"
    start(capsys, tree, labels)
    grades = tree / "drivers/demo/grades.c"
    text = grades.read_text()
    # Lines move (a comment block above) and the readq line is edited (a new cast target).
    text = text.replace("void demo_grades(", "/*\n * moved\n */\nvoid demo_grades(")
    text = text.replace("(struct demo_desc *)readq(base);",
                        "(struct demo_desc *)readq(base + 0);")
    text = text.replace("if (!inb(0x64))",
                        "if (!inb(0x64))\n\t\treturn;\n\tif (d->ring[inb(0x61)])")
    grades.write_text(text)
    (tree / "drivers/demo/leaf.c").rename(tree / "drivers/demo/leaf_cpu.c")

    code, out, _ = cli(capsys, "diff", "--source", str(tree), *SCAN, "--baseline", str(labels),
                       "--format", "json")
    doc = json.loads(out)
    validate(doc)
    assert doc["command"] == "surface diff" and doc["inputs"][0]["kind"] == "labels"
    matched = {(m["file"], m["primitive"]): m for m in doc["matched"]
               if m["primitive"] != "inb"}
    # The untouched inw line moved by five lines and kept its label exactly.
    moved = matched[(GRADES, "inw")]
    assert moved["how"] == "exact" and moved["line"] == moved["baseline"]["line"] + 5
    assert moved["baseline"]["label"] == "trusted"
    # The edited readq line and the renamed file are carried by the fuzzy fallback.
    edited = matched[(GRADES, "readq")]
    assert edited["how"] == "fuzzy" and edited["baseline"]["label"] == "concern"
    assert 0.6 <= edited["similarity"] < 1
    renamed = matched[("drivers/demo/leaf_cpu.c", "cpuid_eax")]
    assert renamed["how"] == "fuzzy" and renamed["baseline"]["file"] == "drivers/demo/leaf.c"
    # The new subscript use of inb is new, risky and unlabelled: the CI gate fails.
    assert [(s["file"], s["primitive"], s["line"]) for s in doc["unlabelled_risky"]] == [
        (GRADES, "inb", moved["line"] - 2)]
    assert code == 1
    code, out, _ = cli(capsys, "diff", "--source", str(tree), *SCAN, "--baseline", str(labels))
    assert code == 1
    assert "labels carried 3 of 3 (exact 1, fuzzy 2)" in out
    assert "Labels carried by a fuzzy match (confirm them)" in out


def test_triage_rebases_the_file_and_the_gate_passes_once_labelled(
        capsys: pytest.CaptureFixture[str], tree: Path, tmp_path: Path) -> None:
    labels = tmp_path / "labels.jsonl"
    start(capsys, tree, labels)
    grades = tree / "drivers/demo/grades.c"
    grades.write_text(grades.read_text().replace(
        "if (!inb(0x64))", "if (d->ring[inb(0x61)])\n\t\treturn;\n\tif (!inb(0x64))"))
    assert cli(capsys, "diff", "--source", str(tree), *SCAN, "--baseline", str(labels))[0] == 1
    code, out, _ = cli(capsys, "triage", "--source", str(tree), *SCAN, "--labels",
                       str(labels), "--no-prompt")
    assert code == 0 and "carried 3 exact, 0 fuzzy" in out
    new = fp_of(records(labels), GRADES, "inb", "0x61")
    # Untriaged but already in the baseline: no longer "new", the gate passes.
    assert cli(capsys, "diff", "--source", str(tree), *SCAN, "--baseline", str(labels))[0] == 0
    code, _, _ = cli(capsys, "triage", "--source", str(tree), *SCAN, "--labels", str(labels),
                     "--set", f"{new}=concern:index from port 0x61 unchecked")
    assert code == 0
    assert [r.verdict.label for r in records(labels) if r.fingerprint == new and r.verdict] \
        == [Label.CONCERN]


def test_prompt_loop_asks_about_risky_unlabelled_sites(tree: Path, tmp_path: Path) -> None:
    from cocoscope.surface import triage_session
    from cocoscope.surface.api import inventory

    inv = inventory(str(tree), None, all_files=True, use_cache=False, jobs=1)
    answers = iter(["x", "c", "", "c", "looks wrong", "s", "w", "feeds its callers", "q"])
    said: list[str] = []
    out = triage_session.run(inv, str(tmp_path / "l.jsonl"), who="bob",
                             ask=lambda _prompt: next(answers), say=said.append)
    assert out.set_now == 2
    labelled = [r for r in out.records if r.verdict]
    assert [r.verdict.label for r in labelled if r.verdict] == [Label.CONCERN, Label.WRAPPER]
    assert any("answer e, t, w, c, s or q" in s for s in said)
    assert any("a reason is required" in s for s in said)
    # Saved after every answer: the file on disk holds both verdicts.
    assert sum(r.verdict is not None for r in records(tmp_path / "l.jsonl")) == 2


def test_sarif_carries_labels_as_suppressions(capsys: pytest.CaptureFixture[str], tree: Path,
                                              tmp_path: Path) -> None:
    labels = tmp_path / "labels.jsonl"
    start(capsys, tree, labels)
    code, out, _ = cli(capsys, "--source", str(tree), *SCAN, "--format", "sarif",
                       "--labels", str(labels))
    assert code == 0
    results = json.loads(out)["runs"][0]["results"]
    triaged = {(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
                r["properties"]["primitive"]): r
               for r in results if "triage" in r["properties"]}
    assert len(triaged) == 3
    concern = triaged[(GRADES, "readq")]
    assert "suppressions" not in concern and concern["properties"]["triage"]["label"] == \
        "concern"
    trusted = triaged[(GRADES, "inw")]
    (sup,) = trusted["suppressions"]
    assert sup["kind"] == "external" and sup["status"] == "accepted"
    assert sup["justification"].startswith("trusted: state is checked by the caller (alice, ")
    code, out, _ = cli(capsys, "diff", "--source", str(tree), *SCAN, "--baseline", str(labels),
                       "--format", "sarif")
    assert code == 0 and json.loads(out)["version"] == "2.1.0"


GOOD = ('{"fingerprint": "a1", "file": "x.c", "line": 3, "function": "f", "primitive": "readl",'
        ' "context": "v=readl(b);", "grade": "stored"')
HEADER = json.dumps(triage.HEADER)


@pytest.mark.parametrize(("body", "line", "message"), [
    (GOOD + ', "label": null, "reason": "r", "who": "a", "when": "t"}', 3, "label is null"),
    (GOOD + ', "colour": "red"}', 3, "unknown key(s) colour"),
    (GOOD + ', "line": 4}', 3, "key 'line' appears twice"),
    (GOOD + "}\n" + GOOD + "}", 4, "fingerprint a1 already on line 3"),
    (GOOD + ', "label": "fine", "reason": "r", "who": "a", "when": "t"}', 3,
     "label 'fine' is not one of"),
    (GOOD + ', "label": "trusted"}', 3, "label, reason, who and when go together"),
    (GOOD.replace('"line": 3', '"line": "3"') + "}", 3, "line must be a int"),
    ('{"fingerprint": "a1"}', 3, "missing key(s)"),
    (GOOD + ', "label": "trusted", "reason": " ", "who": "a", "when": "t"}', 3,
     "reason is empty"),
    ("[1, 2]", 3, "expected a JSON object"),
    ("{not json", 3, "not a JSON object"),
])
def test_bad_labels_files_name_the_line(tmp_path: Path, body: str, line: int,
                                        message: str) -> None:
    path = tmp_path / "labels.jsonl"
    path.write_text(f"{HEADER}\n# a comment\n{body}\n")
    with pytest.raises(InputError) as exc:
        triage.load(path)
    assert exc.value.where == f"line {line}" and message in exc.value.message
    assert exc.value.path == str(path)


def test_bad_labels_file_exits_3_with_file_and_line(capsys: pytest.CaptureFixture[str],
                                                    tmp_path: Path) -> None:
    path = tmp_path / "labels.jsonl"
    path.write_text(f"{HEADER}\n{GOOD}, \"grade\": null}}\n")
    code, _, err = cli(capsys, "diff", "--source", str(TREE), *SCAN, "--baseline", str(path))
    assert code == 3
    assert f"{path}: line 2:" in err and "Traceback" not in err
    path.write_text(GOOD + "}\n")
    code, _, err = cli(capsys, "triage", "--source", str(TREE), *SCAN, "--labels", str(path))
    assert code == 3 and "expected the header" in err


def test_round_trip_and_usage_errors(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    rec = Record("f1", "a.c", 1, "fn", "inb", "x=inb(1);", "stored",
                 Verdict(Label.WRAPPER, "its callers are reviewed", "c", "2026-01-01T00:00:00Z"))
    path = tmp_path / "l.jsonl"
    triage.save(path, [rec, rec.with_verdict(None).__class__(**{**rec.__dict__,
                                                                 "fingerprint": "f2",
                                                                 "verdict": None})])
    back = triage.load(path)
    assert back[0] == rec and back[1].verdict is None
    assert cli(capsys, "triage", "--source", str(TREE), *SCAN)[0] == 2
    assert cli(capsys, "diff", "--source", str(TREE), *SCAN)[0] == 2
    assert cli(capsys, "--source", str(TREE), *SCAN, "--set", "a=c:x")[0] == 2
    assert cli(capsys, "triage", "--source", str(TREE), *SCAN, "--labels", str(path),
               "--set", "nosuch=concern:x")[0] == 2
    assert cli(capsys, "triage", "--source", str(TREE), *SCAN, "--labels", str(path),
               "--set", "f1=maybe:x")[0] == 2
