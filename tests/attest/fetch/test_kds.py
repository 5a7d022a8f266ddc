"""AMD KDS answers: the real VCEK and chain are accepted; anything else is refused before it is
cached, with the URL in the message."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from cocoscope.attest.fetch.cache import Cache
from cocoscope.attest.fetch.http import FetchError, Http
from cocoscope.attest.fetch.kds import cert_chain_item, crl_item, vcek_item
from cocoscope.attest.fetch.source import Source
from cocoscope.attest.snp.evidence import load_evidence
from cocoscope.attest.snp.product import Product
from tests.attest.fetch.service import (
    HTML,
    MILAN_CHAIN,
    MILAN_REPORT,
    MILAN_VCEK,
    MILAN_VCEK_PATH,
    SNP,
    Answer,
    Service,
)

AT = datetime(2026, 1, 1, tzinfo=UTC)


def _item(url: str):  # type: ignore[no-untyped-def]
    report = load_evidence(str(MILAN_REPORT)).report
    return vcek_item(url, Product.MILAN, report.chip_id,
                     report.tcb("reported", Product.MILAN).components())


def _source(cache: Cache) -> Source:
    return Source(cache, Http(read_timeout=2, deadline=5, retries=0))


def test_vcek_url_is_kds_spelling(service: Service) -> None:
    assert _item(service.url).url == service.url + MILAN_VCEK_PATH


def test_real_vcek_accepted_and_cached(service: Service, cache: Cache) -> None:
    service.kds_milan()
    entry = _source(cache).get(_item(service.url), AT)
    assert entry is not None and entry.body == MILAN_VCEK.read_bytes()
    assert entry.valid_until == datetime(2030, 4, 3, 19, 23, 43, tzinfo=UTC)  # VCEK notAfter
    assert cache.get(_item(service.url).key) is not None


@pytest.mark.parametrize(("body", "message"), [
    (HTML, "HTML page"),
    (b"", "response is empty"),
    (MILAN_VCEK.read_bytes()[:200], "not the VCEK certificate"),  # truncated DER
    ((SNP / "virtee-sev" / "vcek_turin.der").read_bytes(), "productName 'Turin'"),
    ((SNP / "trustee" / "test-vcek.der").read_bytes(), "hwID differs"),
    (MILAN_CHAIN.read_bytes(), "PEM where KDS sends DER"),
])
def test_wrong_answers_refused_and_not_cached(service: Service, cache: Cache, body: bytes,
                                              message: str) -> None:
    service.route(MILAN_VCEK_PATH, Answer(body=body))
    with pytest.raises(FetchError, match=message) as exc:
        _source(cache).get(_item(service.url), AT)
    assert exc.value.path == service.url + MILAN_VCEK_PATH
    assert cache.entries() == []


def test_http_errors_name_the_url(service: Service, cache: Cache) -> None:
    service.route(MILAN_VCEK_PATH, Answer(status=500))
    with pytest.raises(FetchError, match="HTTP 500 for the VCEK for Milan chip d49554ec"):
        _source(cache).get(_item(service.url), AT)
    with pytest.raises(FetchError, match="HTTP 404"):
        _source(cache).get(_item(service.url + "/nothing-here"), AT)


def test_cert_chain_must_end_in_the_pinned_ark(service: Service, cache: Cache) -> None:
    service.kds_milan()
    entry = _source(cache).get(cert_chain_item(service.url, Product.MILAN), AT)
    assert entry is not None and entry.body == MILAN_CHAIN.read_bytes()
    # Genoa's chain served under Milan's name: not the chain asked for.
    service.route("/vcek/v1/Milan/cert_chain",
                  Answer(body=(SNP / "go-sev-guest" / "ask_ark_genoa.pem").read_bytes()))
    with pytest.raises(FetchError, match="expected ASK-Milan and the pinned ARK-Milan"):
        _source(Cache(cache.root / "other")).get(cert_chain_item(service.url, Product.MILAN), AT)


def test_crl_not_served_is_not_an_error(service: Service, cache: Cache) -> None:
    src = _source(cache)
    assert src.get(crl_item(service.url, Product.MILAN), AT) is None
    assert src.log[-1].state == "not served"


def test_turin_vcek_by_8_byte_hwid_and_fmc_spl(service: Service, cache: Cache) -> None:
    # vcek_turin.der: hwID 1e550a8ee5cf9f4d, fmc 0, bl 0, tee 0, snp 0, ucode 9 (no report exists
    # for it, so the CHIP_ID is the hwID padded as a Turin report carries it).
    chip_id = bytes.fromhex("1e550a8ee5cf9f4d") + bytes(56)
    spls = {"fmc": 0, "bl": 0, "tee": 0, "snp": 0, "ucode": 9}
    item = vcek_item(service.url, Product.TURIN, chip_id, spls)
    path = "/vcek/v1/Turin/1e550a8ee5cf9f4d?fmcSPL=0&blSPL=0&teeSPL=0&snpSPL=0&ucodeSPL=9"
    assert item.url == service.url + path
    service.route(path, Answer(body=(SNP / "virtee-sev" / "vcek_turin.der").read_bytes()))
    assert _source(cache).get(item, AT) is not None
    # The same certificate asked for at another microcode SPL is not what was asked.
    other = vcek_item(service.url, Product.TURIN, chip_id, {**spls, "ucode": 10})
    service.route(other.url.removeprefix(service.url),
                  Answer(body=(SNP / "virtee-sev" / "vcek_turin.der").read_bytes()))
    with pytest.raises(FetchError, match=r"SPLs ucode 9 \(asked 10\)"):
        _source(cache).get(other, AT)


def test_v2_report_tries_milan_then_genoa(service: Service, cache: Cache) -> None:
    from cocoscope.attest.fetch.complete import fetch_vcek

    src = _source(cache)
    assert fetch_vcek(load_evidence(str(MILAN_REPORT)), src, service.url, AT) is None
    assert [p.split("/")[3] for p in service.seen] == ["Milan", "Genoa"]
    assert [p.state for p in src.log] == ["not served", "not served"]
