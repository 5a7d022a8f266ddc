"""Built-in rules and parsed configs, loaded once per test session: the defect and golden
tests evaluate hundreds of cases against the same few inputs."""

from __future__ import annotations

from functools import cache

from cocoscope.evidence.dotconfig import KernelConfig, load_config
from cocoscope.rules import load_builtin_rules
from cocoscope.rules.rule import Rule


@cache
def builtin_rules() -> tuple[Rule, ...]:
    return tuple(load_builtin_rules())


@cache
def config(path: str) -> KernelConfig:
    return load_config(path)
