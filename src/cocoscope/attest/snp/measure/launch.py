"""Expected launch digest of an OVMF guest under SEV, SEV-ES or SEV-SNP (QEMU-style launch).

SNP order: the whole firmware image as NORMAL pages (ending at 4 GiB), then each SEV metadata
section in table order (kernel-hashes page, zero, secrets, CPUID, CAA pages; EC2 adds the CPUID
pages last, GCE marks pre-validated memory UNMEASURED), then one VMSA per vCPU. SEV and SEV-ES
instead take a SHA-256 of the firmware, the hashes table and (SEV-ES) the VMSAs.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from enum import Enum

from cocoscope.attest.snp.measure.gctx import PAGE_SIZE, LaunchDigest, PageType, Step
from cocoscope.attest.snp.measure.hashes import PADDED_LENGTH, BootHashes, hashes_page, hashes_table
from cocoscope.attest.snp.measure.ovmf import (
    FOUR_GIB,
    SEV_METADATA_GUID,
    MetadataSection,
    OvmfImage,
    SectionType,
)
from cocoscope.attest.snp.measure.vmsa import (
    BSP_EIP,
    VmmType,
    VmsaRegisters,
    reset_registers,
    vmsa_page,
)
from cocoscope.errors import InputError, UsageError


class Mode(Enum):
    SNP = "snp"
    SNP_OVMF_HASH = "snp:ovmf-hash"  # the digest after the firmware pages only
    SEV_ES = "seves"
    SEV = "sev"


@dataclass(frozen=True)
class LaunchConfig:
    mode: Mode
    vcpus: int = 1
    vcpu_sig: int = 0
    vmm: VmmType = VmmType.QEMU
    guest_features: int = 0x1  # SEV_FEATURES of the VMSAs; 0x1 = SNPActive
    hashes: BootHashes | None = None  # measured direct boot (-kernel), else None
    ovmf_hash: bytes | None = None  # resume SNP from a precomputed firmware digest


@dataclass(frozen=True)
class Measurement:
    config: LaunchConfig
    digest: bytes
    steps: tuple[Step, ...]
    vmsas: tuple[VmsaRegisters, ...]  # one per vCPU, BSP first
    hashes_table: bytes | None
    hashes_table_gpa: int | None


def measure(image: OvmfImage, config: LaunchConfig) -> Measurement:
    if config.mode is not Mode.SEV and config.vcpus < 1:
        raise UsageError(f"--vcpus must be at least 1, got {config.vcpus}")
    if not 0 <= config.guest_features < 1 << 64:
        raise UsageError(f"guest features {config.guest_features:#x} do not fit in 64 bits")
    if config.ovmf_hash is not None and config.mode is not Mode.SNP:
        raise UsageError("a precomputed OVMF hash only applies to --mode snp")
    if config.mode in (Mode.SNP, Mode.SNP_OVMF_HASH):
        return _measure_snp(image, config)
    return _measure_sev(image, config)


def _require_snp_firmware(image: OvmfImage, config: LaunchConfig) -> None:
    size = len(image.data)
    if size == 0 or size % PAGE_SIZE or size > FOUR_GIB:
        raise InputError(f"firmware size {size:#x} is not a whole number of 4 KiB pages up to 4 GiB",
                         path=image.path)
    if config.mode is Mode.SNP_OVMF_HASH:
        return
    if not image.entries:
        raise InputError(
            "no OVMF GUIDed footer table before the last 32 bytes: this firmware was not built "
            "for SEV and cannot be launched as an SEV-SNP guest; refusing to compute a digest",
            path=image.path, where=f"offset {max(size - 50, 0):#x}",
        )
    if not image.metadata:
        raise InputError(
            f"no SEV metadata (footer entry {SEV_METADATA_GUID}) or no sections in it: this "
            "firmware cannot be launched as an SEV-SNP guest; refusing to compute a digest",
            path=image.path,
        )


def _reset_eip(image: OvmfImage, config: LaunchConfig) -> int:
    eip = image.sev_es_reset_eip
    if eip is None:
        raise InputError("no SEV-ES AP reset block in the OVMF footer table", path=image.path)
    if eip == 0 and config.vcpus > 1:
        raise InputError("SEV-ES AP reset EIP is 0, so application processors cannot start",
                         path=image.path)
    return eip


def _hashes_table_gpa(image: OvmfImage) -> int:
    gpa = image.sev_hashes_table_gpa
    if not gpa:
        raise InputError(
            "a kernel was given but the firmware has no SEV hashes table (footer entry missing or "
            "GPA 0), so it cannot verify a measured direct boot",
            path=image.path,
        )
    return gpa


def _measure_snp(image: OvmfImage, config: LaunchConfig) -> Measurement:
    ld, table_gpa = snp_pages(image, config)
    if config.mode is Mode.SNP_OVMF_HASH:
        return Measurement(config, ld.value, tuple(ld.steps), (), None, None)
    regs = _vmsas(image, config, config.guest_features)
    for i, r in enumerate(regs):
        ld.add_vmsa(f"VMSA vCPU {i} ({'BSP' if i == 0 else 'AP'})", vmsa_page(r))
    table = hashes_table(config.hashes) if config.hashes is not None else None
    return Measurement(config, ld.value, tuple(ld.steps), regs, table, table_gpa)


def snp_pages(image: OvmfImage, config: LaunchConfig) -> tuple[LaunchDigest, int | None]:
    """The SNP digest after every page but the VMSAs, and the hashes table GPA if measured.

    Everything up to here depends only on the firmware, the VMM type and the boot hashes, so a
    search over vCPU counts, types and guest features starts from this value.
    """
    _require_snp_firmware(image, config)
    if config.ovmf_hash is not None:
        ld = LaunchDigest(config.ovmf_hash)
        ld.steps.append(Step("OVMF image (precomputed digest given)", None, image.gpa,
                             len(image.data) // PAGE_SIZE, None, ld.value))
    else:
        ld = LaunchDigest()
        ld.add_normal("OVMF image", image.gpa, image.data)
    if config.mode is Mode.SNP_OVMF_HASH:
        return ld, None

    page: bytes | None = None
    table_gpa: int | None = None
    if config.hashes is not None:
        sections = image.sections_of(SectionType.SNP_KERNEL_HASHES)
        if not sections:
            raise InputError(
                "a kernel was given but the OVMF SEV metadata has no SNP_KERNEL_HASHES section "
                "(only the AmdSev OVMF build supports measured direct boot)",
                path=image.path, where=f"offset {image.metadata_offset or 0:#x}",
            )
        table_gpa = _hashes_table_gpa(image)
        offset = table_gpa & (PAGE_SIZE - 1)
        if offset + PADDED_LENGTH > PAGE_SIZE:
            raise InputError(f"SEV hashes table GPA {table_gpa:#x} leaves no room for the table "
                             "in its page", path=image.path)
        for s in sections:
            if s.size != PAGE_SIZE:
                raise InputError(f"SNP_KERNEL_HASHES section is {s.size:#x} bytes, expected one "
                                 "page", path=image.path, where=f"offset {s.offset:#x}")
        page = hashes_page(config.hashes, offset)

    assert image.metadata is not None
    for i, s in enumerate(image.metadata):
        _add_section(ld, f"metadata section {i}", s, config.vmm, page)
    if config.vmm is VmmType.EC2:
        # EC2 passes the CPUID page to the PSP after every other section.
        for i, s in enumerate(image.metadata):
            if s.type is SectionType.CPUID:
                ld.add_unhashed(f"metadata section {i} CPUID (EC2: last)", PageType.CPUID, s.gpa,
                                PAGE_SIZE)
    return ld, table_gpa


def _add_section(ld: LaunchDigest, label: str, s: MetadataSection, vmm: VmmType,
                 hashes: bytes | None) -> None:
    what = f"{label} {s.type.name}"
    if s.type is SectionType.SNP_SEC_MEM:
        # GCE pre-validates this memory without measuring it.
        kind = PageType.UNMEASURED if vmm is VmmType.GCE else PageType.ZERO
        ld.add_unhashed(what, kind, s.gpa, s.size)
    elif s.type is SectionType.SNP_SECRETS:
        ld.add_unhashed(what, PageType.SECRETS, s.gpa, PAGE_SIZE)
    elif s.type is SectionType.CPUID:
        if vmm is not VmmType.EC2:
            ld.add_unhashed(what, PageType.CPUID, s.gpa, PAGE_SIZE)
    elif s.type is SectionType.SNP_KERNEL_HASHES:
        if hashes is not None:
            ld.add_normal(f"{what} (hashes table page)", s.gpa, hashes)
        else:
            ld.add_unhashed(f"{what} (no kernel: zero)", PageType.ZERO, s.gpa, s.size)
    else:  # SVSM_CAA
        ld.add_unhashed(what, PageType.ZERO, s.gpa, s.size)


def _vmsas(image: OvmfImage, config: LaunchConfig, features: int) -> tuple[VmsaRegisters, ...]:
    ap_eip = _reset_eip(image, config)
    bsp = reset_registers(BSP_EIP, config.vmm, config.vcpu_sig, features)
    ap = reset_registers(ap_eip, config.vmm, config.vcpu_sig, features)
    return (bsp,) + (ap,) * (config.vcpus - 1)


def _measure_sev(image: OvmfImage, config: LaunchConfig) -> Measurement:
    digest = hashlib.sha256(image.data)
    steps = [Step("OVMF image (SHA-256 of all bytes)", None, image.gpa,
                  -(-len(image.data) // PAGE_SIZE), None, digest.copy().digest())]
    table: bytes | None = None
    table_gpa: int | None = None
    if config.hashes is not None:
        table_gpa = _hashes_table_gpa(image)
        table = hashes_table(config.hashes)
        digest.update(table)
        steps.append(Step("SEV hashes table", None, table_gpa, 0, None, digest.copy().digest()))
    regs: tuple[VmsaRegisters, ...] = ()
    if config.mode is Mode.SEV_ES:
        # SEV-ES has no SEV_FEATURES; the field stays zero whatever --guest-features says.
        regs = _vmsas(image, config, 0)
        for i, r in enumerate(regs):
            digest.update(vmsa_page(r))
            steps.append(Step(f"VMSA vCPU {i} ({'BSP' if i == 0 else 'AP'})", None, None, 1,
                              hashlib.sha384(vmsa_page(r)).digest(), digest.copy().digest()))
    return Measurement(config, digest.digest(), tuple(steps), regs, table, table_gpa)
