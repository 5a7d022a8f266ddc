"""The condition kinds: each one class that parses, evaluates, describes and locates itself."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pytest

from cocoscope.evidence.cmdline import parse_cmdline
from cocoscope.evidence.dotconfig import parse_config_text
from cocoscope.evidence.guest import GuestEvidence
from cocoscope.finding import Location, LocationKind, Status
from cocoscope.rules import evaluate_rules, parse_rules
from cocoscope.rules.conditions import (
    KINDS,
    All,
    AnyOf,
    CmdlineAnyMatches,
    Condition,
    ConditionError,
    DeviceFeature,
    DevicePresent,
    KernelVersion,
    Not,
    SymbolAtLeast,
    SymbolIs,
    Tri,
    parse,
)
from cocoscope.rules.conditions import base as conditions_base

CFG = parse_config_text("# Linux/x86 6.12.9 Kernel Configuration\nCONFIG_NR_CPUS=64\n"
                        "# CONFIG_KVM_GUEST is not set\nCONFIG_HYPERV=m\n", "cfg")


@pytest.mark.parametrize(("doc", "kind"), [
    ({"symbol": "CONFIG_X", "is": "on"}, SymbolIs),
    ({"symbol": "X", "at_least": 3}, SymbolAtLeast),
    ({"kernel": ">= 6.2"}, KernelVersion),
    ({"cmdline": "console", "any_matches": "^ttyS"}, CmdlineAnyMatches),
    ({"device": {"bus": "virtio", "lacks_feature": 33}}, DeviceFeature),
    ({"device": {"bus": "pci", "vendor": "0x1AF4"}}, DevicePresent),
    ({"all": [{"kernel": "<7.0"}]}, All),
    ({"any": [{"kernel": "<7.0"}]}, AnyOf),
    ({"not": {"kernel": "<7.0"}}, Not),
])
def test_each_form_parses_to_its_kind(doc: dict[str, Any], kind: type[Condition]) -> None:
    assert type(parse(doc)) is kind


def test_every_kind_is_registered_once() -> None:
    assert len(KINDS) == len(set(KINDS)) == 23


@pytest.mark.parametrize("doc", [
    {"symbol": "X", "is": "maybe"},
    {"symbol": "X", "at_least": "many"},
    {"kernel": "six"},
    {"cmdline": "console", "any_matches": "("},
    {"device": {"bus": "virtio", "feature": 1, "lacks_feature": 2}},
    {"device": {"colour": "red"}},
    {"all": []},
    {"eval": "1"},
    ["symbol"],
])
def test_malformed_conditions_are_refused(doc: Any) -> None:
    with pytest.raises(ConditionError):
        parse(doc)


def test_evaluate_describe_locate() -> None:
    ev = GuestEvidence(config=CFG, cmdline=parse_cmdline("console=ttyS0 quiet"))
    cond = parse({"all": [{"symbol": "NR_CPUS", "at_least": 32},
                          {"not": {"cmdline": "console", "any_matches": "^ttyS"}}]})
    assert cond.evaluate(ev) is False
    assert list(cond.config_symbols()) == ["NR_CPUS"]
    assert [leaf.describe(ev) for leaf in cond.leaves()] == ["CONFIG_NR_CPUS=64", "console=ttyS0"]
    loc = next(leaf.location(ev) for leaf in cond.leaves())
    assert loc is not None and loc.kind is LocationKind.CONFIG and loc.line == 2
    # Without a config the symbol leaf has nothing to point at; the cmdline leaf does.
    ev2 = GuestEvidence(cmdline=ev.cmdline)
    locs = [leaf.location(ev2) for leaf in cond.leaves()]
    assert locs[0] is None and locs[1] is not None and locs[1].kind is LocationKind.CMDLINE
    assert cond.evaluate(ev2) is False  # all: a false part decides even with an unknown one
    assert parse({"kernel": ">=6.12.9"}).evaluate(ev) is True
    assert parse({"kernel": ">6.12.9"}).evaluate(ev) is False
    assert parse({"kernel": ">6.12.9"}).describe(ev) == "kernel 6.12.9"


def test_a_new_kind_is_one_class(monkeypatch: pytest.MonkeyPatch) -> None:
    """What issue 12 asks: one class, registered, works through parse, rules and the engine."""
    monkeypatch.setattr(conditions_base, "KINDS", list(conditions_base.KINDS))

    @conditions_base.register
    @dataclass(frozen=True)
    class ModuleCount(Condition):
        at_most: int

        @classmethod
        def from_doc(cls, doc: Mapping[str, Any]) -> ModuleCount | None:
            return cls(doc["modules_at_most"]) if set(doc) == {"modules_at_most"} else None

        def evaluate(self, ev: GuestEvidence) -> Tri:
            if ev.config is None:
                return None
            return sum(e.value == "m" for e in ev.config.entries.values()) <= self.at_most

        def describe(self, ev: GuestEvidence) -> str | None:
            return "counted modules" if ev.config is not None else None

        def location(self, ev: GuestEvidence) -> Location | None:
            return None if ev.config is None else Location(ev.config.path, LocationKind.CONFIG)

    rules = parse_rules('[[rule]]\nid = "CCS-TEST-001"\ntitle = "few modules"\n'
                        'threat = "malformed-runtime-input"\nseverity = "low"\n'
                        'pass_if = { not = { modules_at_most = 0 } }\n', "t.toml")
    (f,) = evaluate_rules(rules, GuestEvidence(config=CFG))
    assert f.status is Status.PASS and f.message == "counted modules"
    assert f.location is not None and f.location.path == "cfg" and f.location.line is None
