"""Intel Provisioning Certification Service (PCS v4) or a PCCS: TDX collateral.

Endpoints (Intel "Provisioning Certification Service for ECDSA Attestation", API v4; a PCCS
serves the same paths):

* ``/tdx/certification/v4/tcb?fmspc=XXXXXXXXXXXX`` -> TDX TCB Info JSON; the issuer chain (TCB
  Signing certificate, then the Root CA) is only in the ``TCB-Info-Issuer-Chain`` response
  header, URL-encoded PEM.
* ``/tdx/certification/v4/qe/identity`` -> TD QE Identity JSON; chain in
  ``SGX-Enclave-Identity-Issuer-Chain``.
* ``/sgx/certification/v4/pckcrl?ca=platform|processor&encoding=der`` -> the PCK CRL of that CA;
  chain in ``SGX-PCK-CRL-Issuer-Chain``.
* The Root CA CRL: Intel publishes it at the Root CA certificate's CRL distribution point
  (``ROOT_CRL_URL``); a PCCS serves it at ``/sgx/certification/v4/rootcacrl`` (DER, or the DER
  as hex text in some versions).

Each answer is checked before it is cached, against the pinned Intel SGX Root CA exactly as a
supplied collateral file is: the issuer chain must end in the pinned root with valid signatures
and name the expected signer, and the JSON's signature (over the exact bytes of the signed
member) or the CRL's must verify with that chain's first certificate. A TCB Info for another
FMSPC, a QE Identity that is not TD_QE, a CRL of another CA are refused. Validity windows are
not judged here: the verifier judges them at the verification time.

An API key (``Ocp-Apim-Subscription-Key``) is sent when one is configured; PCS v4 needs it only
for PCK certificate retrieval, which cocoscope does not do, but some PCCS deployments require
their own key on every path.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TypeVar
from urllib.parse import unquote

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from cocoscope.attest.fetch.config import PCS_URL
from cocoscope.attest.fetch.http import FetchError, Response
from cocoscope.attest.fetch.source import Item, not_what_was_asked
from cocoscope.attest.tdx import pck
from cocoscope.attest.tdx.collateral import (
    QeIdentity,
    TcbInfo,
    parse_qe_identity,
    parse_tcb_info,
    signature_valid,
)
from cocoscope.errors import InputError

ROOT_CRL_URL = "https://certificates.trustedservices.intel.com/IntelSGXRootCA.der"
API_KEY_HEADER = "Ocp-Apim-Subscription-Key"
_T = TypeVar("_T", TcbInfo, QeIdentity)

TCB_CHAIN_HEADERS = ("tcb-info-issuer-chain", "sgx-tcb-info-issuer-chain")
QE_CHAIN_HEADER = "sgx-enclave-identity-issuer-chain"
CRL_CHAIN_HEADER = "sgx-pck-crl-issuer-chain"
CA_TYPES = {"platform": "Intel SGX PCK Platform CA", "processor": "Intel SGX PCK Processor CA"}


def _headers(api_key: str | None) -> dict[str, str]:
    return {API_KEY_HEADER: api_key} if api_key else {}


def issuer_chain(resp: Response | dict[str, str], names: tuple[str, ...],
                 source: str) -> tuple[x509.Certificate, ...]:
    """Decode the URL-encoded PEM issuer chain from the first header in ``names`` present."""
    headers = resp.headers if isinstance(resp, Response) else resp
    for name in names:
        if name in headers:
            pem = unquote(headers[name]).encode("ascii", "replace")
            try:
                return pck.load_pem_chain(pem, source=source)
            except InputError as exc:
                raise FetchError(f"{name} header: {exc.message}", path=source) from None
    raise FetchError(f"no {names[0]} header (the issuer chain PCS sends with the body)",
                     path=source)


def _signer(chain: tuple[x509.Certificate, ...], at: datetime, source: str,
            leaf_cn: tuple[str, ...]) -> x509.Certificate:
    """The chain's first certificate, once the chain is proven to end in the pinned root."""
    bad = [c for c in pck.check_chain(chain, name="issuer_chain", at=at, leaf_cn=leaf_cn)
           if not c.passed and not c.name.endswith(".validity")]
    if bad:
        raise FetchError("issuer chain does not lead to the pinned Intel SGX Root CA: "
                         + "; ".join(c.detail for c in bad), path=source)
    return chain[0]


