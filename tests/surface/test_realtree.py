"""The scanner on Debian's linux-source-6.12 with everything Debian's cloud config builds (one
cold scan, about half a minute on 2 cores)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest

from cocoscope.model.platform import Platform
from cocoscope.surface import render
from cocoscope.surface.catalogue import load_catalogue
from cocoscope.surface.files import files_for_config
from cocoscope.surface.grade import Grade
from cocoscope.surface.inventory import Inventory, Site
from cocoscope.surface.preproc import blank_inactive, config_defines
from cocoscope.surface.scan import scan

pytestmark = pytest.mark.realtree

@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("surface-cache")


@pytest.fixture(scope="module")
def inv(linux_tree: Path, debian_cloud_config: Path, cache_dir: Path) -> Inventory:
    files = files_for_config(linux_tree, str(debian_cloud_config))
    assert len(files) > 5000
    return scan(linux_tree, files, config=str(debian_cloud_config), cache_dir=cache_dir)


@pytest.fixture(scope="module")
def inv_tdx(linux_tree: Path, debian_cloud_config: Path, cache_dir: Path,
            inv: Inventory) -> Inventory:
    """The same scan on TDX: from the cache (the platform only changes trust and flags)."""
    files = files_for_config(linux_tree, str(debian_cloud_config))
    tdx = scan(linux_tree, files, config=str(debian_cloud_config), cache_dir=cache_dir,
               platform=Platform.TDX)
    assert tdx.stats["files_reparsed"] == 0
    return tdx


def at(inv: Inventory, file: str, line: int, primitive: str) -> Site:
    found = [s for s in inv.sites if s.file == file and s.line == line and s.primitive == primitive]
    assert len(found) == 1, (file, line, primitive, [(s.line, s.primitive) for s in inv.sites
                                                     if s.file == file])
    return found[0]


def test_modern_virtio_pci_getters_are_derived_over_ioread(inv: Inventory) -> None:
    derived = {d.name: d for d in inv.derived}
    getter = derived["vp_modern_get_features"]
    assert getter.defined_in == "drivers/virtio/virtio_pci_modern_dev.c"
    assert getter.chain == ("vp_modern_get_features", "vp_ioread32", "ioread32")
    uses = [s for s in inv.sites if s.primitive == "vp_modern_get_features"]
    assert uses and all(s.chain == getter.chain and s.interface == "mmio" for s in uses)
    assert {s.file for s in uses} >= {"drivers/virtio/virtio_pci_modern.c"}


def test_driver_register_macro_over_readl(inv: Inventory) -> None:
    sites = [s for s in inv.sites if s.primitive == "VMXNET3_READ_BAR1_REG"]
    assert len(sites) > 5
    assert all(s.chain == ("VMXNET3_READ_BAR1_REG", "readl") for s in sites)
    assert all(s.built == "m" and s.module == "vmxnet3" and s.symbol == "VMXNET3" for s in sites)


def test_macro_over_function_over_port_io(inv: Inventory) -> None:
    cmos = [s for s in inv.sites if s.primitive == "CMOS_READ" and s.file.startswith("drivers/rtc")]
    assert cmos and cmos[0].chain == ("CMOS_READ", "rtc_cmos_read", "inb")


def _direct_calls(text: str, names: set[str]) -> set[tuple[int, str]]:
    """A textual floor: `name(` outside comments, strings and preprocessor lines, and not a
    definition or prototype (kernel style puts those at column 0 with the return type)."""
    text = re.sub(r"/\*.*?\*/", lambda m: re.sub(r"[^\n]", " ", m.group()), text, flags=re.S)
    hits = set()
    for no, line in enumerate(text.splitlines(), start=1):
        code = re.sub(r'"(?:\\.|[^"\\])*"', '""', line.split("//")[0])
        if code.lstrip().startswith("#") or line.rstrip().endswith("\\"):
            continue
        if code[:1].isalpha() and "=" not in code and not code.startswith("return"):
            continue  # a definition or declaration of the function
        for m in re.finditer(r"\b([A-Za-z_]\w*)\s*\(", code):
            if m.group(1) in names:
                hits.add((no, m.group(1)))
    return hits


def test_direct_primitive_calls_are_all_found(inv: Inventory, linux_tree: Path,
                                             debian_cloud_config: Path) -> None:
    names = {p for p in load_catalogue().primitives if p.isidentifier()}
    found = {(s.file, s.line, s.primitive) for s in inv.sites}
    defines = config_defines(str(debian_cloud_config))
    expected = 0
    missed = []
    for f in sorted({s.file for s in inv.sites if s.file.endswith(".c")}):
        # The floor counts calls in the branches the config builds (the scanner's #if rule).
        text = blank_inactive((linux_tree / f).read_bytes(), defines)[0]
        # Unmaps and syncs of DMA_TO_DEVICE buffers are not host input (one call may span
        # lines): blank those statements, newlines kept.
        text = re.sub(rb"\bdma_(?:unmap|sync)_\w+\s*\([^;]*?\bDMA_TO_DEVICE\b[^;]*;",
                      lambda m: re.sub(rb"[^\n]", b" ", m.group()), text)
        for line, name in _direct_calls(text.decode(errors="replace"), names):
            expected += 1
            if (f, line, name) not in found:
                missed.append((f, line, name))
    assert expected > 4000
    assert len(missed) <= expected * 0.005, (missed, expected)


def test_json_keys_and_sarif_schema(inv: Inventory, testdata: Path) -> None:
    doc = json.loads(render.to_json(inv))
    for site in doc["sites"][:50]:
        assert {"file", "line", "function", "primitive", "interface", "grade", "built",
                "symbol"} <= site.keys()
        assert not site["file"].startswith("/")
    sarif = json.loads(render.to_sarif(inv))
    schema = json.loads((testdata / "sarif" / "sarif-schema-2.1.0.json").read_text())
    jsonschema.validate(sarif, schema)
    assert len(sarif["runs"][0]["results"]) == len(inv.host_sites)


# Catalogue and macro semantics (issue 10.1), each on the 6.12 line that shows it.

def test_virtio_cread_value_is_argument_4(inv: Inventory) -> None:
    # virtio_blk.c:923 virtio_cread(vdev, struct virtio_blk_config, capacity, &capacity);
    # the capacity then sizes the disk (set_capacity_and_notify).
    assert at(inv, "drivers/block/virtio_blk.c", 923, "virtio_cread").grade is Grade.PASSED


def test_virtio_cread_wrapper_macro_is_derived(inv: Inventory) -> None:
    derived = {d.name: d for d in inv.derived}
    assert derived["virtscsi_config_get"].chain == ("virtscsi_config_get", "virtio_cread")
    assert derived["virtscsi_config_get"].returns
    assert at(inv, "drivers/scsi/virtio_scsi.c", 921, "virtscsi_config_get").grade \
        is Grade.COMPARED


def test_macro_assigning_its_arguments_and_object_like_alias(inv: Inventory) -> None:
    derived = {d.name: d for d in inv.derived}
    assert derived["native_rdmsr"].out_args == (2, 3)  # msr.h:102
    assert derived["native_rdmsr"].chain == ("native_rdmsr", "__rdmsr")
    assert derived["dma_inb"].chain == ("dma_inb", "inb")  # #define dma_inb inb
    assert at(inv, "arch/x86/include/asm/dma.h", 297, "dma_inb").grade is Grade.RETURNED


def test_poll_timeout_vpd_and_video_headers(inv: Inventory) -> None:
    assert at(inv, "drivers/hid/amd-sfh-hid/amd_sfh_pcie.c", 46, "readl_poll_timeout").interface \
        == "mmio"
    assert at(inv, "drivers/pci/vpd.c", 60, "pci_read_vpd_any").interface == "pci-config"
    assert at(inv, "include/video/vga.h", 202, "readb").function == "vga_mm_r"


def test_if_branches_follow_the_config(inv: Inventory) -> None:
    # hpet.c:56 `#if BITS_PER_LONG == 64` defines read_counter over readq, else readl.
    assert {d.chain for d in inv.derived if d.name == "read_counter"} == \
        {("read_counter", "readq")}
    # FlashPoint.c is all `#ifdef CONFIG_SCSI_FLASHPOINT`, unset in the cloud config.
    assert not [s for s in inv.sites if s.file == "drivers/scsi/FlashPoint.c"]
    assert inv.stats["conditionals_decided"] > 10000
    assert inv.stats["conditionals_undecided"] > 0  # the fallback is counted, not hidden
    # asm-generic/io.h's readq and readq_relaxed fallbacks (:249, :374) are compiled out:
    # x86's asm/io.h defines both under `#ifdef CONFIG_X86_64` before including it
    generic = {s.line for s in inv.sites if s.file == "include/asm-generic/io.h"}
    assert not generic & {249, 374}
    assert 442 in generic  # readsb's generic body is built (x86 defines no readsb)


# Grading (issue 10.2).

@pytest.mark.parametrize(("file", "line", "primitive", "grade"), [
    # out-arguments by target kind
    ("arch/x86/kernel/cpu/amd.c", 483, "rdmsrl_safe", Grade.STORED),  # &x86_amd_ls_cfg_base
    ("drivers/pci/setup-bus.c", 1230, "pci_read_config_word", Grade.DISCARDED),  # &ctrl re-read
    # a reassignment inside an `if` does not end the value used after it (probe.c:2165)
    ("drivers/pci/probe.c", 2142, "pcie_get_mps", Grade.PASSED),
    # val = val & 0x3 reads val, then it is stored into a global
    ("arch/x86/kernel/quirks.c", 137, "readl", Grade.STORED),
    # dma_status is tested by the loop condition through the back edge
    ("drivers/comedi/drivers/plx9080.h", 637, "readb", Grade.LOOP_BOUND),
])
def test_real_grades(inv: Inventory, file: str, line: int, primitive: str, grade: Grade) -> None:
    assert at(inv, file, line, primitive).grade is grade


def test_field_of_an_out_argument_struct_is_not_a_dereference(inv: Inventory) -> None:
    # tdx.c:397 __tdx_hypercall(&args) then lower_32_bits(args.r11) into regs->ax
    assert at(inv, "arch/x86/coco/tdx/tdx.c", 397, "__tdx_hypercall").grade is Grade.STORED


def test_dma_to_device_unmap_is_not_host_input(inv: Inventory) -> None:
    f = "drivers/net/wwan/t7xx/t7xx_hif_cldma.c"
    assert not [s for s in inv.sites if s.file == f and s.line == 288]  # DMA_TO_DEVICE


def test_read_write_helper_in_the_write_direction(inv: Inventory) -> None:
    f = "drivers/acpi/apei/ghes.c"
    calls = {s.line: s for s in inv.sites if s.file == f and s.primitive == "ghes_copy_tofrom_phys"}
    assert 409 in calls and 423 in calls
    assert 460 not in calls  # ghes_copy_tofrom_phys(..., 0, fixmap_idx) writes


def test_cpuid_leaf_through_a_wrapper_on_tdx(inv_tdx: Inventory) -> None:
    s = at(inv_tdx, "arch/x86/kernel/fpu/xstate.c", 659, "get_compacted_size")
    assert (s.leaf, s.trust.value) == (0xD, "trusted")


# Reachability (issue 10.5).

def test_vendor_and_sev_code_flagged_on_tdx(inv_tdx: Inventory, inv: Inventory) -> None:
    amd = [s for s in inv_tdx.host_sites if s.file == "arch/x86/kernel/cpu/amd.c"]
    sev = [s for s in inv_tdx.host_sites if s.file.startswith("arch/x86/coco/sev/")]
    assert amd and all("Intel CPU" in s.unreachable for s in amd)
    assert sev and all("SEV" in s.unreachable for s in sev)
    assert not [s for s in inv_tdx.host_sites if s.file == "arch/x86/coco/tdx/tdx.c"
                and s.unreachable]
    assert not [s for s in inv.sites if s.unreachable]  # no platform: nothing flagged


def test_read_write_helper_in_the_write_direction_through_a_wrapper(inv: Inventory) -> None:
    # ghes.c:1234 ghes_clear_estatus(ghes, &tmp_header, ...) is void and only calls
    # ghes_copy_tofrom_phys(..., 0 /* from_phys */, ...): no source, no site
    f = "drivers/acpi/apei/ghes.c"
    assert not [s for s in inv.sites if s.file == f and s.primitive == "ghes_clear_estatus"]
    assert at(inv, f, 1232, "__ghes_peek_estatus").grade is Grade.LENGTH


@pytest.mark.parametrize(("file", "line", "primitive", "grade"), [
    # `if (i8042_set_mux_mode(true, &mux_version)) ...`: the mux status is only tested
    ("drivers/input/serio/i8042.c", 1217, "i8042_set_mux_mode", Grade.COMPARED),
    # `return i8042_command(&param, I8042_CMD_AUX_TEST)` hands the host-decided status on
    ("drivers/input/serio/i8042.c", 395, "i8042_command", Grade.RETURNED),
    # pci_bus_read_dev_vendor_id: a device-present bool from the host's vendor id, tested
    ("drivers/pci/hotplug/acpiphp_glue.c", 614, "pci_bus_read_dev_vendor_id", Grade.COMPARED),
    # `status = ssam_dsm_load_u32(...); if (status) return status;` (the DSM's status)
    ("drivers/platform/surface/aggregator/controller.c", 1124, "ssam_dsm_load_u32",
     Grade.RETURNED),
    # mlx4_en_uc_steer_add's status comes from the firmware command it issues: returned
    ("drivers/net/ethernet/mellanox/mlx4/en_netdev.c", 731, "mlx4_en_uc_steer_add",
     Grade.RETURNED),
])
def test_status_decided_by_a_host_test(inv: Inventory, file: str, line: int, primitive: str,
                                       grade: Grade) -> None:
    assert at(inv, file, line, primitive).grade is grade
