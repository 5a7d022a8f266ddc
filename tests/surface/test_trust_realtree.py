"""Trust per platform (issue 10, host-input precision) on real lines of Debian's
linux-source-6.12 with the cloud config: what the TDX module or the CPU answers, hypercall
interfaces that do not exist on the other platform, and conversions of data from inside the
guest. Each decided site must say why (``trust_note``). Uses the normal surface cache."""

from __future__ import annotations

from pathlib import Path

import pytest

from cocoscope.model.platform import Platform
from cocoscope.surface.api import inventory
from cocoscope.surface.catalogue import Trust
from cocoscope.surface.inventory import Inventory, Site

Scans = dict[str, Inventory]


@pytest.fixture(scope="module")
def scans(linux_tree: Path, debian_cloud_config: Path) -> Scans:
    return {p: inventory(str(linux_tree), str(debian_cloud_config), platform=Platform(p))
            for p in ("tdx", "snp")}


def at(inv: Inventory, file: str, line: int, primitive: str) -> Site:
    found = [s for s in inv.sites if (s.file, s.line, s.primitive) == (file, line, primitive)]
    assert len(found) == 1, (file, line, primitive)
    return found[0]


def trust(scans: Scans, file: str, line: int, primitive: str) -> tuple[Trust, Trust]:
    return at(scans["tdx"], file, line, primitive).trust, at(scans["snp"], file, line,
                                                              primitive).trust


# 1. MSRs the TDX module virtualises or passes through (TDX Module ABI spec, MSR virtualization)

@pytest.mark.parametrize(("file", "line", "primitive", "msr", "spec"), [
    # rdmsrl(x86_pmu_config_addr(idx), val): decoded through the address function
    ("arch/x86/events/core.c", 695, "rdmsrl", "x86_pmu_config_addr(idx)", "IA32_PERFEVTSELx"),
    ("arch/x86/events/intel/p6.c", 143, "rdmsrl", "MSR_P6_EVNTSEL0", "IA32_PERFEVTSELx"),
    ("arch/x86/include/asm/fsgsbase.h", 63, "rdmsrl", "MSR_FS_BASE", "FS_BASE"),
    ("arch/x86/kernel/cet.c", 58, "rdmsrl", "MSR_IA32_PL3_SSP", "SSP"),
    ("arch/x86/kvm/vmx/vmx.c", 7914, "rdmsrl", "MSR_IA32_PERF_CAPABILITIES",
     "IA32_PERF_CAPABILITIES"),
    # the MSR of rdmsrl_safe_on_cpu(cpu, msr, &v) is its second argument
    ("arch/x86/events/intel/pt.c", 1875, "rdmsrl_safe_on_cpu", "MSR_IA32_RTIT_CTL",
     "IA32_RTIT_CTL"),
])
def test_msrs_the_tdx_module_answers_are_trusted_on_tdx_only(
        scans: Scans, file: str, line: int, primitive: str, msr: str, spec: str) -> None:
    s = at(scans["tdx"], file, line, primitive)
    assert (s.msr, s.trust) == (msr, Trust.TRUSTED)
    assert spec in s.trust_note and "never a #VE to the VMM" in s.trust_note
    assert at(scans["snp"], file, line, primitive).trust is Trust.HOST  # SNP: interceptable


def test_msr_read_through_a_wrapper_is_decoded(scans: Scans) -> None:
    s = at(scans["tdx"], "arch/x86/events/intel/core.c", 2992, "get_debugctlmsr")
    assert (s.msr, s.trust) == ("MSR_IA32_DEBUGCTLMSR", Trust.TRUSTED)
    assert s.trust_note.startswith("reads made in get_debugctlmsr: ")


@pytest.mark.parametrize(("file", "line", "primitive"), [
    # MTRRs are #VE in every TDX module version's table: the VMM answers them
    ("arch/x86/kernel/cpu/mtrr/generic.c", 828, "rdmsr"),
    ("arch/x86/kernel/cpu/mtrr/cleanup.c", 685, "rdmsr"),
    # APIC_BASE: #VE; energy-performance bias (second argument of rdmsrl_on_cpu): #VE
    ("arch/x86/hyperv/hv_apic.c", 308, "x2apic_enabled"),
    ("arch/x86/kernel/cpu/intel_epb.c", 142, "rdmsrl_on_cpu"),
])
def test_msrs_reflected_to_the_vmm_stay_host_input(scans: Scans, file: str, line: int,
                                                   primitive: str) -> None:
    assert trust(scans, file, line, primitive) == (Trust.HOST, Trust.HOST)
    assert at(scans["tdx"], file, line, primitive).trust_note == ""