def tcb_info_item(base: str, fmspc: bytes, at: datetime, api_key: str | None = None) -> Item:
    url = f"{base.rstrip('/')}/tdx/certification/v4/tcb?fmspc={fmspc.hex().upper()}"

    def check(resp: Response) -> datetime | None:
        info = _parse(resp, "TDX TCB Info (JSON)", parse_tcb_info)
        if info.fmspc != fmspc:
            raise FetchError(f"TCB Info is for FMSPC {info.fmspc.hex()}, "
                             f"not the requested {fmspc.hex()}", path=resp.url)
        if info.id != "TDX":
            raise FetchError(f"TCB Info id is {info.id!r}, not 'TDX'", path=resp.url)
        _check_signed(resp, info.signed.body, info.signed.signature, TCB_CHAIN_HEADERS, at)
        return info.next_update

    return Item(f"pcs/tcb/tdx/{fmspc.hex()}", url, f"TDX TCB Info for FMSPC {fmspc.hex()}",
                check, headers=_headers(api_key))


def qe_identity_item(base: str, at: datetime, api_key: str | None = None) -> Item:
    def check(resp: Response) -> datetime | None:
        qe = _parse(resp, "TD QE Identity (JSON)", parse_qe_identity)
        if qe.id != "TD_QE":
            raise FetchError(f"QE Identity id is {qe.id!r}, not 'TD_QE'", path=resp.url)
        _check_signed(resp, qe.signed.body, qe.signed.signature, (QE_CHAIN_HEADER,), at)
        return qe.next_update

    return Item("pcs/qe/tdx", f"{base.rstrip('/')}/tdx/certification/v4/qe/identity",
                "TD QE Identity", check, headers=_headers(api_key))


def pck_crl_item(base: str, ca: str, at: datetime, api_key: str | None = None) -> Item:
    if ca not in CA_TYPES:
        raise ValueError(f"PCK CA type {ca!r} (platform or processor)")

    def check(resp: Response) -> datetime | None:
        crl = _crl(resp, f"PCK CRL of the {ca} CA")
        if pck.common_name(crl.issuer) != CA_TYPES[ca]:
            raise FetchError(f"CRL issuer is {pck.common_name(crl.issuer)!r}, not "
                             f"{CA_TYPES[ca]!r}", path=resp.url)
        chain = issuer_chain(resp, (CRL_CHAIN_HEADER,), resp.url)
        signer = _signer(chain, at, resp.url, (CA_TYPES[ca],))
        key = signer.public_key()
        if not isinstance(key, ec.EllipticCurvePublicKey) or not crl.is_signature_valid(key):
            raise FetchError("CRL signature does not verify with its issuer chain", path=resp.url)
        return crl.next_update_utc

    return Item(f"pcs/pckcrl/{ca}",
                f"{base.rstrip('/')}/sgx/certification/v4/pckcrl?ca={ca}&encoding=der",
                f"PCK CRL ({ca} CA)", check, optional=True, headers=_headers(api_key))


def root_crl_item(base: str, api_key: str | None = None) -> Item:
    url = (ROOT_CRL_URL if base.rstrip("/") == PCS_URL
           else f"{base.rstrip('/')}/sgx/certification/v4/rootcacrl")

    def check(resp: Response) -> datetime | None:
        crl = _crl(resp, "Intel SGX Root CA CRL")
        root = pck.pinned_root()
        key = root.public_key()
        if crl.issuer != root.subject or not isinstance(key, ec.EllipticCurvePublicKey) \
                or not crl.is_signature_valid(key):
            raise FetchError("not signed by the pinned Intel SGX Root CA", path=resp.url)
        return crl.next_update_utc

    return Item("pcs/rootcacrl", url, "Root CA CRL", check, optional=True,
                headers=_headers(api_key) if url != ROOT_CRL_URL else {})


def crl_body(body: bytes) -> bytes:
    """DER from a CRL answer: DER or PEM as is, hex text (older PCCS) decoded."""
    text = body.strip()
    if text and len(text) % 2 == 0 and all(c in b"0123456789abcdefABCDEF" for c in text):
        return bytes.fromhex(text.decode("ascii"))
    return body


def _crl(resp: Response, what: str) -> x509.CertificateRevocationList:
    try:
        return pck.load_crl(crl_body(resp.body), source=resp.url)
    except InputError as exc:
        raise not_what_was_asked(resp, what, exc.message) from None


def _parse(resp: Response, what: str, parse: Callable[..., _T]) -> _T:
    try:
        return parse(resp.body, source=resp.url)
    except InputError as exc:
        raise not_what_was_asked(resp, what, exc.message) from None


def _check_signed(resp: Response, body: bytes, signature: bytes, headers: tuple[str, ...],
                  at: datetime) -> None:
    chain = issuer_chain(resp, headers, resp.url)
    signer = _signer(chain, at, resp.url, (pck.TCB_SIGNING_CN,))
    if not signature_valid(body, signature, signer):
        raise FetchError("signature does not verify with the issuer chain in the header",
                         path=resp.url)
