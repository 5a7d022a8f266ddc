"""Fixtures for the fetch tests: the local KDS/PCS stand-in and a private collateral cache."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from cocoscope.attest.fetch.cache import Cache
from tests.attest.fetch.service import Service, running


@pytest.fixture
def service() -> Iterator[Service]:
    with running() as svc:
        yield svc


@pytest.fixture
def cache_dir() -> Path:
    """The test's private cache (tests/conftest.py points COCOSCOPE_ATTEST_CACHE at it)."""
    return Path(os.environ["COCOSCOPE_ATTEST_CACHE"])


@pytest.fixture
def cache(cache_dir: Path) -> Cache:
    return Cache(cache_dir)
