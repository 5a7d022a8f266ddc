"""Grade rules (issue 10: grade error classes), each on the Debian linux-source-6.12 line that
shows it, scanned with Debian's cloud config. The scan goes through the normal surface cache
($COCOSCOPE_CACHE), shared with test_labelled_samples.py, so a warm run takes seconds."""

from __future__ import annotations

from pathlib import Path

import pytest

from cocoscope.surface.api import inventory
from cocoscope.surface.grade import Grade
from cocoscope.surface.inventory import Inventory, Site

pytestmark = pytest.mark.realtree


@pytest.fixture(scope="module")
def inv(linux_tree: Path, debian_cloud_config: Path) -> Inventory:
    return inventory(str(linux_tree), str(debian_cloud_config), quiet=True)


def at(inv: Inventory, file: str, line: int, primitive: str) -> Site:
    found = [s for s in inv.sites if s.file == file and s.line == line and s.primitive == primitive]
    assert len(found) == 1, (file, line, primitive, [(s.line, s.primitive) for s in inv.sites
                                                     if s.file == file])
    return found[0]


# 1. A value written through a pointer the caller passed is `returned`; a field of a
#    parameter (`p->f = v`) stays `stored`.
@pytest.mark.parametrize(("file", "line", "primitive", "grade"), [
    ("arch/x86/pci/direct.c", 120, "inb", Grade.RETURNED),  # *value = inb(...)
    ("drivers/comedi/drivers/addi_apci_3501.c", 160, "inl", Grade.RETURNED),  # data[1] = inl
    ("drivers/acpi/osl.c", 695, "readl", Grade.RETURNED),  # *(u32 *) value = readl(...)
    ("drivers/char/tpm/tpm_tis.c", 181, "ioread8", Grade.RETURNED),  # *result++ = ioread8
    # l = cpu_to_le32(readl(...)); memcpy(buf, &l, sizeof l) with buf the caller's
    ("drivers/virtio/virtio_mmio.c", 165, "readl", Grade.RETURNED),
    ("drivers/ata/libata-sff.c", 500, "ioread16_rep", Grade.RETURNED),  # pad, then *buf = pad[0]
    # u32 *regs_buff = p; regs_buff[28] = IXGBE_READ_REG(...)
    ("drivers/net/ethernet/intel/ixgbevf/ethtool.c", 190, "IXGBE_READ_REG", Grade.RETURNED),
    ("include/linux/iosys-map.h", 359, "readw", Grade.RETURNED),  # val__ = readw(...) in a macro
    # rdmsr(..., base_lo, base_hi) then *base = ... through the caller's pointer
    ("arch/x86/kernel/cpu/mtrr/generic.c", 828, "rdmsr", Grade.RETURNED),
    ("drivers/input/serio/i8042.c", 700, "i8042_command", Grade.RETURNED),  # *mux_version = param
    ("arch/x86/coco/tdx/tdx.c", 397, "__tdx_hypercall", Grade.STORED),  # regs->ax = ...
])
def test_written_through_the_callers_pointer(inv: Inventory, file: str, line: int,
                                             primitive: str, grade: Grade) -> None:
    assert at(inv, file, line, primitive).grade is grade


# 4. Poll macros (iopoll.h): the value lands in `val` and is tested by the loop's condition.
@pytest.mark.parametrize(("file", "line", "primitive", "grade"), [
    # read_poll_timeout(ioread32, val, (val & MSK) == MSK, ...): the accessor is an argument
    ("drivers/net/wwan/t7xx/t7xx_pci.c", 167, "ioread32", Grade.LOOP_BOUND),
    # readl_poll_timeout(addr, cmd_resp.resp, (cmd_resp.response_v2.response == ...), ...)
    ("drivers/hid/amd-sfh-hid/amd_sfh_pcie.c", 46, "readl_poll_timeout", Grade.LOOP_BOUND),
])
def test_poll_macros_test_the_value_in_their_loop(inv: Inventory, file: str, line: int,
                                                  primitive: str, grade: Grade) -> None:
    assert at(inv, file, line, primitive).grade is grade


