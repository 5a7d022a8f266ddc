"""`cocoscope audit` end to end on fake system trees and real configs."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from cocoscope.cli import main
from tests.paths import DATA
from tests.report.schemas import validate as _validate

SARIF_SCHEMA = DATA / "sarif" / "sarif-schema-2.1.0.json"
KCONFIGS = sorted((DATA / "kconfig").glob("*.config"))


def _json(capsys: pytest.CaptureFixture[str], argv: list[str]) -> tuple[int, dict]:  # type: ignore[type-arg]
    code = main(argv)
    return code, json.loads(capsys.readouterr().out)


def test_live_plain_vm(fake_root: Callable[..., Path], capsys: pytest.CaptureFixture[str]) -> None:
    root = fake_root()
    code, doc = _json(capsys, ["audit", "--root", str(root), "--format", "json", "--fail-on", "critical"])
    _validate(doc)
    assert doc["platform"]["detected"] == "none"
    drivers = {(d["bus"], d["name"]): d["driver"] for d in doc["devices"]}
    assert drivers[("pci", "0000:00:03.0")] == "e1000"
    assert drivers[("virtio", "virtio0")] == "virtio_net"
    kinds = [i["kind"] for i in doc["inputs"]]
    assert kinds[:2] == ["config", "system"] and "cmdline" in kinds
    assert [t["threat"] for t in doc["threats"]] == [
        "guest-malicious-configuration", "guest-data-attacks",
        "malformed-runtime-input", "malicious-runtime-input"]
    statuses = {f["rule_id"]: f["status"] for t in doc["threats"] for f in t["findings"]}
    assert "fail" in statuses.values() and "pass" in statuses.values()
    # critical failure: the config builds no AMD_MEM_ENCRYPT (CCS-PLAT-002) and no platform is detected
    assert statuses["CCS-PLAT-002"] == "fail"
    assert code == 1


def test_live_terminal_says_not_coco(fake_root: Callable[..., Path], capsys: pytest.CaptureFixture[str]) -> None:
    root = fake_root()
    main(["audit", "--root", str(root), "--color", "never"])
    out = capsys.readouterr().out
    assert "not running under TDX or SEV-SNP" in out
    # The short page: the answer and the next step first, devices only counted.
    assert out.index("Answer:") < out.index("Next step:") < out.index("CoCo threat matrix")
    assert "e1000" not in out and "Devices the host presents: 5" in out
    main(["audit", "--root", str(root), "--color", "never", "--show", "fail"])
    out = capsys.readouterr().out
    assert "Answer:" not in out
    assert "e1000" in out and "virtio_net" in out and "CoCo threat matrix" in out


def test_live_tdx_detection(fake_root: Callable[..., Path], capsys: pytest.CaptureFixture[str]) -> None:
    root = fake_root(tdx=True)
    _, doc = _json(capsys, ["audit", "--root", str(root), "--format", "json"])
    assert doc["platform"]["detected"] == "tdx"
    assert any("tdx_guest" in s for s in doc["platform"]["signs"])


def test_fail_on_and_output_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "r.json"
    assert main(["audit", "--config", str(KCONFIGS[0]), "--format", "json", "-o", str(out),
                 "--fail-on", "low"]) == 1
    assert capsys.readouterr().out == ""
    doc = json.loads(out.read_text())
    fails = [f for t in doc["threats"] for f in t["findings"] if f["status"] == "fail"]
    assert fails


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["--config", "/nonexistent.config"], "not found"),
        (["--config", "{garbage}"], "not a kernel config"),
        (["--config", "{truncated}"], "truncated"),
        (["--cmdline", 'root=/dev/vda "quiet'], "unbalanced"),
        (["--config", "{garbage}", "--waivers", "/nonexistent.toml"], "not a kernel config"),
    ],
)
def test_bad_input_exit_3(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                          argv: list[str], needle: str) -> None:
    garbage = tmp_path / "garbage"
    garbage.write_bytes(bytes(range(256)) * 4)
    truncated = tmp_path / "config.gz"
    import gzip
    truncated.write_bytes(gzip.compress(KCONFIGS[0].read_bytes())[:500])
    argv = [a.format(garbage=garbage, truncated=truncated) for a in argv]
    assert main(["audit", *argv]) == 3
    err = capsys.readouterr().err
    assert needle in err and "Traceback" not in err


def test_waiver_keeps_finding_visible(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, doc = _json(capsys, ["audit", "--config", str(KCONFIGS[0]), "--format", "json"])
    failing = next(f for t in doc["threats"] for f in t["findings"] if f["status"] == "fail")
    w = tmp_path / "waivers.toml"
    w.write_text(f'[[waiver]]\nid = "{failing["rule_id"]}"\nrationale = "accepted for the lab"\n'
                 'expires = 2999-12-31\n')
    _, doc = _json(capsys, ["audit", "--config", str(KCONFIGS[0]), "--format", "json",
                            "--waivers", str(w)])
    waived = next(f for t in doc["threats"] for f in t["findings"]
                  if f["rule_id"] == failing["rule_id"])
    assert waived["status"] == "waived" and "accepted for the lab" in waived["notes"][0]


@pytest.mark.parametrize(("line", "platform"), [
    ("Memory Encryption Features active: AMD SEV SEV-ES SEV-SNP", "snp"),
    ("Memory Encryption Features active: AMD SEV SEV-ES", "sev-es"),
    ("Memory Encryption Features active: Intel TDX", "tdx"),
])
def test_platform_from_boot_log(fake_root: Callable[..., Path], line: str, platform: str,
                                capsys: pytest.CaptureFixture[str]) -> None:
    root = fake_root()
    (root / "var" / "log").mkdir(parents=True)
    (root / "var" / "log" / "dmesg").write_text(f"[    0.000000] x\n[    0.1] {line}\n")
    _, doc = _json(capsys, ["audit", "--root", str(root), "--format", "json"])
    assert doc["platform"]["detected"] == platform
    assert any("Memory Encryption Features active" in s for s in doc["platform"]["signs"])


def test_root_that_is_not_a_system(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", "--root", str(tmp_path)]) == 3
    assert "not a system tree" in capsys.readouterr().err


def test_live_virtio_features_and_lockdown(fake_root: Callable[..., Path],
                                           capsys: pytest.CaptureFixture[str]) -> None:
    root = fake_root()
    dev = root / "sys" / "bus" / "virtio" / "devices" / "virtio0"
    modern_no_platform = "0" * 32 + "10" + "0" * 30
    (dev / "features").write_text(modern_no_platform + "\n")
    sec = root / "sys" / "kernel" / "security"
    sec.mkdir(parents=True)
    (sec / "lockdown").write_text("none [integrity] confidentiality\n")
    _, doc = _json(capsys, ["audit", "--root", str(root), "--format", "json", "--show", "all"])
    st = {f["rule_id"]: f for t in doc["threats"] for f in t["findings"]}
    assert st["CCS-LIVE-018"]["status"] == "fail"
    assert "virtio0" in st["CCS-LIVE-018"]["message"]
    assert st["CCS-LIVE-019"]["status"] == "pass"
    assert st["CCS-LIVE-020"]["status"] == "pass"
    (dev / "features").write_text("0" * 32 + "11" + "0" * 30 + "\n")
    (sec / "lockdown").write_text("[none] integrity confidentiality\n")
    _, doc = _json(capsys, ["audit", "--root", str(root), "--format", "json", "--show", "all"])
    st = {f["rule_id"]: f["status"] for t in doc["threats"] for f in t["findings"]}
    assert st["CCS-LIVE-018"] == "pass" and st["CCS-LIVE-020"] == "fail"


def test_lockdown_unknown_without_securityfs(fake_root: Callable[..., Path],
                                             capsys: pytest.CaptureFixture[str]) -> None:
    _, doc = _json(capsys, ["audit", "--root", str(fake_root()), "--format", "json"])
    st = {f["rule_id"]: f["status"] for t in doc["threats"] for f in t["findings"]}
    assert st["CCS-LIVE-020"] == "unknown"


def test_advice_never_fails_the_audit(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A config whose only unmet rules are advisory exits 0 even with --fail-on info, and the
    threat matrix counts the advice separately from failures (issue 9)."""
    rules = tmp_path / "rules.toml"
    rules.write_text('[[rule]]\nid = "CCS-KCFG-004"\ntitle = "virtio-net built"\n'
                     'threat = "malformed-runtime-input"\nseverity = "info"\nadvice = true\n'
                     'pass_if = { symbol = "VIRTIO_NET", is = "off" }\n')
    only = tmp_path / "only.toml"  # every other built-in rule: disabled by a false applies_if
    from cocoscope.rules import load_builtin_rules

    only.write_text("".join(
        f'[[rule]]\nid = "{r.id}"\ntitle = "off"\nthreat = "{r.threat.value}"\n'
        f'severity = "info"\napplies_if = {{ kernel = "<1.0" }}\n'
        f'pass_if = {{ kernel = ">=1.0" }}\n'
        for r in load_builtin_rules() if r.id != "CCS-KCFG-004"))
    cfg = tmp_path / "config"
    cfg.write_text("# Linux/x86 6.12.0 Kernel Configuration\nCONFIG_VIRTIO_NET=y\n")
    code, doc = _json(capsys, ["audit", "--config", str(cfg), "--rules", str(only),
                               "--rules", str(rules), "--format", "json", "--fail-on", "info"])
    _validate(doc)
    row = next(t for t in doc["threats"] if t["threat"] == "malformed-runtime-input")
    assert row["counts"]["advice"] == 1 and row["counts"]["fail"] == 0
    assert "1 advice" in row["summary"]
    assert code == 0
    code, sarif = _json(capsys, ["audit", "--config", str(cfg), "--rules", str(only),
                                 "--rules", str(rules), "--format", "sarif"])
    kinds = {r["ruleId"]: r["kind"] for r in sarif["runs"][0]["results"]}
    assert kinds["CCS-KCFG-004"] == "informational"


