"""Initial vCPU state (VMSA pages) as each VMM creates it, and the vCPU signatures QEMU uses.

The VMSA is the 4 KiB ``struct sev_es_save_area`` (AMD APM vol. 2, table B-4). Only the
fields a VMM sets at reset are non-zero; they are written at their architectural offsets.
The three VMMs differ in a handful of reset values, which is why the launch digest depends
on the VMM and not only on the firmware.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import Enum

from cocoscope.errors import UsageError

VMSA_SIZE = 0x1000
BSP_EIP = 0xFFFFFFF0  # x86 reset vector


class VmmType(Enum):
    QEMU = "qemu"
    EC2 = "ec2"
    GCE = "gce"


def cpu_signature(family: int, model: int, stepping: int) -> int:
    """CPUID Fn0000_0001_EAX for a family/model/stepping (AMD CPUID spec #25481)."""
    base_family, ext_family = (0xF, family - 0xF) if family > 0xF else (family, 0)
    return ((ext_family & 0xFF) << 20 | ((model >> 4) & 0xF) << 16 | base_family << 8
            | (model & 0xF) << 4 | (stepping & 0xF))


_EPYC = cpu_signature(23, 1, 2)
_ROME = cpu_signature(23, 49, 0)
_MILAN = cpu_signature(25, 1, 1)
_GENOA = cpu_signature(25, 17, 0)
_TURIN = cpu_signature(26, 0, 0)

# QEMU's built-in EPYC CPU models (target/i386/cpu.c builtin_x86_defs) and their versions.
VCPU_SIGNATURES: dict[str, int] = {
    "EPYC": _EPYC, "EPYC-v1": _EPYC, "EPYC-v2": _EPYC, "EPYC-IBPB": _EPYC, "EPYC-v3": _EPYC,
    "EPYC-v4": _EPYC,
    "EPYC-Rome": _ROME, "EPYC-Rome-v1": _ROME, "EPYC-Rome-v2": _ROME, "EPYC-Rome-v3": _ROME,
    "EPYC-Milan": _MILAN, "EPYC-Milan-v1": _MILAN, "EPYC-Milan-v2": _MILAN,
    "EPYC-Genoa": _GENOA, "EPYC-Genoa-v1": _GENOA,
    "EPYC-Turin": _TURIN,
}


def vcpu_signature(name: str) -> int:
    try:
        return VCPU_SIGNATURES[name]
    except KeyError:
        known = ", ".join(VCPU_SIGNATURES)
        raise UsageError(f"unknown vCPU type {name!r}; known: {known}") from None


@dataclass(frozen=True)
class VmsaRegisters:
    """The reset values that vary; every other field of the save area is zero."""

    eip: int
    cs_attrib: int
    ss_attrib: int
    tr_attrib: int
    rdx: int
    g_pat: int
    mxcsr: int
    x87_fcw: int
    sev_features: int

    @property
    def cs_base(self) -> int:
        return self.eip & 0xFFFF0000

    @property
    def rip(self) -> int:
        return self.eip & 0xFFFF


_DEFAULT_G_PAT = 0x0007040600070406  # PAT MSR power-on value (APM vol. 2, A.3)


def reset_registers(eip: int, vmm: VmmType, vcpu_sig: int, sev_features: int) -> VmsaRegisters:
    if vmm is VmmType.QEMU:
        # QEMU passes the vCPU signature in RDX as real hardware does after reset.
        return VmsaRegisters(eip, 0x9B, 0x93, 0x8B, vcpu_sig, _DEFAULT_G_PAT, 0x1F80, 0x37F,
                             sev_features)
    if vmm is VmmType.EC2:
        # EC2 leaves the accessed bit clear on the BSP's CS only, and a non-busy TSS type.
        cs = 0x9A if eip == BSP_EIP else 0x9B
        return VmsaRegisters(eip, cs, 0x92, 0x83, 0x600, _DEFAULT_G_PAT, 0, 0, sev_features)
    # GCE overwrites the PAT MSR with its own value.
    return VmsaRegisters(eip, 0x9B, 0x93, 0x8B, 0x600, 0x00070106, 0, 0, sev_features)


_SEGMENT = struct.Struct("<HHIQ")  # selector, attrib, limit, base
# Offsets in struct sev_es_save_area.
_ES, _CS, _SS, _DS, _FS, _GS, _GDTR, _LDTR, _IDTR, _TR = range(0, 0xA0, 0x10)
_QWORDS = {
    "efer": 0xD0, "cr4": 0x148, "cr0": 0x158, "dr7": 0x160, "dr6": 0x168, "rflags": 0x170,
    "rip": 0x178, "g_pat": 0x268, "rdx": 0x310, "sev_features": 0x3B0, "xcr0": 0x3E8,
}
_MXCSR = 0x408
_X87_FCW = 0x410


def vmsa_page(regs: VmsaRegisters) -> bytes:
    page = bytearray(VMSA_SIZE)
    for off, attrib in ((_ES, 0x93), (_DS, 0x93), (_FS, 0x93), (_GS, 0x93), (_GDTR, 0),
                        (_IDTR, 0), (_LDTR, 0x82)):
        _SEGMENT.pack_into(page, off, 0, attrib, 0xFFFF, 0)
    _SEGMENT.pack_into(page, _CS, 0xF000, regs.cs_attrib, 0xFFFF, regs.cs_base)
    _SEGMENT.pack_into(page, _SS, 0, regs.ss_attrib, 0xFFFF, 0)
    _SEGMENT.pack_into(page, _TR, 0, regs.tr_attrib, 0xFFFF, 0)
    values = {
        # KVM sets EFER.SVME and CR4.MCE; CR0.ET is the architectural reset value.
        "efer": 0x1000, "cr4": 0x40, "cr0": 0x10, "dr7": 0x400, "dr6": 0xFFFF0FF0,
        "rflags": 0x2, "rip": regs.rip, "g_pat": regs.g_pat, "rdx": regs.rdx,
        "sev_features": regs.sev_features, "xcr0": 0x1,
    }
    for name, value in values.items():
        struct.pack_into("<Q", page, _QWORDS[name], value)
    struct.pack_into("<I", page, _MXCSR, regs.mxcsr)
    struct.pack_into("<H", page, _X87_FCW, regs.x87_fcw)
    return bytes(page)
