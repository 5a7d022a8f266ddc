"""Verify a TDX quote: signatures, PCK chain, collateral, TCB status, appraisal policy.

Steps (reference section 3.4, Intel QVL order):
1. quote signature: ECDSA P-256 by the attestation key over the raw header and body;
2. PCK chain leaf -> PCK CA -> pinned Intel SGX Root CA, validity at ``at``, CRLs if given;
3. QE report signature by the PCK leaf; QE REPORTDATA = SHA-256(attestation key || auth data);
4. collateral (optional): TCB Signing chain, TCB Info and QE Identity signatures over the exact
   JSON member bytes, windows, FMSPC / PCE-ID, QE identity, TDX module identity, TCB status;
5. appraisal against the owner's policy (``TdxPolicy``).

The API is the one both platforms share (``cocoscope.attest.verify``):
``verify(evidence, trust, policy, time) -> Verification``, with ``load_evidence`` (quote.py)
and ``load_trust`` building the first two from files. Every problem is a failed ``Check``;
only unreadable or unparseable input files raise ``InputError``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from cocoscope.attest.policy import revocation_check
from cocoscope.attest.result import Check, Verification, failed, passed
from cocoscope.attest.tdx import pck
from cocoscope.attest.tdx.collateral import (
    Collateral,
    SignedJson,
    load_collateral_dir,
    signature_valid,
)
from cocoscope.attest.tdx.policy import TdxPolicy, appraise, unchecked_references
from cocoscope.attest.tdx.quote import (
    INTEL_QE_VENDOR_ID,
    Quote,
    QuoteEvidence,
    load_evidence,
    td_attribute_names,
)
from cocoscope.attest.tdx.tcb import TcbEvaluation, TcbStatus, evaluate, module_identity_problem
from cocoscope.errors import InputError

_ECDSA_SHA256 = ec.ECDSA(hashes.SHA256())


@dataclass(frozen=True)
class TdxTrust:
    """What the quote is checked against besides the pinned Intel root: PCS collateral.

    Without collateral the TCB status is Unknown (the default policy refuses it).
    """

    collateral: Collateral | None = None


def load_trust(collateral_dir: str | None, *,
               load: Callable[[str], Collateral] = load_collateral_dir) -> TdxTrust:
    return TdxTrust(load(collateral_dir) if collateral_dir else None)


def _ecdsa_ok(key: ec.EllipticCurvePublicKey, sig: bytes, data: bytes) -> bool:
    der = encode_dss_signature(int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big"))
    try:
        key.verify(der, data, _ECDSA_SHA256)
    except InvalidSignature:
        return False
    return True


def _attestation_key(raw: bytes) -> ec.EllipticCurvePublicKey | None:
    try:
        return ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), b"\x04" + raw)
    except ValueError:
        return None  # not a point on P-256


def _fmt(t: datetime) -> str:
    return f"{t:%Y-%m-%dT%H:%M:%SZ}"


@lru_cache(maxsize=64)
def _check_signed_json(name: str, signed: SignedJson, signer: x509.Certificate | None,
                       issue: datetime, next_update: datetime, at: datetime) -> tuple[Check, ...]:
    """Collateral signature and window; a pure function of its inputs, so cached (warm)."""
    checks = []
    if signer is None:
        checks.append(failed(f"{name}.signature", "no trusted Intel SGX TCB Signing certificate "
                                                   "(see collateral.signing_chain)"))
    elif signature_valid(signed.body, signed.signature, signer):
        checks.append(passed(f"{name}.signature", f"signed by {pck.TCB_SIGNING_CN}"))
    else:
        checks.append(failed(f"{name}.signature", f"signature over {signed.source} does not verify"))
    if issue <= at <= next_update:
        checks.append(passed(f"{name}.window", f"{_fmt(issue)} .. {_fmt(next_update)}"))
    else:
        checks.append(failed(f"{name}.window", f"{_fmt(at)} outside issueDate {_fmt(issue)} .. "
                                               f"nextUpdate {_fmt(next_update)}"))
    return tuple(checks)


@lru_cache(maxsize=16)
def _signing_chain_checks(chain: tuple[x509.Certificate, ...], at: datetime) -> tuple[Check, ...]:
    """The collateral issuer chain is the same for every quote: check it once per time."""
    return tuple(pck.check_chain(chain, name="collateral.signing_chain", at=at,
                                 leaf_cn=(pck.TCB_SIGNING_CN,)))


def _check_qe_identity(col: Collateral, quote: Quote, signer: x509.Certificate | None,
                       at: datetime) -> list[Check]:
    qe = col.qe_identity
    if qe is None:
        return [failed("collateral.qe_identity", f"no QE Identity in {col.directory}")]
    checks = list(_check_signed_json("collateral.qe_identity", qe.signed, signer,
                                     qe.issue_date, qe.next_update, at))
    if qe.id != "TD_QE" or qe.version != 2:
        checks.append(failed("collateral.qe_identity.format",
                             f"id {qe.id!r} version {qe.version}, expected TD_QE version 2"))
    rep = quote.signature.qe_report
    attrs = bytes(a & m for a, m in zip(rep.attributes, qe.attributes_mask, strict=True))
    problems = [p for ok, p in (
        (rep.mrsigner == qe.mrsigner, f"MRSIGNER {rep.mrsigner.hex()} != {qe.mrsigner.hex()}"),
        (rep.isv_prod_id == qe.isvprodid, f"ISVPRODID {rep.isv_prod_id} != {qe.isvprodid}"),
        (rep.misc_select & qe.miscselect_mask == qe.miscselect, "MISCSELECT does not match"),
        (attrs == qe.attributes, "ATTRIBUTES do not match"),
    ) if not ok]
    checks.append(failed("qe_report.identity", "; ".join(problems)) if problems
                  else passed("qe_report.identity", f"TD QE, isvsvn {rep.isv_svn}"))
    return checks


def _check_collateral(col: Collateral, quote: Quote, ext: pck.PckExtensions | None,
                      certs: tuple[x509.Certificate, ...], at: datetime, notes: list[str],
                      ) -> tuple[list[Check], TcbEvaluation | None]:
    """Collateral checks and the TCB evaluation; what was given but not used goes to ``notes``."""
    checks: list[Check] = []
    chain = col.signing_chain
    signer: x509.Certificate | None = None
    if chain is None:
        checks.append(failed("collateral.signing_chain",
                             f"no 'Intel SGX TCB Signing' issuer chain (PEM) in {col.directory}"))
    else:
        chain_checks = _signing_chain_checks(chain, at)
        checks += chain_checks
        if all(c.passed for c in chain_checks if not c.name.endswith(".validity")):
            signer = chain[0]  # signatures still checked; validity failures are reported above
        if col.root_crl is not None:
            # The Root CA CRL is checked against the pinned root, never the chain's own.
            checks.append(pck.check_crl("collateral.signing_chain.crl", col.root_crl,
                                        pck.pinned_root(), chain[0], at))
    # Root CA CRL and PCK CRL over the quote's own chain.
    try:
        if len(certs) == 3:
            if col.root_crl is not None:
                checks.append(pck.check_crl("pck.crl.root", col.root_crl, pck.pinned_root(),
                                            certs[1], at))
            for crl in col.pck_crls:
                if crl.issuer == certs[1].subject:
                    checks.append(pck.check_crl("pck.crl.pck", crl, certs[1], certs[0], at))
                else:
                    notes.append(f"PCK CRL from {pck.common_name(crl.issuer)!r} given but not "
                                 f"applicable: the quote's PCK CA is "
                                 f"{pck.common_name(certs[1].subject)!r}")
    except pck.CERT_ERRORS as exc:  # lazily decoded certificate fields
        checks.append(failed("pck.crl", f"cannot check revocation: {exc}"))
    checks += _check_qe_identity(col, quote, signer, at)
    if ext is None:
        return checks, None
    candidates = col.tcb_infos_for(ext.fmspc)
    if not candidates:
        checks.append(failed("collateral.tcb_info", f"no TCB Info for FMSPC {ext.fmspc.hex()} "
                                                    f"in {col.directory}"))
        return checks, None
    # Two TCB Infos for one FMSPC: use the newest one whose signature and window check out,
    # and say what happened to the others.
    judged = [(i, _check_signed_json("collateral.tcb_info", i.signed, signer, i.issue_date,
                                     i.next_update, at)) for i in candidates]
    info, tcb_checks = next(((i, c) for i, c in judged if all(x.passed for x in c)), judged[0])
    for other, other_checks in judged:
        if other is not info:
            why = "; ".join(x.detail for x in other_checks if not x.passed) or "older evaluation"
            notes.append(f"TCB Info {other.signed.source} (evaluation "
                         f"{other.evaluation_number}) not used: {why}")
    checks += tcb_checks
    fmt = [p for ok, p in (
        (info.id == "TDX", f"id {info.id!r} is not 'TDX'"),
        (info.version == 3, f"version {info.version} is not 3"),
        (info.pce_id == ext.pce_id, f"pceId {info.pce_id.hex()} != PCK {ext.pce_id.hex()}"),
    ) if not ok]
    checks.append(failed("collateral.tcb_info.format", "; ".join(fmt)) if fmt
                  else passed("collateral.tcb_info.format",
                              f"TDX v3, FMSPC {info.fmspc.hex()}, eval {info.evaluation_number}"))
    problem = module_identity_problem(info, quote.body)
    checks.append(failed("tdx_module.identity", problem) if problem
                  else passed("tdx_module.identity", "MRSIGNERSEAM and SEAMATTRIBUTES match"))
    # A status computed from collateral whose signature does not verify would be a forged
    # fact: evaluate only signed TCB Info, and use the QE Identity only if it is signed too.
    if not tcb_checks[0].passed:
        return checks, None
    qe_signed = any(c.name == "collateral.qe_identity.signature" and c.passed for c in checks)
    evaluation = evaluate(info, ext, quote.body, col.qe_identity if qe_signed else None,
                          quote.signature.qe_report)
    return checks, evaluation


def _check_pck(quote: Quote, certs: tuple[x509.Certificate, ...], at: datetime) -> list[Check]:
    sig = quote.signature
    checks = pck.check_chain(certs, name="pck.chain", at=at, leaf_cn=(pck.PCK_LEAF_CN,),
                             intermediate_cn=pck.PCK_CA_CNS)
    leaf_key = certs[0].public_key()
    if isinstance(leaf_key, ec.EllipticCurvePublicKey) and _ecdsa_ok(
            leaf_key, sig.qe_report_signature, sig.qe_report.raw):
        checks.append(passed("qe_report.signature", "signed by the PCK leaf"))
    else:
        checks.append(failed("qe_report.signature", "does not verify with the PCK leaf key"))
    return checks


def verify(evidence: QuoteEvidence, trust: TdxTrust, policy: TdxPolicy,
           time: datetime) -> Verification:
    """Verify a parsed quote; the result fails closed (see ``Verification.ok``)."""
    quote, source, at, collateral = evidence.quote, evidence.path, time, trust.collateral
    sig = quote.signature
    checks: list[Check] = []
    facts: dict[str, object] = {
        "quote_version": quote.header.version, "tdx_version": quote.tdx_version,
        "trailing_bytes": len(quote.trailing), "time": _fmt(at),
        # Decoded so that DEBUG is not hidden in a hex number.
        "td_attributes": td_attribute_names(quote.body.td_attributes),
    }
    if quote.header.qe_vendor_id == INTEL_QE_VENDOR_ID:
        checks.append(passed("quote.qe_vendor", "Intel QE"))
    else:
        checks.append(failed("quote.qe_vendor", f"QE vendor {quote.header.qe_vendor_id.hex()} "
                                                "is not Intel's"))
    key = _attestation_key(sig.attestation_key)
    if key is not None and _ecdsa_ok(key, sig.quote_signature, quote.signed_bytes):
        checks.append(passed("quote.signature", f"attestation key over {len(quote.signed_bytes)} bytes"))
    else:
        checks.append(failed("quote.signature", "attestation key is not a P-256 point"
                             if key is None else "does not verify over the header and body"))
    digest = hashlib.sha256(sig.attestation_key + sig.qe_auth_data).digest()
    rd = sig.qe_report.report_data
    if rd[:32] == digest and rd[32:] == bytes(32):
        checks.append(passed("qe_report.binding", "REPORTDATA = SHA-256(attestation key || auth data)"))
    else:
        checks.append(failed("qe_report.binding", "QE REPORTDATA does not bind the attestation key"))

    certs: tuple[x509.Certificate, ...] = ()
    ext: pck.PckExtensions | None = None
    try:
        certs = pck.load_pem_chain(sig.pck_chain_pem, source=f"{source} (PCK chain)")
        ext = pck.pck_extensions(certs[0], source=f"{source} (PCK leaf)")
        checks += _check_pck(quote, certs, at)
    except InputError as exc:
        checks.append(failed("pck.chain.parse", exc.message))
    except pck.CERT_ERRORS as exc:
        # cryptography decodes certificate fields lazily; a malformed one surfaces here.
        checks.append(failed("pck.chain.parse", f"malformed certificate: {exc}"))
    if ext is not None:
        facts.update(fmspc=ext.fmspc.hex(), pce_id=ext.pce_id.hex(), pcesvn=ext.pcesvn,
                     sgx_tcb_components=list(ext.tcb_components))

    status = TcbStatus.UNKNOWN
    advisories: tuple[str, ...] = ()
    notes: list[str] = []
    if collateral is not None:
        notes += [f"{path}: skipped: {why}" for path, why in collateral.skipped]
        col_checks, evaluation = _check_collateral(collateral, quote, ext, certs, at, notes)
        checks += col_checks
        if evaluation is not None:
            status, advisories = evaluation.status, evaluation.advisory_ids
            facts.update(tcb_note=evaluation.note, tcb_date=evaluation.tcb_date,
                         tdx_module=evaluation.module_id,
                         qe_tcb_status=evaluation.qe_status.value if evaluation.qe_status else None)
    facts.update(tcb_status=status.value, advisory_ids=list(advisories))
    # CRLs are optional input: say plainly when revocation was not looked at.
    crl_checks = [c.name for c in checks if c.name.startswith("pck.crl")]
    given = collateral is not None and (collateral.root_crl is not None or collateral.pck_crls)
    facts["revocation"] = (", ".join(crl_checks) if crl_checks else
                           "not checked (CRL given but not applicable)" if given else
                           "not checked (no CRLs given)")
    if notes:
        facts["collateral_notes"] = notes
    checks += appraise(policy, quote.body, status.value, advisories)
    revocation = revocation_check(policy.require_revocation, crl_checks,
                                  ("pck.crl.root", "pck.crl.pck"))
    if revocation is not None:
        checks.append(revocation)
    return Verification(subject=source, kind="tdx-quote", checks=tuple(checks), facts=facts,
                        measurement_check="policy.mrtd",
                        not_checked=unchecked_references(policy))


def verify_file(path: str, collateral_dir: str | None = None, policy: TdxPolicy | None = None,
                time: datetime | None = None, *,
                load: Callable[[str], Collateral] = load_collateral_dir) -> Verification:
    """Read, parse and verify the quote at ``path`` (policy default: ``TdxPolicy()``, time: now)."""
    return verify(load_evidence(path), load_trust(collateral_dir, load=load),
                  policy or TdxPolicy(), time or datetime.now(UTC))