# 5. goto: `rc = f(); if (rc) goto err; ... rc = g(); ... err: return rc;` returns f's value
#    (the later write does not run on the goto's path).
def test_goto_skipping_a_reassignment(inv: Inventory) -> None:
    s = at(inv, "drivers/net/ethernet/amazon/ena/ena_netdev.c", 3314, "ena_device_init")
    assert s.grade is Grade.RETURNED


# 6. A host-data global only assigned to, or only under sizeof, is not read there.
def test_global_written_or_sized_is_not_a_read(inv: Inventory) -> None:
    lines = {(s.file, s.line) for s in inv.sites if s.primitive == "boot_params"}
    assert ("arch/x86/xen/enlighten_pv.c", 1351) not in lines  # boot_params.eddbuf_entries = nr
    assert ("arch/x86/mm/mem_encrypt_amd.c", 205) not in lines  # sizeof(boot_params)
    assert ("arch/x86/xen/enlighten_pv.c", 1325) in lines  # a real read stays


# 2./3. Derived sinks (sinks.py): write and print wrappers, value, store and index macros.
@pytest.mark.parametrize(("file", "line", "primitive", "grade"), [
    # save_control = CMOS_READ(...); CMOS_WRITE(save_control | RTC_PIE, ...): CMOS_WRITE ->
    # rtc_cmos_write -> outb
    ("arch/x86/kernel/apic/io_apic.c", 1980, "CMOS_READ", Grade.WRITTEN_BACK),
    ("drivers/video/fbdev/core/cfbfillrect.c", 265, "FB_READL", Grade.WRITTEN_BACK),  # FB_WRITEL
    ("drivers/net/ethernet/intel/ixgbevf/vf.c", 1008, "IXGBE_READ_REG", Grade.WRITTEN_BACK),
    ("drivers/input/serio/i8042.c", 284, "i8042_read_data", Grade.PRINTED),  # dbg(fmt, arg...)
    # hv_ghcb_version = min_t(size_t, GHCB_MSR_PROTO_MAX(val), ...): a value macro
    ("arch/x86/hyperv/ivm.c", 168, "rd_ghcb_msr", Grade.STORED),
    # pci_resource_n(pdev, bar_idx) is &(dev)->resource[(n)]: an index
    ("drivers/pci/rebar.c", 142, "pci_read_config_dword", Grade.INDEX),
    # pch_cur_temp = GET_PCH_TEMP(WPT_TEMP_TSR & readw(...)); compared
    ("drivers/thermal/intel/intel_pch_thermal.c", 299, "readw", Grade.COMPARED),
    ("lib/iomap.c", 93, "mmio_read16be", Grade.RETURNED),  # IO_COND(addr, ..., return ...)
    # a macro parameter only tested: IRQ_RETVAL(x) is ((x) ? IRQ_HANDLED : IRQ_NONE)
    ("drivers/comedi/drivers/amplc_dio200_common.c", 520, "dio200_handle_read_intr",
     Grade.COMPARED),
    # DEBUG_AUTOCONF(fmt...) is `do { } while (0)` in this config: the value goes nowhere there
    ("drivers/tty/serial/8250/8250_port.c", 1065, "serial_in", Grade.COMPARED),
    # vmci_make_handle(cid, rid) builds a compound literal from cid: a value, handed on
    ("drivers/misc/vmw_vmci/vmci_queue_pair.c", 893, "vmci_get_context_id", Grade.PASSED),
    # value functions: an inline function that assigns nothing and returns (a part of) its
    # parameter (below and test_value_functions_pass_their_parameters_on).
    # d1 = FB_READL(src - 1); d1 = fb_rev_pixels_in_long(d1, ...) (which calls comp()), then
    # merged into d0 and written with FB_WRITEL
    ("drivers/video/fbdev/core/cfbcopyarea.c", 299, "FB_READL", Grade.WRITTEN_BACK),
    # hv_result_success(status) is `hv_result(status) == HV_STATUS_SUCCESS`, hv_result a mask
    ("arch/x86/hyperv/mmu.c", 151, "hv_do_hypercall", Grade.COMPARED),
    # cxl_hdm_decoder_count(hdr) computes the count from FIELD_GET(..., hdr): then stored
    ("drivers/cxl/core/regs.c", 74, "readl", Grade.STORED),
])
def test_derived_sinks_and_value_macros(inv: Inventory, file: str, line: int, primitive: str,
                                        grade: Grade) -> None:
    assert at(inv, file, line, primitive).grade is grade


