"""Where fetched collateral may come from: flags, environment and defaults, without importing
the HTTP or crypto machinery (every command's parser imports this)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cocoscope.attest.fetch.http import Http
    from cocoscope.attest.fetch.source import Source

KDS_URL = "https://kdsintf.amd.com"
KDS_ENV = "COCOSCOPE_KDS_URL"
PCS_URL = "https://api.trustedservices.intel.com"
PCS_ENV = "COCOSCOPE_PCS_URL"
PCS_API_KEY_ENV = "COCOSCOPE_PCS_API_KEY"


@dataclass(frozen=True)
class FetchConfig:
    """How missing items may be obtained. ``network`` False (the default) never connects."""

    network: bool = False
    kds_url: str = KDS_URL
    pcs_url: str = PCS_URL
    api_key: str | None = None
    cache_root: Path | None = None  # None: cache.cache_root()
    http: Http | None = None  # tests pass one with short timeouts

    @classmethod
    def from_env(cls, network: bool, kds_url: str | None = None,
                 pcs_url: str | None = None) -> FetchConfig:
        """Flags first, then COCOSCOPE_KDS_URL / COCOSCOPE_PCS_URL / COCOSCOPE_PCS_API_KEY."""
        return cls(network,
                   kds_url or os.environ.get(KDS_ENV) or KDS_URL,
                   pcs_url or os.environ.get(PCS_ENV) or PCS_URL,
                   os.environ.get(PCS_API_KEY_ENV) or None)

    def source(self) -> Source:
        from cocoscope.attest.fetch.cache import Cache
        from cocoscope.attest.fetch.http import Http
        from cocoscope.attest.fetch.source import Source

        http = (self.http or Http()) if self.network else None
        return Source(Cache(self.cache_root), http)
