"""Content-addressed result cache: a re-run after one edited file re-parses about that file.

Entries are pickles of the scanner's own frozen records, named by a hash of the file content,
the scanner version and whatever else the result depends on; a stale entry is simply never
looked up again. Writes go through a temporary file and ``os.replace`` so concurrent workers
and interrupted runs never leave a torn entry.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pickle
from pathlib import Path
from typing import Any

# Bump when the extraction or grading logic changes what a cached entry would contain.
SCANNER_VERSION = "surface-14"


def default_dir() -> Path:
    base = os.environ.get("COCOSCOPE_CACHE")
    root = Path(base) if base else Path.home() / ".cache" / "cocoscope"
    return root / "surface"


def digest(*parts: bytes | str) -> str:
    h = hashlib.blake2b(digest_size=20)
    for p in parts:
        h.update(p.encode() if isinstance(p, str) else p)
        h.update(b"\0")
    return h.hexdigest()


class Cache:
    def __init__(self, root: Path | None) -> None:
        self.root = root

    def _path(self, kind: str, key: str) -> Path:
        assert self.root is not None
        return self.root / kind / key[:2] / f"{key}.pkl"

    def get(self, kind: str, key: str) -> Any:
        if self.root is None:
            return None
        try:
            with open(self._path(kind, key), "rb") as fh:
                return pickle.load(fh)
        except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError):
            return None

    def put(self, kind: str, key: str, value: Any) -> None:
        if self.root is None:
            return
        path = self._path(kind, key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            with open(tmp, "wb") as fh:
                pickle.dump(value, fh, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, path)
        except OSError:
            pass  # a read-only or full cache only costs speed, never correctness

    def delete(self, kind: str, key: str) -> None:
        if self.root is None or not key:
            return
        # Already gone (another run replaced it) or a read-only cache: harmless either way.
        with contextlib.suppress(OSError):
            self._path(kind, key).unlink()
