"""Find the launch parameters that reproduce a given SEV-SNP launch digest.

The digest is a chain: firmware pages, then the SEV metadata pages, then one VMSA per vCPU
(the BSP first, then identical APs). Only the metadata pages depend on the VMM type (and on
the measured-boot hashes), and only the VMSAs depend on the vCPU type and the guest features.
So the firmware is hashed once, the metadata prefix once per VMM type, and for every
(VMM, vCPU signature, guest features) one chain of VMSA extensions gives the digest for every
vCPU count at once. Searching the whole default space costs a few hundred thousand SHA-384s
of 118 bytes, not one firmware hash per candidate.

A match is a fact about digests, not about the report: the report's signature is not checked
here (``attest snp verify`` does that).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from itertools import combinations

from cocoscope.attest.snp.measure.gctx import extend_vmsa
from cocoscope.attest.snp.measure.hashes import BootHashes
from cocoscope.attest.snp.measure.launch import LaunchConfig, Mode, snp_pages
from cocoscope.attest.snp.measure.ovmf import OvmfImage
from cocoscope.attest.snp.measure.vmsa import (
    BSP_EIP,
    VCPU_SIGNATURES,
    VmmType,
    reset_registers,
    vmsa_page,
)
from cocoscope.errors import InputError, UsageError

SNP_ACTIVE = 0x1
# Optional SEV_FEATURES bits a VMM can set for a Linux SNP guest (AMD APM vol. 2, "SEV_FEATURES"):
# vTOM, ReflectVC, RestrictedInjection, AlternateInjection, DebugSwap, PreventHostIBS,
# BTBIsolation, VmplSSS, SecureTSC. Every combination with SNPActive is searched by default:
# 512 values, still cheap because a value costs two VMSA hashes and one chain of extensions.
OPTIONAL_FEATURE_BITS = (0x2, 0x4, 0x8, 0x10, 0x20, 0x40, 0x80, 0x100, 0x200)
DEFAULT_MAX_VCPUS = 128


def default_guest_features() -> tuple[int, ...]:
    """0x1 and 0x21 first (the usual values), then every other documented combination."""
    values = [SNP_ACTIVE, SNP_ACTIVE | 0x20]
    for n in range(1, len(OPTIONAL_FEATURE_BITS) + 1):
        for bits in combinations(OPTIONAL_FEATURE_BITS, n):
            v = SNP_ACTIVE
            for b in bits:
                v |= b
            if v not in values:
                values.append(v)
    return tuple(values)


@dataclass(frozen=True)
class SearchSpace:
    vcpus: tuple[int, ...]
    vcpu_types: tuple[str, ...]  # QEMU model names; each maps to a CPUID signature
    vcpu_sigs: tuple[int, ...]  # extra raw signatures given by the user
    vmm_types: tuple[VmmType, ...]
    guest_features: tuple[int, ...]
    hashes: BootHashes | None = None  # measured direct boot, fixed for the whole search

    @classmethod
    def default(cls, hashes: BootHashes | None = None) -> SearchSpace:
        return cls(tuple(range(1, DEFAULT_MAX_VCPUS + 1)), tuple(VCPU_SIGNATURES), (),
                   tuple(VmmType), default_guest_features(), hashes)

    def signatures(self) -> dict[int, tuple[str, ...]]:
        """Distinct CPUID signatures and the names that produce each (aliases collide)."""
        out: dict[int, list[str]] = {}
        for name in self.vcpu_types:
            out.setdefault(VCPU_SIGNATURES[name], []).append(name)
        for sig in self.vcpu_sigs:
            out.setdefault(sig, []).append(f"{sig:#x}")
        return {sig: tuple(names) for sig, names in out.items()}


@dataclass(frozen=True)
class Match:
    vcpus: int
    vmm: VmmType
    guest_features: int
    vcpu_sig: int | None  # None: this VMM does not put the signature in the VMSA
    vcpu_types: tuple[str, ...]  # every searched name with that signature (all equivalent)

    def config(self, hashes: BootHashes | None) -> LaunchConfig:
        return LaunchConfig(Mode.SNP, self.vcpus, self.vcpu_sig or 0, self.vmm,
                            self.guest_features, hashes)


@dataclass(frozen=True)
class SearchResult:
    target: bytes
    matches: tuple[Match, ...]
    candidates: int  # distinct launch configurations whose digest was computed
    space: SearchSpace


Progress = Callable[[int, int], None]  # (chains done, chains in all)


def search(image: OvmfImage, target: bytes, space: SearchSpace,
           progress: Progress | None = None) -> SearchResult:
    if len(target) != 48:
        raise UsageError(f"the target digest must be 48 bytes (96 hex digits), got {len(target)}")
    _check_space(space)
    ap_eip = image.sev_es_reset_eip
    if ap_eip is None:
        raise InputError("no SEV-ES AP reset block in the OVMF footer table", path=image.path)
    # With an AP reset EIP of 0 only single-vCPU launches can start (as measure() says).
    max_vcpus = max(space.vcpus) if ap_eip else 1
    wanted = frozenset(n for n in space.vcpus if n <= max_vcpus)

    # The firmware pages are the expensive part: hash them once for every VMM type.
    base = LaunchConfig(Mode.SNP_OVMF_HASH, hashes=space.hashes)
    firmware = snp_pages(image, base)[0].value
    sigs = space.signatures()
    chains = _chains(space, sigs)
    matches: list[Match] = []
    candidates = 0
    prefixes: dict[VmmType, bytes] = {}
    for done, (vmm, sig, features) in enumerate(chains):
        if vmm not in prefixes:
            cfg = replace(base, mode=Mode.SNP, vmm=vmm, ovmf_hash=firmware)
            prefixes[vmm] = snp_pages(image, cfg)[0].value
        bsp = hashlib.sha384(vmsa_page(reset_registers(BSP_EIP, vmm, sig or 0, features))).digest()
        ap = hashlib.sha384(vmsa_page(reset_registers(ap_eip, vmm, sig or 0, features))).digest()
        ld = extend_vmsa(prefixes[vmm], bsp)
        for n in range(1, max_vcpus + 1):
            if n > 1:
                ld = extend_vmsa(ld, ap)
            if n in wanted:
                candidates += 1
                if ld == target:
                    names = sigs[sig] if sig is not None else ()
                    matches.append(Match(n, vmm, features, sig, names))
        if progress is not None:
            progress(done + 1, len(chains))
    return SearchResult(target, tuple(matches), candidates, space)


def _chains(space: SearchSpace,
            sigs: dict[int, tuple[str, ...]]) -> list[tuple[VmmType, int | None, int]]:
    out: list[tuple[VmmType, int | None, int]] = []
    for vmm in space.vmm_types:
        # Only QEMU writes the vCPU signature into the VMSA (RDX); EC2 and GCE use a constant,
        # so for them the vCPU type is not part of the digest and is searched once.
        vmm_sigs: Iterable[int | None] = sigs if vmm is VmmType.QEMU else (None,)
        for sig in vmm_sigs:
            out.extend((vmm, sig, f) for f in space.guest_features)
    return out


def _check_space(space: SearchSpace) -> None:
    if not space.vcpus or min(space.vcpus) < 1:
        raise UsageError("the vCPU range must contain counts of at least 1")
    if max(space.vcpus) > 4096:
        raise UsageError(f"vCPU count {max(space.vcpus)} is beyond any SNP guest (at most 4096)")
    if not space.vmm_types:
        raise UsageError("no VMM type to search")
    if VmmType.QEMU in space.vmm_types and not (space.vcpu_types or space.vcpu_sigs):
        raise UsageError("no vCPU type to search for the qemu VMM type")
    if not space.guest_features:
        raise UsageError("no guest features to search")
    for f in space.guest_features:
        if not 0 <= f < 1 << 64:
            raise UsageError(f"guest features {f:#x} do not fit in 64 bits")
        if not f & SNP_ACTIVE:
            raise UsageError(f"guest features {f:#x} lack SNPActive (bit 0): not an SNP launch")


def parse_range(text: str, what: str = "--vcpus") -> tuple[int, ...]:
    """'1-128', '4', '1,2,4-8' -> sorted distinct counts."""
    out: set[int] = set()
    for part in text.split(","):
        part = part.strip()
        lo, sep, hi = part.partition("-")
        try:
            a = int(lo)
            b = int(hi) if sep else a
        except ValueError:
            raise UsageError(f"{what} {text!r}: expected N, N-M or a comma-separated list") from None
        if a < 1 or b < a:
            raise UsageError(f"{what} {text!r}: {part!r} is not an increasing range of counts >= 1")
        if b > 4096:
            raise UsageError(f"{what} {text!r}: {b} is beyond any SNP guest (at most 4096)")
        out.update(range(a, b + 1))
    return tuple(sorted(out))


def describe_space(space: SearchSpace, vmm_sigs: Sequence[int] | None = None) -> dict[str, object]:
    vc = space.vcpus
    contiguous = vc == tuple(range(vc[0], vc[-1] + 1))
    return {
        "vcpus": f"{vc[0]}-{vc[-1]}" if contiguous and len(vc) > 1 else ",".join(map(str, vc)),
        "vcpu_types": list(space.vcpu_types) + [f"{s:#x}" for s in space.vcpu_sigs],
        "distinct_vcpu_signatures": len(vmm_sigs) if vmm_sigs is not None
        else len(space.signatures()),
        "vmm_types": [v.value for v in space.vmm_types],
        "guest_features": len(space.guest_features),
        "measured_direct_boot": space.hashes is not None,
    }
