"""TCB-level evaluation of a TDX quote against TCB Info and QE Identity, as Intel's QVL does it.

Followed: QVL Verifiers/Checks/TcbLevelCheck.cpp, TdxModuleCheck.cpp, TDRelaunchCheck.cpp
(SGX-TDX-DCAP-QuoteVerificationLibrary). Summary:

0. The collateral as QVL's parsers accept it: every TCB level status one of the seven PCS
   statuses, TCB levels sorted highest first by (SGX components, PCESVN, TDX components) with
   no two equal, module identity levels sorted by ISVSVN with no two equal, QE identity levels
   (kept in file order) with UpToDate, ConfigurationNeeded, OutOfDate,
   OutOfDateConfigurationNeeded or Revoked only. A TEE_TCB_SVN[1] without its ``TDX_<hex>``
   module identity is TdxModuleMismatch before any matching.
1. Walk the sorted TCB levels. The first level whose 16
   SGX components and PCESVN are <= the PCK certificate's is the *SGX* level; the first such
   level whose TDX components are also <= TEE_TCB_SVN (from index 2 when TEE_TCB_SVN[1] > 0,
   because bytes 0-1 then name the module and are judged by its identity) is the *TDX* level.
2. TDX module: TEE_TCB_SVN[1] == 0 means no separate module identity (status OK); otherwise
   identity ``TDX_<hex>`` and its first level with isvsvn <= TEE_TCB_SVN[0].
   The selected module level's status must be UpToDate, OutOfDate or Revoked.
3. Converge the TDX level status with the module status (module OutOfDate makes the result
   OutOfDate[ConfigurationNeeded]; module Revoked makes it Revoked), then the TD-relaunch check
   for TDX 1.5 bodies, then converge with the QE identity status in the same way (QE level
   UpToDate -> UpToDate, Revoked -> Revoked, every other status -> OutOfDate).

go-tdx-guest differs: it returns the module level's status on its own, so on
trustee/tdx_quote_6.dat it says UpToDate where QVL (and cocoscope) say OutOfDate.
"""

from __future__ import annotations

import itertools
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
    TCB_INFO_INVALID = "TcbInfoInvalid"  # QVL's parser refuses it (duplicate levels, bad status)
    QE_IDENTITY_INVALID = "QeIdentityInvalid"  # QVL: unsupported QE identity format
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


_MODULE_STATUSES = {"UpToDate", "OutOfDate", "Revoked"}  # QVL VALID_MODULE_TCB_STATUSES
# QVL EnclaveIdentityV2 parses only these; SWHardeningNeeded and the rest make the identity invalid.
_QE_STATUSES = {"UpToDate", "ConfigurationNeeded", "OutOfDate", "OutOfDateConfigurationNeeded",
                "Revoked"}


def parse_status(text: str) -> TcbStatus:
    return _PCS_STATUSES.get(text, TcbStatus.UNRECOGNIZED)


def _level_key(level: TcbLevel) -> tuple[tuple[int, ...], int, tuple[int, ...]]:
    """QVL's TcbLevel ordering: SGX components, then PCESVN, then TDX components."""
    return (tuple(level.sgx_components), level.pcesvn, tuple(level.tdx_components))


def sorted_levels(info: TcbInfo) -> tuple[tuple[TcbLevel, ...], str | None]:
    """TCB levels highest first as QVL keeps them (a std::set), or a reason they are invalid."""
    for i, level in enumerate(info.levels):
        if level.status not in _PCS_STATUSES:
            return (), f"TCB level {i} has status {level.status!r}, not a PCS TCB status"
    levels = tuple(sorted(info.levels, key=_level_key, reverse=True))
    for a, b in itertools.pairwise(levels):
        if _level_key(a) == _level_key(b):
            return (), "two TCB levels have the same SGX components, PCESVN and TDX components"
    return levels, None


def sorted_module_levels(identity: ModuleIdentity) -> tuple[tuple[IsvLevel, ...], str | None]:
    levels = tuple(sorted(identity.levels, key=lambda lv: lv.isvsvn, reverse=True))
    for a, b in itertools.pairwise(levels):
        if a.isvsvn == b.isvsvn:
            return (), f"{identity.id} has two TCB levels with isvsvn {a.isvsvn}"
    return levels, None


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
    """QVL's QE identity status: the first level (file order) with isvsvn <= the QE's;
    UpToDate and Revoked as they are, every other status OutOfDate."""
    bad = next((lv.status for lv in identity.levels if lv.status not in _QE_STATUSES), None)
    if bad is not None:
        return TcbStatus.QE_IDENTITY_INVALID, None
    level = next((lv for lv in identity.levels if report.isv_svn >= lv.isvsvn), None)
    if level is None:
        return TcbStatus.NOT_SUPPORTED, None
    if level.status in ("UpToDate", "Revoked"):
        return TcbStatus(level.status), level
    return TcbStatus.OUT_OF_DATE, level


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


