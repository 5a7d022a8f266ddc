"""Which files a scan reads (surface/files.py): with a config, a header under include/linux
(and the other ON_DEMAND_ROOTS) is read only once a scanned file includes it, directly or
through other headers; one no built file includes is not compiled and wraps nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from cocoscope.surface.files import FileSpec, IncludeFollower, include_targets
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


@pytest.mark.parametrize("jobs", [1, 2])
def test_only_included_headers_are_read_with_a_config(tmp_path: Path, jobs: int) -> None:
    tree = tmp_path / "t"
    for rel, text in FILES.items():
        (tree / rel).parent.mkdir(parents=True, exist_ok=True)
        (tree / rel).write_text(text)
    config = tmp_path / "config"
    config.write_text("CONFIG_X86_64=y\n")
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
