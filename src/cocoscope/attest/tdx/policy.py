"""TDX appraisal policy on top of the shared framework (``cocoscope.attest.policy``).

Every field defaults to ``None`` = unchecked, with two deliberate exceptions that make the
default policy safe: ``debug = False`` (a debug TD's memory is readable by the host) and
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
    expect_prefix,
)
from cocoscope.attest.result import Check, failed, passed
from cocoscope.attest.tdx.quote import TdReportBody
from cocoscope.attest.tdx.tcb import TcbStatus

# TDATTRIBUTES bits (Intel TDX module ABI; go-tdx-guest validate.go uses the same).
TD_ATTR_DEBUG = 1 << 0
TD_ATTR_SEPT_VE_DISABLE = 1 << 28
TD_ATTR_PKS = 1 << 30
TD_ATTR_KL = 1 << 31
TD_ATTR_PERFMON = 1 << 63

_STATUS_NAMES = frozenset(s.value for s in TcbStatus)


@dataclass(frozen=True)
class TdxPolicy:
    SECTION: ClassVar[str] = "tdx"  # the table of a shared policy file (attest.policy)

    mrtd: tuple[bytes, ...] | None = None  # allow-list; one value is a list of one
    rtmr0: bytes | None = None
    rtmr1: bytes | None = None
    rtmr2: bytes | None = None
    rtmr3: bytes | None = None
    mrconfigid: bytes | None = None
    mrowner: bytes | None = None
    mrownerconfig: bytes | None = None
    report_data: bytes | None = None  # all 64 bytes
    nonce: bytes | None = None  # REPORTDATA must start with these bytes
    debug: bool | None = False
    sept_ve_disable: bool | None = None
    pks: bool | None = None
    kl: bool | None = None
    perfmon: bool | None = None
    xfam: tuple[int, ...] | None = None  # allow-list of exact XFAM values
    min_tee_tcb_svn: bytes | None = None  # 16 bytes, compared component by component
    accepted_tcb: tuple[str, ...] | None = ("UpToDate",)
    mrseam: tuple[bytes, ...] | None = None  # allow-list of TDX module measurements


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


def appraise(policy: TdxPolicy, body: TdReportBody, tcb_status: str,
                 advisory_ids: tuple[str, ...] = ()) -> tuple[Check, ...]:
    """Appraise a quote body (and its evaluated TCB status) against ``policy``."""
    attrs = body.td_attributes
    return collect(
        expect_one_of("policy.mrtd", policy.mrtd, body.mrtd),
        *(expect_equal(f"policy.rtmr{i}", want, body.rtmrs[i]) for i, want in enumerate(
            (policy.rtmr0, policy.rtmr1, policy.rtmr2, policy.rtmr3))),
        expect_equal("policy.mrconfigid", policy.mrconfigid, body.mrconfigid),
        expect_equal("policy.mrowner", policy.mrowner, body.mrowner),
        expect_equal("policy.mrownerconfig", policy.mrownerconfig, body.mrownerconfig),
        expect_equal("policy.report_data", policy.report_data, body.report_data),
        expect_prefix("policy.nonce", policy.nonce, body.report_data),
        expect_flag("policy.debug", policy.debug, bool(attrs & TD_ATTR_DEBUG)),
        expect_flag("policy.sept_ve_disable", policy.sept_ve_disable,
                    bool(attrs & TD_ATTR_SEPT_VE_DISABLE)),
        expect_flag("policy.pks", policy.pks, bool(attrs & TD_ATTR_PKS)),
        expect_flag("policy.kl", policy.kl, bool(attrs & TD_ATTR_KL)),
        expect_flag("policy.perfmon", policy.perfmon, bool(attrs & TD_ATTR_PERFMON)),
        expect_one_of("policy.xfam", policy.xfam, body.xfam),
        _min_svn(policy.min_tee_tcb_svn, body.tee_tcb_svn),
        _tcb(policy.accepted_tcb, tcb_status, advisory_ids),
        expect_one_of("policy.mrseam", policy.mrseam, body.mrseam),
    )
