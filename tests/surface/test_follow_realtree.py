"""Following a value to its uses (tracer.py; docs/surface.md "Grading rules"), each rule on the
Debian linux-source-6.12 line that shows it, scanned with Debian's cloud config (through the
normal surface cache, shared with the other real-tree tests)."""

from __future__ import annotations

from pathlib import Path

import pytest

from cocoscope.surface.api import inventory
from cocoscope.surface.grade import Grade
from cocoscope.surface.inventory import Inventory
from tests.surface.test_grade_realtree import at

pytestmark = pytest.mark.realtree


@pytest.fixture(scope="module")
def inv(linux_tree: Path, debian_cloud_config: Path) -> Inventory:
    return inventory(str(linux_tree), str(debian_cloud_config), quiet=True)


# 1. Loop bounds: through a same-file helper in the loop's condition, a for loop's step, an
#    assignment inside the condition, an out-argument tested in a do-while condition.
@pytest.mark.parametrize(("file", "line", "primitive", "grade"), [
    # } while (!hpet_cnt_ahead(hpet_t1_cmp, hpet_readl(HPET_COUNTER)));  (static inline)
    ("arch/x86/kernel/hpet.c", 1422, "hpet_readl", Grade.LOOP_BOUND),
    # for (fw_up = ionic_is_fw_running(idev); !done && fw_up && ...; fw_up = ...(idev))
    ("drivers/net/ethernet/pensando/ionic/ionic_main.c", 533, "ionic_is_fw_running",
     Grade.LOOP_BOUND),
    # while ((evt = virtqueue_get_buf(vq, &len)) != NULL) { ... evt->head ... }
    ("drivers/iommu/virtio-iommu.c", 620, "virtqueue_get_buf", Grade.LOOP_BOUND),
    # vsc_read(dev, ..., &flag); flag = MLX5_EXTRACT(flag, ...); } while (flag != expected);
    ("drivers/net/ethernet/mellanox/mlx5/core/lib/pci_vsc.c", 190, "vsc_read",
     Grade.LOOP_BOUND),
])
def test_loop_bounds(inv: Inventory, file: str, line: int, primitive: str, grade: Grade) -> None:
    assert at(inv, file, line, primitive).grade is grade


# 2. A field read back in the same function is followed like a local, also after the
#    structure was handed to another function (which may change the field but need not
#    replace it), but not into another function's own uses.
@pytest.mark.parametrize(("file", "line", "primitive", "grade"), [
    # vi->rss_indir_table_size = virtio_cread16(...); kzalloc(virtnet_rss_hdr_size(vi), ...)
    ("drivers/net/virtio_net.c", 6621, "virtio_cread16", Grade.LENGTH),
    # mhi_ctxt->er_ctxt = dma_alloc_coherent(...); er_ctxt = mhi_ctxt->er_ctxt; er_ctxt->intmod
    ("drivers/bus/mhi/host/init.c", 353, "dma_alloc_coherent", Grade.POINTER),
    # adapter->txdata_desc_size = ...; read back only after VMXNET3_WRITE_BAR1_REG(adapter, ...)
    ("drivers/net/vmxnet3/vmxnet3_drv.c", 3516, "VMXNET3_READ_BAR1_REG", Grade.STORED),
    # s->state = inl(...); comedi_dio_update_state(s, data) sets only the masked bits;
    # data[1] = s->state: the caller's buffer
    ("drivers/comedi/drivers/addi_apci_1564.c", 278, "inl", Grade.RETURNED),
    ("drivers/comedi/drivers/addi_apci_2032.c", 48, "inl", Grade.RETURNED),
    ("drivers/comedi/drivers/addi_apci_2200.c", 43, "inw", Grade.RETURNED),
])
def test_fields_read_back(inv: Inventory, file: str, line: int, primitive: str,
                          grade: Grade) -> None:
    assert at(inv, file, line, primitive).grade is grade


