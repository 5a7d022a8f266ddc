"""The Platform type: spellings, which platforms are confidential, and the one rule filter."""

from __future__ import annotations

import json

import pytest

from cocoscope.errors import InputError
from cocoscope.model.platform import CONFIDENTIAL, Platform, parse_platform, rule_applies
from cocoscope.rules.conditions import ConditionError, PlatformIs, parse
from cocoscope.rules.rule import parse_rules


def test_spellings_are_the_ones_packs_cli_and_reports_use() -> None:
    assert [p.value for p in Platform] == ["tdx", "snp", "sev-es", "sev", "none"]
    assert json.dumps({"p": Platform.SEV_ES}) == '{"p": "sev-es"}'
    assert f"{Platform.TDX}" == "tdx"


def test_parse_platform() -> None:
    assert parse_platform("SNP ") is Platform.SNP
    with pytest.raises(ValueError, match=r"unknown platform 'tdx2'; expected one of tdx, snp"):
        parse_platform("tdx2")


def test_confidential_and_vendor_specific() -> None:
    assert CONFIDENTIAL == (Platform.TDX, Platform.SNP)
    assert [p for p in Platform if p.confidential] == [Platform.TDX, Platform.SNP]
    assert [p for p in Platform if not p.vendor_specific] == [Platform.NONE]


@pytest.mark.parametrize(("platforms", "platform", "applies"), [
    (None, Platform.TDX, True),
    (frozenset(), Platform.SNP, True),
    ({Platform.TDX}, Platform.TDX, True),
    ({Platform.TDX}, Platform.SNP, False),
    ({Platform.SNP, Platform.SEV_ES, Platform.SEV}, Platform.SEV, True),
    ({Platform.SEV, Platform.SEV_ES}, Platform.SNP, False),
    # Unknown platform, or a plain VM checked for readiness: every platform's rules.
    ({Platform.TDX}, None, True),
    ({Platform.TDX}, Platform.NONE, True),
])
def test_rule_applies(platforms: frozenset[Platform] | None, platform: Platform | None,
                      applies: bool) -> None:
    assert rule_applies(platforms, platform) is applies


_RULE = '''
[[rule]]
id = "CCS-TEST-001"
title = "t"
threat = "malformed-runtime-input"
severity = "low"
platforms = [{plats}]
pass_if = {{ symbol = "X", is = "y" }}
'''


def test_rule_platforms_parsed_at_load() -> None:
    (rule,) = parse_rules(_RULE.format(plats='"tdx", "sev-es"'), "r.toml")
    assert rule.platforms == {Platform.TDX, Platform.SEV_ES}
    assert all(isinstance(p, Platform) for p in rule.platforms)


def test_unknown_rule_platform_is_bad_input_naming_the_file() -> None:
    with pytest.raises(InputError, match="unknown platform 'tdxx'") as exc:
        parse_rules(_RULE.format(plats='"tdxx"'), "r.toml")
    assert "r.toml" in str(exc.value)


def test_platform_condition_parsed_to_platforms() -> None:
    assert parse({"platform": ["tdx", "snp"]}) == PlatformIs(frozenset(CONFIDENTIAL))
    with pytest.raises(ConditionError, match="unknown platform 'amd'"):
        parse({"platform": "amd"})