def test_value_functions_pass_their_parameters_on(inv: Inventory) -> None:
    # FB_WRITEL(comp(FB_READL(src), FB_READL(dst), first), dst): fb_draw.h's comp() is
    # `((a ^ b) & mask) ^ b`, so both reads are merged and written back
    reads = [s for s in inv.sites
             if s.file == "drivers/video/fbdev/core/cfbcopyarea.c" and s.line == 103]
    assert len(reads) == 2
    assert {s.grade for s in reads} == {Grade.WRITTEN_BACK}


# 7. A test whose result the function returns is `returned` (the caller gets a host-derived
#    value); a same-file helper that returns (a test of) its parameter is graded where the
#    call's value goes.
@pytest.mark.parametrize(("file", "line", "primitive", "grade"), [
    # return boot_cpu_has(X86_FEATURE_X2APIC) && apic_is_x2apic_enabled();
    ("arch/x86/include/asm/apic.h", 250, "apic_is_x2apic_enabled", Grade.RETURNED),
    # return IS_ENABLED(...) && !!(boot_params.hdr.loadflags & KASLR_FLAG);
    ("arch/x86/include/asm/setup.h", 83, "boot_params", Grade.RETURNED),
    ("drivers/comedi/drivers/s626.c", 124, "readl", Grade.RETURNED),  # (val & cmd) ? true : false
    # hpet_cnt_ahead(now, hpet_readl(...)) (returns a comparison) in a do/while condition
    ("arch/x86/kernel/hpet.c", 1422, "hpet_readl", Grade.LOOP_BOUND),
])
def test_returned_test_results(inv: Inventory, file: str, line: int, primitive: str,
                               grade: Grade) -> None:
    assert at(inv, file, line, primitive).grade is grade


# 8. WARN_ON(v) / WARN(cond, fmt, ...) test their condition: `compared`, not `printed`.
def test_assertion_conditions_are_compared(inv: Inventory) -> None:
    # WARN_ON(readl(vm_dev->base + VIRTIO_MMIO_QUEUE_READY));
    assert at(inv, "drivers/virtio/virtio_mmio.c", 449, "readl").grade is Grade.COMPARED


# 9. A local pointer assigned from a parameter in the body walks the caller's memory:
#    `log_addr = log; ... *log_addr = readl(addr);` is `returned`.
def test_local_pointer_assigned_from_a_parameter(inv: Inventory) -> None:
    assert at(inv, "drivers/cxl/core/ras.c", 41, "readl").grade is Grade.RETURNED


# 10. ACPI table walkers hand each host entry to a callback: graded by the same-file
#     callback's use of its first parameter (a cast to the entry type, dereferenced).
@pytest.mark.parametrize(("file", "line"), [
    ("drivers/acpi/numa/srat.c", 651),  # acpi_table_parse_cedt(..., acpi_parse_cfmws, ...)
    ("drivers/cxl/acpi.c", 869),  # acpi_table_parse_cedt(..., cxl_parse_cfmws, ...)
])
def test_table_walker_callbacks(inv: Inventory, file: str, line: int) -> None:
    assert at(inv, file, line, "acpi_table_parse_cedt").grade is Grade.POINTER
    # IRQ handler registrations stay events.
    assert {s.grade for s in inv.sites if s.primitive == "request_irq"} == {Grade.EVENT}


