"""Labels carried across a real kernel upgrade: Debian bookworm's linux-source-6.1 with its
cloud config, then trixie's 6.12 with its own (both fetched by scripts/fetch_debian.py).

Every 6.1 site is given a verdict; the test counts how many a 6.12 scan carries (exact by
fingerprint, fuzzy for edited lines and moved files) and how many of the hand-labelled
sample A sites on 6.12 had a 6.1 counterpart. Figures are printed (`pytest -s`) and recorded in
docs/surface.md; the floors are under what was measured (6,963 of 7,430 carried, 116 of the
sample's 150), so the test fails when fingerprints or the fuzzy fallback break, not on drifts.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from cocoscope.surface import triage
from cocoscope.surface.api import inventory
from cocoscope.surface.triage import Label, Record, Verdict
from cocoscope.surface.triage_fingerprint import site_keys
from cocoscope.surface.triage_match import match
from cocoscope.surface.triage_sample import load_sample
from tests.conftest import debian_package as _package
from tests.paths import DATA

pytestmark = pytest.mark.realtree

SAMPLE_A = DATA / "surface" / "labels" / "sample-a.json"


def _cloud_config(version: str) -> str:
    root = _package(f"linux-config-{version}")
    (cfg,) = root.glob(f"usr/src/linux-config-{version}/config.amd64_none_cloud-amd64.xz")
    return str(cfg)


def test_labels_carry_from_6_1_to_6_12(linux_tree: Path, debian_cloud_config: Path,
                                       tmp_path: Path) -> None:
    old_tree = _package("linux-source-6.1") / "tree"
    old = inventory(str(old_tree), _cloud_config("6.1"))
    verdict = Verdict(Label.CONCERN, "carry-over test", "test", "2026-11-30T00:00:00Z")
    labels = tmp_path / "labels-6.1.jsonl"
    triage.save(labels, [Record.of(k, s.grade.value, verdict)
                         for k, s in zip(site_keys(old.host_sites, old_tree), old.host_sites,
                                         strict=True)])
    records = triage.load(labels)

    new = inventory(str(linux_tree), str(debian_cloud_config))
    keys = site_keys(new.host_sites, linux_tree)
    m = match(records, keys)
    exact = sum(x.how == "exact" for x in m.matches)
    fuzzy = sum(x.how == "fuzzy" for x in m.matches)
    print(f"\n6.1 -> 6.12: {len(records)} labelled 6.1 sites; carried {len(m.matches)} "
          f"(exact {exact}, fuzzy {fuzzy}); lost {len(m.gone)}; new 6.12 sites {len(m.new)}")
    assert len(m.matches) >= 0.88 * len(records)
    assert exact >= 0.8 * len(records)
    # arch/x86/kernel/sev.c became arch/x86/coco/sev/core.c: carried by the fuzzy fallback.
    moved = [x for x in m.matches if x.record.file == "arch/x86/kernel/sev.c"]
    assert moved and all(x.how == "fuzzy" and keys[x.site].file.startswith("arch/x86/coco/sev/")
                         for x in moved)
    # Each carried label lands on the same function and primitive.
    assert all((x.record.function, x.record.primitive)
               == (keys[x.site].function, keys[x.site].primitive) for x in m.matches)

    matched_now = {keys[x.site].fingerprint: x.how for x in m.matches}
    sample = load_sample(SAMPLE_A)
    carried = [s for s in sample.sites if s.fingerprint in matched_now]
    print(f"sample A: {len(carried)} of {len(sample.sites)} hand-labelled 6.12 sites have a "
          f"6.1 counterpart ({sum(matched_now[s.fingerprint] == 'fuzzy' for s in carried)} "
          "fuzzy)")
    assert len(carried) >= 115
