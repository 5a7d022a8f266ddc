"""TCB consistency as go-sev-guest checks it (issue 8.4): COMMITTED == CURRENT unless provisional
firmware is permitted, certificate TCB <= CURRENT, a LAUNCH_TCB floor, a masked CHIP_ID."""

from __future__ import annotations

import dataclasses

from cocoscope.attest.snp.certs import load_certs
from cocoscope.attest.snp.evidence import load_evidence
from cocoscope.attest.snp.policy import SnpPolicy, appraise
from cocoscope.attest.snp.product import Product
from cocoscope.attest.snp.report import parse_report
from cocoscope.attest.snp.tcb import certificate_check, committed_check
from cocoscope.attest.snp.verify import binding_checks, verify_file
from tests.attest.snp.snp_vectors import VECTORS


def _failed(v: object) -> dict[str, str]:
    return {c.name: c.detail for c in v.failed}  # type: ignore[attr-defined]


def test_provisional_firmware_fails_the_default_policy() -> None:
    """trustee's test-report.bin: COMMITTED ucode 0x73 (115), CURRENT 0xCE (206)."""
    vec = VECTORS["trustee-vcek"]
    v = verify_file(str(vec.report), [str(vec.vek)], SnpPolicy(), vec.at)
    bad = _failed(v)
    assert set(bad) == {"tcb.committed"}
    assert "provisional firmware" in bad["tcb.committed"] and "ucode=115" in bad["tcb.committed"]
    assert "ucode=206" in bad["tcb.committed"]
    ok = verify_file(str(vec.report), [str(vec.vek)],
                     SnpPolicy(permit_provisional_firmware=True), vec.at)
    assert ok.ok and "provisional firmware permitted" in next(
        c.detail for c in ok.checks if c.name == "tcb.committed")


def test_committed_equal_current_passes() -> None:
    r = load_evidence(str(VECTORS["virtee-milan"].report)).report
    c = committed_check(r, Product.MILAN, permit_provisional=False)
    assert c.passed and "COMMITTED == CURRENT" in c.detail


def _patched(name: str, offset: int, value: bytes):  # type: ignore[no-untyped-def]
    raw = bytearray(load_evidence(str(VECTORS[name].report)).report.raw)
    raw[offset:offset + len(value)] = value
    return parse_report(bytes(raw))


def test_committed_above_current_fails_even_when_provisional_is_permitted() -> None:
    r = _patched("virtee-milan", 0x1E0 + 7, bytes([200]))  # COMMITTED ucode 200 > 115
    c = committed_check(r, Product.MILAN, permit_provisional=True)
    assert not c.passed and "COMMITTED above CURRENT: ucode 200 > 115" in c.detail
    fw = _patched("virtee-milan", 0x1EC, bytes([9]))  # committed build 9 > current 4
    assert not committed_check(fw, Product.MILAN, permit_provisional=False).passed
    older_fw = _patched("virtee-milan", 0x1EC, bytes([1]))  # committed build 1 < 4
    c = committed_check(older_fw, Product.MILAN, permit_provisional=False)
    assert not c.passed and "provisional firmware" in c.detail
    assert committed_check(older_fw, Product.MILAN, permit_provisional=True).passed


def test_certificate_tcb_must_not_exceed_current() -> None:
    r = load_evidence(str(VECTORS["virtee-milan"].report)).report  # CURRENT ucode 115
    ok = certificate_check("vcek", {"bl": 3, "tee": 0, "snp": 8, "ucode": 115}, r, Product.MILAN)
    assert ok.passed
    high = certificate_check("vcek", {"bl": 3, "tee": 0, "snp": 9, "ucode": 115}, r, Product.MILAN)
    assert not high.passed and "snp 9 > 8" in high.detail
    missing = certificate_check("vcek", {"bl": 3, "tee": 0, "snp": 8, "ucode": None}, r,
                                Product.MILAN)
    assert not missing.passed and "ucode" in missing.detail


def test_min_launch_tcb() -> None:
    r = load_evidence(str(VECTORS["trustee-vlek"].report)).report  # LAUNCH ucode 219
    unchecked = SnpPolicy(allow_debug=True, allow_migration_agent=True)
    got = {c.name: c.passed for c in appraise(
        dataclasses.replace(unchecked, min_launch_tcb={"ucode": 219, "snp": 25}), r,
        Product.MILAN, "vlek")}
    assert got == {"policy.min_launch_tcb.snp": False, "policy.min_launch_tcb.ucode": True}


def test_masked_chip_id_is_refused_for_a_vcek_unless_allowed() -> None:
    vec = VECTORS["virtee-milan"]
    r = _patched("virtee-milan", 0x1A0, bytes(64))  # CHIP_ID all zero (MASK_CHIP_ID=1)
    (vcek,), _ = load_certs([str(vec.vek)])
    refused = {c.name: c for c in binding_checks(r, vcek, "vcek", Product.MILAN, SnpPolicy())}
    assert not refused["vcek.hwid"].passed and "masked" in refused["vcek.hwid"].detail
    allowed = {c.name: c for c in binding_checks(
        r, vcek, "vcek", Product.MILAN, SnpPolicy(allow_masked_chip_id=True))}
    assert allowed["vcek.hwid"].passed and "masked" in allowed["vcek.hwid"].detail