# 11. A call's outputs together: the status is graded with the out-arguments where the host
#     decides it (ACPICA evaluation and table statuses, *_safe MSR reads, the page-state
#     change of set_memory_decrypted), not where the guest does (PCI config reads).
@pytest.mark.parametrize(("file", "line", "primitive", "grade"), [
    # status = acpi_evaluate_object(resource->device->handle, "_OFF", NULL, NULL); if (...)
    ("drivers/acpi/power.c", 426, "acpi_evaluate_object", Grade.COMPARED),
    ("drivers/pnp/pnpacpi/core.c", 108, "acpi_evaluate_object", Grade.COMPARED),  # _DIS
    # ra->err = rdmsrl_safe(ra->reg.msr, &ra->value): the fault status is stored
    ("drivers/powercap/intel_rapl_msr.c", 119, "rdmsrl_safe", Grade.STORED),
    ("kernel/dma/pool.c", 116, "set_memory_decrypted", Grade.RETURNED),  # ret = ...; return ret
    ("kernel/dma/swiotlb.c", 267, "set_memory_decrypted", Grade.DISCARDED),  # status ignored
    # ret = pci_user_read_config_word(...); if (ret < 0) return ret;: a guest-decided status,
    # the value read is only compared
    ("drivers/pci/vpd.c", 135, "pci_user_read_config_word", Grade.COMPARED),
    # status = acpi_hw_gpe_read(&in_byte, ...); ... return (status): the value is the first
    # argument, only bit-tested; the status (AE_OK on the port path) is the guest's
    ("drivers/acpi/acpica/hwgpe.c", 300, "acpi_hw_gpe_read", Grade.COMPARED),
])
def test_status_and_out_arguments_of_one_call(inv: Inventory, file: str, line: int,
                                              primitive: str, grade: Grade) -> None:
    assert at(inv, file, line, primitive).grade is grade


# A buffer's contents count: what is read through a host pointer (a mapped buffer, an ACPI
# result buffer) is graded by its use where that bounds or sizes something.
@pytest.mark.parametrize(("file", "line", "primitive", "grade"), [
    # entries = sdata->len / sizeof(*extmap) bounds __append_e820_table's while loop
    ("arch/x86/kernel/e820.c", 731, "early_memremap", Grade.LOOP_BOUND),
    # obj = buf.pointer; for (i = 0; i < obj->package.count; i++)
    ("drivers/thermal/intel/int340x_thermal/int3400_thermal.c", 268, "acpi_evaluate_object",
     Grade.LOOP_BOUND),
    # tss = buffer.pointer; kmalloc_array(tss->package.count, ...)
    ("drivers/acpi/processor_throttling.c", 492, "acpi_evaluate_object", Grade.LENGTH),
])
def test_a_buffers_contents_count(inv: Inventory, file: str, line: int, primitive: str,
                                  grade: Grade) -> None:
    assert at(inv, file, line, primitive).grade is grade


# Copies into the caller's memory are `returned`, into a structure's memory `stored`.
@pytest.mark.parametrize(("file", "line", "primitive", "grade"), [
    ("drivers/ata/libata-sff.c", 563, "ioread32_rep", Grade.RETURNED),  # memcpy(buf, pad, slop)
    # memcpy_fromio(&mag_data, ...); ... memcpy(input_report, &magno_input, ...) with
    # input_report = in_data->input_report[current_index]
    ("drivers/hid/amd-sfh-hid/sfh1_1/amd_sfh_desc.c", 224, "memcpy_fromio", Grade.STORED),
    # sprintf(buf, "0x%02X\n", (u32)retval) into the sysfs buf
    ("drivers/acpi/acpi_tad.c", 480, "acpi_evaluate_integer", Grade.RETURNED),
    # cap = (u32 *)&save_state->cap.data[0]; pci_read_config_dword(dev, ..., cap)
    ("drivers/pci/pcie/ptm.c", 102, "pci_read_config_dword", Grade.STORED),
])
def test_copies_into_the_callers_or_a_structures_memory(inv: Inventory, file: str, line: int,
                                                        primitive: str, grade: Grade) -> None:
    assert at(inv, file, line, primitive).grade is grade


