import json

from cocoscope.cli import main
from cocoscope.model import INTERFACES, THREATS, InterfaceId, ThreatId, interface, threat


def test_every_threat_and_interface_is_described_once() -> None:
    assert {t.id for t in THREATS} == set(ThreatId)
    assert {i.id for i in INTERFACES} == set(InterfaceId)
    assert len(THREATS) == len(ThreatId) and len(INTERFACES) == len(InterfaceId)


def test_time_and_entropy_feed_malicious_input() -> None:
    for iid in (InterfaceId.TIME, InterfaceId.ENTROPY):
        assert ThreatId.MALICIOUS_RUNTIME_INPUT in interface(iid).threats
    assert threat(ThreatId.MALFORMED_RUNTIME_INPUT).mitigations[0].id == "limit-surface"


def test_model_json_command(capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["model", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert next(t["id"] for t in doc["threats"]) == "guest-malicious-configuration"
    assert any("Denial of service" in s for s in doc["out_of_scope"])
