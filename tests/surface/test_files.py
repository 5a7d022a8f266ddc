"""Which files a scan reads (surface/files.py): with a config, a header under include/linux
(and the other ON_DEMAND_ROOTS) is read only once a scanned file includes it, directly or
through other headers; one no built file includes is not compiled and wraps nothing. The
headers every config reads are summarised while Kbuild runs."""

from __future__ import annotations

import dataclasses
import time
from functools import partial
from pathlib import Path
from typing import Any

import pytest

import cocoscope.surface.scan as scan_module
from cocoscope.surface.cache import Cache
from cocoscope.surface.file_work import FileContext, summarise_file, summary_ahead
from cocoscope.surface.files import FileSpec, IncludeFollower, include_targets
from cocoscope.surface.inventory import Inventory
from cocoscope.surface.scan import scan


def test_include_targets_local_first_then_the_system_roots() -> None:
    known = {"drivers/net/x.h", "include/linux/x.h", "arch/x86/include/asm/io.h"}
    assert include_targets("drivers/net/a.c", '"x.h"', known) == ["drivers/net/x.h"]
    assert include_targets("drivers/net/a.c", "<linux/x.h>", known) == ["include/linux/x.h"]
    assert include_targets("drivers/net/a.c", "<asm/io.h>", known) == ["arch/x86/include/asm/io.h"]
    assert include_targets("drivers/net/sub/a.c", '"../x.h"', known) == ["drivers/net/x.h"]
    assert include_targets("drivers/net/a.c", "<linux/nope.h>", known) == []


def test_follower_holds_back_on_demand_headers_and_hands_each_out_once() -> None:
    headers = ["include/linux/a.h", "include/linux/b.h", "include/net/c.h",
               "include/asm-generic/io.h", "arch/x86/include/asm/io.h", "drivers/x/local.h"]
    f = IncludeFollower(headers, follow=True)
    assert f.first(["drivers/x/x.c", *headers]) == [
        "drivers/x/x.c", "include/asm-generic/io.h", "arch/x86/include/asm/io.h",
        "drivers/x/local.h"]
    assert f.included("drivers/x/x.c", ("<linux/a.h>", '"local.h"', "<linux/zz.h>")) == \
        ["include/linux/a.h"]
    assert f.included("drivers/y/y.c", ("<linux/a.h>", "<net/c.h>")) == ["include/net/c.h"]
    # without a config every header is read from the start
    g = IncludeFollower(headers, follow=False)
    assert g.first(headers) == headers and g.included("d/x.c", ("<linux/a.h>",)) == []


FILES = {
    # reached: x.c -> a.h -> b.h, whose inline wrapper reads a port
    "include/linux/a.h": "#include <linux/b.h>\n",
    "include/linux/b.h": "static inline u8 rd_b(void) { return inb(0x60); }\n",
    # included by no built file: not compiled, so its rd_c is no source
    "include/linux/c.h": "static inline u8 rd_c(void) { return inb(0x64); }\n",
    "drivers/x.c": "#include <linux/a.h>\nint f(void) { return rd_b() + rd_c(); }\n",
}


def _tree_and_config(tmp_path: Path, files: dict[str, str]) -> tuple[Path, Path]:
    tree = tmp_path / "t"
    for rel, text in files.items():
        (tree / rel).parent.mkdir(parents=True, exist_ok=True)
        (tree / rel).write_text(text)
    config = tmp_path / "config"
    config.write_text("CONFIG_X86_64=y\n")
    return tree, config


@pytest.mark.parametrize("jobs", [1, 2])
def test_only_included_headers_are_read_with_a_config(tmp_path: Path, jobs: int) -> None:
    tree, config = _tree_and_config(tmp_path, FILES)
    cache = tmp_path / "cache"
    for _run in ("cold", "warm"):  # the warm run follows the includes of reused summaries
        inv = scan(tree, [FileSpec("drivers/x.c", "y")], config=str(config), jobs=jobs,
                   cache_dir=cache, quiet=True)
        assert {(s.file, s.line, s.primitive) for s in inv.sites} == {
            ("include/linux/b.h", 1, "inb"), ("drivers/x.c", 2, "rd_b")}
        assert inv.headers_scanned == 2
    # without a config every header is read, and rd_c's wrapper counts
    inv = scan(tree, [FileSpec("drivers/x.c")], use_cache=False, jobs=jobs, quiet=True)
    assert ("drivers/x.c", 2, "rd_c") in {(s.file, s.line, s.primitive) for s in inv.sites}


def _marking_summary_ahead(where: Path, ctx: FileContext, rel: str) -> Any:
    (where / rel.replace("/", "_")).touch()  # (in the worker) this header was made ahead
    return summary_ahead(ctx, rel)


def test_headers_every_config_reads_are_summarised_while_kbuild_runs(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # scan takes the file list as a callable (Kbuild, half a second on a real tree): the
    # workers summarise arch/x86/include and include/asm-generic meanwhile, and the inventory
    # is the one a list gives
    files = {**FILES, "arch/x86/include/asm/io.h": "static inline u8 rd_io(void) { return inb(0x61); }\n",
             "drivers/y.c": "int g(void) { return rd_io(); }\n"}
    tree, config = _tree_and_config(tmp_path, files)
    marks = tmp_path / "marks"
    marks.mkdir()
    monkeypatch.setattr(scan_module, "summary_ahead", partial(_marking_summary_ahead, marks))
    specs = [FileSpec("drivers/x.c", "y"), FileSpec("drivers/y.c", "y")]

    def kbuild() -> list[FileSpec]:
        deadline = time.monotonic() + 60
        while not any(marks.iterdir()):  # until the worker made the header ahead
            assert time.monotonic() < deadline
            time.sleep(0.01)
        return specs

    def sites(inv: Inventory) -> set[tuple[str, int, str]]:
        return {(s.file, s.line, s.primitive) for s in inv.sites}

    cache = tmp_path / "cache"
    ahead = scan(tree, kbuild, config=str(config), jobs=2, cache_dir=cache, quiet=True)
    assert [p.name for p in marks.iterdir()] == ["arch_x86_include_asm_io.h"]
    listed = scan(tree, specs, config=str(config), jobs=2, use_cache=False, quiet=True)
    assert sites(ahead) == sites(listed) and ("drivers/y.c", 1, "rd_io") in sites(ahead)
    warm = scan(tree, specs, config=str(config), jobs=2, cache_dir=cache, quiet=True)
    assert sites(warm) == sites(ahead)


def test_a_summary_made_ahead_is_taken_only_for_the_same_inputs(tmp_path: Path) -> None:
    from cocoscope.surface import parallel
    (tmp_path / "a.h").write_text("static inline int rd(void) { return inb(0x60); }\n")
    ctx = FileContext(tmp_path, Cache(None), "fp", frozenset(), "", defines_key="k1")
    rel, (inputs, real) = summary_ahead(ctx, "a.h")
    assert rel == "a.h" and real.defs
    fake = dataclasses.replace(real, defs=())
    try:
        parallel._PREPARED["a.h"] = (inputs, fake)
        assert summarise_file(ctx, "a.h") is fake  # made ahead: taken, once
        assert summarise_file(ctx, "a.h") == real
        parallel._PREPARED["a.h"] = (inputs, fake)
        other = dataclasses.replace(ctx, defines_key="k2")  # another config's defines
        assert summarise_file(other, "a.h") == real
    finally:
        parallel._PREPARED.clear()