# A test's result kept through a variable: stored, returned as a flags word, or a global
# read back and returned.
@pytest.mark.parametrize(("file", "line", "primitive", "grade"), [
    ("drivers/vfio/pci/vfio_pci_config.c", 1345, "pci_read_config_dword", Grade.STORED),
    ("drivers/char/tpm/tpm_crb.c", 313, "ioread32", Grade.RETURNED),  # sts |= ...; return sts
    ("drivers/misc/vmw_vmci/vmci_guest.c", 97, "vmci_send_datagram", Grade.RETURNED),
    # ACPICA's event status word built from several tests stays `compared`
    ("drivers/acpi/acpica/hwgpe.c", 300, "acpi_hw_gpe_read", Grade.COMPARED),
    # a ternary choosing what to store: `s->range_table = is_uni(dev) ? &a : &b`
    ("drivers/comedi/drivers/cb_pcimdas.c", 389, "cb_pcimdas_is_ai_uni", Grade.COMPARED),
])
def test_test_results_kept_through_a_variable(inv: Inventory, file: str, line: int,
                                              primitive: str, grade: Grade) -> None:
    assert at(inv, file, line, primitive).grade is grade


# An error pointer (include/linux/err.h) is the error code cast to a pointer: a status
# handed to `return ERR_PTR(err)` is returned, not passed to a function.
@pytest.mark.parametrize(("file", "line", "primitive", "grade"), [
    # err = mlx4_ib_umem_write_mtt(...); if (err) goto release_mpt_entry; ... ERR_PTR(err)
    ("drivers/infiniband/hw/mlx4/mr.c", 534, "mlx4_ib_umem_write_mtt", Grade.RETURNED),
    # err tested, goto err_create_flow: return ERR_PTR(err) (the reg id out-arg is stored)
    ("drivers/infiniband/hw/mlx4/main.c", 1762, "__mlx4_ib_create_flow", Grade.RETURNED),
])
def test_a_status_returned_as_an_error_pointer_is_returned(inv: Inventory, file: str, line: int,
                                                          primitive: str, grade: Grade) -> None:
    assert at(inv, file, line, primitive).grade is grade


# A write in the definition's own branch ends the value on every path from it; gotos that
# lie before the definition (in another branch) are on no path from it; a field filled in
# one switch case is not read by a later case after a `break`.
@pytest.mark.parametrize(("file", "line", "primitive", "grade"), [
    # status = smb_wr16(...); status = smb_rd16(...) in the same else block (goto err above)
    ("drivers/media/cec/platform/seco/seco-cec.c", 123, "smb_wr16", Grade.DISCARDED),
    ("drivers/media/cec/platform/seco/seco-cec.c", 126, "smb_rd16", Grade.WRITTEN_BACK),
    # pci_read_config_word(bridge, PCI_IO_BASE, &l); ... l = ... in the same if block
    ("drivers/pci/setup-bus.c", 596, "pci_read_config_word", Grade.DISCARDED),
    # &rev filled, then rev = mc_amd->hdr.patch_id on every path that goes on (goto out above)
    ("arch/x86/kernel/cpu/microcode/amd.c", 960, "__apply_microcode_amd", Grade.COMPARED),
    # status only tested for dev_dbg and reassigned; out-arguments into priv's fields
    ("drivers/thermal/intel/int340x_thermal/int3400_thermal.c", 591, "acpi_parse_art",
     Grade.STORED),
    # &op->value in the conf_read case; `nr = op->value` bounds a loop in the enable_msix case
    ("drivers/xen/xen-pciback/pciback_ops.c", 343, "xen_pcibk_config_read", Grade.STORED),
])
def test_reassignment_on_every_path_from_the_definition(inv: Inventory, file: str, line: int,
                                                       primitive: str, grade: Grade) -> None:
    assert at(inv, file, line, primitive).grade is grade


