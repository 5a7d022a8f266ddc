"""The repository stands alone: a fresh clone has no reference folder beside it, so nothing may
refer to one, and test modules find their inputs through tests/paths.py or the testdata fixture."""

from __future__ import annotations

import re

from tests.paths import DATA, REPO, TESTS

OUTSIDE = re.compile(r"\.\./shared|shared/(testdata|reference|seed)")
LAYOUT_HACKS = re.compile(r"sys\.path\.(insert|append)|Path\(__file__\)[^\n]*\.parents?\b")


def _tracked(*suffixes: str) -> list[str]:
    skip = {".git", ".venv", "build", "dist", "__pycache__", ".mypy_cache", ".ruff_cache"}
    out = []
    for p in REPO.rglob("*"):
        if skip & set(p.relative_to(REPO).parts) or not p.is_file():
            continue
        if p.suffix in suffixes or p.name in ("Makefile", "PROVENANCE", "run"):
            out.append(str(p.relative_to(REPO)))
    return sorted(out)


def test_nothing_refers_to_shared() -> None:
    hits = [f"{name}:{n}" for name in _tracked(".py", ".md", ".toml")
            for n, line in enumerate((REPO / name).read_text(errors="replace").splitlines(), 1)
            if OUTSIDE.search(line)]
    assert hits == []


def test_tests_locate_inputs_through_tests_paths() -> None:
    hits = [f"{p.relative_to(REPO)}:{n}" for p in sorted(TESTS.rglob("*.py"))
            if p.name != "paths.py" and DATA not in p.parents
            for n, line in enumerate(p.read_text().splitlines(), 1) if LAYOUT_HACKS.search(line)]
    assert hits == []


def test_every_test_folder_is_a_package() -> None:
    missing = [str(d.relative_to(REPO)) for d in sorted(TESTS.rglob("*"))
               if d.is_dir() and d != DATA and DATA not in d.parents and d.name != "__pycache__"
               and not (d / "__init__.py").exists()]
    assert missing == []


def test_every_data_folder_says_where_its_files_come_from() -> None:
    # Hand-written fixtures (kbuild, kconfig_tree, surface, snp_measure) are the project's own;
    # the folders holding third-party inputs carry a PROVENANCE naming each file.
    for folder in ("attestation/snp", "attestation/tdx", "attestation/measure", "kconfig", "sarif",
                   "smatch"):
        text = (DATA / folder / "PROVENANCE").read_text()
        for f in (DATA / folder).rglob("*"):
            if f.is_file() and f.name != "PROVENANCE" and not f.name.endswith("_out.json"):
                assert str(f.relative_to(DATA / folder)) in text, f
