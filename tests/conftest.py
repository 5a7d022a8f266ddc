"""Shared fixtures: where the read-only shared/ data and the Debian package cache are."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
TESTDATA = SHARED / "testdata"
DATA = Path(__file__).resolve().parent / "data"


def debian_package(name: str) -> Path:
    """Unpacked Debian package from the project cache; fetched on first use (never skipped)."""
    out = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "fetch_debian.py"), name],
        check=True, capture_output=True, text=True,
    )
    return Path(out.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="session")
def shared() -> Path:
    assert SHARED.is_dir(), f"{SHARED} missing: CI places shared/ beside the repository"
    return SHARED


@pytest.fixture(scope="session")
def linux_tree() -> Path:
    return debian_package("linux-source-6.12") / "tree"


@pytest.fixture(scope="session")
def debian_cloud_config() -> Path:
    root = debian_package("linux-config-6.12")
    (cfg,) = root.glob("usr/src/linux-config-6.12/config.amd64_none_cloud-amd64.xz")
    return cfg


@pytest.fixture(scope="session")
def ovmf_fd() -> Path:
    return debian_package("ovmf") / "usr" / "share" / "ovmf" / "OVMF.fd"


@pytest.fixture(scope="session")
def cloud_image() -> Path:
    """Debian's linux-image-*-cloud-amd64, built from the cloud config (modules, System.map)."""
    return debian_package("linux-image-cloud-amd64")
