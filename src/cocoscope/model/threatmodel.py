"""The Linux CoCo guest threat model, in this project's words, as records the tool reasons over.

Source: the kernel document "Confidential Computing in Linux for x86 virtualization" (Reshetova,
Bilbao; Documentation/security/snp-tdx-threat-model.rst in Linux 6.12) and its review thread on
linux-coco ("[PATCH] docs: security: Confidential computing intro and threat model", 2023). The host, its VMM and every device it emulates are the attacker;
host denial of service is out of scope because the host can always stop the guest.
"""

from __future__ import annotations

from dataclasses import dataclass

from cocoscope.model.ids import InterfaceId, ThreatId


@dataclass(frozen=True)
class Asset:
    id: str
    name: str
    description: str


@dataclass(frozen=True)
class Objective:
    id: str
    description: str
    protects: tuple[str, ...]  # asset ids


@dataclass(frozen=True)
class Interface:
    id: InterfaceId
    name: str
    description: str
    # Threats this class of interface feeds. Most feed malformed input; time and entropy are the
    # canonical well-formed-but-malicious inputs; boot configuration is what attestation covers.
    threats: tuple[ThreatId, ...]


@dataclass(frozen=True)
class Mitigation:
    id: str
    name: str
    description: str


@dataclass(frozen=True)
class Threat:
    id: ThreatId
    name: str
    description: str
    mitigations: tuple[Mitigation, ...]
    # What cocoscope does about it: the command(s) that produce evidence for this row.
    evidence: str


ASSETS: tuple[Asset, ...] = (
    Asset(
        "guest-private-memory",
        "Guest kernel private memory",
        "Memory the CoCo hardware encrypts and integrity-protects for the guest alone; "
        "everything the guest has not explicitly shared with the host.",
    ),
    Asset(
        "guest-execution-context",
        "Guest kernel execution context",
        "The guest's vCPU register state and control flow; the host must not be able to steer "
        "what guest kernel code runs or with what privilege.",
    ),
)

OBJECTIVES: tuple[Objective, ...] = (
    Objective(
        "confidentiality-integrity",
        "Keep guest private memory confidential and unmodified by the host.",
        ("guest-private-memory",),
    ),
    Objective(
        "no-host-escalation",
        "Give the host no way to escalate into the guest kernel's privilege.",
        ("guest-execution-context", "guest-private-memory"),
    ),
)

_MALFORMED = (ThreatId.MALFORMED_RUNTIME_INPUT,)
_BOTH = (ThreatId.MALFORMED_RUNTIME_INPUT, ThreatId.MALICIOUS_RUNTIME_INPUT)

INTERFACES: tuple[Interface, ...] = (
    Interface(InterfaceId.PORT_IO, "Port I/O",
              "IN/OUT instructions; under TDX and SNP they trap and the host supplies the value "
              "read (legacy PC devices: i8042, 8250 UART, RTC CMOS, PIT, PCI config mechanism #1).",
              _MALFORMED),
    Interface(InterfaceId.MMIO, "Memory-mapped I/O",
              "Loads from device BARs and other emulated MMIO; every readl/ioread returns a host "
              "value (virtio-mmio, virtio-pci common config, HPET, IOAPIC).",
              _MALFORMED),
    Interface(InterfaceId.PCI_CONFIG, "PCI configuration space",
              "Vendor/device ids, BARs, capabilities and their lengths, MSI-X tables: all chosen "
              "by the host, through port 0xCF8/0xCFC or MMCONFIG.",
              _MALFORMED),
    Interface(InterfaceId.DMA_SHARED_MEMORY, "DMA and shared memory",
              "Pages the guest converts to shared (SWIOTLB bounce buffers, virtio rings and "
              "buffers, coherent DMA allocations); the host can rewrite them at any time, so a "
              "value read twice may differ (double fetch).",
              _MALFORMED),
    Interface(InterfaceId.VMM_HYPERCALL, "VMM hypercalls",
              "Paravirtual calls to the VMM (KVM hypercalls, Hyper-V/Xen/VMware backdoors) and "
              "paravirtual shared structures such as the KVM steal-time and async-PF pages.",
              _MALFORMED),
    Interface(InterfaceId.COCO_HYPERCALL, "CoCo-specific hypercalls",
              "TDG.VP.VMCALL (TDX) and GHCB protocol exits (SEV-ES/SNP): emulated instructions, "
              "MMIO and MSR accesses and their host-written outputs.",
              _MALFORMED),
    Interface(InterfaceId.INTERRUPTS, "Interrupts",
              "Which vectors the host injects and when; spurious or timed interrupts can drive "
              "guest code paths and act as a timing channel.",
              _BOTH),
    Interface(InterfaceId.CPUID, "CPUID",
              "CPU feature enumeration. On TDX most leaves are fixed or checked by the TDX module "
              "and only the hypervisor range 0x40000000-0x4FFFFFFF comes from the host; on SNP "
              "the host chooses values and firmware only checks them against a table.",
              _MALFORMED),
    Interface(InterfaceId.MSR, "Model-specific registers",
              "RDMSR results the host emulates (under TDX via #VE for non-virtualised MSRs; under "
              "SEV-ES/SNP via the GHCB).",
              _MALFORMED),
    Interface(InterfaceId.ACPI_FIRMWARE_TABLES, "ACPI and firmware tables",
              "ACPI tables and AML, SMBIOS, EFI configuration tables and memory maps handed over "
              "by host-supplied firmware; AML can also drive port I/O and MMIO.",
              _MALFORMED),
    Interface(InterfaceId.FW_CFG, "QEMU fw_cfg",
              "The firmware configuration device, reachable by port I/O or MMIO, and its sysfs "
              "interface in the guest.",
              _MALFORMED),
    Interface(InterfaceId.BOOT_CONFIGURATION, "Boot configuration",
              "Firmware, bootloader, kernel, initrd and kernel command line, which the host loads "
              "into the guest before it runs; also boot_params and setup_data.",
              (ThreatId.GUEST_MALICIOUS_CONFIGURATION, ThreatId.MALFORMED_RUNTIME_INPUT)),
    Interface(InterfaceId.TIME, "Time",
              "Wall clock and timers the host provides (kvmclock/pvclock pages, RTC, HPET, "
              "TSC scaling); a well-formed but false time breaks certificate and replay checks.",
              _BOTH),
    Interface(InterfaceId.ENTROPY, "Entropy",
              "Randomness the host can feed (virtio-rng, bootloader seeds, interrupt timing); a "
              "predictable seed weakens every key the guest generates.",
              _BOTH),
)

