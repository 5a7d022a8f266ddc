"""The collateral cache: round trip, freshness, damage treated as absence, list and clear."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from cocoscope.attest.fetch.cache import Cache, cache_root
from cocoscope.cli import main

T0 = datetime(2025, 11, 1, tzinfo=UTC)
UNTIL = datetime(2025, 11, 26, tzinfo=UTC)


def test_round_trip_and_freshness(cache: Cache) -> None:
    e = cache.put("pcs/qe/tdx", "http://x/qe", {"a": "b"}, b"body", T0, UNTIL)
    got = cache.get("pcs/qe/tdx")
    assert got is not None and (got.body, got.headers, got.url) == (b"body", {"a": "b"}, "http://x/qe")
    assert got.path == e.path and got.valid_until == UNTIL
    assert got.fresh_at(UNTIL) and not got.fresh_at(datetime(2025, 11, 27, tzinfo=UTC))
    assert cache.get("pcs/qe/other") is None


def test_damaged_entry_is_absent_and_removed(cache: Cache) -> None:
    e = cache.put("kds/crl/Milan", "http://x/crl", {}, b"DER", T0, None)
    (Path(e.path) / "body").write_bytes(b"edited")
    assert cache.get("kds/crl/Milan") is None
    assert not Path(e.path).exists()
    e = cache.put("kds/crl/Milan", "http://x/crl", {}, b"DER", T0, None)
    (Path(e.path) / "meta.json").write_text("{not json")
    assert cache.get("kds/crl/Milan") is None


def test_root_from_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("COCOSCOPE_ATTEST_CACHE")
    monkeypatch.setenv("COCOSCOPE_CACHE", str(tmp_path))
    assert cache_root() == tmp_path / "attest"
    monkeypatch.setenv("COCOSCOPE_ATTEST_CACHE", str(tmp_path / "own"))
    assert cache_root() == tmp_path / "own"


def test_cache_list_and_clear_commands(cache: Cache, capsys: pytest.CaptureFixture[str]) -> None:
    cache.put("kds/vcek/Milan/ab/bl=3", "http://kds/vcek", {}, b"v", T0, None)
    cache.put("pcs/tcb/tdx/00a06d080000", "http://pcs/tcb", {}, b"t", T0, UNTIL)
    assert main(["cache", "list", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["cache"] == str(cache.root)
    assert [(e["key"], e["fresh_now"]) for e in doc["entries"]] == [
        ("kds/vcek/Milan/ab/bl=3", True), ("pcs/tcb/tdx/00a06d080000", False)]
    assert main(["cache", "list"]) == 0
    text = capsys.readouterr().out
    assert "2 item(s)" in text and "stale, valid until 2025-11-26T00:00:00+00:00" in text
    assert main(["cache", "clear", "--kind", "pcs"]) == 0
    assert "removed 1 cached item(s)" in capsys.readouterr().err
    assert [e.key for e in cache.entries()] == ["kds/vcek/Milan/ab/bl=3"]
    assert main(["cache", "clear"]) == 0
    assert cache.entries() == []


def test_fifo_planted_in_the_cache_is_refused_not_waited_on(cache: Cache) -> None:
    import os

    e = cache.put("pcs/rootcacrl", "http://x/root", {}, b"DER", T0, None)
    (Path(e.path) / "body").unlink()
    os.mkfifo(Path(e.path) / "body")
    assert cache.get("pcs/rootcacrl") is None  # returns at once: nobody writes to the FIFO
