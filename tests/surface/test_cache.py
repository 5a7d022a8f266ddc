"""The result cache and the per-tree snapshot (tests/data/surface/tree copied to tmp)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from cocoscope.surface.cache import Cache
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


def test_edit_that_makes_a_new_source_reaches_unchanged_callers(tmp_path: Path) -> None:
    # The snapshot keeps, of an unchanged file's callees, only the names that are sources or
    # sinks; when an edit elsewhere makes a new source, the fixpoint runs again and the
    # unchanged caller must be looked at with all its callees again.
    tree = tmp_path / "tree"
    shutil.copytree(TREE, tree)
    caller = tree / "drivers" / "demo" / "consumer.c"
    caller.write_text(caller.read_text() + "\nint demo_poll(void) { return demo_later() + 1; }\n")
    callee = tree / "drivers" / "demo" / "sub" / "user.c"
    callee.write_text(callee.read_text() + "\nint demo_later(void) { return 0; }\n")
    files = [FileSpec(p.relative_to(tree).as_posix()) for p in sorted(tree.rglob("*.c"))]
    cold = scan(tree, files, jobs=1, cache_dir=tmp_path / "cache")
    assert not [s for s in cold.sites if s.primitive == "demo_later"]
    callee.write_text(callee.read_text().replace("return 0; }", "return inb(0x80); }"))
    edited = scan(tree, files, jobs=1, cache_dir=tmp_path / "cache")
    assert edited.stats["files_reparsed"] == 1
    uncached = scan(tree, files, jobs=1, use_cache=False)
    assert edited.sites == uncached.sites
    assert [(s.file, s.function) for s in edited.sites if s.primitive == "demo_later"] == \
        [("drivers/demo/consumer.c", "demo_poll")]


def test_items_entry_round_trip_and_torn_entries(tmp_path: Path) -> None:
    cache = Cache(tmp_path / "cache")
    items = {f"f{n}.c": ((("readl", 0),), frozenset({"readl", f"g{n}"})) for n in range(50)}
    cache.put_items("snapdefs", "ab" * 20, items)
    assert cache.get_items("snapdefs", "ab" * 20) == items
    assert cache.get_items("snapdefs", "cd" * 20) is None  # missing
    cache.put("snapdefs", "ef" * 20, items)  # one pickle of the dict: not an items entry
    assert cache.get_items("snapdefs", "ef" * 20) is None
    entry = next((tmp_path / "cache" / "snapdefs").rglob(f"{'ab' * 20}.pkl"))
    entry.write_bytes(entry.read_bytes()[: entry.stat().st_size // 2])
    assert cache.get_items("snapdefs", "ab" * 20) is None
    assert Cache(None).get_items("snapdefs", "ab" * 20) is None


def test_a_torn_definitions_entry_costs_a_rescan_not_a_wrong_answer(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    shutil.copytree(TREE, tree)
    files = [FileSpec(p.relative_to(tree).as_posix()) for p in sorted(tree.rglob("*.c"))]
    scan(tree, files, jobs=1, cache_dir=tmp_path / "cache")
    (entry,) = (tmp_path / "cache" / "snapdefs").rglob("*.pkl")
    entry.write_bytes(entry.read_bytes()[:100])
    src = tree / "drivers" / "demo" / "consumer.c"
    src.write_text(src.read_text() + "\nint demo_more(void) { return inb(0x80); }\n")
    edited = scan(tree, files, jobs=1, cache_dir=tmp_path / "cache")
    assert edited.sites == scan(tree, files, jobs=1, use_cache=False).sites


def test_an_entry_that_is_not_a_regular_file_is_a_miss_not_a_hang(tmp_path: Path) -> None:
    cache = Cache(tmp_path / "cache")
    for kind, key in (("p1", "ab" * 20), ("snapdefs", "cd" * 20)):
        path = cache._path(kind, key)
        path.parent.mkdir(parents=True)
        os.mkfifo(path)  # no writer: a plain open would block for ever
    assert cache.get("p1", "ab" * 20) is None
    assert cache.get_items("snapdefs", "cd" * 20) is None
