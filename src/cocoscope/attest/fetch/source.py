"""Cache first, network only when asked: the one place that decides where an item comes from.

``Source.get(item, at)`` returns the cached entry when it is fresh at ``at``; otherwise, with
``network`` on (``--fetch``), fetches it, checks that the answer is what was asked (the item's
``check``), caches it and returns it; with ``network`` off, returns a stale entry marked stale,
or nothing. Every decision is recorded in ``log`` so the result can say where each certificate
and collateral item came from. Without ``--fetch`` no ``Http`` object exists at all, so no
request can be made by mistake.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from cocoscope.attest.fetch.cache import Cache, Entry
from cocoscope.attest.fetch.http import FetchError, Http, Response


@dataclass(frozen=True)
class Item:
    key: str  # what was asked, e.g. "kds/vcek/Milan/<hwid>/bl=3,tee=0,snp=8,ucode=115"
    url: str
    what: str  # for messages: "VCEK for Milan chip 3ac3fe21…"
    # Raises FetchError when the response is not what was asked; returns its valid_until.
    check: Callable[[Response], datetime | None]
    optional: bool = False  # 404 means "not served" (CRLs), not an error
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Provenance:
    what: str
    state: str  # "cached", "cached, stale", "fetched", "not served", "not cached"
    where: str  # cache directory or URL ("" when nothing was found)

    def line(self) -> str:
        return f"{self.what}: {self.state}" + (f" ({self.where})" if self.where else "")


@dataclass
class Source:
    cache: Cache
    http: Http | None  # None: offline (no --fetch)
    log: list[Provenance] = field(default_factory=list)
    now: Callable[[], datetime] = lambda: datetime.now(UTC)

    @property
    def network(self) -> bool:
        return self.http is not None

    def get(self, item: Item, at: datetime) -> Entry | None:
        cached = self.cache.get(item.key)
        if cached is not None and cached.fresh_at(at):
            self.log.append(Provenance(item.what, "cached", cached.path))
            return cached
        if self.http is None:
            if cached is not None:
                until = cached.valid_until.isoformat() if cached.valid_until else "?"
                self.log.append(Provenance(
                    item.what, f"cached, stale (valid until {until}; --fetch refreshes it)",
                    cached.path))
                return cached
            self.log.append(Provenance(item.what, "not cached (--fetch would fetch it)", ""))
            return None
        resp = self.http.get(item.url, item.headers)
        if resp.status == 404 and item.optional:
            self.log.append(Provenance(item.what, "not served", item.url))
            return None
        if resp.status != 200:
            raise FetchError(f"HTTP {resp.status} for the {item.what}{_error_hint(resp)}",
                             path=item.url)
        valid_until = item.check(resp)
        entry = self.cache.put(item.key, item.url, resp.headers, resp.body, self.now(),
                               valid_until)
        self.log.append(Provenance(item.what, "fetched", item.url))
        return entry


def _error_hint(resp: Response) -> str:
    """PCS puts the reason of a 4xx in a header; show it (bounded) when present."""
    for name in ("error-code", "error-message", "request-id"):
        if name in resp.headers:
            return f" ({name}: {resp.headers[name][:120]})"
    return ""


def looks_like_html(body: bytes) -> bool:
    head = body.lstrip()[:64].lower()
    return head.startswith((b"<!doctype html", b"<html", b"<?xml", b"<head", b"<body"))


def not_what_was_asked(resp: Response, what: str, why: str) -> FetchError:
    """The one wording for an answer of the wrong kind (HTML page, truncated DER, ...)."""
    if looks_like_html(resp.body):
        why = "the server answered with an HTML page"
    elif not resp.body:
        why = "the response is empty"
    return FetchError(f"not the {what} asked for: {why}", path=resp.url)
