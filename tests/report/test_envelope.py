"""The one JSON envelope every command's --format json uses, and its shipped schemas."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import jsonschema
import pytest

from cocoscope.cli import main
from cocoscope.report.envelope import (
    FORMAT_VERSION,
    envelope,
    file_input,
    load_schema,
    schema_names,
)
from tests.paths import DATA
from tests.report.schemas import validate


def test_envelope_keys_first_then_body(tmp_path: Path) -> None:
    f = tmp_path / "report.bin"
    f.write_bytes(b"abc")
    doc = envelope("attest snp verify", {"verdict": "VERIFIED"},
                   [file_input("evidence", str(f))], created="2026-01-01T00:00:00+00:00")
    assert list(doc)[:6] == ["tool", "version", "format_version", "command", "created",
                             "inputs"]
    assert doc["tool"] == "cocoscope" and doc["format_version"] == FORMAT_VERSION
    assert doc["inputs"] == [{"kind": "evidence", "path": str(f),
                              "sha256": hashlib.sha256(b"abc").hexdigest()}]
    assert doc["verdict"] == "VERIFIED"
    jsonschema.validate(doc, load_schema("envelope.schema.json"))


def test_body_cannot_overwrite_the_envelope() -> None:
    with pytest.raises(ValueError, match="command"):
        envelope("audit", {"command": "other"})


def test_hash_of_parsed_bytes_and_of_unreadable_paths(tmp_path: Path) -> None:
    assert file_input("x", str(tmp_path)).sha256 is None  # a directory has no hash
    assert file_input("x", "/nonexistent").sha256 is None
    assert file_input("x", "-", b"q").sha256 == hashlib.sha256(b"q").hexdigest()


def test_every_schema_is_a_valid_schema_with_an_id() -> None:
    names = schema_names()
    assert "envelope.schema.json" in names and "audit.schema.json" in names
    for name in names:
        schema = load_schema(name)
        jsonschema.Draft202012Validator.check_schema(schema)
        assert schema["$id"].endswith("/" + name)
        if name != "envelope.schema.json":  # every command schema is an envelope
            assert {"$ref": "envelope.schema.json"} in schema["allOf"], name
            assert schema["properties"]["command"]["const"].replace(" ", "-") + \
                ".schema.json" == name


def test_audit_schema_accepts_a_report_and_rejects_a_wrong_envelope() -> None:
    from cocoscope.report.jsonout import report_dict
    from cocoscope.report.model import build_report

    doc = json.loads(json.dumps(report_dict(build_report([], []))))
    validate(doc)
    for key, value in (("format_version", 1), ("tool", {"name": "cocoscope"}), ("extra", 1)):
        bad = {**doc, key: value}
        with pytest.raises(jsonschema.ValidationError):
            validate(bad)
    bad = dict(doc)
    del bad["inputs"]
    with pytest.raises(jsonschema.ValidationError):
        validate(bad)


CONFIG = str(DATA / "kconfig" / "syzkaller_guest_5.12.config")
SNP = DATA / "attestation" / "snp" / "go-sev-guest"
TDX_QUOTE = DATA / "attestation" / "tdx" / "trustee" / "tdx_quote_4.dat"
CCEL = DATA / "attestation" / "tdx" / "go-tdx-guest" / "ccel"


@pytest.mark.parametrize(("command", "argv"), [
    ("model", ["model", "--format", "json"]),
    ("fragment", ["fragment", "--platform", "tdx", "--format", "json"]),
    ("fragment", ["fragment", "--platform", "snp", "--format", "json"]),
    ("rules list", ["rules", "list", "--format", "json"]),
    ("rules show", ["rules", "show", "CCS-KCFG-001", "--format", "json"]),
    ("audit", ["audit", "--config", CONFIG, "--cmdline", "console=hvc0", "--format", "json"]),
    ("attest snp verify", ["attest", "snp", "verify", str(SNP / "attestation.bin"),
                           "--certs", str(SNP / "vcek.testcer"), "--certs",
                           str(SNP / "milan.testcer"), "--time", "2023-01-01T00:00:00Z",
                           "--format", "json"]),
    ("attest tdx verify", ["attest", "tdx", "verify", str(TDX_QUOTE), "--time",
                           "2024-06-01T00:00:00Z", "--format", "json"]),
    ("attest tdx eventlog", ["attest", "tdx", "eventlog", str(CCEL / "ccel_data.dat"),
                             "--format", "json"]),
    ("cache list", ["cache", "list", "--format", "json"]),
    ("attest snp show", ["attest", "snp", "show", str(SNP / "attestation.bin"), "--format", "json"]),
    ("attest tdx show", ["attest", "tdx", "show", str(TDX_QUOTE), "--format", "json"]),
])
def test_command_json_validates(command: str, argv: list[str],
                                capsys: pytest.CaptureFixture[str]) -> None:
    """Every command's --format json is in the envelope and valid against its own schema."""
    main(argv)
    doc = json.loads(capsys.readouterr().out)
    validate(doc)
    assert doc["command"] == command


def test_verification_decodes_attribute_bits(capsys: pytest.CaptureFixture[str]) -> None:
    """DEBUG is named, not hidden in a hex number (both quotes/reports are debug guests)."""
    main(["attest", "tdx", "verify", str(TDX_QUOTE), "--format", "json"])
    doc = json.loads(capsys.readouterr().out)
    assert doc["facts"]["td_attributes"] == ["DEBUG", "SEPT_VE_DISABLE"]
    assert doc["inputs"][0]["kind"] == "evidence" and doc["inputs"][0]["sha256"]
    main(["attest", "snp", "verify", str(SNP / "attestation.bin"), "--format", "json"])
    doc = json.loads(capsys.readouterr().out)
    assert "DEBUG" in doc["facts"]["policy"] and doc["facts"]["policy"][0].startswith("ABI>=")
    assert isinstance(doc["facts"]["platform_info"], list)


def test_surface_json_validates(capsys: pytest.CaptureFixture[str]) -> None:
    tree = DATA / "surface" / "tree"
    assert main(["surface", "--source", str(tree), "--all-files", "--format", "json",
                 "--no-cache", "--jobs", "1"]) == 0
    doc = json.loads(capsys.readouterr().out)
    validate(doc)
    assert doc["command"] == "surface" and doc["inputs"][0] == {
        "kind": "source", "path": str(tree), "sha256": None, "detail": "kernel source tree"}
    assert doc["sites"]
