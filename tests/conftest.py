"""Suite-wide fixtures: the test data shipped in tests/data and the Debian package cache."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.paths import DATA, REPO

# Markers follow from the fixtures a test uses, so a new test that needs a Debian package is
# marked without anyone remembering to (select with -m, e.g. -m "not realtree and not ovmf").
MARKER_OF_FIXTURE = {
    "linux_tree": "realtree",
    "debian_cloud_config": "realtree",
    "cloud_image": "realtree",
    "ovmf_fd": "ovmf",
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        for fixture in sorted(set(getattr(item, "fixturenames", ())) & MARKER_OF_FIXTURE.keys()):
            item.add_marker(MARKER_OF_FIXTURE[fixture])


def debian_package(name: str) -> Path:
    """Unpacked Debian package from the project cache; fetched on first use (never skipped)."""
    out = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "fetch_debian.py"), name],
        check=True, capture_output=True, text=True,
    )
    return Path(out.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="session")
def testdata() -> Path:
    """tests/data: every input the suite ships, each with a provenance line."""
    return DATA


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
