"""QVL TCB-level evaluation: real collateral plus synthetic levels for each convergence rule."""

from __future__ import annotations

import dataclasses

import pytest

from cocoscope.attest.tdx.collateral import (
    IsvLevel,
    ModuleIdentity,
    parse_qe_identity,
    parse_tcb_info,
)
from cocoscope.attest.tdx.pck import load_pem_chain, pck_extensions
from cocoscope.attest.tdx.quote import parse_quote
from cocoscope.attest.tdx.tcb import TcbStatus, evaluate, module_identity_problem
from tests.attest.tdx.tdx_quote_vectors import GTG, Q6, SPR_E4, TRU, V5_SAMPLE


def _inputs(quote_path, tcb_path, qe_path=None):
    q = parse_quote(quote_path.read_bytes())
    ext = pck_extensions(load_pem_chain(q.signature.pck_chain_pem, source="q")[0], source="q")
    info = parse_tcb_info(tcb_path.read_bytes(), source=str(tcb_path))
    qe = parse_qe_identity(qe_path.read_bytes(), source=str(qe_path)) if qe_path else None
    return q, ext, info, qe


def test_quote_6_platform_out_of_date_module_up_to_date():
    q, ext, info, qe = _inputs(Q6, TRU / "tcbInfo.json", TRU / "enclaveIdentity.json")
    ev = evaluate(info, ext, q.body, qe, q.signature.qe_report)
    assert ev.status is TcbStatus.OUT_OF_DATE
    assert ev.module_id == "TDX_03" and ev.module_status is TcbStatus.UP_TO_DATE
    assert ev.tdx_level is not None and ev.tdx_level.status == "OutOfDate"
    assert ev.qe_status is TcbStatus.UP_TO_DATE
    # go-tdx-guest would report the module status alone: UpToDate. The difference is the point.
    assert ev.module_status is not ev.status


def test_v5_sample_up_to_date_with_module_tdx_01():
    q, ext, info, _ = _inputs(V5_SAMPLE, GTG / "sample_tcbinfo_response_v5")
    ev = evaluate(info, ext, q.body, None, q.signature.qe_report)
    assert ev.status is TcbStatus.UP_TO_DATE
    assert ev.module_id == "TDX_01" and ev.module_level is not None and ev.module_level.isvsvn <= 11
    assert module_identity_problem(info, q.body) is None


def test_spr_e4_no_matching_level():
    q, ext, info, qe = _inputs(SPR_E4, GTG / "sample_tcbInfo_response", GTG / "sample_qeIdentity_response")
    ev = evaluate(info, ext, q.body, qe, q.signature.qe_report)
    assert ev.status is TcbStatus.NOT_SUPPORTED
    assert ev.qe_status is TcbStatus.UP_TO_DATE  # QE isvsvn 4 >= 4


def _with(info, *, platform=None, module=None, qe_levels=None):
    levels = info.levels
    if platform is not None:
        levels = tuple(dataclasses.replace(lv, status=platform, advisory_ids=("INTEL-SA-00001",))
                       for lv in levels)
    mods = info.module_identities
    if module is not None:
        mods = tuple(dataclasses.replace(m, levels=tuple(dataclasses.replace(
            lv, status=module, advisory_ids=("INTEL-SA-00002",)) for lv in m.levels)) for m in mods)
    return dataclasses.replace(info, levels=levels, module_identities=mods)


