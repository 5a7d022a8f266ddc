"""TCB-level evaluation of a TDX quote against TCB Info and QE Identity, as Intel's QVL does it.

Followed: QVL Verifiers/Checks/TcbLevelCheck.cpp, TdxModuleCheck.cpp, TDRelaunchCheck.cpp
(SGX-TDX-DCAP-QuoteVerificationLibrary). Summary:

1. Walk TCB levels in the order given (PCS sorts them highest first). The first level whose 16
   SGX components and PCESVN are <= the PCK certificate's is the *SGX* level; the first such
   level whose TDX components are also <= TEE_TCB_SVN (from index 2 when TEE_TCB_SVN[1] > 0,
   because bytes 0-1 then name the module and are judged by its identity) is the *TDX* level.
2. TDX module: TEE_TCB_SVN[1] == 0 means no separate module identity (status OK); otherwise
   identity ``TDX_<hex>`` and its first level with isvsvn <= TEE_TCB_SVN[0].
3. Converge the TDX level status with the module status (module OutOfDate makes the result
   OutOfDate[ConfigurationNeeded]; module Revoked makes it Revoked), then the TD-relaunch check
   for TDX 1.5 bodies, then converge with the QE identity status in the same way.

go-tdx-guest differs: it returns the module level's status on its own, so on
trustee/tdx_quote_6.dat it says UpToDate where QVL (and cocoscope) say OutOfDate.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass
from enum import StrEnum

from cocoscope.attest.tdx.collateral import IsvLevel, ModuleIdentity, QeIdentity, TcbInfo, TcbLevel
from cocoscope.attest.tdx.pck import PckExtensions
from cocoscope.attest.tdx.quote import QeReport, TdReportBody


class TcbStatus(StrEnum):
    UP_TO_DATE = "UpToDate"
    SW_HARDENING_NEEDED = "SWHardeningNeeded"
    CONFIGURATION_NEEDED = "ConfigurationNeeded"
    CONFIGURATION_AND_SW_HARDENING_NEEDED = "ConfigurationAndSWHardeningNeeded"
    OUT_OF_DATE = "OutOfDate"
    OUT_OF_DATE_CONFIGURATION_NEEDED = "OutOfDateConfigurationNeeded"
    REVOKED = "Revoked"
    TD_RELAUNCH_ADVISED = "TDRelaunchAdvised"
    TD_RELAUNCH_ADVISED_CONFIGURATION_NEEDED = "TDRelaunchAdvisedConfigurationNeeded"
    # Terminal outcomes of the evaluation itself (QVL status codes, not PCS strings):
    NOT_SUPPORTED = "TcbNotSupported"
    TDX_MODULE_MISMATCH = "TdxModuleMismatch"
    UNRECOGNIZED = "UnrecognizedStatus"
    UNKNOWN = "Unknown"  # no collateral: nothing was evaluated


_PCS_STATUSES = {
    s.value: s for s in (
        TcbStatus.UP_TO_DATE, TcbStatus.SW_HARDENING_NEEDED, TcbStatus.CONFIGURATION_NEEDED,
        TcbStatus.CONFIGURATION_AND_SW_HARDENING_NEEDED, TcbStatus.OUT_OF_DATE,
        TcbStatus.OUT_OF_DATE_CONFIGURATION_NEEDED, TcbStatus.REVOKED,
    )
}
_CONFIG_NEEDED = {
    TcbStatus.CONFIGURATION_NEEDED, TcbStatus.OUT_OF_DATE_CONFIGURATION_NEEDED,
    TcbStatus.CONFIGURATION_AND_SW_HARDENING_NEEDED,
    TcbStatus.TD_RELAUNCH_ADVISED_CONFIGURATION_NEEDED,
}


def parse_status(text: str) -> TcbStatus:
    return _PCS_STATUSES.get(text, TcbStatus.UNRECOGNIZED)


@dataclass(frozen=True)
class TcbEvaluation:
    status: TcbStatus  # the converged result, what policy compares
    sgx_level: TcbLevel | None
    tdx_level: TcbLevel | None
    module_id: str | None
    module_level: IsvLevel | None
    module_status: TcbStatus | None
    qe_level: IsvLevel | None
    qe_status: TcbStatus | None
    advisory_ids: tuple[str, ...]
    tcb_date: str | None
    note: str  # why the status is what it is, one line


def _le_all(have: tuple[int, ...], need: tuple[int, ...], start: int = 0) -> bool:
    """Every component of ``have`` from ``start`` on is >= the level's (16 components)."""
    if start:
        have, need = have[start:16], need[start:16]
    return all(map(operator.ge, have, need))


