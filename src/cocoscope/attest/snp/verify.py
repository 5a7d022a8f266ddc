"""Verify one SEV-SNP attestation report: format, chain, VCEK/VLEK binding, signature, policy.

Every check is run and reported (a failed chain does not hide a failed policy), and the result
fails closed: ``Verification.ok`` is True only when every check passed.

The API is the one both platforms share (``cocoscope.attest.verify``):
``verify(evidence, trust, policy, time) -> Verification``, with ``load_evidence``
(evidence.py) and ``load_trust`` building the first two from files; ``verify_file`` does all
three for one report file.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from cocoscope.attest.policy import revocation_check
from cocoscope.attest.result import Check, Verification, failed, passed
from cocoscope.attest.snp.certs import AmdCert, is_p384, load_certs
from cocoscope.attest.snp.chain import chain_checks
from cocoscope.attest.snp.evidence import ReportEvidence, load_evidence
from cocoscope.attest.snp.policy import SnpPolicy, appraise, unchecked_references
from cocoscope.attest.snp.product import Product, product_from_name
from cocoscope.attest.snp.report import (
    ECDSA_P384_SHA384,
    AttestationReport,
    SigningKey,
    guess_product,
)
from cocoscope.attest.snp.tcb import certificate_check, committed_check
from cocoscope.errors import InputError
from cocoscope.evidence import files

_P384_ORDER = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC7634D81F4372DDF581A0DB248B0A77AECEC196ACCC52973


@dataclass(frozen=True)
class SnpTrust:
    """What a report is checked against besides the built-in AMD roots: the supplied VCEK/VLEK
    and intermediates, an optional CRL, and the directory entries that were not certificates
    (named in the result so nothing is skipped silently)."""

    certs: tuple[AmdCert, ...] = ()
    crl: x509.CertificateRevocationList | None = None
    ignored: tuple[str, ...] = ()


def load_trust(certs: Sequence[str] = (), crl: str | None = None) -> SnpTrust:
    """Certificate files or directories (PEM, DER, SNP certificate table) and a CRL file."""
    loaded, ignored = load_certs(list(certs))
    return SnpTrust(tuple(loaded), load_crl(crl) if crl else None, tuple(ignored))


def format_checks(report: AttestationReport) -> list[Check]:
    out: list[Check] = [passed("format.version", f"version {report.version}")]
    if report.signature_algo != ECDSA_P384_SHA384:
        out.append(failed("format.signature_algo",
                          f"SIGNATURE_ALGO {report.signature_algo}, expected 1 (ECDSA P-384)"))
    ki = report.key_info
    if ki.signing_key == SigningKey.NONE:
        out.append(failed("format.signing_key", "SIGNING_KEY 7: the report is unsigned ('no key')"))
    elif ki.signing_key not in (SigningKey.VCEK, SigningKey.VLEK):
        out.append(failed("format.signing_key", f"SIGNING_KEY {ki.signing_key} is reserved"))
    bad = report.nonzero_reserved()
    if bad or ki.reserved:
        where = ", ".join(f"{a:#x}-{b - 1:#x}" for a, b in bad) or "KEY_INFO bits 31:5"
        out.append(failed("format.reserved", f"reserved bytes not zero at {where}"))
    if not report.policy.reserved_must_be_one:
        out.append(failed("format.policy", "POLICY bit 17 (reserved, must be 1) is clear"))
    if report.policy.reserved_high:
        out.append(failed("format.policy", "POLICY bits 63:26 (reserved) are not zero"))
    if len(out) == 1:
        out.append(passed("format.fields", "algorithm, signing key and reserved fields valid"))
    return out


def kds_url(report: AttestationReport, product: Product) -> str:
    """Where the VCEK for this report can be downloaded (for the 'no VCEK supplied' message;
    ``--fetch`` fetches it from there)."""
    from cocoscope.attest.fetch.config import KDS_URL
    from cocoscope.attest.fetch.kds import vcek_url

    return vcek_url(KDS_URL, product, report.chip_id[:product.hwid_length],
                    report.tcb("reported", product).components())


def _signature_ok(report: AttestationReport, vek: AmdCert) -> bool:
    key = vek.public_key
    r, s = report.signature_r, report.signature_s
    if not isinstance(key, ec.EllipticCurvePublicKey) or not (0 < r < _P384_ORDER
                                                              and 0 < s < _P384_ORDER):
        return False
    try:
        key.verify(encode_dss_signature(r, s), report.signed_bytes, ec.ECDSA(hashes.SHA384()))
    except InvalidSignature:
        return False
    return True


def _choose_vek(report: AttestationReport, kind: str,
                certs: Sequence[AmdCert]) -> tuple[AmdCert | None, bool]:
    """(the supplied VCEK/VLEK whose key signed the report, else the first; signature ok).

    The signature result is returned so the one ECDSA verify, the dominant cost, runs once.
    """
    candidates = [c for c in certs if c.role[0] == kind and is_p384(c)]
    for c in candidates:
        if _signature_ok(report, c):
            return c, True
    return (candidates[0] if candidates else None), False


def _product(report: AttestationReport, vek: AmdCert | None) -> tuple[Product | None, Check]:
    """Product line from the v3+ CPUID fields, else from the VEK's productName."""
    from_cpuid = report.cpuid_product()
    name = None
    if vek is not None:
        try:
            name = vek.extensions().product_name
        except ValueError:
            name = None
    from_cert = product_from_name(name) if name else None
    if from_cpuid and from_cert and from_cpuid is not from_cert:
        return None, failed("product", f"report CPUID says {from_cpuid.value}, "
                            f"certificate says {name}")
    product = from_cpuid or from_cert
    if product is None:
        src = ("CPUID family/model "
               f"{report.cpuid_fam_id:#x}/{report.cpuid_mod_id:#x}"
               if report.cpuid_fam_id is not None else "a version-2 report without a VCEK")
        return None, failed("product", f"cannot tell the product line from {src}")
    via = "CPUID" if from_cpuid else f"certificate productName {name}"
    return product, passed("product", f"{product.value} (from {via})")


