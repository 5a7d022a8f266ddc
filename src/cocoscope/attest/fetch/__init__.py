"""Certificates and collateral from AMD KDS and Intel PCS/PCCS, fetched on request and cached.

``complete`` fills what a verification needs and was not given (cache first; the network only
with ``FetchConfig(network=True)``, i.e. ``--fetch``); ``kds`` and ``pcs`` know the endpoints and
check that each answer is what was asked; ``cache`` keeps the answers for offline reuse;
``http`` bounds every request in time and size. See docs/fetch.md.
"""

from cocoscope.attest.fetch.cache import Cache, Entry, cache_root
from cocoscope.attest.fetch.complete import FetchConfig, annotate, complete
from cocoscope.attest.fetch.http import FetchError, Http
from cocoscope.attest.fetch.source import Provenance, Source

__all__ = ["Cache", "Entry", "FetchConfig", "FetchError", "Http", "Provenance", "Source",
           "annotate", "cache_root", "complete"]
