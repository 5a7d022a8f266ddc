"""What a deployment keeps: groups, profiles and symbols named with ``--keep``.

The same names serve ``cocoscope fragment`` (a kept symbol is never turned off) and
``cocoscope audit`` (a rule that fails only because of a kept symbol is reported as accepted
advice, not as a failure), so a guest built from the fragment audits clean under the same
``--keep``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from cocoscope.errors import UsageError

# What a guest may need to keep, by name; a bare symbol name works too.
KEEP_GROUPS: dict[str, tuple[str, ...]] = {
    "vsock": ("VSOCKETS", "VIRTIO_VSOCKETS", "VIRTIO_VSOCKETS_COMMON"),
    "virtio-scsi": ("SCSI_VIRTIO",),
    "virtio-blk": ("VIRTIO_BLK",),
    "virtio-net": ("VIRTIO_NET",),
    "virtio-console": ("VIRTIO_CONSOLE",),
    "virtiofs": ("VIRTIO_FS", "FUSE_FS"),
    "9p": ("NET_9P", "NET_9P_VIRTIO", "9P_FS"),
    "virtio-rng": ("HW_RANDOM_VIRTIO",),
    "hyperv": ("HYPERV", "HYPERV_VSOCKETS", "HYPERV_STORAGE", "HYPERV_NET", "HYPERV_KEYBOARD",
               "HID_HYPERV_MOUSE", "HYPERV_UTILS", "HYPERV_BALLOON", "PCI_HYPERV"),
    "sysrq": ("MAGIC_SYSRQ",),
    # Kata's vfio_mode=vfio (devices passed through to a container): its vfio.conf fragments
    # build VFIO, VFIO_PCI and, on x86, INTEL_IOMMU, IRQ_REMAP and VIRTIO_IOMMU. INTEL_IOMMU_SVM
    # selects PCI_PRI and PCI_PASID (drivers/iommu/intel/Kconfig:22-23), kept with it.
    "vfio": ("VFIO", "VFIO_PCI", "INTEL_IOMMU", "INTEL_IOMMU_SVM", "IRQ_REMAP", "VIRTIO_IOMMU",
             "PCI_PRI", "PCI_PASID"),
    # A TPM inside the trust boundary (an Azure CVM's paravisor vTPM, an SVSM vTPM): the TIS
    # and CRB drivers reach it.
    "tpm": ("TCG_TPM", "TCG_TIS", "TCG_CRB"),
    # IMA selects TCG_TPM, TCG_TIS and TCG_CRB (security/integrity/ima/Kconfig:12-14), so
    # keeping IMA keeps the TPM drivers too.
    "ima": ("IMA", "TCG_TPM", "TCG_TIS", "TCG_CRB"),
}
# Deployment profiles: what each kind of guest needs to boot and talk to its agent.
PROFILES: dict[str, tuple[str, ...]] = {
    # Kata Containers: the agent talks over vsock, block devices are virtio-scsi or virtio-blk,
    # shared volumes virtiofs, the console hvc.
    "kata": ("vsock", "virtio-scsi", "virtio-blk", "virtio-console", "virtiofs"),
    # Azure confidential VMs run on Hyper-V (VMBus storage, network and vsock) and seal their
    # disk keys to the vTPM the paravisor provides inside the trust boundary.
    "azure-cvm": ("hyperv", "tpm"),
}


@dataclass(frozen=True)
class Keep:
    names: tuple[str, ...]  # as given: groups, profiles, symbols
    symbols: frozenset[str]  # what they stand for, without CONFIG_

    def __bool__(self) -> bool:
        return bool(self.symbols)

    @property
    def label(self) -> str:
        return "--keep " + ",".join(self.names)


def keep_symbols(names: Iterable[str]) -> frozenset[str]:
    """Symbols to keep from --keep items (group names, profile names or symbol names)."""
    out: set[str] = set()
    for raw in names:
        name = raw.strip()
        if not name:
            continue
        if name in PROFILES:
            out |= keep_symbols(PROFILES[name])
        elif name in KEEP_GROUPS:
            out |= set(KEEP_GROUPS[name])
        elif name.removeprefix("CONFIG_").replace("_", "").isalnum() and name.upper() == name:
            out.add(name.removeprefix("CONFIG_"))
        else:
            known = ", ".join(sorted({*KEEP_GROUPS, *PROFILES}))
            raise UsageError(f"--keep {name!r}: not a group, profile or CONFIG_ symbol "
                             f"(groups and profiles: {known})")
    return frozenset(out)


def parse_keep(args: Iterable[str]) -> Keep:
    """``--keep`` arguments (each comma-separated, repeatable) -> Keep; UsageError if unknown."""
    names = tuple(n.strip() for arg in args for n in arg.split(",") if n.strip())
    return Keep(names, keep_symbols(names))