# Out-arguments computed from an address: `&local + k` is the local, `buf + off` the
# caller's memory or the function's own array.
@pytest.mark.parametrize(("file", "line", "primitive", "grade"), [
    # pci_read_config_dword(..., (u32 *)&count + 1); return count;
    ("arch/x86/events/intel/uncore_snbep.c", 601, "pci_read_config_dword", Grade.RETURNED),
    # memcpy_fromio(buf + 16, q, 16) into the own `char buf[32]`; buf[6] sizes a memcpy
    ("drivers/firmware/dmi_scan.c", 732, "memcpy_fromio", Grade.LENGTH),
    # memcpy_fromio(p + offset, ...) with p the get_regs buffer the caller passed
    ("drivers/net/ethernet/pensando/ionic/ionic_ethtool.c", 107, "memcpy_fromio",
     Grade.RETURNED),
    # __cpuid(regs + CPUID_EAX, ...) with regs the caller's array
    ("arch/x86/include/asm/cpuid.h", 134, "__cpuid", Grade.RETURNED),
])
def test_out_argument_computed_from_an_address(inv: Inventory, file: str, line: int,
                                                primitive: str, grade: Grade) -> None:
    assert at(inv, file, line, primitive).grade is grade


# A test that lets one value through pins it: past `if (err) { err = -EINVAL; goto out; }`
# (or `if (getstatus) return -ENODEV;`) the local holds a constant.
@pytest.mark.parametrize(("file", "line", "primitive", "grade"), [
    ("drivers/infiniband/hw/mlx4/qp.c", 4029, "mlx4_qp_query", Grade.COMPARED),
    ("drivers/pci/hotplug/pciehp_ctrl.c", 298, "pciehp_get_latch_status", Grade.COMPARED),
])
def test_a_test_that_lets_one_value_through_pins_it(inv: Inventory, file: str, line: int,
                                                    primitive: str, grade: Grade) -> None:
    assert at(inv, file, line, primitive).grade is grade


# An address handed to a function that maps it is a `pointer` (labels README).
@pytest.mark.parametrize(("file", "line", "primitive"), [
    ("arch/x86/kernel/tboot.c", 90, "boot_params"),  # set_fixmap(FIX_TBOOT_BASE, tboot_addr)
    ("arch/x86/coco/sev/core.c", 734, "boot_params"),  # early_memremap(cc_blob_address, ...)
    ("arch/x86/platform/efi/efi.c", 480, "boot_params"),  # -> efi_systab_init -> early_memremap_ro
])
def test_an_address_handed_to_a_mapping_function_is_a_pointer(inv: Inventory, file: str,
                                                            line: int, primitive: str) -> None:
    assert at(inv, file, line, primitive).grade is Grade.POINTER


# ACPICA/APEI register reads: the status checks a register description the host's table
# supplies (catalogue), and `return_ACPI_STATUS(status)` returns it from the function.
@pytest.mark.parametrize(("file", "line", "primitive"), [
    ("drivers/acpi/acpica/hwsleep.c", 73, "acpi_hw_register_read"),  # status returned on failure
    ("drivers/acpi/acpica/hwregs.c", 659, "acpi_hw_read"),  # goto exit; return_ACPI_STATUS
    ("drivers/acpi/acpica/evxfevnt.c", 175, "acpi_read_bit_register"),
    ("drivers/acpi/apei/erst.c", 133, "__apei_exec_read_register"),  # status of apei_read
])
def test_host_table_register_statuses_returned(inv: Inventory, file: str, line: int,
                                               primitive: str) -> None:
    assert at(inv, file, line, primitive).grade is Grade.RETURNED