# 3./4. Into sinks and through flow the tracer used to lose: a later `case` after a `break`
#    is not reached; reads through a local pointer to host data; find.h's bit loops.
@pytest.mark.parametrize(("file", "line", "primitive", "grade"), [
    # case INSN_CONFIG_ARM: val = inl(...); val |= ...; outl(val, ...); break;  (later cases
    # only test their own val)
    ("drivers/comedi/drivers/addi_apci_1564.c", 584, "inl", Grade.WRITTEN_BACK),
    # struct boot_params *bootp = &boot_params; for (i = 0; i < bootp->e820_entries; ...);
    # memmove(..., (bootp->e820_entries - i) * sizeof(*e))
    ("arch/x86/xen/enlighten_pvh.c", 72, "boot_params", Grade.LENGTH),
    # l2_tx_int &= ~l2_tx_int_msk; for_each_set_bit(i, &l2_tx_int, ...) md_ctrl->txq[i]
    ("drivers/net/wwan/t7xx/t7xx_hif_cldma.c", 557, "ioread32", Grade.INDEX),
])
def test_into_sinks(inv: Inventory, file: str, line: int, primitive: str, grade: Grade) -> None:
    assert at(inv, file, line, primitive).grade is grade


# A slab cache's object size is an allocation size: lbr_nr * sizeof(struct lbr_entry) handed
# to create_lbr_kmem_cache (same file) -> kmem_cache_create(name, size, ...).
def test_slab_cache_object_size_is_a_length(inv: Inventory) -> None:
    assert at(inv, "arch/x86/events/intel/lbr.c", 1596, "cpuid").grade is Grade.LENGTH


# 5. The copy-depth limit counts copies within one function: a same-file helper's use of its
#    parameter is worked out from its own body and cached, never cut short by the depth of
#    the caller that reached it first (it used to be, and then stayed wrong at every call).
@pytest.mark.parametrize(("file", "line", "primitive", "grade"), [
    # ghes_read_estatus(ghes, estatus, ...); ghes_estatus_cached(estatus) (same file):
    # len = cper_estatus_len(estatus); memcmp(estatus, cache_estatus, len)
    ("drivers/acpi/apei/ghes.c", 1052, "ghes_read_estatus", Grade.LENGTH),
    # __ghes_peek_estatus(ghes, &tmp_header, ...); __ghes_check_estatus(ghes, &tmp_header)
    ("drivers/acpi/apei/ghes.c", 1232, "__ghes_peek_estatus", Grade.LENGTH),
    # sz -> sz64 -> pci_size(l64, sz64, mask64) (same file, returns it) -> region.end ->
    # res->end = region.end - region.start
    ("drivers/pci/probe.c", 200, "pci_read_config_dword", Grade.STORED),
])
def test_same_file_helpers_past_the_callers_depth(inv: Inventory, file: str, line: int,
                                                  primitive: str, grade: Grade) -> None:
    assert at(inv, file, line, primitive).grade is grade


# 6. A function-defining macro invocation standing alone at file scope without `;`
#    (`build_mmio_read(__readq, "q", u64, "=r", )`) no longer hides the `#define`s after it:
#    `readq_relaxed(a)` is `__readq(a)`, the read is the macro's value.
@pytest.mark.parametrize(("line", "primitive"), [(76, "__readb"), (100, "__readq")])
def test_accessor_macros_after_bare_invocations(inv: Inventory, line: int,
                                                primitive: str) -> None:
    site = at(inv, "arch/x86/include/asm/io.h", line, primitive)
    assert site.grade is Grade.RETURNED
    assert site.function.endswith("_relaxed")


def test_prototype_inside_a_bare_invocation_is_no_site(inv: Inventory) -> None:
    # ACPI_EXTERNAL_RETURN_STATUS(acpi_status acpi_get_table_by_index(u32 table_index, ...))
    assert not [s for s in inv.sites if s.file == "include/acpi/acpixf.h"]