def qe_status(identity: QeIdentity, report: QeReport) -> tuple[TcbStatus, IsvLevel | None]:
    level = next((lv for lv in identity.levels if report.isv_svn >= lv.isvsvn), None)
    if level is None:
        return TcbStatus.NOT_SUPPORTED, None
    return parse_status(level.status), level


def find_module_identity(tcb_info: TcbInfo, version: int) -> ModuleIdentity | None:
    wanted = f"TDX_{version:02X}"
    return next((m for m in tcb_info.module_identities if m.id == wanted), None)


def _converge(level: TcbStatus, other: TcbStatus) -> TcbStatus:
    """QVL's convergence of a TCB level status with a module or QE status."""
    if other is TcbStatus.OUT_OF_DATE:
        if level in (TcbStatus.UP_TO_DATE, TcbStatus.SW_HARDENING_NEEDED):
            return TcbStatus.OUT_OF_DATE
        if level in (TcbStatus.CONFIGURATION_NEEDED, TcbStatus.CONFIGURATION_AND_SW_HARDENING_NEEDED):
            return TcbStatus.OUT_OF_DATE_CONFIGURATION_NEEDED
    if other is TcbStatus.REVOKED:
        return TcbStatus.REVOKED
    if other is TcbStatus.NOT_SUPPORTED:
        return TcbStatus.NOT_SUPPORTED
    return level


def _relaunch(svn2: bytes, info: TcbInfo, sgx: TcbStatus, tdx: TcbStatus, module: TcbStatus,
              qe: TcbStatus | None) -> TcbStatus:
    """QVL's TD-relaunch advice for TDX 1.5: the module was updated in place (TD preserving)."""
    if qe in (TcbStatus.OUT_OF_DATE, TcbStatus.REVOKED, TcbStatus.NOT_SUPPORTED):
        return tdx
    if sgx not in (TcbStatus.UP_TO_DATE, TcbStatus.SW_HARDENING_NEEDED,
                   TcbStatus.CONFIGURATION_NEEDED, TcbStatus.CONFIGURATION_AND_SW_HARDENING_NEEDED):
        return tdx
    if tdx not in (TcbStatus.OUT_OF_DATE, TcbStatus.OUT_OF_DATE_CONFIGURATION_NEEDED):
        return tdx
    if module is not TcbStatus.OUT_OF_DATE:
        return tdx
    if not info.levels:
        return TcbStatus.NOT_SUPPORTED
    latest = info.levels[0]
    if svn2[1] == 0:
        current = svn2[0] >= latest.tdx_components[0]
    else:
        ident = find_module_identity(info, svn2[1])
        if ident is None:
            return TcbStatus.TDX_MODULE_MISMATCH
        if not ident.levels:
            return TcbStatus.NOT_SUPPORTED
        current = svn2[0] >= ident.levels[0].isvsvn
    if current and svn2[2] >= latest.tdx_components[2]:
        if sgx in _CONFIG_NEEDED or tdx in _CONFIG_NEEDED:
            return TcbStatus.TD_RELAUNCH_ADVISED_CONFIGURATION_NEEDED
        return TcbStatus.TD_RELAUNCH_ADVISED
    return tdx


