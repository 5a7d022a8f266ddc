"""TDX appraisal policy on top of the shared framework (``cocoscope.attest.policy``).

Every field defaults to ``None`` = unchecked, with two deliberate exceptions that make the
default policy safe: ``allow_debug = False`` (a debug TD's memory is readable by the host) and
``accepted_tcb = ("UpToDate",)``. Without collateral the TCB status is ``Unknown``, so offline
verification must say ``accepted_tcb = ["Unknown"]`` (or ``--accept-tcb Unknown``) explicitly.

On SEPT_VE_DISABLE: a current Linux guest disables SEPT #VE itself at boot when the TDX module
allows it, so a clear attribute in the quote does not prove the guest tolerates #VE on private
memory, and a set one is not required for safety. It is checkable, never checked by default.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from cocoscope.attest.policy import (
    collect,
    expect_equal,
    expect_flag,
    expect_one_of,
    expect_permission,
    expect_prefix,
    hex_field,
    int_field,
)
from cocoscope.attest.result import Check, appraisal, failed, passed
from cocoscope.attest.tdx.quote import TdReportBody
from cocoscope.attest.tdx.tcb import TcbStatus
from cocoscope.errors import InputError

# TDATTRIBUTES bits (Intel TDX module ABI; go-tdx-guest validate.go uses the same).
TD_ATTR_DEBUG = 1 << 0
TD_ATTR_SEPT_VE_DISABLE = 1 << 28
TD_ATTR_PKS = 1 << 30
TD_ATTR_KL = 1 << 31
TD_ATTR_PERFMON = 1 << 63

# Outcomes that mean the collateral or the quote could not be evaluated (QVL error codes). A
# policy may accept a weaker platform TCB level, but never evidence that was not evaluated.
_NEVER_ACCEPTABLE = frozenset({
    TcbStatus.NOT_SUPPORTED, TcbStatus.TDX_MODULE_MISMATCH, TcbStatus.UNRECOGNIZED,
    TcbStatus.TCB_INFO_INVALID, TcbStatus.QE_IDENTITY_INVALID,
})
_STATUS_NAMES = frozenset(s.value for s in TcbStatus if s not in _NEVER_ACCEPTABLE)
U64 = (1 << 64) - 1


@dataclass(frozen=True)
class TdxPolicy:
    SECTION: ClassVar[str] = "tdx"  # the table of a shared policy file (attest.policy)

    # reference values (appraisal)
    mrtd: tuple[bytes, ...] | None = hex_field(48)  # allow-list; one value is a list of one
    rtmr0: bytes | None = hex_field(48)
    rtmr1: bytes | None = hex_field(48)
    rtmr2: bytes | None = hex_field(48)
    rtmr3: bytes | None = hex_field(48)
    mrconfigid: bytes | None = hex_field(48)
    mrowner: bytes | None = hex_field(48)
    mrownerconfig: bytes | None = hex_field(48)
    report_data: bytes | None = hex_field(64)  # all 64 bytes
    nonce: bytes | None = hex_field(max_size=64)  # REPORTDATA must start with these bytes
    # TD attributes: allow_debug as on SNP (false: DEBUG must be clear); the others
    # true = the bit must be set, false = it must be clear, unset = unchecked
    allow_debug: bool = False
    sept_ve_disable: bool | None = None
    pks: bool | None = None
    kl: bool | None = None
    perfmon: bool | None = None
    xfam: tuple[int, ...] | None = int_field(U64)  # allow-list of exact XFAM values
    # platform TCB (authenticity)
    min_tee_tcb_svn: bytes | None = hex_field(16)  # compared component by component
    accepted_tcb: tuple[str, ...] | None = ("UpToDate",)
    mrseam: tuple[bytes, ...] | None = hex_field(48)  # allow-list of TDX module measurements
    # true fails a quote whose PCK chain was not checked against the Root CA and PCK CRLs
    require_revocation: bool | None = None

    def __post_init__(self) -> None:
        never = [a for a in self.accepted_tcb or () if a in {s.value for s in _NEVER_ACCEPTABLE}]
        if never:
            raise InputError(f"key 'accepted_tcb': {', '.join(map(repr, never))} is an "
                             "evaluation failure, never acceptable"
                             f" (one of {', '.join(sorted(_STATUS_NAMES))})")
        unknown = [a for a in self.accepted_tcb or () if a not in _STATUS_NAMES]
        if unknown:  # a misspelt status would otherwise silently never match
            raise InputError(f"key 'accepted_tcb': unknown status {', '.join(map(repr, unknown))}"
                             f" (one of {', '.join(sorted(_STATUS_NAMES))})")


def _min_svn(minimum: bytes | None, actual: bytes) -> Check | None:
    if minimum is None:
        return None
    if len(minimum) != 16:
        return failed("policy.min_tee_tcb_svn", f"policy value must be 16 bytes, got {len(minimum)}")
    low = [i for i in range(16) if actual[i] < minimum[i]]
    if low:
        return failed("policy.min_tee_tcb_svn",
                      f"TEE_TCB_SVN {actual.hex()} below {minimum.hex()} at component(s) {low}")
    return passed("policy.min_tee_tcb_svn", f"{actual.hex()} >= {minimum.hex()}")


def _tcb(accepted: tuple[str, ...] | None, status: str, advisories: tuple[str, ...]) -> Check | None:
    if accepted is None:
        return None
    unknown = [a for a in accepted if a not in _STATUS_NAMES]
    if unknown:  # a misspelt status would otherwise silently never match
        return failed("policy.tcb_status", f"unknown status name(s) in policy: {', '.join(unknown)}")
    adv = f" (advisories: {', '.join(advisories)})" if advisories else ""
    if status in accepted:
        return passed("policy.tcb_status", f"{status} accepted{adv}")
    return failed("policy.tcb_status", f"{status} not in accepted set {', '.join(accepted)}{adv}")


# Reference values the owner can give; an unset one is reported as "not checked". MRTD covers
# the firmware only: the kernel and command line are measured into RTMR1/RTMR2.
REFERENCE_KEYS = ("mrtd", "rtmr0", "rtmr1", "rtmr2", "rtmr3", "mrconfigid", "mrowner",
                  "mrownerconfig", "report_data", "nonce")


def unchecked_references(policy: TdxPolicy) -> tuple[str, ...]:
    """Reference values left unset (REPORTDATA is bound if either report_data or nonce is)."""
    out = [k for k in REFERENCE_KEYS if getattr(policy, k) is None]
    if "report_data" not in out or "nonce" not in out:
        out = [k for k in out if k not in ("report_data", "nonce")]
    return tuple(out)


def appraise(policy: TdxPolicy, body: TdReportBody, tcb_status: str,
                 advisory_ids: tuple[str, ...] = ()) -> tuple[Check, ...]:
    """Appraise a quote body (and its evaluated TCB status) against ``policy``."""
    attrs = body.td_attributes
    return (*appraisal(
        expect_one_of("policy.mrtd", policy.mrtd, body.mrtd),
        *(expect_equal(f"policy.rtmr{i}", want, body.rtmrs[i]) for i, want in enumerate(
            (policy.rtmr0, policy.rtmr1, policy.rtmr2, policy.rtmr3))),
        expect_equal("policy.mrconfigid", policy.mrconfigid, body.mrconfigid),
        expect_equal("policy.mrowner", policy.mrowner, body.mrowner),
        expect_equal("policy.mrownerconfig", policy.mrownerconfig, body.mrownerconfig),
        expect_equal("policy.report_data", policy.report_data, body.report_data),
        expect_prefix("policy.nonce", policy.nonce, body.report_data),
        expect_permission("policy.debug", policy.allow_debug, bool(attrs & TD_ATTR_DEBUG)),
        expect_flag("policy.sept_ve_disable", policy.sept_ve_disable,
                    bool(attrs & TD_ATTR_SEPT_VE_DISABLE)),
        expect_flag("policy.pks", policy.pks, bool(attrs & TD_ATTR_PKS)),
        expect_flag("policy.kl", policy.kl, bool(attrs & TD_ATTR_KL)),
        expect_flag("policy.perfmon", policy.perfmon, bool(attrs & TD_ATTR_PERFMON)),
        expect_one_of("policy.xfam", policy.xfam, body.xfam),
    ), *collect(  # platform TCB: authenticity side
        _min_svn(policy.min_tee_tcb_svn, body.tee_tcb_svn),
        _tcb(policy.accepted_tcb, tcb_status, advisory_ids),
        expect_one_of("policy.mrseam", policy.mrseam, body.mrseam),
    ))