def binding_checks(report: AttestationReport, vek: AmdCert, kind: str, product: Product,
                   policy: SnpPolicy) -> list[Check]:
    """The VEK must be the key for this chip (VCEK hwID) at this REPORTED_TCB."""
    try:
        ext = vek.extensions()
    except ValueError as exc:
        return [failed(f"{kind}.extensions", f"{vek.source}: {exc}")]
    out: list[Check] = []
    want = report.tcb("reported", product).components()
    names = list(want)
    have = {k: ext.spls.get(k) for k in names}
    if have == want:
        out.append(passed(f"{kind}.tcb", f"REPORTED_TCB {report.tcb('reported', product)} "
                          f"== certificate"))
    else:
        diff = ", ".join(f"{k} report {want[k]} cert {have[k]}" for k in names
                         if have[k] != want[k])
        out.append(failed(f"{kind}.tcb", f"REPORTED_TCB differs from the certificate: {diff}"))
    out.append(certificate_check(kind, {k: ext.spls.get(k) for k in names}, report, product))
    line = product_from_name(ext.product_name or "")
    if line is not product:
        out.append(failed(f"{kind}.product", f"certificate productName {ext.product_name!r} "
                          f"is not {product.value}"))
    if kind == "vcek":
        n = product.hwid_length
        if ext.hwid is None or len(ext.hwid) != n or ext.csp_id is not None:
            out.append(failed("vcek.hwid", f"VCEK must carry a {n}-byte hwID and no cspID"))
        elif report.chip_id_masked:
            out.append(passed("vcek.hwid", "CHIP_ID masked; policy allows it")
                       if policy.allow_masked_chip_id else
                       failed("vcek.hwid", "CHIP_ID is masked (all zero), so the report cannot "
                              "be tied to the VCEK's chip; set allow_masked_chip_id to accept"))
        elif report.chip_id[:n] == ext.hwid and not any(report.chip_id[n:]):
            out.append(passed("vcek.hwid", f"CHIP_ID == hwID {ext.hwid[:8].hex()}…"))
        else:
            out.append(failed("vcek.hwid", f"CHIP_ID {report.chip_id[:8].hex()}… is not the "
                              f"VCEK hwID {ext.hwid[:8].hex()}…"))
    else:
        if ext.csp_id is None or ext.hwid is not None:
            out.append(failed("vlek.csp_id", "VLEK must carry a cspID and no hwID"))
        elif policy.vlek_csp_ids is not None and ext.csp_id not in policy.vlek_csp_ids:
            out.append(failed("vlek.csp_id", f"cspID {ext.csp_id!r} is not allowed"))
        else:
            out.append(passed("vlek.csp_id", ext.csp_id))
    return out


