"""Fixtures for SEV-SNP report tests (vectors described in snp_vectors.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.attest.snp.snp_vectors import SNP, VECTORS, Vector


@pytest.fixture(scope="session")
def snp_dir() -> Path:
    assert SNP.is_dir()
    return SNP


@pytest.fixture(params=sorted(VECTORS))
def snp_vector(request: pytest.FixtureRequest, snp_dir: Path) -> Vector:
    return VECTORS[request.param]
