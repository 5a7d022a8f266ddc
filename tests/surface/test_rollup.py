"""Roll-ups of an inventory (by interface, subsystem, Kconfig symbol; totals) on the fixtures."""

from __future__ import annotations

from cocoscope.surface.files import FileSpec
from cocoscope.surface.rollup import by_interface, by_symbol, totals
from cocoscope.surface.scan import scan
from tests.paths import DATA

TREE = DATA / "surface" / "tree"


def test_rollups_count_every_host_site_once() -> None:
    files = [FileSpec(p.relative_to(TREE).as_posix(), "m" if "demo" in p.name else "y", "",
                      "DEMO") for p in sorted(TREE.rglob("*.c"))]
    inv = scan(TREE, files, jobs=1, use_cache=False)
    n = len(inv.host_sites)
    assert sum(r.sites for r in by_interface(inv)) == n
    assert sum(r.risky for r in by_symbol(inv)) == sum(s.risky for s in inv.host_sites)
    symbols = {r.key: r.sites for r in by_symbol(inv)}
    assert symbols["DEMO"] == sum(not s.file.endswith(".h") for s in inv.host_sites)
    assert symbols["(headers: removed with their last includer)"] == \
        sum(s.file.endswith(".h") for s in inv.host_sites)
    assert totals(inv)["sites"] == n and totals(inv)["files_scanned"] == len(files)
