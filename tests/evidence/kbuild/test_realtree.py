"""Kbuild resolution on Debian's linux-source-6.12 with Debian's cloud config, checked against
the kernel package built from that config (fetched by scripts/fetch_debian.py if absent)."""

from __future__ import annotations

from pathlib import Path

import pytest

from cocoscope.evidence.dotconfig import load_config
from cocoscope.evidence.kbuild import KbuildResult, resolve

pytestmark = pytest.mark.realtree




@pytest.fixture(scope="module")
def real(linux_tree: Path, debian_cloud_config: Path) -> KbuildResult:
    return resolve(linux_tree, load_config(str(debian_cloud_config)))


def _module_dir(image: Path) -> Path:
    (moddir,) = (image / "usr" / "lib" / "modules").iterdir()
    return moddir


def test_modules_agree_with_the_package(real: KbuildResult, cloud_image: Path) -> None:
    order = (_module_dir(cloud_image) / "modules.order").read_text().split()
    theirs = {p.removeprefix("kernel/").removesuffix(".ko") for p in order}
    ours = {f.object for f in real.files if f.built == "m"} | {
        o.object for o in (*real.generated, *real.other_sources) if o.built == "m"}
    common = ours & theirs
    assert len(theirs) > 1000
    assert len(common) >= 0.98 * len(theirs), sorted(theirs - ours)[:50]
    assert len(common) >= 0.98 * len(ours), sorted(ours - theirs)[:50]
    names = {p.name.split(".ko")[0] for p in (_module_dir(cloud_image) / "kernel").rglob("*.ko*")}
    assert len(real.modules() & names) >= 0.98 * len(names)


def test_builtin_modules_are_built_in(real: KbuildResult, cloud_image: Path) -> None:
    listed = (_module_dir(cloud_image) / "modules.builtin").read_text().split()
    theirs = {p.removeprefix("kernel/").removesuffix(".ko") for p in listed}
    ours = {f.object for f in real.files if f.built == "y"} | {
        o.object for o in real.generated if o.built == "y"}
    assert len(theirs & ours) >= 0.98 * len(theirs), sorted(theirs - ours)


def test_known_files(real: KbuildResult) -> None:
    ring = real.by_path("drivers/virtio/virtio_ring.c")
    assert ring is not None and ring.built == "y" and ring.symbol == "VIRTIO"
    tdx = real.by_path("arch/x86/coco/tdx/tdx.c")
    assert tdx is not None and tdx.built == "y" and tdx.symbol == "INTEL_TDX_GUEST"
    net = real.by_path("drivers/net/virtio_net.c")
    assert net is not None and (net.built, net.module) == ("m", "virtio_net")
    idle = real.by_path("kernel/sched/idle.c")  # #included by kernel/sched/build_policy.c
    assert idle is not None and idle.included_from == "kernel/sched/build_policy.c"
    assert real.by_path("kernel/sched/ext.c") is None  # SCHED_CLASS_EXT is off
    assert real.by_path("arch/arm64/kernel/setup.c") is None
    assert any(o.path == "lib/oid_registry_data.c" for o in real.generated)
