"""HTTP GET with bounded time and size, retries on transient failures, errors naming the URL.

urllib3 does the connection work (pooling, TLS verification with the system's CA store through
the standard ``ssl`` module, retries with backoff). What it does not bound is added here: a whole
request, retries included, must finish within ``deadline`` seconds, and a body larger than
``max_body`` is refused rather than read to the end. A server that trickles bytes therefore ends
in a clear error instead of a hang.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import urllib3
from urllib3.exceptions import HTTPError, MaxRetryError
from urllib3.util import Retry, Timeout

from cocoscope.errors import InputError

# Generous for AMD KDS and Intel PCS (answers in well under a second), short enough that a dead
# server is reported quickly. Each is overridable for slow PCCS deployments.
CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 15.0
DEADLINE = 45.0
RETRIES = 2  # after the first try: transient network errors, 429 and 5xx
MAX_BODY = 1 << 20  # a VCEK is ~1.4 KiB, a TCB Info ~8 KiB, a PCK CRL ~3 KiB
_CHUNK = 16 << 10
USER_AGENT = "cocoscope (collateral fetch)"


class FetchError(InputError):
    """A certificate or collateral item could not be fetched, or the answer is not what was
    asked; ``path`` is the URL. Exit code 3, like any input that cannot be used."""


@dataclass(frozen=True)
class Response:
    url: str
    status: int
    headers: dict[str, str]  # names lower-cased
    body: bytes


@dataclass
class Http:
    """One client per command run; ``requests`` counts what went to the network (tests)."""

    connect_timeout: float = CONNECT_TIMEOUT
    read_timeout: float = READ_TIMEOUT
    deadline: float = DEADLINE
    retries: int = RETRIES
    max_body: int = MAX_BODY
    requests: list[str] = field(default_factory=list)
    _pool: urllib3.PoolManager | None = field(default=None, repr=False)

    def _manager(self) -> urllib3.PoolManager:
        if self._pool is None:
            retry = Retry(total=self.retries, connect=self.retries, read=self.retries,
                          status=self.retries, backoff_factor=0.3, allowed_methods={"GET"},
                          status_forcelist={429, 500, 502, 503, 504}, redirect=3,
                          raise_on_status=False, respect_retry_after_header=False)
            self._pool = urllib3.PoolManager(
                retries=retry, timeout=Timeout(connect=self.connect_timeout,
                                               read=self.read_timeout),
                headers={"User-Agent": USER_AGENT})
        return self._pool

    def get(self, url: str, headers: dict[str, str] | None = None) -> Response:
        """GET ``url``; FetchError on a network failure, a timeout or an oversized body.

        Any HTTP status is returned (callers decide what 404 means); a 5xx that persists after
        the retries is returned too, with its status."""
        if not url.startswith(("http://", "https://")):
            raise FetchError("not an http(s) URL", path=url)
        self.requests.append(url)
        start = time.monotonic()
        try:
            resp = self._manager().request("GET", url, headers=headers, preload_content=False)
        except MaxRetryError as exc:
            raise FetchError(f"request failed: {_reason(exc.reason)}", path=url) from None
        except (HTTPError, OSError, ValueError) as exc:
            raise FetchError(f"request failed: {_reason(exc)}", path=url) from None
        try:
            declared = resp.headers.get("Content-Length")
            if declared is not None and declared.isdigit() and int(declared) > self.max_body:
                raise FetchError(f"response of {declared} bytes is larger than the "
                                 f"{self.max_body}-byte limit", path=url)
            chunks: list[bytes] = []
            size = 0
            while True:
                if time.monotonic() - start > self.deadline:
                    raise FetchError(f"no complete answer within {self.deadline:g} s", path=url)
                try:
                    chunk = resp.read1(_CHUNK)  # whatever arrived: a trickle cannot
                    # keep one call waiting for a full chunk past the deadline
                except (HTTPError, OSError) as exc:
                    raise FetchError(f"reading the response failed: {_reason(exc)}",
                                     path=url) from None
                if not chunk:
                    break
                size += len(chunk)
                if size > self.max_body:
                    raise FetchError(f"response is larger than the {self.max_body}-byte limit",
                                     path=url)
                chunks.append(chunk)
            return Response(url, resp.status,
                            {k.lower(): v for k, v in resp.headers.items()}, b"".join(chunks))
        finally:
            resp.release_conn()


def _reason(exc: BaseException | None) -> str:
    """A one-line reason without urllib3's object reprs."""
    if exc is None:
        return "unknown error"
    # ProtocolError carries (message, cause): the message alone reads well.
    text = exc.args[0] if exc.args and isinstance(exc.args[0], str) else str(exc)
    # "HTTPConnectionPool(host=..., port=...): Max retries exceeded ... (Caused by X('...'))"
    if "Caused by " in text:
        text = text.split("Caused by ", 1)[1].rstrip(")")
    if ": " in text and text.startswith("<"):
        text = text.split(": ", 1)[1]
    return text.strip() or type(exc).__name__
