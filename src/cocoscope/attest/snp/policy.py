"""The SNP appraisal policy: what a report must show beyond a valid signature and chain.

Built on ``cocoscope.attest.policy``: every field defaults to None (unchecked) except the few
whose production-safe default is a restriction: DEBUG and the migration agent are refused, and a
masked CHIP_ID is refused for VCEK-signed reports (the VCEK's hwID binding would be skipped).

Policy bits come in two kinds, named so a value can't be misread:
  ``allow_*``   permissions the guest may have granted the host (False = the bit must be clear;
                True or unset = either is fine);
  ``require_*`` protections the guest must have requested (True = the bit must be set).
Platform flags are ``platform_*``: True = must be set, False = must be clear.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from cocoscope.attest.policy import (
    collect,
    expect_at_least,
    expect_equal,
    expect_flag,
    expect_permission,
    hex_field,
    int_field,
)
from cocoscope.attest.result import Check, appraisal, failed, passed
from cocoscope.attest.snp.product import COMPONENT_NAMES, Product
from cocoscope.attest.snp.report import AttestationReport
from cocoscope.errors import InputError


def parse_version(text: str, *, parts: int) -> tuple[int, ...]:
    """"1.55" or "1.55.29" -> (1, 55) / (1, 55, 29); missing trailing parts are 0."""
    try:
        nums = tuple(int(p, 0) for p in text.split("."))
    except ValueError:
        raise InputError(f"version {text!r} is not dotted numbers") from None
    if not 1 <= len(nums) <= parts or any(n < 0 or n > 255 for n in nums):
        raise InputError(f"version {text!r}: expected up to {parts} numbers 0-255")
    return nums + (0,) * (parts - len(nums))


U32 = (1 << 32) - 1
U64 = (1 << 64) - 1


@dataclass(frozen=True)
class SnpPolicy:
    SECTION: ClassVar[str] = "snp"  # the table of a shared policy file (attest.policy)

    # launch identity (reference values: appraisal)
    measurement: frozenset[bytes] | None = hex_field(48)  # one value or a set of accepted digests
    host_data: bytes | None = hex_field(32)
    report_data: bytes | None = hex_field(max_size=64)  # exact; shorter: zero-padded to 64
    nonce: bytes | None = hex_field(max_size=64)  # REPORT_DATA must start with these bytes
    id_key_digest: frozenset[bytes] | None = hex_field(48)
    author_key_digest: frozenset[bytes] | None = hex_field(48)
    family_id: bytes | None = hex_field(16)
    image_id: bytes | None = hex_field(16)
    min_guest_svn: int | None = int_field(U32)
    vmpl: int | None = int_field(3)
    # platform TCB and firmware (TCB components in the product's layout)
    # (int_field is a dataclasses.field() specifier, not a shared mutable default)
    min_tcb: dict[str, int] | None = int_field(255)  # noqa: RUF009  REPORTED_TCB floor
    min_launch_tcb: dict[str, int] | None = int_field(255)  # noqa: RUF009  LAUNCH_TCB floor
    # COMMITTED_TCB/firmware below CURRENT: the platform may roll back to the committed level
    permit_provisional_firmware: bool = False
    min_firmware: str | None = None  # CURRENT firmware "major.minor[.build]"
    min_abi: str | None = None  # the guest POLICY's ABI "major.minor" floor
    min_launch_mitigations: int | None = int_field(U64)  # v5 bit mask: these bits must be set
    min_current_mitigations: int | None = int_field(U64)
    # guest POLICY bits
    allow_debug: bool = False
    allow_migration_agent: bool = False
    allow_smt: bool | None = None
    allow_cxl: bool | None = None
    require_single_socket: bool | None = None
    require_aes_256_xts: bool | None = None
    require_rapl_disabled: bool | None = None
    require_ciphertext_hiding: bool | None = None
    require_page_swap_disabled: bool | None = None
    # PLATFORM_INFO flags
    platform_smt: bool | None = None
    platform_tsme: bool | None = None
    platform_ecc: bool | None = None
    platform_rapl_disabled: bool | None = None
    platform_ciphertext_hiding: bool | None = None
    platform_alias_check_complete: bool | None = None
    platform_tio: bool | None = None
    # signer
    allow_masked_chip_id: bool = False  # all-zero CHIP_ID (MASK_CHIP_ID): no hwID binding
    vlek_csp_ids: frozenset[str] | None = None  # allowed VLEK cspID values
    # revocation: true fails a report whose chain was not checked against an AMD CRL
    require_revocation: bool | None = None
    signing_keys: frozenset[str] | None = None  # subset of {"vcek", "vlek"}

    def __post_init__(self) -> None:
        for key, table in (("min_tcb", self.min_tcb), ("min_launch_tcb", self.min_launch_tcb)):
            for name in (table or {}):
                if name not in COMPONENT_NAMES:
                    raise InputError(f"key {key!r}: unknown component {name!r} "
                                     f"(expected {', '.join(COMPONENT_NAMES)})")
        for key, text, parts in (("min_firmware", self.min_firmware, 3),
                                 ("min_abi", self.min_abi, 2)):
            if text is not None:
                try:
                    parse_version(text, parts=parts)
                except InputError as exc:
                    raise InputError(f"key {key!r}: {exc.message}") from None
        for name in (self.signing_keys or ()):
            if name not in ("vcek", "vlek"):
                raise InputError(f"key 'signing_keys': {name!r} is not vcek or vlek")


def _requirement(name: str, required: bool | None, actual: bool) -> Check | None:
    return expect_flag(name, True, actual) if required else None


def _one_of(name: str, allowed: frozenset[bytes] | None, actual: bytes) -> Check | None:
    if allowed is None:
        return None
    if actual in allowed:
        return passed(name, actual.hex())
    return failed(name, f"{actual.hex()} is not one of the {len(allowed)} accepted value(s)")


def _mask(name: str, required: int | None, actual: int | None) -> Check | None:
    if required is None:
        return None
    if actual is None:
        return failed(name, "report has no mitigation vectors (version < 5)")
    missing = required & ~actual
    if missing:
        return failed(name, f"{actual:#x} lacks required bits {missing:#x}")
    return passed(name, f"{actual:#x} has all of {required:#x}")


def _min_tcb(key: str, floor: dict[str, int] | None, which: str, report: AttestationReport,
             product: Product) -> list[Check]:
    """Per-component floor for one of the report's TCBs (``reported`` or ``launch``)."""
    if not floor:
        return []
    have = report.tcb(which, product).components()
    out = []
    for comp, minimum in sorted(floor.items()):
        if comp not in have:
            out.append(failed(f"policy.{key}.{comp}", f"{product.value} TCB has no {comp} SPL"))
        else:
            c = expect_at_least(f"policy.{key}.{comp}", minimum, have[comp])
            assert c is not None
            out.append(c)
    return out


