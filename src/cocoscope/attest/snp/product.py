"""SEV-SNP product lines and the product-dependent TCB_VERSION layout.

The 8-byte TCB_VERSION is laid out differently per product (AMD SEV-SNP ABI; virtee/sev
``from_legacy_bytes`` / ``from_turin_bytes``): Milan and Genoa keep BL and TEE in bytes 0-1 and
SNP in byte 6, Turin adds an FMC SPL in byte 0 and packs the rest after it. Decoding a Turin TCB
with the legacy layout silently compares the wrong bytes, so every decode names its product.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Product(StrEnum):
    MILAN = "Milan"
    GENOA = "Genoa"
    TURIN = "Turin"

    @property
    def tcb_layout(self) -> str:
        return "turin" if self is Product.TURIN else "legacy"

    @property
    def hwid_length(self) -> int:
        """Significant CHIP_ID / VCEK hwID bytes: 8 on Turin, 64 before."""
        return 8 if self is Product.TURIN else 64


def product_from_cpuid(family: int, model: int) -> Product | None:
    """Product line from the report's CPUID_FAM_ID / CPUID_MOD_ID (v3+), None if unknown."""
    if family == 0x19:
        if model <= 0x0F:
            return Product.MILAN
        if 0x10 <= model <= 0x1F or 0xA0 <= model <= 0xAF:
            return Product.GENOA
        return None
    if family == 0x1A and model <= 0x11:
        return Product.TURIN
    return None


def product_from_name(name: str) -> Product | None:
    """Product from a VCEK/VLEK productName extension (``Milan-B0``, ``Genoa``, ``Turin``)."""
    line = name.split("-", 1)[0]
    for product in Product:
        if product.value == line:
            return product
    return None


@dataclass(frozen=True)
class TcbVersion:
    """One decoded TCB_VERSION; ``fmc`` is None for products without an FMC SPL."""

    raw: bytes  # the 8 bytes as they appear in the report
    product: Product
    bl: int
    tee: int
    snp: int
    ucode: int
    fmc: int | None = None

    def components(self) -> dict[str, int]:
        """Named SPLs in the order AMD's KDS lists them."""
        out = {} if self.fmc is None else {"fmc": self.fmc}
        out.update(bl=self.bl, tee=self.tee, snp=self.snp, ucode=self.ucode)
        return out

    def __str__(self) -> str:
        return " ".join(f"{k}={v}" for k, v in self.components().items())


COMPONENT_NAMES = ("fmc", "bl", "tee", "snp", "ucode")


def decode_tcb(raw: bytes, product: Product) -> TcbVersion:
    if len(raw) != 8:
        raise ValueError("TCB_VERSION is 8 bytes")
    if product is Product.TURIN:
        return TcbVersion(bytes(raw), product, bl=raw[1], tee=raw[2], snp=raw[3], ucode=raw[7],
                          fmc=raw[0])
    return TcbVersion(bytes(raw), product, bl=raw[0], tee=raw[1], snp=raw[6], ucode=raw[7])
