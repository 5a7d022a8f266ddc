"""Suite-wide fixtures: the test data shipped in tests/data and the Debian package cache."""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
from collections.abc import Callable
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


@pytest.fixture(autouse=True)
def _private_attest_cache(tmp_path_factory: pytest.TempPathFactory,
                          monkeypatch: pytest.MonkeyPatch) -> None:
    """Verification reads cached KDS/PCS collateral even offline: every test gets an empty
    cache of its own, never the user's (~/.cache/cocoscope/attest) or another test's."""
    monkeypatch.setenv("COCOSCOPE_ATTEST_CACHE", str(tmp_path_factory.mktemp("attest-cache")))


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


# --- fake system trees (/proc, /sys, /dev) for audit and report tests ---------------------------

CONFIG = """#
# Linux/x86 6.12.117 Kernel Configuration
#
CONFIG_INTEL_TDX_GUEST=y
CONFIG_TDX_GUEST_DRIVER=y
CONFIG_VIRTIO_PCI=y
CONFIG_VIRTIO_MMIO=m
CONFIG_VIRTIO_PCI_LEGACY=y
CONFIG_SERIO_I8042=y
# CONFIG_HYPERV is not set
"""


def _dev(root: Path, bus: str, name: str, driver: str | None, **attrs: str) -> None:
    d = root / "sys" / "bus" / bus / "devices" / name
    d.mkdir(parents=True)
    for k, v in attrs.items():
        (d / k).write_text(v + "\n")
    if driver:
        target = root / "sys" / "bus" / bus / "drivers" / driver
        target.mkdir(parents=True, exist_ok=True)
        os.symlink(target, d / "driver")


def make_root(tmp: Path, *, tdx: bool = False, cmdline: str = "console=ttyS0 quiet") -> Path:
    root = tmp / "root"
    (root / "proc" / "sys" / "kernel").mkdir(parents=True)
    (root / "proc" / "sys" / "kernel" / "osrelease").write_text("6.12.117-cloud-amd64\n")
    (root / "proc" / "config.gz").write_bytes(gzip.compress(CONFIG.encode()))
    (root / "proc" / "cmdline").write_text(cmdline + "\n")
    flags = "fpu vme hypervisor" + (" tdx_guest" if tdx else "")
    (root / "proc" / "cpuinfo").write_text(f"processor\t: 0\nflags\t\t: {flags}\n")
    (root / "dev").mkdir()
    if tdx:
        (root / "dev" / "tdx_guest").write_text("")
        (root / "sys" / "kernel" / "config" / "tsm" / "report").mkdir(parents=True)
    _dev(root, "pci", "0000:00:02.0", "virtio-pci", vendor="0x1af4", device="0x1041",
         **{"class": "0x020000"}, modalias="pci:v00001AF4d00001041sv00001AF4sd00001100bc02sc00i00")
    _dev(root, "pci", "0000:00:03.0", "e1000", vendor="0x8086", device="0x100e",
         **{"class": "0x020000"})
    _dev(root, "virtio", "virtio0", "virtio_net", vendor="0x1af4", device="0x0001",
         modalias="virtio:d00000001v00001AF4")
    _dev(root, "platform", "virtio-mmio.0", "virtio-mmio", modalias="platform:virtio-mmio")
    _dev(root, "serio", "serio0", "atkbd", modalias="serio:ty06pr00id00ex00")
    _dev(root, "acpi", "device:00", None)
    return root


@pytest.fixture
def fake_root(tmp_path: Path) -> Callable[..., Path]:
    def build(**kw: object) -> Path:
        return make_root(tmp_path, **kw)  # type: ignore[arg-type]
    return build