@pytest.mark.parametrize(
    ("platform", "module", "qe", "expected"),
    [
        ("UpToDate", "UpToDate", "UpToDate", "UpToDate"),
        ("SWHardeningNeeded", "UpToDate", "UpToDate", "SWHardeningNeeded"),
        ("UpToDate", "OutOfDate", "UpToDate", "OutOfDate"),
        ("ConfigurationNeeded", "OutOfDate", "UpToDate", "OutOfDateConfigurationNeeded"),
        ("ConfigurationAndSWHardeningNeeded", "OutOfDate", "UpToDate", "OutOfDateConfigurationNeeded"),
        ("UpToDate", "Revoked", "UpToDate", "Revoked"),
        ("Revoked", "UpToDate", "UpToDate", "Revoked"),
        ("UpToDate", "UpToDate", "OutOfDate", "OutOfDate"),
        ("ConfigurationNeeded", "UpToDate", "OutOfDate", "OutOfDateConfigurationNeeded"),
        ("UpToDate", "UpToDate", "Revoked", "Revoked"),
        ("OutOfDate", "UpToDate", "UpToDate", "OutOfDate"),
        # QVL's TcbLevel parser refuses an unknown status on any level (issue 8.8).
        ("Bogus", "UpToDate", "UpToDate", "TcbInfoInvalid"),
    ],
)
def test_convergence_rules(platform, module, qe, expected):
    q, ext, info, qe_id = _inputs(Q6, TRU / "tcbInfo.json", TRU / "enclaveIdentity.json")
    info = _with(info, platform=platform, module=module)
    qe_id = dataclasses.replace(qe_id, levels=tuple(dataclasses.replace(lv, status=qe)
                                                    for lv in qe_id.levels))
    ev = evaluate(info, ext, q.body, qe_id, q.signature.qe_report)
    assert ev.status.value == expected
    if expected not in ("UpToDate", "TcbInfoInvalid"):  # invalid collateral selects no level
        assert ev.advisory_ids  # advisories of the selected levels are carried


def test_qe_isvsvn_below_every_level_is_not_supported():
    q, ext, info, qe_id = _inputs(Q6, TRU / "tcbInfo.json", TRU / "enclaveIdentity.json")
    qe_id = dataclasses.replace(qe_id, levels=(IsvLevel(99, "UpToDate", "", ()),))
    assert evaluate(info, ext, q.body, qe_id, q.signature.qe_report).status is TcbStatus.NOT_SUPPORTED


def test_missing_module_identity_is_mismatch():
    q, ext, info, _ = _inputs(Q6, TRU / "tcbInfo.json")
    info = dataclasses.replace(info, module_identities=tuple(
        m for m in info.module_identities if m.id != "TDX_03"))
    ev = evaluate(info, ext, q.body, None, q.signature.qe_report)
    assert ev.status is TcbStatus.TDX_MODULE_MISMATCH


def test_module_isvsvn_too_low_is_not_supported():
    q, ext, info, _ = _inputs(Q6, TRU / "tcbInfo.json")
    info = dataclasses.replace(info, module_identities=tuple(
        dataclasses.replace(m, levels=(IsvLevel(200, "UpToDate", "", ()),))
        for m in info.module_identities))
    assert evaluate(info, ext, q.body, None, q.signature.qe_report).status is TcbStatus.NOT_SUPPORTED


def test_module_mrsigner_mismatch_reported():
    q, _, info, _ = _inputs(Q6, TRU / "tcbInfo.json")
    info = dataclasses.replace(info, module_identities=tuple(
        dataclasses.replace(m, mrsigner=b"\x01" * 48) if isinstance(m, ModuleIdentity) else m
        for m in info.module_identities))
    assert "MRSIGNERSEAM" in (module_identity_problem(info, q.body) or "")


def test_pck_svn_below_all_levels():
    q, ext, info, _ = _inputs(Q6, TRU / "tcbInfo.json")
    low = dataclasses.replace(ext, pcesvn=0)
    ev = evaluate(info, low, q.body, None, q.signature.qe_report)
    assert ev.status is TcbStatus.NOT_SUPPORTED and ev.sgx_level is None


def test_td_relaunch_advised_for_tdx15():
    # TDX 1.5 quote whose module is OutOfDate but whose TEE_TCB_SVN2 already meets the latest
    # level: QVL advises relaunching the TD instead of reporting OutOfDate.
    q, ext, info, _ = _inputs(V5_SAMPLE, GTG / "sample_tcbinfo_response_v5")
    info = _with(info, module="OutOfDate", platform="UpToDate")
    body = dataclasses.replace(q.body, tee_tcb_svn2=bytes([255, 0, 255]) + bytes(13))
    ev = evaluate(info, ext, body, None, q.signature.qe_report)
    assert ev.status is TcbStatus.TD_RELAUNCH_ADVISED
    stale = dataclasses.replace(q.body, tee_tcb_svn2=bytes(16))
    assert evaluate(info, ext, stale, None, q.signature.qe_report).status is TcbStatus.OUT_OF_DATE
