"""Stable identifiers of the threat model. Everything else names threats and interfaces by these."""

from __future__ import annotations

from enum import StrEnum


class ThreatId(StrEnum):
    GUEST_MALICIOUS_CONFIGURATION = "guest-malicious-configuration"
    GUEST_DATA_ATTACKS = "guest-data-attacks"
    MALFORMED_RUNTIME_INPUT = "malformed-runtime-input"
    MALICIOUS_RUNTIME_INPUT = "malicious-runtime-input"


class InterfaceId(StrEnum):
    PORT_IO = "port-io"
    MMIO = "mmio"
    PCI_CONFIG = "pci-config"
    DMA_SHARED_MEMORY = "dma-shared-memory"
    VMM_HYPERCALL = "vmm-hypercall"
    COCO_HYPERCALL = "coco-hypercall"
    INTERRUPTS = "interrupts"
    CPUID = "cpuid"
    MSR = "msr"
    ACPI_FIRMWARE_TABLES = "acpi-firmware-tables"
    FW_CFG = "fw-cfg"
    BOOT_CONFIGURATION = "boot-configuration"
    TIME = "time"
    ENTROPY = "entropy"
