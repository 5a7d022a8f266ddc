"""The result cache and the per-tree snapshot (tests/data/surface/tree copied to tmp)."""

from __future__ import annotations

import shutil
from pathlib import Path

from cocoscope.surface.files import FileSpec
from cocoscope.surface.scan import scan
from tests.paths import DATA

TREE = DATA / "surface" / "tree"


def test_cache_reuse_and_one_edit(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    shutil.copytree(TREE, tree)
    files = [FileSpec(p.relative_to(tree).as_posix()) for p in sorted(tree.rglob("*.c"))]
    cold = scan(tree, files, jobs=1, cache_dir=tmp_path / "cache")
    warm = scan(tree, files, jobs=1, cache_dir=tmp_path / "cache")
    assert warm.sites == cold.sites and warm.stats["files_reparsed"] == 0
    src = tree / "drivers" / "demo" / "consumer.c"
    src.write_text(src.read_text().replace("memcpy(dst, src, n);", "memcpy(dst, src, n);\n\tinl(0xcf8);"))
    edited = scan(tree, files, jobs=1, cache_dir=tmp_path / "cache")
    assert edited.stats["files_reparsed"] == 1
    assert len(edited.sites) == len(cold.sites) + 1


def test_one_definitions_entry_per_snapshot(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    shutil.copytree(TREE, tree)
    files = [FileSpec(p.relative_to(tree).as_posix()) for p in sorted(tree.rglob("*.c"))]
    src = tree / "drivers" / "demo" / "consumer.c"
    for n in range(3):
        src.write_text(src.read_text() + f"\nint demo_extra{n}(void) {{ return inb(0x80); }}\n")
        scan(tree, files, jobs=1, cache_dir=tmp_path / "cache")
    assert len(list((tmp_path / "cache" / "snapdefs").rglob("*.pkl"))) == 1
