"""The HTTP layer against a server that misbehaves on purpose: every failure is a FetchError
naming the URL, within bounded time; transient 5xx are retried."""

from __future__ import annotations

import pytest

from cocoscope.attest.fetch.http import FetchError, Http
from tests.attest.fetch.service import Answer, Service, free_url


def quick() -> Http:
    """Short bounds so the misbehaving cases end fast; the retry backoff stays real."""
    return Http(connect_timeout=1.0, read_timeout=0.5, deadline=2.0, retries=2)


def test_ok_returns_body_status_and_lowercased_headers(service: Service) -> None:
    service.route("/x", Answer(body=b"abc", headers={"TCB-Info-Issuer-Chain": "%2D%2D"}))
    r = quick().get(service.url + "/x")
    assert (r.status, r.body, r.headers["tcb-info-issuer-chain"]) == (200, b"abc", "%2D%2D")


def test_404_is_returned_not_retried(service: Service) -> None:
    r = quick().get(service.url + "/missing")
    assert r.status == 404
    assert service.seen == ["/missing"]


def test_persistent_500_is_retried_then_returned(service: Service) -> None:
    service.route("/err", Answer(status=500, body=b"oops"))
    http = quick()
    assert http.get(service.url + "/err").status == 500
    assert service.seen == ["/err"] * 3  # first try + 2 retries


def test_transient_503_then_success(service: Service) -> None:
    service.route("/flaky", [Answer(status=503), Answer(body=b"ok")])
    r = quick().get(service.url + "/flaky")
    assert (r.status, r.body) == (200, b"ok")
    assert service.seen == ["/flaky", "/flaky"]


def test_connection_refused_names_the_url() -> None:
    url = free_url() + "/vcek/v1/Milan/cert_chain"
    with pytest.raises(FetchError) as exc:
        quick().get(url)
    assert exc.value.path == url and "request failed" in exc.value.message
    assert exc.value.exit_code == 3


def test_stalled_headers_time_out(service: Service) -> None:
    service.route("/stall", Answer(body=b"late", delay=3.0))
    with pytest.raises(FetchError, match="request failed") as exc:
        quick().get(service.url + "/stall")
    assert exc.value.path == service.url + "/stall"


def test_trickling_body_hits_the_deadline(service: Service) -> None:
    # Each byte arrives within the read timeout, so only the whole-request deadline stops it.
    service.route("/slow", Answer(body=b"x" * 200, delay=0.1, trickle=True))
    with pytest.raises(FetchError, match=r"no complete answer within 2 s"):
        quick().get(service.url + "/slow")


def test_truncated_body_is_an_error(service: Service) -> None:
    service.route("/cut", Answer(body=b"0123456789" * 100, cut=10))
    with pytest.raises(FetchError, match=r"reading the response failed: Connection broken: IncompleteRead\(10 bytes read"):
        quick().get(service.url + "/cut")


def test_oversized_body_refused(service: Service) -> None:
    service.route("/big", Answer(body=b"a" * 5000))
    with pytest.raises(FetchError, match="larger than the 1000-byte limit"):
        Http(max_body=1000).get(service.url + "/big")


def test_only_http_urls() -> None:
    with pytest.raises(FetchError, match="not an http"):
        quick().get("file:///etc/passwd")
