"""attest/measure --format json: the one envelope (command, inputs with hashes) around the
command's body, valid against the schema shipped for the command."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from cocoscope.cli import main
from tests.paths import ATTESTATION
from tests.report.schemas import validate

SNP = ATTESTATION / "snp" / "virtee-sev"
COS = ATTESTATION / "tdx" / "go-tdx-guest" / "ccel" / "cos-113-tdx-quote.dat"


def _json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    code = main([*argv, "--format", "json"])
    return code, json.loads(capsys.readouterr().out)


def test_verify_documents(capsys: pytest.CaptureFixture[str]) -> None:
    code, doc = _json(capsys, "attest", "snp", "verify", str(SNP / "report_milan.hex"),
                      "--certs", str(SNP / "vcek_milan.der"), "--time", "2024-01-01T00:00:00Z")
    assert code == 1 and doc["command"] == "attest snp verify"
    validate(doc)
    evidence = doc["inputs"][0]
    assert evidence["kind"] == "evidence" and evidence["sha256"] == hashlib.sha256(
        (SNP / "report_milan.hex").read_bytes()).hexdigest()
    assert [i["kind"] for i in doc["inputs"]] == ["evidence", "certificates"]
    code, doc = _json(capsys, "attest", "tdx", "verify", str(COS), "--time",
                      "2025-01-01T00:00:00Z", "--accept-tcb", "Unknown")
    assert code == 1 and doc["command"] == "attest tdx verify"
    validate(doc)
    assert all(c["part"] in ("authenticity", "appraisal") for c in doc["checks"])


def test_measure_documents(capsys: pytest.CaptureFixture[str], ovmf_fd: Path) -> None:
    code, doc = _json(capsys, "measure", "tdx", "--ovmf", str(ovmf_fd))
    assert code == 0 and doc["command"] == "measure tdx" and len(doc["mrtd"]) == 96
    validate(doc)
    code, doc = _json(capsys, "measure", "snp", "--ovmf", str(ovmf_fd), "--vcpus", "1",
                      "--vcpu-type", "EPYC-v4")
    assert code == 0 and doc["command"] == "measure snp" and len(doc["digest"]) == 96
    assert doc["inputs"][0]["kind"] == "firmware" and doc["inputs"][0]["sha256"]
    validate(doc)
