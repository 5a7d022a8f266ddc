"""Build and judge the ARK -> ASK/ASVK -> VCEK/VLEK chain for one report.

The ARK is always the pinned one of the report's product. A supplied certificate is never
silently replaced by a shipped one: every supplied ARK must equal a pin and every supplied
ASK/ASVK must be signed by a pinned ARK, so damaged input fails instead of being papered over.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa

from cocoscope.attest.result import Check, failed, passed
from cocoscope.attest.snp.certs import (
    ARK_PINS,
    PSS_SHA384,
    AmdCert,
    pinned_ark,
    shipped_certs,
    shipped_intermediate,
    signature_problem,
    validity_problem,
)
from cocoscope.attest.snp.product import Product

# What the signing-key field demands of the chain.
ROLES = {"vcek": ("ask", "chain.ask"), "vlek": ("asvk", "chain.asvk")}


@dataclass(frozen=True)
class ChainResult:
    checks: tuple[Check, ...]
    ok: bool


def supplied_checks(certs: Sequence[AmdCert], at: datetime) -> list[Check]:
    """Every supplied non-leaf certificate must be a pinned root or signed by one."""
    known = {c.fingerprint for c in shipped_certs()}
    problems: list[Check] = []
    accepted = 0
    for c in certs:
        role, product = c.role
        if role in ("vcek", "vlek"):
            continue  # leaves are judged as part of the chain they sign
        if c.fingerprint in known:
            accepted += 1
            continue
        if role == "ark":
            problems.append(failed("chain.supplied", f"{c.source}: {c.common_name} is not a "
                                   "pinned AMD root (SHA-256 " + c.fingerprint + ")"))
            continue
        ark = pinned_ark(product) if product is not None and role in ("ask", "asvk") else None
        if ark is None:
            problems.append(failed("chain.supplied", f"{c.source}: {c.common_name or 'certificate'}"
                                   " is not an AMD SEV certificate"))
            continue
        why = signature_problem(c, ark) or validity_problem(c, at)
        if why:
            problems.append(failed("chain.supplied", f"{c.source}: {c.common_name}: {why}"))
        else:
            accepted += 1
    if problems:
        return problems
    if accepted:
        return [passed("chain.supplied", f"{accepted} supplied AMD certificate(s) accepted")]
    return []


def _pick_intermediate(vek: AmdCert, role: str, supplied: Sequence[AmdCert]) -> AmdCert | None:
    issuer: x509.Name = vek.cert.issuer
    for c in supplied:
        if c.role[0] == role and c.cert.subject == issuer:
            return c
    found = shipped_intermediate(issuer)
    return found if found is not None and found.role[0] == role else None


def chain_checks(vek: AmdCert, kind: str, product: Product, supplied: Sequence[AmdCert],
                 at: datetime, crl: x509.CertificateRevocationList | None = None) -> ChainResult:
    """Checks for the chain ending at ``vek`` (``kind`` "vcek" or "vlek") of ``product``."""
    checks = supplied_checks(supplied, at)
    ark = pinned_ark(product)
    if ark is None:  # the package data itself is damaged
        checks.append(failed("chain.ark", f"pinned ARK-{product.value} "
                             f"({ARK_PINS[product][:16]}…) missing from the package"))
        return ChainResult(tuple(checks), False)
    why = signature_problem(ark, ark) or validity_problem(ark, at)
    checks.append(failed("chain.ark", f"{ark.common_name}: {why}") if why else
                  passed("chain.ark", f"{ark.common_name} pinned SHA-256 {ark.fingerprint[:16]}…"))
    role, name = ROLES[kind]
    mid = _pick_intermediate(vek, role, supplied)
    if mid is None:
        checks.append(failed(name, f"{kind.upper()} issuer {vek.cert.issuer.rfc4514_string()} "
                             f"is not a known AMD {role.upper()} for {product.value}"))
        return ChainResult(tuple(checks), False)
    why = signature_problem(mid, ark) or validity_problem(mid, at)
    if mid.role[1] is not product:
        why = f"{mid.common_name} belongs to another product than {product.value}"
    checks.append(failed(name, f"{mid.common_name}: {why}") if why else
                  passed(name, f"{mid.common_name} signed by {ark.common_name}"))
    expected_cn = "SEV-VCEK" if kind == "vcek" else "SEV-VLEK"
    leaf = "chain." + kind
    why = signature_problem(vek, mid) or validity_problem(vek, at)
    if vek.common_name != expected_cn:
        why = f"subject CN is {vek.common_name!r}, expected {expected_cn!r}"
    checks.append(failed(leaf, f"{vek.source}: {why}") if why else
                  passed(leaf, f"{vek.source} signed by {mid.common_name}, valid "
                         f"{vek.cert.not_valid_before_utc.date()} .. "
                         f"{vek.cert.not_valid_after_utc.date()}"))
    if crl is not None:
        checks.append(crl_check(crl, ark, (mid, vek), at))
    return ChainResult(tuple(checks), all(c.passed for c in checks))


def crl_check(crl: x509.CertificateRevocationList, ark: AmdCert,
              certs: Sequence[AmdCert], at: datetime) -> Check:
    """AMD's KDS CRL is signed by the ARK and lists revoked ASK/ASVK (and VEK) serials."""
    key = ark.public_key
    if crl.issuer != ark.cert.subject or not isinstance(key, rsa.RSAPublicKey):
        return failed("chain.crl", f"CRL issuer {crl.issuer.rfc4514_string()} is not "
                      f"{ark.common_name}")
    try:
        key.verify(crl.signature, crl.tbs_certlist_bytes, PSS_SHA384, hashes.SHA384())
    except InvalidSignature:
        return failed("chain.crl", f"CRL signature does not verify with {ark.common_name}")
    nxt = crl.next_update_utc
    if at < crl.last_update_utc or (nxt is not None and at > nxt):
        return failed("chain.crl", f"CRL not current at {at.isoformat()} "
                      f"({crl.last_update_utc.isoformat()} .. {nxt.isoformat() if nxt else '-'})")
    for c in certs:
        # VCEKs all carry serial 0 and are not individually revoked; AMD revokes intermediates.
        if c.role[0] in ("ask", "asvk") and \
                crl.get_revoked_certificate_by_serial_number(c.cert.serial_number) is not None:
            return failed("chain.crl", f"{c.common_name} serial {c.cert.serial_number} is revoked")
    return passed("chain.crl", f"no chain certificate revoked ({len(crl)} entries)")
