"""Intel PCS answers: documents whose header issuer chain ends in the pinned root and verifies
their signature are accepted; a missing or foreign chain, a wrong FMSPC, a damaged body or an
HTML page are refused before caching."""

from __future__ import annotations

import urllib.parse
from datetime import UTC, datetime

import pytest

from cocoscope.attest.fetch.cache import Cache
from cocoscope.attest.fetch.http import FetchError, Http
from cocoscope.attest.fetch.pcs import (
    pck_crl_item,
    qe_identity_item,
    root_crl_item,
    tcb_info_item,
)
from cocoscope.attest.fetch.source import Source
from tests.attest.fetch.service import (
    CHAIN_2018,
    CHAIN_2025,
    HTML,
    TDX,
    Answer,
    Service,
    header_pem,
    platform_ca_chain,
)

AT = datetime(2025, 11, 1, tzinfo=UTC)
FMSPC = bytes.fromhex("00a06d080000")
TCB_PATH = "/tdx/certification/v4/tcb?fmspc=00A06D080000"
TCB_INFO = (TDX / "trustee" / "tcbInfo.json").read_bytes()


def _source(cache: Cache) -> Source:
    return Source(cache, Http(read_timeout=2, deadline=5, retries=0))


def test_tcb_info_with_2025_chain_accepted(service: Service, cache: Cache) -> None:
    service.pcs_2025()
    item = tcb_info_item(service.url, FMSPC, AT)
    assert item.url == service.url + TCB_PATH
    entry = _source(cache).get(item, AT)
    assert entry is not None and entry.body == TCB_INFO
    assert entry.valid_until == datetime(2025, 11, 26, 13, 7, 17, tzinfo=UTC)  # nextUpdate
    # The header is kept with the body, so the chain is there for offline verification.
    assert urllib.parse.unquote(entry.headers["tcb-info-issuer-chain"]).encode() == \
        CHAIN_2025.read_bytes()


def test_api_key_sent_when_configured(service: Service, cache: Cache) -> None:
    item = tcb_info_item(service.url, FMSPC, AT, api_key="k3y")
    assert item.headers == {"Ocp-Apim-Subscription-Key": "k3y"}
    assert tcb_info_item(service.url, FMSPC, AT).headers == {}


@pytest.mark.parametrize(("answer", "message"), [
    (Answer(body=TCB_INFO), "no tcb-info-issuer-chain header"),
    (Answer(body=HTML, headers={"TCB-Info-Issuer-Chain": header_pem(CHAIN_2025.read_bytes())}),
     "HTML page"),
    (Answer(body=TCB_INFO[:500], headers={"TCB-Info-Issuer-Chain":
                                          header_pem(CHAIN_2025.read_bytes())}),
     "not the TDX TCB Info"),
    # One signed byte changed: "tcbEvaluationDataNumber":17 -> 18.
    (Answer(body=TCB_INFO.replace(b'"tcbEvaluationDataNumber":17', b'"tcbEvaluationDataNumber":18'),
            headers={"TCB-Info-Issuer-Chain": header_pem(CHAIN_2025.read_bytes())}),
     "signature does not verify with the issuer chain"),
    # A chain that is not Intel's: the Platform CA chain presented as the TCB Signing chain.
    (Answer(body=TCB_INFO, headers={"TCB-Info-Issuer-Chain": header_pem(platform_ca_chain())}),
     "does not lead to the pinned Intel SGX Root CA"),
    # A TCB Info for another FMSPC (50806f000000) served for 00a06d080000.
    (Answer(body=(TDX / "go-tdx-guest" / "sample_tcbInfo_response").read_bytes(),
            headers={"TCB-Info-Issuer-Chain": header_pem(CHAIN_2018.read_bytes())}),
     "FMSPC 50806f000000, not the requested 00a06d080000"),
])
def test_wrong_tcb_info_refused(service: Service, cache: Cache, answer: Answer,
                                message: str) -> None:
    service.route(TCB_PATH, answer)
    with pytest.raises(FetchError, match=message) as exc:
        _source(cache).get(tcb_info_item(service.url, FMSPC, AT), AT)
    assert exc.value.path.startswith(service.url)
    assert cache.entries() == []


def test_qe_identity(service: Service, cache: Cache) -> None:
    service.pcs_2025()
    entry = _source(cache).get(qe_identity_item(service.url, AT), AT)
    assert entry is not None and b'"TD_QE"' in entry.body


def test_pck_and_root_crls_checked_against_their_issuers(service: Service, cache: Cache) -> None:
    at = datetime(2023, 7, 1, 1, tzinfo=UTC)
    service.pcs_2023()
    src = _source(cache)
    assert src.get(pck_crl_item(service.url, "platform", at), at) is not None
    assert src.get(root_crl_item(service.url), at) is not None
    # The Root CA CRL served as the PCK CRL: issuer is not the Platform CA.
    service.route("/sgx/certification/v4/pckcrl?ca=processor&encoding=der",
                  Answer(body=(TDX / "go-tdx-guest" / "rootcrl.der").read_bytes(),
                         headers={"SGX-PCK-CRL-Issuer-Chain": header_pem(platform_ca_chain())}))
    with pytest.raises(FetchError, match="not 'Intel SGX PCK Processor CA'"):
        src.get(pck_crl_item(service.url, "processor", at), at)
    # A PCK CRL where the Root CA CRL belongs: not signed by the pinned root.
    service.route("/sgx/certification/v4/rootcacrl",
                  Answer(body=(TDX / "go-tdx-guest" / "pckcrl").read_bytes()))
    with pytest.raises(FetchError, match="not signed by the pinned Intel SGX Root CA"):
        _source(Cache(cache.root / "2")).get(root_crl_item(service.url), at)


def test_root_crl_hex_text_from_older_pccs(service: Service, cache: Cache) -> None:
    der = (TDX / "go-tdx-guest" / "rootcrl.der").read_bytes()
    service.route("/sgx/certification/v4/rootcacrl", Answer(body=der.hex().encode()))
    assert _source(cache).get(root_crl_item(service.url), AT) is not None


def test_root_crl_from_intel_distribution_point_for_the_default_pcs() -> None:
    item = root_crl_item("https://api.trustedservices.intel.com")
    assert item.url == "https://certificates.trustedservices.intel.com/IntelSGXRootCA.der"
