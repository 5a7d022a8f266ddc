"""The hypervisor a guest runs on, as a type (``--hypervisor``).

Which hypervisor hosts a confidential guest decides what it must keep: Azure confidential VMs
run on Hyper-V and need its VMBus drivers to boot, a KVM guest has no use for them. cocoscope
audits TDX and SEV-SNP guests, which today run on KVM or Hyper-V.
"""

from __future__ import annotations

from enum import StrEnum


class Hypervisor(StrEnum):
    KVM = "kvm"  # KVM (QEMU, Cloud Hypervisor, Firecracker, crosvm ...)
    HYPERV = "hyperv"  # Microsoft Hyper-V (Azure confidential VMs)
    XEN = "xen"
    VMWARE = "vmware"


def parse_hypervisor(text: str) -> Hypervisor:
    """``Hypervisor`` from its spelling; ValueError naming the accepted values otherwise."""
    try:
        return Hypervisor(text.strip().lower())
    except ValueError:
        raise ValueError(f"unknown hypervisor {text!r}; expected one of "
                         f"{', '.join(h.value for h in Hypervisor)}") from None
