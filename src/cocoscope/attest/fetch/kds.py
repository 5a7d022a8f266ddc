"""AMD Key Distribution Service (KDS): the VCEK for a chip and TCB, the ASK/ARK chain, the CRL.

Endpoints (AMD "Versioned Chip Endorsement Key (VCEK) Certificate and KDS Interface
Specification", #57230):

* ``/vcek/v1/{product}/{hwid}?blSPL=&teeSPL=&snpSPL=&ucodeSPL=`` -> the VCEK (DER). The hwID is
  the report's CHIP_ID: 64 bytes before Turin, the first 8 bytes on Turin, whose TCB also has an
  FMC SPL (``fmcSPL=``). The SPLs are the report's REPORTED_TCB, decoded for the product.
* ``/vcek/v1/{product}/cert_chain`` -> PEM ASK then ARK; ``/vlek/v1/{product}/cert_chain`` the
  ASVK chain. ``/vcek/v1/{product}/crl`` (``/vlek/...`` for the ASVK chain) -> the ARK-signed
  CRL (DER).

VLEKs are not served by KDS to the public: they are provisioned to the cloud provider, who hands
them to the guest in the extended report's certificate table. A VLEK-signed report therefore
cannot be completed by fetching; the caller says so.

Every answer is checked to be the thing asked for before it is cached: a DER certificate whose
subject is SEV-VCEK, whose productName, hwID and SPLs are the ones in the URL; a chain whose ARK
is the pinned root of the product and whose ASK that ARK signed; a CRL that parses.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from cryptography import x509

from cocoscope.attest.fetch.http import FetchError, Response
from cocoscope.attest.fetch.source import Item, not_what_was_asked
from cocoscope.attest.snp.certs import (
    ARK_PINS,
    AmdCert,
    parse_cert_blob,
    parse_der,
    signature_problem,
)
from cocoscope.attest.snp.product import Product, product_from_name
from cocoscope.attest.tdx.pck import load_crl  # format-generic CRL reader
from cocoscope.errors import InputError


def vcek_url(base: str, product: Product, hwid: bytes, spls: Mapping[str, int]) -> str:
    params = "&".join(f"{k}SPL={v}" for k, v in spls.items())
    return f"{base.rstrip('/')}/vcek/v1/{product.value}/{hwid.hex()}?{params}"


def vcek_item(base: str, product: Product, chip_id: bytes, spls: Mapping[str, int]) -> Item:
    hwid = chip_id[:product.hwid_length]
    key = (f"kds/vcek/{product.value}/{hwid.hex()}/"
           + ",".join(f"{k}={v}" for k, v in spls.items()))
    what = f"VCEK for {product.value} chip {hwid[:8].hex()}… at TCB " + " ".join(
        f"{k}={v}" for k, v in spls.items())

    def check(resp: Response) -> datetime | None:
        vcek = _one_der_cert(resp, "VCEK certificate (DER)")
        problem = vcek_mismatch(vcek, product, hwid, spls)
        if problem:
            raise FetchError(f"VCEK is not the one asked for: {problem}", path=resp.url)
        return vcek.cert.not_valid_after_utc

    return Item(key, vcek_url(base, product, hwid, spls), what, check)


def vcek_mismatch(vcek: AmdCert, product: Product, hwid: bytes,
                  spls: Mapping[str, int]) -> str | None:
    if vcek.role[0] != "vcek":
        return f"subject CN is {vcek.common_name!r}, not 'SEV-VCEK'"
    try:
        ext = vcek.extensions()
    except ValueError as exc:
        return f"KDS extensions do not parse: {exc}"
    if product_from_name(ext.product_name or "") is not product:
        return f"productName {ext.product_name!r} is not {product.value}"
    if ext.hwid != hwid:
        return "hwID differs from the report's CHIP_ID"
    got = {k: ext.spls.get(k) for k in spls}
    if got != dict(spls):
        return "SPLs " + ", ".join(f"{k} {got[k]} (asked {v})" for k, v in spls.items()
                                   if got[k] != v)
    return None


def cert_chain_item(base: str, product: Product, kind: str = "vcek") -> Item:
    """ASK (kind "vcek") or ASVK (kind "vlek") and the ARK of ``product``."""
    role = "ask" if kind == "vcek" else "asvk"

    def check(resp: Response) -> datetime | None:
        certs = _pem_certs(resp, f"{role.upper()}/ARK chain (PEM)")
        problem = chain_problem(certs, product, role)
        if problem:
            raise FetchError(f"certificate chain is not the one asked for: {problem}",
                             path=resp.url)
        return min(c.cert.not_valid_after_utc for c in certs)

    return Item(f"kds/cert_chain/{kind}/{product.value}",
                f"{base.rstrip('/')}/{kind}/v1/{product.value}/cert_chain",
                f"{role.upper()}/ARK chain for {product.value}", check)


def chain_problem(certs: list[AmdCert], product: Product, role: str) -> str | None:
    """The ARK must be the pinned one and must have signed the ASK/ASVK (time is not judged
    here: the verifier checks validity at the verification time)."""
    arks = [c for c in certs if c.fingerprint == ARK_PINS[product]]
    mids = [c for c in certs if c.role == (role, product)]
    if len(certs) != 2 or not arks or not mids:
        names = ", ".join(c.common_name or "?" for c in certs)
        return (f"expected {role.upper()}-{product.value} and the pinned ARK-{product.value}, "
                f"got {names or 'nothing'}")
    why = signature_problem(mids[0], arks[0])
    return f"{mids[0].common_name} not signed by the pinned ARK: {why}" if why else None


def crl_item(base: str, product: Product, kind: str = "vcek") -> Item:
    """The ARK-signed CRL for the ASK (kind "vcek") or ASVK (kind "vlek") chain."""
    def check(resp: Response) -> datetime | None:
        crl = _der_or_pem_crl(resp, "AMD KDS CRL")
        return crl.next_update_utc

    return Item(f"kds/crl/{kind}/{product.value}",
                f"{base.rstrip('/')}/{kind}/v1/{product.value}/crl",
                f"AMD CRL for {product.value}" + (" (VLEK chain)" if kind == "vlek" else ""),
                check, optional=True)


def _one_der_cert(resp: Response, what: str) -> AmdCert:
    body = resp.body
    if body.lstrip().startswith(b"-----BEGIN"):
        raise not_what_was_asked(resp, what, "PEM where KDS sends DER")
    try:
        return parse_der(body, resp.url)
    except InputError as exc:
        raise not_what_was_asked(resp, what, exc.message) from None


def _pem_certs(resp: Response, what: str) -> list[AmdCert]:
    if b"-----BEGIN CERTIFICATE-----" not in resp.body:
        raise not_what_was_asked(resp, what, "no PEM certificate in the body")
    try:
        return parse_cert_blob(resp.body, resp.url)
    except InputError as exc:
        raise not_what_was_asked(resp, what, exc.message) from None


def _der_or_pem_crl(resp: Response, what: str) -> x509.CertificateRevocationList:
    try:
        return load_crl(resp.body, source=resp.url)
    except InputError as exc:
        raise not_what_was_asked(resp, what, exc.message) from None