# 7. An element of the function's own array (`value[i] = v`, `&value[i / 4]` as an
#    out-argument) is followed through the array's uses, not `stored`; other elements given as
#    out-arguments of the same call are writes, not reads, and a buffer handed to memcmp has
#    its contents only tested.
@pytest.mark.parametrize(("file", "line", "primitive", "grade"), [
    # pci_read_config_dword(pdev, i, &value[i / 4]); print_hex_dump(..., value, 256, false)
    ("drivers/pci/probe.c", 1881, "pci_read_config_dword", Grade.PRINTED),
    # cpuid_count(..., &eax, &sig[0], &sig[2], &sig[1]); if (memcmp(TDX_IDENT, sig, ...))
    ("arch/x86/coco/tdx/tdx.c", 1015, "cpuid_count", Grade.COMPARED),
    # do { i8042_command(&ctr[n++ % 2], ...) ... } while (n < 2 || ctr[0] != ctr[1]);
    ("drivers/input/serio/i8042.c", 1014, "i8042_command", Grade.LOOP_BOUND),
])
def test_elements_of_own_arrays(inv: Inventory, file: str, line: int, primitive: str,
                                grade: Grade) -> None:
    assert at(inv, file, line, primitive).grade is grade


# 8. A value a test-only value macro tests is `compared`, also where the macro's result is
#    printed: pci_info(..., FLAG(cap, PCI_EXP_DPC_CAP_RP_EXT), ...) with
#    `#define FLAG(x, y) (((x) & (y)) ? '+' : '-')` picks a character (a test, like
#    `v ? "on" : "off"`), and `compared` ranks above `cap & PCI_EXP_DPC_IRQ` printed.
def test_tested_by_a_test_macro_whose_result_is_printed(inv: Inventory) -> None:
    assert at(inv, "drivers/pci/pcie/dpc.c", 474, "pci_read_config_word").grade is Grade.COMPARED


# 9. A parameter merged into a local that is also a source's out-argument is written there,
#    not read: pci_clear_and_set_config_dword(dev, pos, clear, set) reads into `v` with
#    pci_read_config_dword(dev, pos, &v), merges `set` into `v` and writes it back, so it is a
#    write wrapper for `clear` and `set`.
@pytest.mark.parametrize(("file", "line", "primitive", "grade"), [
    # pctl1 compared with ctl1; pl1_2_enables = pctl1 & MASK tested, later written back by
    # pci_clear_and_set_config_dword(parent, ..., 0, pl1_2_enables)
    ("drivers/pci/pcie/aspm.c", 684, "pci_read_config_dword", Grade.COMPARED),
    # child_old_ccc[PCI_FUNC(child->devfn)] = reg16 & CCC (own array); restored with
    # pcie_capability_clear_and_set_word(child, PCI_EXP_LNKCTL, CCC, child_old_ccc[...])
    ("drivers/pci/pcie/aspm.c", 452, "pcie_capability_read_word", Grade.WRITTEN_BACK),
])
def test_out_arguments_are_no_use_of_a_write_wrappers_parameter(
        inv: Inventory, file: str, line: int, primitive: str, grade: Grade) -> None:
    assert at(inv, file, line, primitive).grade is grade


# 10. A value stored by put_user(v, ptr) through a pointer the caller passed is `returned`
#     (like sprintf into a sysfs buf): proc_bus_pci_read's loop reads config space and
#     `__put_user(cpu_to_le32(val), (__le32 __user *) buf)` into the reader's buffer.
def test_put_user_into_the_callers_buffer(inv: Inventory) -> None:
    assert at(inv, "drivers/pci/proc.c", 87, "pci_user_read_config_dword").grade is \
        Grade.RETURNED


# 11. An update's value is the variable's (one off): `while (--num_buf)` is bounded by the
#     device-written count `int num_buf = virtio16_to_cpu(vi->vdev, hdr->num_buffers)`
#     (receive_mergeable; it is also printed by pr_debug, and loop-bound ranks above).
def test_an_update_in_a_loop_condition(inv: Inventory) -> None:
    assert at(inv, "drivers/net/virtio_net.c", 2278, "virtio16_to_cpu").grade is \
        Grade.LOOP_BOUND


