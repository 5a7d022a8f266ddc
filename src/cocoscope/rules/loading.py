"""Loading rules: the built-in packs, user rule files layered on top, and waivers.

``load_rules`` is the one way every command (audit, rules, fragment) gets its rule set, so
layering and waiver checking cannot differ between them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import resources

from cocoscope.errors import InputError
from cocoscope.evidence import files
from cocoscope.rules.rule import Rule, parse_rules
from cocoscope.rules.waivers import Waiver, load_waivers


@dataclass(frozen=True)
class RuleSet:
    """The rules in force, sorted by id, and the waivers that refer to them."""

    rules: list[Rule]
    waivers: dict[str, Waiver] = field(default_factory=dict)


def load_rules(rule_files: Iterable[str] = (), waiver_file: str | None = None) -> RuleSet:
    """Built-in packs, then each user file in order (a known id replaces, a new id adds),
    then waivers, which may only name rules of the resulting set."""
    rules = load_builtin_rules()
    for path in rule_files:
        rules = layer(rules, load_rule_file(path))
    waivers = load_waivers(waiver_file, {r.id for r in rules}) if waiver_file else {}
    return RuleSet(rules, waivers)


def load_rule_file(path: str) -> list[Rule]:
    raw = files.read_input(path, files.RULES)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError("rule file is not UTF-8", path=path, where=f"offset {exc.start}") from None
    return parse_rules(text, path)


def load_builtin_rules() -> list[Rule]:
    """Every pack under cocoscope/rules/packs, sorted by id; duplicate ids are a bug."""
    rules: list[Rule] = []
    packs = resources.files("cocoscope.rules") / "packs"
    for entry in sorted(packs.iterdir(), key=lambda p: p.name):
        if entry.name.endswith(".toml"):
            rules.extend(parse_rules(entry.read_text("utf-8"), f"packs/{entry.name}"))
    seen: dict[str, str] = {}
    for r in rules:
        if r.id in seen:
            raise InputError(f"duplicate rule id {r.id} (also in {seen[r.id]})", path=r.origin)
        seen[r.id] = r.origin
    return sorted(rules, key=lambda r: r.id)


def layer(base: list[Rule], extra: list[Rule]) -> list[Rule]:
    """User rules layer on the built-ins: a known id replaces the rule, a new id adds one."""
    by_id = {r.id: r for r in base}
    for r in extra:
        by_id[r.id] = r
    return sorted(by_id.values(), key=lambda r: r.id)
