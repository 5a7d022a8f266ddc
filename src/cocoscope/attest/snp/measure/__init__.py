"""SEV-SNP (and SEV, SEV-ES) launch measurement of OVMF guests, computed from the inputs.

``parse_ovmf`` reads the firmware's footer table and SEV metadata, ``measure`` replays what the
VMM hands to the PSP and returns the digest with every step, for ``--explain``.
"""

from cocoscope.attest.snp.measure.hashes import BootHashes, boot_hashes
from cocoscope.attest.snp.measure.launch import LaunchConfig, Measurement, Mode, measure
from cocoscope.attest.snp.measure.ovmf import OvmfImage, parse_ovmf
from cocoscope.attest.snp.measure.vmsa import VCPU_SIGNATURES, VmmType, vcpu_signature

__all__ = [
    "VCPU_SIGNATURES",
    "BootHashes",
    "LaunchConfig",
    "Measurement",
    "Mode",
    "OvmfImage",
    "VmmType",
    "boot_hashes",
    "measure",
    "parse_ovmf",
    "vcpu_signature",
]
