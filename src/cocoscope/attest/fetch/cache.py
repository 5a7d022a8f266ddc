"""The collateral cache: what was fetched from AMD KDS or Intel PCS, kept for offline reuse.

Layout under ``$COCOSCOPE_CACHE/attest`` (default ``~/.cache/cocoscope/attest``; see ``cache_root``): one directory
per item, named by the SHA-256 of its key (what was asked, e.g. ``pcs/tcb/tdx/00a06d080000``),
holding ``body`` (the bytes as served) and ``meta.json`` (the key, the URL, the response
headers, when it was fetched and until when it is valid). Both are written to a temporary name
and renamed, so a crash leaves either the old entry or the new one.

An entry is *fresh* for a verification at time T while T is not past its ``valid_until``
(``nextUpdate`` of a TCB Info, QE Identity or CRL; ``notAfter`` of a certificate). Nothing in
the cache is trusted because it is cached: every item is checked again by the verifier, as a
file the user supplied would be.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from cocoscope.errors import InputError
from cocoscope.evidence import files

# The fetch layer refuses bodies above 1 MiB, so a bigger file in the cache is damage.
_ENTRY = files.InputKind("cached collateral", 1 << 20)


def cache_root() -> Path:
    """$COCOSCOPE_ATTEST_CACHE, else $COCOSCOPE_CACHE/attest, else ~/.cache/cocoscope/attest.
    (The first lets the test suite keep collateral apart from the Debian package cache.)"""
    own = os.environ.get("COCOSCOPE_ATTEST_CACHE")
    if own:
        return Path(own)
    base = os.environ.get("COCOSCOPE_CACHE")
    root = Path(base) if base else Path.home() / ".cache" / "cocoscope"
    return root / "attest"


@dataclass(frozen=True)
class Entry:
    key: str
    url: str
    fetched_at: datetime
    valid_until: datetime | None  # None: no end known (kept until cleared)
    headers: dict[str, str]
    body: bytes
    path: str  # the entry's directory

    def fresh_at(self, at: datetime) -> bool:
        return self.valid_until is None or at <= self.valid_until


class Cache:
    def __init__(self, root: Path | None = None) -> None:
        self.root = root if root is not None else cache_root()

    def _dir(self, key: str) -> Path:
        return self.root / hashlib.sha256(key.encode()).hexdigest()[:32]

    def get(self, key: str) -> Entry | None:
        """The entry for ``key``, or None when absent. A damaged entry is treated as absent
        (and removed), never as data: the next fetch replaces it."""
        d = self._dir(key)
        if not (d / "meta.json").is_file():
            return None
        entry = _read_entry(d)
        if entry is None or entry.key != key:
            shutil.rmtree(d, ignore_errors=True)
            return None
        return entry

    def put(self, key: str, url: str, headers: dict[str, str], body: bytes,
            fetched_at: datetime, valid_until: datetime | None) -> Entry:
        d = self._dir(key)
        try:
            d.mkdir(parents=True, exist_ok=True)
            _atomic_write(d / "body", body)
            meta = {"key": key, "url": url, "fetched_at": fetched_at.isoformat(),
                    "valid_until": valid_until.isoformat() if valid_until else None,
                    "headers": headers, "size": len(body),
                    "sha256": hashlib.sha256(body).hexdigest()}
            _atomic_write(d / "meta.json", json.dumps(meta, indent=2).encode())
        except OSError as exc:
            raise InputError(f"cannot write the collateral cache: {exc.strerror or exc}",
                             path=str(d)) from None
        return Entry(key, url, fetched_at, valid_until, headers, body, str(d))

    def entries(self) -> list[Entry]:
        if not self.root.is_dir():
            return []
        out = [e for d in sorted(self.root.iterdir()) if d.is_dir()
               and (e := _read_entry(d)) is not None]
        return sorted(out, key=lambda e: e.key)

    def clear(self, prefix: str = "") -> int:
        """Remove every entry whose key starts with ``prefix``; how many were removed."""
        n = 0
        if not self.root.is_dir():
            return 0
        for d in list(self.root.iterdir()):
            if not d.is_dir():
                continue
            entry = _read_entry(d)
            if entry is None or entry.key.startswith(prefix):
                shutil.rmtree(d, ignore_errors=True)
                n += entry is not None
        return n


def _atomic_write(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _read_entry(d: Path) -> Entry | None:
    try:
        # The bounded reader: a FIFO or an oversized file planted in the cache is refused at
        # once rather than read (or waited on) forever.
        meta = json.loads(files.read_input(str(d / "meta.json"), _ENTRY).decode("utf-8"))
        body = files.read_input(str(d / "body"), _ENTRY)
        if hashlib.sha256(body).hexdigest() != meta["sha256"]:
            return None  # torn or edited: not what was fetched
        until = meta["valid_until"]
        return Entry(str(meta["key"]), str(meta["url"]),
                     datetime.fromisoformat(meta["fetched_at"]),
                     datetime.fromisoformat(until) if until else None,
                     {str(k): str(v) for k, v in dict(meta["headers"]).items()}, body, str(d))
    except (InputError, OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