def _relaunch(svn2: bytes, info: TcbInfo, levels: tuple[TcbLevel, ...], sgx: TcbStatus,
              tdx: TcbStatus, module: TcbStatus, qe: TcbStatus | None) -> TcbStatus:
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
    if not levels:
        return TcbStatus.NOT_SUPPORTED
    latest = levels[0]
    if svn2[1] == 0:
        current = svn2[0] >= latest.tdx_components[0]
    else:
        ident = find_module_identity(info, svn2[1])
        if ident is None:
            return TcbStatus.TDX_MODULE_MISMATCH
        module_levels, _ = sorted_module_levels(ident)
        if not module_levels:
            return TcbStatus.NOT_SUPPORTED
        current = svn2[0] >= module_levels[0].isvsvn
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
    q_status: TcbStatus | None = None
    q_level: IsvLevel | None = None

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

    # The order is QVL's: collateral parsing, the module identity (4.1.2.4.11), the QE identity
    # (4.1.2.4.15), then the TCB levels (4.1.2.4.17).
    levels, invalid = sorted_levels(info)
    if invalid:
        return result(TcbStatus.TCB_INFO_INVALID, invalid)
    module_id = f"TDX_{svn[1]:02X}" if svn[1] else None
    ident = find_module_identity(info, svn[1]) if svn[1] else None
    module_levels: tuple[IsvLevel, ...] = ()
    if module_id is not None:
        if ident is None:
            return result(TcbStatus.TDX_MODULE_MISMATCH, f"TCB Info has no identity {module_id}",
                          module_id)
        module_levels, invalid = sorted_module_levels(ident)
        if invalid:
            return result(TcbStatus.TCB_INFO_INVALID, invalid, module_id)
    if qe_identity is not None:
        q_status, q_level = qe_status(qe_identity, qe_report)
        if q_status is TcbStatus.QE_IDENTITY_INVALID:
            bad = sorted({lv.status for lv in qe_identity.levels if lv.status not in _QE_STATUSES})
            return result(q_status, f"QE Identity level status {', '.join(bad)} is not one QVL "
                          "accepts (UpToDate, ConfigurationNeeded, OutOfDate, "
                          "OutOfDateConfigurationNeeded, Revoked)")

    for level in levels:
        if _le_all(pck_ext.tcb_components, level.sgx_components) and pck_ext.pcesvn >= level.pcesvn:
            sgx_level = sgx_level or level
            if _le_all(svn, level.tdx_components, start):
                tdx_level = level
                break
    if sgx_level is None:
        return result(TcbStatus.NOT_SUPPORTED, "no TCB level matches the PCK certificate's "
                      "SGX components and PCESVN")
    sgx_status = parse_status(sgx_level.status)
    if tdx_level is None:
        return result(TcbStatus.NOT_SUPPORTED, f"no TCB level matches TEE_TCB_SVN {body.tee_tcb_svn.hex()}")
    tdx_status = parse_status(tdx_level.status)

    m_level: IsvLevel | None = None
    if module_id is None:
        m_status = TcbStatus.UP_TO_DATE  # TDX 1.0 module without a separate identity
    else:
        m_level = next((lv for lv in module_levels if svn[0] >= lv.isvsvn), None)
        if m_level is None:
            return result(TcbStatus.NOT_SUPPORTED, f"{module_id} has no level for isvsvn {svn[0]}",
                          module_id)
        if m_level.status not in _MODULE_STATUSES:
            return result(TcbStatus.UNRECOGNIZED, f"{module_id} level isvsvn {m_level.isvsvn} has "
                          f"status {m_level.status!r}; a module level is UpToDate, OutOfDate or "
                          "Revoked", module_id, m_level)
        m_status = parse_status(m_level.status)

    status = _converge(tdx_status, m_status)
    note = f"TDX level {tdx_level.status}"
    if module_id:
        note += f", module {module_id} {m_status.value}"
    if status is not TcbStatus.REVOKED and body.tee_tcb_svn2 is not None:
        status = _relaunch(body.tee_tcb_svn2, info, levels, sgx_status, status, m_status, q_status)
    if q_status is not None:
        status = _converge(status, q_status)
        note += f", QE {q_status.value}"
    return result(status, note, module_id, m_level, m_status)


def module_identity_problem(info: TcbInfo, body: TdReportBody) -> str | None:
    """MRSIGNERSEAM and SEAMATTRIBUTES against the module identity (or tdxModule for 1.0),
    as QVL 4.1.2.4.11 does: a TEE_TCB_SVN[1] without its identity is a mismatch; MRSIGNERSEAM
    equal to the identity's; SEAMATTRIBUTES all zero and equal to the identity's attributes
    (QVL applies no mask here)."""
    version = body.tee_tcb_svn[1]
    ident = find_module_identity(info, version) if version else None
    if version and ident is None:
        return f"TCB Info has no TDX module identity TDX_{version:02X}"
    mrsigner = ident.mrsigner if ident else info.module_mrsigner
    attrs = ident.attributes if ident else info.module_attributes
    if body.mrsignerseam != mrsigner:
        return f"MRSIGNERSEAM {body.mrsignerseam.hex()} is not the TCB Info's {mrsigner.hex()}"
    if body.seam_attributes != 0 or attrs != 0:
        return (f"SEAMATTRIBUTES {body.seam_attributes:#018x} and the TCB Info's module attributes "
                f"{attrs:#018x} must both be zero")
    return None
