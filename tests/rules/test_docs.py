"""docs/rules.md is generated from the packs by scripts/rules_table.py and must match them."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

from cocoscope.rules import load_builtin_rules
from tests.paths import REPO


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("rules_table", REPO / "scripts" / "rules_table.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_rules_doc_is_current() -> None:
    text = _script().render(load_builtin_rules())
    assert (REPO / "docs" / "rules.md").read_text("utf-8") == text, \
        "docs/rules.md is stale: run python3 scripts/rules_table.py"


def test_rules_doc_lists_every_rule_once() -> None:
    doc = (REPO / "docs" / "rules.md").read_text("utf-8")
    for r in load_builtin_rules():
        assert doc.count(f"| {r.id} |") == 1, r.id


def test_check_mode_reports_stale_doc(tmp_path: Path) -> None:
    mod = _script()
    stale = tmp_path / "rules.md"
    stale.write_text("old\n", "utf-8")
    mod.DOC = stale
    assert mod.main(["--check"]) == 1
    assert mod.main([]) == 0
    assert mod.main(["--check"]) == 0
