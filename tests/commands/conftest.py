"""Fake system trees (/proc, /sys, /dev) for audit tests, as a fixture factory."""

from __future__ import annotations

import gzip
import os
from collections.abc import Callable
from pathlib import Path

import pytest

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