# A macro's output: the value lands in a local of the macro body and leaves through the
# macro's pointer parameter (`*(ptr) = virtio_to_cpu(vdev, v)`, a same-file _Generic macro)
# or as the value of the statement expression (`({ type__ val_; ...; val_; })`). virtio_cread's
# body had a `/* comment */` (which ends a #define for tree-sitter) and a `typeof(expr)`
# declaration (which it cannot parse); both are neutralised now.
@pytest.mark.parametrize(("file", "line", "primitive"), [
    ("include/linux/virtio_config.h", 406, "config->get"),  # virtio_cread
    ("include/linux/virtio_config.h", 476, "__virtio_cread_many"),  # virtio_cread_le
    ("include/linux/iosys-map.h", 392, "__iosys_map_rd_io"),  # iosys_map_rd's val_
    ("drivers/scsi/virtio_scsi.c", 814, "virtio_cread"),  # virtscsi_config_get's __val
])
def test_a_macros_output_is_returned(inv: Inventory, file: str, line: int,
                                     primitive: str) -> None:
    assert at(inv, file, line, primitive).grade is Grade.RETURNED


# Where the value cannot go: the other arm of the `if` that holds the definition, and the
# right side of the assignment that defines it (it reads the value before the write).
@pytest.mark.parametrize(("file", "line", "primitive", "grade"), [
    # `(void) mlx4_cmd_imm(..., &out_param, ...)`; set_param_l(&out_param) is in the else arm
    ("drivers/net/ethernet/mellanox/mlx4/port.c", 456, "mlx4_cmd_imm", Grade.DISCARDED),
    # `int_reg = readl(...)` in one arm, int_reg tested and printed in the others
    ("drivers/scsi/ipr.c", 5362, "readl", Grade.DISCARDED),
    # `ret = (reg_val >> mmio_regs[ret].shift) & ...`: ret indexes before it is written
    ("drivers/thermal/intel/int340x_thermal/processor_thermal_rfim.c", 202, "readl",
     Grade.RETURNED),
    ("drivers/cpufreq/amd-pstate.c", 1158, "amd_pstate_set_energy_pref_index",
     Grade.RETURNED),  # ret = f(cpudata, ret); return ret ? ret : count;
    ("drivers/tty/serial/8250/8250_port.c", 1931, "serial8250_rx_chars", Grade.COMPARED),
    ("drivers/comedi/drivers/mite.c", 729, "dma_alloc_coherent", Grade.STORED),  # sizeof(*descs)
    # in an iterator macro's block the back edge brings max round to the right side
    ("drivers/pci/hotplug/acpiphp_glue.c", 465, "pci_scan_bridge", Grade.PASSED),
])
def test_uses_no_path_reaches(inv: Inventory, file: str, line: int, primitive: str,
                              grade: Grade) -> None:
    assert at(inv, file, line, primitive).grade is grade


def test_a_write_in_both_arms_ends_the_value(inv: Inventory) -> None:
    # err = send(...); if (err < 0) err = to_vsock_error(err); else err = 0; return err;
    site = at(inv, "net/vmw_vsock/vmci_transport.c", 1531, "vmci_transport_send_conn_request")
    assert site.grade is Grade.COMPARED


def test_put_user_into_a_field_of_the_users_structure_is_stored(inv: Inventory) -> None:
    # vmci_status = vmci_qp_broker_alloc(...); put_user(vmci_status, &info->result)
    site = at(inv, "drivers/misc/vmw_vmci/vmci_host.c", 470, "vmci_qp_broker_alloc")
    assert site.grade is Grade.STORED