def evaluate(info: TcbInfo, pck_ext: PckExtensions, body: TdReportBody,
             qe_identity: QeIdentity | None, qe_report: QeReport) -> TcbEvaluation:
    svn = tuple(body.tee_tcb_svn)
    start = 2 if svn[1] > 0 else 0
    sgx_level = tdx_level = None
    for level in info.levels:
        if _le_all(pck_ext.tcb_components, level.sgx_components) and pck_ext.pcesvn >= level.pcesvn:
            sgx_level = sgx_level or level
            if _le_all(svn, level.tdx_components, start):
                tdx_level = level
                break
    q_status, q_level = (qe_status(qe_identity, qe_report) if qe_identity else (None, None))

    def result(status: TcbStatus, note: str, module_id: str | None = None,
               m_level: IsvLevel | None = None, m_status: TcbStatus | None = None) -> TcbEvaluation:
        adv: list[str] = []
        for lv in (tdx_level, m_level, q_level):
            for a in lv.advisory_ids if lv else ():
                if a not in adv:
                    adv.append(a)
        return TcbEvaluation(status, sgx_level, tdx_level, module_id, m_level, m_status,
                             q_level, q_status, tuple(adv),
                             tdx_level.date if tdx_level else None, note)

    if sgx_level is None:
        return result(TcbStatus.NOT_SUPPORTED, "no TCB level matches the PCK certificate's "
                      "SGX components and PCESVN")
    if tdx_level is None:
        return result(TcbStatus.NOT_SUPPORTED, f"no TCB level matches TEE_TCB_SVN {body.tee_tcb_svn.hex()}")
    tdx_status = parse_status(tdx_level.status)

    module_id: str | None = None
    m_level: IsvLevel | None = None
    if svn[1] == 0:
        m_status = TcbStatus.UP_TO_DATE  # TDX 1.0 module without a separate identity
    else:
        module_id = f"TDX_{svn[1]:02X}"
        ident = find_module_identity(info, svn[1])
        if ident is None:
            return result(TcbStatus.TDX_MODULE_MISMATCH, f"TCB Info has no identity {module_id}",
                          module_id)
        m_level = next((lv for lv in ident.levels if svn[0] >= lv.isvsvn), None)
        if m_level is None:
            return result(TcbStatus.NOT_SUPPORTED, f"{module_id} has no level for isvsvn {svn[0]}",
                          module_id)
        m_status = parse_status(m_level.status)

    status = _converge(tdx_status, m_status)
    note = f"TDX level {tdx_level.status}"
    if module_id:
        note += f", module {module_id} {m_status.value}"
    if status is not TcbStatus.REVOKED and body.tee_tcb_svn2 is not None:
        status = _relaunch(body.tee_tcb_svn2, info, parse_status(sgx_level.status), status,
                           m_status, q_status)
    if q_status is not None:
        status = _converge(status, q_status)
        note += f", QE {q_status.value}"
    return result(status, note, module_id, m_level, m_status)


def module_identity_problem(info: TcbInfo, body: TdReportBody) -> str | None:
    """MRSIGNERSEAM and SEAMATTRIBUTES against the module identity (or tdxModule for 1.0)."""
    ident = find_module_identity(info, body.tee_tcb_svn[1]) if body.tee_tcb_svn[1] else None
    mrsigner = ident.mrsigner if ident else info.module_mrsigner
    attrs = ident.attributes if ident else info.module_attributes
    mask = ident.attributes_mask if ident else info.module_attributes_mask
    if body.mrsignerseam != mrsigner:
        return f"MRSIGNERSEAM {body.mrsignerseam.hex()} is not the TCB Info's {mrsigner.hex()}"
    # TCB Info writes attributes as big-endian hex of the 8 quote bytes, i.e. byte order kept.
    seam = int.from_bytes(body.seam_attributes.to_bytes(8, "little"), "big")
    if seam & mask != attrs:
        return f"SEAMATTRIBUTES {body.seam_attributes:#x} & mask != {attrs:#x}"
    return None