# 2. Hypercall interfaces exist on one platform only

@pytest.mark.parametrize(("file", "line", "primitive"), [
    ("arch/x86/coco/sev/core.c", 1828, "sev_es_ghcb_hv_call"),
    ("arch/x86/coco/sev/shared.c", 653, "snp_cpuid_hv"),  # through wrappers in SEV code
    ("drivers/virt/coco/sev-guest/sev-guest.c", 561, "handle_guest_request"),
    ("arch/x86/kernel/cpu/vmware.c", 572, "ghcb_get_rbx"),
])
def test_ghcb_results_are_not_host_input_on_tdx(scans: Scans, file: str, line: int,
                                                primitive: str) -> None:
    assert trust(scans, file, line, primitive) == (Trust.ABSENT, Trust.HOST)
    assert "GHCB" in at(scans["tdx"], file, line, primitive).trust_note


def test_tdvmcall_results_are_not_host_input_on_snp(scans: Scans) -> None:
    assert trust(scans, "arch/x86/coco/tdx/tdx.c", 397, "__tdx_hypercall") == \
        (Trust.HOST, Trust.ABSENT)
    assert "TDG.VP.VMCALL" in at(scans["snp"], "arch/x86/coco/tdx/tdx.c", 397,
                                 "__tdx_hypercall").trust_note


def test_a_wrapper_outside_the_platform_code_keeps_its_unseen_paths(scans: Scans) -> None:
    # vmware_hypercall3 (asm/vmware.h) takes TDVMCALL on TDX but an inline VMCALL/VMMCALL the
    # scanner does not see elsewhere: still host input on SNP.
    s = at(scans["snp"], "arch/x86/kernel/cpu/vmware.c", 134, "vmware_hypercall3")
    assert s.chain[-1] == "__tdx_hypercall" and s.trust is Trust.HOST
    assert trust(scans, "arch/x86/kernel/kvm.c", 565, "kvm_hypercall4") == \
        (Trust.HOST, Trust.HOST)


def test_platform_code_inside_a_mixed_file(scans: Scans) -> None:
    # Hyper-V's ivm.c: hv_tdx_hypercall (TDVMCALL only) carries `absent` on SNP; hv_ivm_msr_read
    # also reads the GHCB page directly (no catalogue call), so its callers stay host on SNP.
    assert trust(scans, "drivers/hv/connection.c", 525, "hv_tdx_hypercall") == \
        (Trust.HOST, Trust.ABSENT)
    assert trust(scans, "arch/x86/kernel/cpu/mshyperv.c", 73, "hv_ivm_msr_read") == \
        (Trust.HOST, Trust.HOST)


def test_tdvmcall_only_helper_of_a_mixed_file(scans: Scans) -> None:
    # vmware.c's vmware_tdx_hypercall (under CONFIG_INTEL_TDX_GUEST, one host exchange:
    # __tdx_hypercall at vmware.c:530) carries `absent` on SNP to its callers in asm/vmware.h;
    # vmware_hypercall6 itself (inline VMCALL/VMMCALL otherwise) keeps its unseen path.
    s = at(scans["snp"], "arch/x86/include/asm/vmware.h", 208, "vmware_tdx_hypercall")
    assert s.trust is Trust.ABSENT and "TDG.VP.VMCALL" in s.trust_note
    assert at(scans["tdx"], "arch/x86/include/asm/vmware.h", 208,
              "vmware_tdx_hypercall").trust is Trust.HOST
    assert at(scans["snp"], "drivers/ptp/ptp_vmw.c", 28, "vmware_hypercall3").trust is Trust.HOST


def test_a_file_own_function_named_like_a_primitive(scans: Scans) -> None:
    # tdx.c:756 `return read_msr(regs, ve);` calls tdx.c's static read_msr (:384, the #VE
    # handler's TDVMCALL<Instruction.RDMSR>), not KVM's read_msr primitive (kvm_host.h).
    assert trust(scans, "arch/x86/coco/tdx/tdx.c", 756, "read_msr") == (Trust.HOST, Trust.ABSENT)
    note = at(scans["snp"], "arch/x86/coco/tdx/tdx.c", 756, "read_msr").trust_note
    assert "read_msr is defined in arch/x86/coco/tdx/tdx.c" in note and "TDG.VP.VMCALL" in note


