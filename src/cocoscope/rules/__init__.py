"""Declarative rule engine and built-in packs (packs/*.toml)."""

from cocoscope.rules.engine import evaluate_rules
from cocoscope.rules.loading import (
    RuleSet,
    layer,
    load_builtin_rules,
    load_rule_file,
    load_rules,
)
from cocoscope.rules.rule import Fix, Rule, parse_rules
from cocoscope.rules.waivers import Waiver, load_waivers

# The name the rule-pack tests use.
evaluate = evaluate_rules

__all__ = [
    "Fix",
    "Rule",
    "RuleSet",
    "Waiver",
    "evaluate",
    "evaluate_rules",
    "layer",
    "load_builtin_rules",
    "load_rule_file",
    "load_rules",
    "load_waivers",
    "parse_rules",
]