# 8. Store helpers: a short function whose only use of a parameter is storing it into memory
#    (or handing it to another store helper) stores the value; where the call names the
#    memory, that decides (the caller's `*p` is `returned`).
@pytest.mark.parametrize(("file", "line", "primitive", "grade"), [
    # u64_stats_add(&stats->bytes, len): local64_add -> ... -> x86 arch_atomic64_add (asm)
    ("drivers/net/virtio_net.c", 1195, "virtqueue_get_buf", Grade.STORED),
    # local64_set(&event->hw.prev_count, cstate_pmu_read_counter(event)): -> __WRITE_ONCE
    ("arch/x86/events/intel/cstate.c", 343, "cstate_pmu_read_counter", Grade.STORED),
    # atomic_or(events, &ctrl->pending_events)
    ("drivers/pci/hotplug/pciehp_hpc.c", 622, "pcie_capability_read_word", Grade.STORED),
    # acpi_set_device_status(device, sta): `*((u32 *)&adev->status) = sta`
    ("drivers/acpi/bus.c", 111, "acpi_bus_get_status_handle", Grade.STORED),
    # WRITE_ONCE(*highest_perf, (u32)val) with highest_perf the caller's pointer
    ("arch/x86/kernel/acpi/cppc.c", 154, "cppc_get_highest_perf", Grade.RETURNED),
])
def test_store_helpers(inv: Inventory, file: str, line: int, primitive: str,
                       grade: Grade) -> None:
    assert at(inv, file, line, primitive).grade is grade


# ... but a function that does more with the parameter than store it is no store helper.
@pytest.mark.parametrize(("file", "line", "primitive", "grade"), [
    # x86_pci_root_bus_resources(busnum, ...) prints and compares: pcibios_scan_root is more
    # than a store helper, and the bus number stays passed
    ("arch/x86/pci/fixup.c", 27, "pci_read_config_byte", Grade.PASSED),
    # subtract_range(range, RANGE_NUM, start, end + 1) stores, but in a loop of comparisons
    ("arch/x86/pci/amd_bus.c", 166, "read_pci_config", Grade.PASSED),
])
def test_more_than_a_store_helper(inv: Inventory, file: str, line: int, primitive: str,
                       grade: Grade) -> None:
    assert at(inv, file, line, primitive).grade is grade


# 9. An address computed from the caller's pointer (`p + offset`) is the caller's memory: a
#    copy into it is `returned`, like one into `p`.
@pytest.mark.parametrize(("file", "line", "primitive"), [
    # memcpy_fromio(p + offset, idev->dev_cmd_regs->words, size), p the ethtool regs buffer
    ("drivers/net/ethernet/pensando/ionic/ionic_ethtool.c", 111, "memcpy_fromio"),
    # l = cpu_to_le32(ioread32(...)); memcpy(buf + sizeof l, &l, sizeof l)
    ("drivers/virtio/virtio_mmio.c", 171, "ioread32"),
    # pad = cpu_to_le32(ioread32(...)); memcpy(buf + buflen - slop, &pad, slop)
    ("drivers/ata/pata_legacy.c", 751, "ioread32"),
])
def test_copied_into_the_callers_buffer_at_an_offset(inv: Inventory, file: str, line: int,
                                                     primitive: str) -> None:
    assert at(inv, file, line, primitive).grade is Grade.RETURNED


# 10. A function named like a logger (`*_info`, `*_err`, `dev_*`) prints only where it is
#     given a format or message string; without one it is an ordinary function.
@pytest.mark.parametrize(("file", "line", "primitive", "grade"), [
    # alloc_pci_root_info(min_bus, max_bus, node, link): another file's function
    ("arch/x86/pci/amd_bus.c", 125, "read_pci_config", Grade.PASSED),
    # find_pci_root_info(def_node, def_link): this file's lookup compares them
    ("arch/x86/pci/amd_bus.c", 152, "read_pci_config", Grade.COMPARED),
    # vmxnet3_read_mac_addr(adapter, mac); dev_addr_set(netdev, mac)
    ("drivers/net/vmxnet3/vmxnet3_drv.c", 4236, "vmxnet3_read_mac_addr", Grade.PASSED),
])
def test_named_like_a_logger_without_a_format(inv: Inventory, file: str, line: int,
                                              primitive: str, grade: Grade) -> None:
    assert at(inv, file, line, primitive).grade is grade