# 3. Byte-order conversions of data from inside the guest

@pytest.mark.parametrize(("file", "line", "primitive"), [
    ("drivers/vhost/vhost.c", 2822, "vhost32_to_cpu"),  # vhost: the device (backend) side
    ("drivers/net/tun.c", 2155, "tun16_to_cpu"),  # vnet header of the tun device
    ("net/packet/af_packet.c", 2591, "__virtio16_to_cpu"),  # vnet header from a user socket
    # the balloon's own command id, sent to the device only as an out buffer
    ("drivers/virtio/virtio_balloon.c", 806, "virtio32_to_cpu"),
    ("drivers/virtio/virtio_balloon.c", 755, "virtio32_to_cpu"),
])
def test_conversions_of_guest_data_are_not_host_input(scans: Scans, file: str, line: int,
                                                      primitive: str) -> None:
    assert trust(scans, file, line, primitive) == (Trust.GUEST, Trust.GUEST)
    assert at(scans["snp"], file, line, primitive).trust_note


def test_virtio_driver_conversions_stay_host_input(scans: Scans) -> None:
    assert trust(scans, "drivers/net/virtio_net.c", 1227, "virtio16_to_cpu") == \
        (Trust.HOST, Trust.HOST)
    # the balloon's command id the device sends (a config read) stays host input
    assert trust(scans, "drivers/virtio/virtio_balloon.c", 654, "virtio_cread_le") == \
        (Trust.HOST, Trust.HOST)


@pytest.mark.parametrize(("line", "primitive"), [
    (451, "virtio16_to_cpu"),  # vring_unmap_one_split_indirect: desc->flags of the table
    (455, "virtio32_to_cpu"),  # ... desc->len
    (539, "virtio16_to_cpu"),  # virtqueue_add_desc_split: desc[i].next in the indirect branch
    (721, "virtio16_to_cpu"),  # virtqueue_add_split: desc[i].next under if (indirect)
    (621, "virtqueue_add_desc_split"),  # a call of that helper: its one read is the table's
])
def test_virtio_ring_indirect_table_is_guest_private(scans: Scans, line: int,
                                                     primitive: str) -> None:
    file = "drivers/virtio/virtio_ring.c"
    assert trust(scans, file, line, primitive) == (Trust.GUEST, Trust.GUEST)
    assert "DMA_TO_DEVICE" in at(scans["tdx"], file, line, primitive).trust_note
    # The used ring the device writes stays host input in the same file.
    assert trust(scans, file, 849, "virtio32_to_cpu") == (Trust.HOST, Trust.HOST)


def test_global_as_a_copy_destination_is_not_read(scans: Scans) -> None:
    for inv in scans.values():
        lines = {(s.file, s.line) for s in inv.sites if s.primitive == "boot_params"}
        # memcpy(&boot_params, real_mode_data, sizeof(boot_params)) fills the guest's copy
        assert ("arch/x86/kernel/head64.c", 408) not in lines
        # memcpy(buf, (void *)&boot_params + off, count) reads it
        assert ("arch/x86/kernel/ksysfs.c", 34) in lines


@pytest.mark.parametrize(("file", "line", "primitive", "leaves"), [
    # op = 0x8000001d or op = 4, never anything else: cpuid_count(op, i, ...)
    ("arch/x86/kernel/cpu/cacheinfo.c", 656, "cpuid_count", "0x4 or 0x8000001d"),
    # eax = CPUID_MWAIT_LEAF; ecx = 0; native_cpuid(&eax, ...)
    ("arch/x86/kernel/smpboot.c", 1290, "native_cpuid", "0x5"),
    # eax = 0x80000000 ... native_cpuid(&eax) ... eax = 0x8000001f; native_cpuid(&eax): each
    # call sees the value set just before it, not the previous call's output
    ("arch/x86/mm/mem_encrypt_identity.c", 506, "native_cpuid", "0x80000000"),
    ("arch/x86/mm/mem_encrypt_identity.c", 523, "native_cpuid", "0x8000001f"),
    ("arch/x86/kernel/cpu/microcode/internal.h", 76, "native_cpuid", "0x0"),
])
def test_cpuid_leaf_held_in_a_local_is_decoded(scans: Scans, file: str, line: int,
                                               primitive: str, leaves: str) -> None:
    s = at(scans["tdx"], file, line, primitive)
    assert s.trust is Trust.TRUSTED and f"CPUID leaf {leaves} (held in " in s.trust_note
    assert at(scans["snp"], file, line, primitive).trust is Trust.CHECKED