def test_live_plain_vm_short_page_on_a_pipe(fake_root: Callable[..., Path]) -> None:
    """`cocoscope audit` on a machine that is not a CoCo guest, stdout a pipe (no COLUMNS): the
    answer and how to audit an image come first, nothing is wider than 80 columns, no colour,
    and advice, unknown, pass and n/a items are folded away into one counted line."""
    import os
    import subprocess
    import sys

    root = fake_root()
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES", "NO_COLOR")}
    run = subprocess.run([sys.executable, "-m", "cocoscope", "audit", "--root", str(root)],
                         capture_output=True, text=True, env=env, check=False)
    assert run.returncode == 1, run.stderr
    lines = run.stdout.splitlines()
    assert lines[1].startswith("Answer: not a CoCo guest")
    assert any(line.startswith("Next step: audit the image you will deploy") for line in lines[:8])
    assert "--config IMAGE/boot/config-VERSION" in run.stdout.replace("\n", " ")
    assert max(len(line) for line in lines) <= 80
    assert "\x1b[" not in run.stdout
    assert len(lines) < 100
    folded = next(line for line in lines if line.startswith("Folded away:"))
    doc = json.loads(subprocess.run(
        [sys.executable, "-m", "cocoscope", "audit", "--root", str(root), "--format", "json",
         "--show", "all"], capture_output=True, text=True, env=env, check=False).stdout)
    statuses = [f["status"] for t in doc["threats"] for f in t["findings"]]
    assert f"{statuses.count('advice')} advice" in folded
    table = lines[next(i for i, line in enumerate(lines) if "Findings:" in line):]
    listed = [line.split("│")[3].strip() for line in table
              if line.startswith("│") and line.count("│") == 5 and line.split("│")[3].strip()]
    assert listed and set(listed) <= {"fail", "waived"}