def test_a_declaration_in_a_loop_body_is_a_fresh_value(inv: Inventory) -> None:
    """amd_bus.c:363 `u32 val = read_pci_config(...)` starts each round of the slot loop: the
    value 368 reads into val (tested, OR'd and written back) does not reach
    `early_is_amd_nb(val)` through the back edge."""
    assert at(inv, "arch/x86/pci/amd_bus.c", 368, "read_pci_config").grade is Grade.COMPARED


# 5. What a same-file helper writes through a pointer parameter lands in the call's argument
#    there, graded by that argument's target.
@pytest.mark.parametrize(("file", "line", "primitive", "grade"), [
    # child_l1ss_cap -> aspm_calc_l12_info -> encode_l12_threshold(t, &scale, &value): the
    # caller's locals, FIELD_PREP'd into ctl1, compared and written back (sample E)
    ("drivers/pci/pcie/aspm.c", 753, "pci_read_config_dword", Grade.COMPARED),
    # notify_length -> vp_modern_map_capability(..., size, &mdev->notify_len, ...): *len = length
    ("drivers/virtio/virtio_pci_modern_dev.c", 319, "pci_read_config_dword", Grade.STORED),
])
def test_helper_out_parameters(inv: Inventory, file: str, line: int, primitive: str,
                               grade: Grade) -> None:
    assert at(inv, file, line, primitive).grade is grade


# 6. A designated member of a local structure's initializer is followed like `s.f = v`; a
#    goto after the definition back to a label before a use reaches that use.
@pytest.mark.parametrize(("file", "line", "primitive", "grade"), [
    # rsp_size -> crb_map_res(..., size): struct resource new_res = { .end = start + size - 1 }
    # and &new_res handed to devm_ioremap_resource (sample F)
    ("drivers/char/tpm/tpm_crb.c", 664, "ioread32", Grade.PASSED),
    # status = knc_pmu_get_status(); if (status) goto again;  again: for_each_set_bit(bit,
    # &status, ...) cpuc->events[bit] (sample F)
    ("arch/x86/events/intel/knc.c", 262, "knc_pmu_get_status", Grade.INDEX),
    ("arch/x86/events/intel/core.c", 3208, "intel_pmu_get_status", Grade.INDEX),
])
def test_initializers_and_backward_gotos(inv: Inventory, file: str, line: int, primitive: str,
                                         grade: Grade) -> None:
    assert at(inv, file, line, primitive).grade is grade


# 7. A value added to a base address is a pointer (labels README).
@pytest.mark.parametrize(("file", "line", "primitive", "grade"), [
    # get_perf_reg_address: u32 off = dmar_readl(...); return iommu->reg + off;
    ("drivers/iommu/intel/perfmon.c", 558, "dmar_readl", Grade.POINTER),
    # pds = image + readw(image + PCI_ROM_POINTER_TO_DATA_STRUCT);  (void __iomem *pds)
    ("drivers/pci/rom.c", 209, "readw", Grade.POINTER),
    # rsp_pa -> crb_map_res: return *iobase_ptr + (new_res.start - iores->start) (sample G)
    ("drivers/char/tpm/tpm_crb.c", 662, "memcpy_fromio", Grade.POINTER),
])
def test_added_to_a_base_address(inv: Inventory, file: str, line: int, primitive: str,
                                 grade: Grade) -> None:
    assert at(inv, file, line, primitive).grade is grade


# 8. The address of a local handed to a function of the same file: what that function reads
#    through its pointer parameter.
@pytest.mark.parametrize(("file", "line", "primitive", "grade"), [
    # caps.ctrl -> __pci_config_acs(dev, &caps, ...) pci_dbg's caps->ctrl (sample F)
    ("drivers/pci/pci.c", 1114, "pci_read_config_word", Grade.PRINTED),
    # acpi_scan_add_dep(handle, &dep_devices): for (i = 0; i < dep_devices->count; i++)
    ("drivers/acpi/scan.c", 2115, "acpi_evaluate_reference", Grade.LOOP_BOUND),
])
def test_address_of_a_local_to_a_same_file_function(inv: Inventory, file: str, line: int,
                                                     primitive: str, grade: Grade) -> None:
    assert at(inv, file, line, primitive).grade is grade
