"""A local stand-in for AMD KDS and Intel PCS on 127.0.0.1: real recorded answers, and answers
that misbehave on purpose.

Bodies are the real files under tests/data/attestation (a VCEK, the ASK/ARK chain, Intel's TCB
Info, QE Identity and CRLs). PCS sends the issuer chain of each document only in a response header
(URL-encoded PEM); those headers are rebuilt here from real certificates in the repository (see
tests/data/attestation/fetch/PROVENANCE). Nothing is invented: a misbehaving answer is a real one
cut short, replaced by an HTML page, delayed, or an error status.
"""

from __future__ import annotations

import threading
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cocoscope.attest.tdx import pck
from cocoscope.attest.tdx.quote import load_evidence as load_quote
from tests.paths import ATTESTATION

SNP = ATTESTATION / "snp"
TDX = ATTESTATION / "tdx"
MILAN_REPORT = SNP / "virtee-sev" / "report_milan.hex"
MILAN_VCEK = SNP / "virtee-sev" / "vcek_milan.der"
MILAN_CHAIN = SNP / "virtee-sev" / "cert_chain_milan"
QUOTE_6 = TDX / "trustee" / "tdx_quote_6.dat"  # FMSPC 00a06d080000, collateral 2025-11
QUOTE_SPR = TDX / "go-tdx-guest" / "tdx_prod_quote_SPR_E4.dat"  # FMSPC 50806f000000, 2023-07
CHAIN_2025 = TDX / "tcb_signing_chain_2025.pem"  # TCB Signing re-issued 2025 + Root CA
CHAIN_2018 = TDX / "go-tdx-guest" / "tcbInfoIssuerChain.pem"  # TCB Signing 2018 + Root CA
HTML = b"<!DOCTYPE html>\n<html><head><title>Service Unavailable</title></head></html>\n"


def header_pem(pem: bytes) -> str:
    """A PEM chain as PCS puts it in a header: URL-encoded."""
    return urllib.parse.quote(pem.decode("ascii"))


def platform_ca_chain() -> bytes:
    """Intel SGX PCK Platform CA + Root CA, PEM: the issuer chain PCS sends with the PCK CRL,
    taken from the PCK chain embedded in the real SPR_E4 quote."""
    pem = load_quote(str(QUOTE_SPR)).quote.signature.pck_chain_pem
    certs = pck.load_pem_chain(pem, source=str(QUOTE_SPR))
    assert pck.subject_cn(certs[1]) == "Intel SGX PCK Platform CA"
    start = pem.index(b"-----BEGIN CERTIFICATE-----", 1)  # drop the leaf
    return pem[start:].rstrip(b"\0")


@dataclass
class Answer:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before each byte (slow) or before the headers (stall)
    trickle: bool = False  # send the body one byte per `delay`
    cut: int | None = None  # send only this many body bytes, then close (Content-Length full)


@dataclass
class Service:
    url: str
    routes: dict[str, Answer | list[Answer]]  # path with query -> answer(s); else 404
    seen: list[str]

    def route(self, path: str, answer: Answer | list[Answer]) -> None:
        """One answer for every request, or a list served in turn (the last one repeats)."""
        self.routes[path] = answer

    def kds_milan(self) -> None:
        """The VCEK of report_milan.hex and Milan's ASK/ARK, as AMD KDS serves them."""
        self.route(MILAN_VCEK_PATH, Answer(body=MILAN_VCEK.read_bytes(),
                                           headers={"Content-Type": "application/pkix-cert"}))
        self.route("/vcek/v1/Milan/cert_chain", Answer(body=MILAN_CHAIN.read_bytes()))

    def pcs_2025(self) -> None:
        """TCB Info and QE Identity for tdx_quote_6.dat's FMSPC with the 2025 TCB Signing chain
        in their headers (what PCS served in November 2025); no CRLs."""
        chain = header_pem(CHAIN_2025.read_bytes())
        self.route("/tdx/certification/v4/tcb?fmspc=00A06D080000", Answer(
            body=(TDX / "trustee" / "tcbInfo.json").read_bytes(),
            headers={"TCB-Info-Issuer-Chain": chain, "Content-Type": "application/json"}))
        self.route("/tdx/certification/v4/qe/identity", Answer(
            body=(TDX / "trustee" / "enclaveIdentity.json").read_bytes(),
            headers={"SGX-Enclave-Identity-Issuer-Chain": chain}))

    def pcs_2023(self) -> None:
        """The full June 2023 set for the SPR_E4 quote, CRLs included."""
        chain = header_pem(CHAIN_2018.read_bytes())
        gtg = TDX / "go-tdx-guest"
        self.route("/tdx/certification/v4/tcb?fmspc=50806F000000", Answer(
            body=(gtg / "sample_tcbInfo_response").read_bytes(),
            headers={"TCB-Info-Issuer-Chain": chain}))
        self.route("/tdx/certification/v4/qe/identity", Answer(
            body=(gtg / "sample_qeIdentity_response").read_bytes(),
            headers={"SGX-Enclave-Identity-Issuer-Chain": chain}))
        self.route("/sgx/certification/v4/pckcrl?ca=platform&encoding=der", Answer(
            body=(gtg / "pckcrl").read_bytes(),
            headers={"SGX-PCK-CRL-Issuer-Chain": header_pem(platform_ca_chain())}))
        self.route("/sgx/certification/v4/rootcacrl",
                   Answer(body=(gtg / "rootcrl.der").read_bytes()))


MILAN_VCEK_PATH = ("/vcek/v1/Milan/d49554ec717f4e5b0fe6b143bcf0405bd7ae304727edf46603f2a76aef6a3abc"
                   "15d7af38db757039029f0efacfd08e244324884738c72b082e2f87a44d541eb6"
                   "?blSPL=3&teeSPL=0&snpSPL=8&ucodeSPL=115")


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        self.server.seen.append(self.path)
        answer = self.server.routes.get(self.path, Answer(status=404, body=b"Not Found"))
        if isinstance(answer, list):
            answer = answer.pop(0) if len(answer) > 1 else answer[0]
        if answer.delay and not answer.trickle:
            time.sleep(answer.delay)
        try:
            self.send_response(answer.status)
            for k, v in answer.headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(answer.body)))
            self.end_headers()
            body = answer.body if answer.cut is None else answer.body[:answer.cut]
            if answer.trickle:
                for i in range(len(body)):
                    if self.server.stopping.is_set():
                        return
                    self.wfile.write(body[i:i + 1])
                    self.wfile.flush()
                    time.sleep(answer.delay)
            else:
                self.wfile.write(body)
            if answer.cut is not None:
                self.close_connection = True
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up, as it should on a slow answer


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    routes: dict[str, Answer | list[Answer]]
    seen: list[str]
    stopping: threading.Event


@contextmanager
def running(routes: dict[str, Answer | list[Answer]] | None = None) -> Iterator[Service]:
    srv = _Server(("127.0.0.1", 0), _Handler)
    srv.routes, srv.seen, srv.stopping = routes if routes is not None else {}, [], threading.Event()
    thread = threading.Thread(target=srv.serve_forever, name="fake-kds-pcs", daemon=True)
    thread.start()
    try:
        yield Service(f"http://127.0.0.1:{srv.server_address[1]}", srv.routes, srv.seen)
    finally:
        srv.stopping.set()
        srv.shutdown()
        srv.server_close()
        thread.join(timeout=5)


def free_url() -> str:
    """A URL on 127.0.0.1 where nothing listens (connection refused)."""
    with running() as svc:
        url = svc.url
    return url