THREATS: tuple[Threat, ...] = (
    Threat(
        ThreatId.GUEST_MALICIOUS_CONFIGURATION,
        "Guest malicious configuration",
        "The host loads the guest's firmware or bootloader, its kernel and modules, and its "
        "command line; by changing any of them it changes what code runs inside the guest.",
        (
            Mitigation("remote-attestation", "Remote attestation",
                       "The guest owner checks signed launch evidence (SNP report, TDX quote and "
                       "event log) against expected measurements before trusting the guest."),
            Mitigation("signing", "Signed boot components",
                       "Kernel and modules are signed and verified (module signature enforcement, "
                       "lockdown), so code loaded later is covered too."),
        ),
        "cocoscope attest/measure; audit rules on attestation interfaces and module signing",
    ),
    Threat(
        ThreatId.GUEST_DATA_ATTACKS,
        "CoCo guest data attacks",
        "Everything the guest hands to a host-managed device (disk blocks, network packets, "
        "shared files) can be read, altered or replayed by the host.",
        (
            Mitigation("end-to-end-crypto", "End-to-end protection in the guest",
                       "Encrypt and authenticate data before it leaves the guest: dm-crypt with "
                       "dm-integrity or dm-verity for disks, TLS/kTLS or IPsec for the network."),
            Mitigation("no-shared-fs", "Avoid host-shared file systems",
                       "9p and virtiofs expose guest file contents and take host input."),
        ),
        "audit rules on storage and network crypto and shared file systems",
    ),
    Threat(
        ThreatId.MALFORMED_RUNTIME_INPUT,
        "Malformed runtime input",
        "The host answers guest reads through any interface with values the guest code does not "
        "expect, aiming at memory-safety bugs that turn into guest kernel compromise; "
        "side channels and transient execution belong here too.",
        (
            Mitigation("limit-surface", "Limit the exposed surface",
                       "Build and bind only the drivers and features the guest needs; filter "
                       "devices; turn off legacy and paravirtual interfaces."),
            Mitigation("harden-surface", "Harden what remains",
                       "Audit every place kernel code consumes host input, and fuzz it."),
        ),
        "audit rules per interface class; cocoscope surface for host-input sites in source",
    ),
    Threat(
        ThreatId.MALICIOUS_RUNTIME_INPUT,
        "Malicious runtime input",
        "Well-formed but chosen values: a false time, predictable entropy, interrupts timed to "
        "steer the guest. Attestation cannot help because the values arrive at run time.",
        (
            Mitigation("disable-or-resist", "Disable the interface or make it resistant",
                       "Use trusted time (TSC under TDX, Secure TSC under SNP) rather than "
                       "kvmclock, trust the CPU's RNG rather than host-fed entropy, keep interrupt "
                       "handling robust."),
        ),
        "audit rules on time, entropy and interrupts",
    ),
)

OUT_OF_SCOPE: tuple[str, ...] = (
    "Denial of service by the host: it owns the guest's resources and can stop it at any time.",
    "Attacks on the CoCo hardware or its security manager (TDX module, AMD-SP firmware): the "
    "model assumes their protections are present and intact.",
)


def threat(tid: ThreatId) -> Threat:
    return next(t for t in THREATS if t.id == tid)


def interface(iid: InterfaceId) -> Interface:
    return next(i for i in INTERFACES if i.id == iid)