def _signer_checks(report: AttestationReport, kind: str, certs: Sequence[AmdCert],
                   policy: SnpPolicy, at: datetime, crl: x509.CertificateRevocationList | None,
                   facts: dict[str, object]) -> tuple[list[Check], Product | None]:
    """Product, chain, VEK binding and signature for a VCEK- or VLEK-signed report."""
    vek, signature_ok = _choose_vek(report, kind, certs)
    product, pcheck = _product(report, vek)
    checks = [pcheck]
    if product is None:
        hint = ""
        if vek is None and kind == "vcek":
            guess = guess_product(report)[0]
            hint = f"; supply the VCEK with --certs, e.g. from {kds_url(report, guess)}"
            if guess is not Product.TURIN:
                hint += " (or the same URL under /Genoa/)"
        checks.append(failed("signature", f"not checked: product unknown{hint}"))
        return checks, None
    facts["product"] = product.value
    facts["reported_tcb"] = str(report.tcb("reported", product))
    if vek is None:
        hint = (f"; download it from {kds_url(report, product)}" if kind == "vcek" else
                "; VLEKs come from the cloud provider (extended report / certificate table)")
        checks.append(failed(f"chain.{kind}", f"no {kind.upper()} among the supplied "
                             f"certificates{hint}"))
        checks.append(failed("signature", f"not checked: no {kind.upper()}"))
        return checks, product
    facts["vek"] = vek.source
    checks += chain_checks(vek, kind, product, certs, at, crl).checks
    checks += binding_checks(report, vek, kind, product, policy)
    checks.append(passed("signature", "ECDSA P-384 over report[0x000:0x2A0]")
                  if signature_ok else
                  failed("signature", f"ECDSA P-384 signature does not verify with "
                         f"{vek.source}"))
    return checks, product


def verify(evidence: ReportEvidence, trust: SnpTrust, policy: SnpPolicy,
           time: datetime) -> Verification:
    """All checks for parsed evidence (no file I/O)."""
    ev, certs, crl = evidence, trust.certs, trust.crl
    at = time if time.tzinfo else time.replace(tzinfo=UTC)
    report = ev.report
    checks = format_checks(report)
    facts: dict[str, object] = {"version": report.version, "form": ev.form,
                                "time": at.isoformat(), "measurement": report.measurement.hex(),
                                # Decoded so that DEBUG or SMT is not hidden in a hex number.
                                "policy": report.policy.flags,
                                "platform_info": report.platform_info.flags}
    if ev.hcl is not None:
        ok, why = ev.hcl.binding(report)
        checks.append(passed("hcl.report_data", why) if ok else failed("hcl.report_data", why))
    kind = {0: "vcek", 1: "vlek"}.get(report.key_info.signing_key)
    product = None
    if kind is not None:
        facts["signer"] = kind
        more, product = _signer_checks(report, kind, certs, policy, at, crl, facts)
        checks += more
    # The policy is judged even when the signature could not be: a user fixing one problem
    # should see all of them. Without a known product, TCB minimums use the best guess.
    layout = product or guess_product(report)[0]
    checks.append(committed_check(report, layout, policy.permit_provisional_firmware))
    checks += appraise(policy, report, layout, kind or "none")
    revocation = revocation_check(policy.require_revocation, [c.name for c in checks],
                                  ("chain.crl",))
    if revocation is not None:
        checks.append(revocation)
    if trust.ignored:  # directory entries that were not certificates: nothing is silent
        facts["ignored"] = list(trust.ignored)
    return Verification(ev.path, "snp-report", tuple(checks), facts,
                        measurement_check="policy.measurement",
                        not_checked=unchecked_references(policy))


def load_crl(path: str) -> x509.CertificateRevocationList:
    data = files.read_input(path, files.CRL)
    try:
        if b"-----BEGIN" in data:
            return x509.load_pem_x509_crl(data)
        return x509.load_der_x509_crl(data)
    except ValueError as exc:
        raise InputError(f"not a valid X.509 CRL: {exc}", path=path) from None


def verify_file(path: str, certs: Sequence[str] = (), policy: SnpPolicy | None = None,
                time: datetime | None = None, crl: str | None = None) -> Verification:
    """Verify the report at ``path`` (raw, hex or HCL) with certificates from ``certs``.

    ``certs``: files or directories (PEM, DER, or an SNP certificate table); the AMD roots are
    built in. ``policy`` defaults to ``SnpPolicy()`` (production-safe). ``time`` is when
    certificates must be valid (default: now, UTC). Raises InputError for unreadable or
    malformed input; every verification outcome is in the returned ``Verification``.
    """
    return verify(load_evidence(path), load_trust(certs, crl), policy or SnpPolicy(),
                  time or datetime.now(UTC))
