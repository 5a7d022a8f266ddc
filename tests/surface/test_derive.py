"""The cross-file fixpoint on the project's C fixtures (tests/data/surface/tree)."""

from __future__ import annotations

import random

from cocoscope.surface.catalogue import load_catalogue
from cocoscope.surface.cparse import parse
from cocoscope.surface.dataflow import file_summary
from cocoscope.surface.derive import derive, resolve_in
from tests.paths import DATA

TREE = DATA / "surface" / "tree"


def test_fixpoint_does_not_depend_on_file_order() -> None:
    summaries = [file_summary(p.relative_to(TREE).as_posix(), "", parse(p.read_bytes()),
                              frozenset({"boot_params"}))
                 for p in sorted(TREE.rglob("*.[ch]"))]
    results = []
    for seed in range(3):
        random.Random(seed).shuffle(summaries)
        sources, res = derive(summaries, load_catalogue())
        results.append({k: (v.returns, v.out_args) for k, v in sources.items()})
        assert resolve_in(res.private, res.names, "drivers/demo/sub/user.c",
                          "DEMO_LOCAL_R32")[0] == "dir:drivers/demo"
    assert results[0] == results[1] == results[2]