def test_cpuid_leaf_not_set_in_the_function_stays_host(scans: Scans) -> None:
    # cpuid_count(cmd->regs.eax, ...): the leaf comes from user space (/dev/cpu/N/cpuid);
    # cpuid_eax(op) in cpuid.h: a parameter
    assert at(scans["tdx"], "arch/x86/kernel/cpuid.c", 54, "cpuid_count").trust is Trust.HOST
    assert at(scans["tdx"], "arch/x86/include/asm/cpuid.h", 98, "cpuid").trust is Trust.HOST


def test_includer_define_decides_the_included_file(scans: Scans) -> None:
    # ni_pcimio.c: `#define PCIDMA` then `#include "ni_mio_common.c"` (its only includer the
    # cloud config builds): the #ifndef PCIDMA branches are not compiled, the #ifdef ones are.
    for inv in scans.values():
        lines = {s.line for s in inv.sites if s.file == "drivers/comedi/drivers/ni_mio_common.c"}
        assert not lines & {270, 1064, 1094, 1344}  # #ifndef PCIDMA: ni_ai_fifo_read, ...
        assert 238 in lines  # #ifdef PCIDMA: kept


def test_arch_header_define_decides_the_generic_fallback(scans: Scans) -> None:
    # x86's asm/io.h defines inb_p, insb, readb, __raw_readb, ... (:73-91, :314-326) before
    # `#include <asm-generic/io.h>` (:345), its only includer: those generic fallbacks are not
    # compiled. readq and readq_relaxed are defined under `#ifdef CONFIG_X86_64` (:93-109),
    # which the cloud config sets: their fallbacks (:249, :374) are not compiled either.
    for inv in scans.values():
        lines = {s.line for s in inv.sites if s.file == "include/asm-generic/io.h"}
        assert not lines & {197, 214, 231, 249, 329, 374, 674, 682, 690, 727}
        assert 442 in lines  # readsb: x86 defines none, the generic body is built


def test_every_site_not_host_input_says_why(scans: Scans) -> None:
    for inv in scans.values():
        decided = [s for s in inv.sites if s.trust is not Trust.HOST]
        assert decided and all(s.trust_note for s in decided)
        assert not [s for s in inv.sites if s.trust is Trust.HOST and s.trust_note]


@pytest.mark.parametrize(("file", "line"), [
    ("arch/x86/kvm/xen.c", 200),  # vcpu->arch.hv_clock for the Xen timer
    ("arch/x86/kvm/x86.c", 2715),  # a local hv_clock filled at :2710-2714
])
def test_kvm_reads_its_own_pvclock(scans: Scans, file: str, line: int) -> None:
    assert trust(scans, file, line, "__pvclock_read_cycles") == (Trust.GUEST, Trust.GUEST)
    assert "kvm_guest_time_update" in at(scans["tdx"], file, line,
                                         "__pvclock_read_cycles").trust_note
    # the guest's own kvmclock (the host's page) stays host input
    assert trust(scans, "arch/x86/kernel/pvclock.c", 77, "__pvclock_read_cycles") == \
        (Trust.HOST, Trust.HOST)


def test_dma_direction_parameter_every_caller_passes_to_device(scans: Scans) -> None:
    # nvmet-fc: fc_dma_sync_single_for_cpu(dev, addr, size, dir) is only called with
    # DMA_TO_DEVICE (fc.c:728, :1921); fc_dma_unmap_single also with DMA_BIDIRECTIONAL (:366).
    file = "drivers/nvme/target/fc.c"
    assert trust(scans, file, 298, "dma_sync_single_for_cpu") == (Trust.GUEST, Trust.GUEST)
    assert "all 2 calls of static fc_dma_sync_single_for_cpu" in \
        at(scans["snp"], file, 298, "dma_sync_single_for_cpu").trust_note
    assert trust(scans, file, 290, "dma_unmap_single") == (Trust.HOST, Trust.HOST)