def _version_at_least(name: str, minimum: str | None, actual: tuple[int, ...],
                      parts: int) -> Check | None:
    if minimum is None:
        return None
    want = parse_version(minimum, parts=parts)
    shown = ".".join(map(str, actual))
    if actual >= want:
        return passed(name, f"{shown} >= {minimum}")
    return failed(name, f"{shown} is below the minimum {minimum}")


# Reference values the owner can give; an unset one is reported as "not checked".
REFERENCE_KEYS = ("measurement", "host_data", "report_data", "nonce", "id_key_digest",
                  "author_key_digest", "family_id", "image_id", "vmpl")


def unchecked_references(policy: SnpPolicy) -> tuple[str, ...]:
    """Reference values left unset (REPORT_DATA is bound if either report_data or nonce is)."""
    out = [k for k in REFERENCE_KEYS if getattr(policy, k) is None]
    if "report_data" not in out or "nonce" not in out:
        out = [k for k in out if k not in ("report_data", "nonce")]
    return tuple(out)


def appraise(policy: SnpPolicy, report: AttestationReport, product: Product,
             signer: str) -> tuple[Check, ...]:
    """Policy checks for a report whose product and signer (vcek/vlek) are known."""
    p, gp, pi = policy, report.policy, report.platform_info
    report_data = None if p.report_data is None else p.report_data.ljust(64, b"\0")
    nonce = None
    if p.nonce is not None:
        nonce = (passed("policy.nonce", f"REPORT_DATA starts with {p.nonce.hex()}")
                 if report.report_data.startswith(p.nonce) else
                 failed("policy.nonce", f"REPORT_DATA does not start with {p.nonce.hex()}"))
    author = _one_of("policy.author_key_digest", p.author_key_digest, report.author_key_digest)
    if author is not None and author.passed and not report.key_info.author_key_en:
        author = failed("policy.author_key_digest", "AUTHOR_KEY_EN is clear: the digest is not "
                        "bound to an ID block signature")
    signing = None
    if p.signing_keys is not None:
        signing = (passed("policy.signing_key", signer) if signer in p.signing_keys else
                   failed("policy.signing_key", f"{signer} not in {sorted(p.signing_keys)}"))
    return (*appraisal(
        _one_of("policy.measurement", p.measurement, report.measurement),
        expect_equal("policy.host_data", p.host_data, report.host_data),
        expect_equal("policy.report_data", report_data, report.report_data),
        nonce,
        _one_of("policy.id_key_digest", p.id_key_digest, report.id_key_digest),
        author,
        expect_equal("policy.family_id", p.family_id, report.family_id),
        expect_equal("policy.image_id", p.image_id, report.image_id),
        expect_at_least("policy.min_guest_svn", p.min_guest_svn, report.guest_svn),
        expect_equal("policy.vmpl", p.vmpl, report.vmpl),
        expect_permission("policy.debug", p.allow_debug, gp.debug),
        expect_permission("policy.migrate_ma", p.allow_migration_agent, gp.migrate_ma),
        expect_permission("policy.smt", p.allow_smt, gp.smt),
        expect_permission("policy.cxl", p.allow_cxl, gp.cxl_allow),
        _requirement("policy.single_socket", p.require_single_socket, gp.single_socket),
        _requirement("policy.aes_256_xts", p.require_aes_256_xts, gp.mem_aes_256_xts),
        _requirement("policy.rapl_disabled", p.require_rapl_disabled, gp.rapl_dis),
        _requirement("policy.ciphertext_hiding", p.require_ciphertext_hiding,
                     gp.ciphertext_hiding_dram),
        _requirement("policy.page_swap_disabled", p.require_page_swap_disabled,
                     gp.page_swap_disable),
        signing,
    ), *collect(  # platform TCB, firmware and configuration: authenticity side
        *_min_tcb("min_tcb", p.min_tcb, "reported", report, product),
        *_min_tcb("min_launch_tcb", p.min_launch_tcb, "launch", report, product),
        _version_at_least("policy.min_firmware", p.min_firmware,
                          report.current_fw.as_tuple(), 3),
        _version_at_least("policy.min_abi", p.min_abi, (gp.abi_major, gp.abi_minor), 2),
        _mask("policy.launch_mitigations", p.min_launch_mitigations, report.launch_mit_vector),
        _mask("policy.current_mitigations", p.min_current_mitigations,
              report.current_mit_vector),
        expect_flag("platform.smt", p.platform_smt, pi.smt_en),
        expect_flag("platform.tsme", p.platform_tsme, pi.tsme_en),
        expect_flag("platform.ecc", p.platform_ecc, pi.ecc_en),
        expect_flag("platform.rapl_disabled", p.platform_rapl_disabled, pi.rapl_dis),
        expect_flag("platform.ciphertext_hiding", p.platform_ciphertext_hiding,
                    pi.ciphertext_hiding_dram_en),
        expect_flag("platform.alias_check_complete", p.platform_alias_check_complete,
                    pi.alias_check_complete),
        expect_flag("platform.tio", p.platform_tio, pi.tio_en),
    ))
