"""Certificates and collateral from AMD KDS and Intel PCS/PCCS, fetched on request and cached.

``config.FetchConfig`` says whether the network may be used (``--fetch``) and where;
``complete`` fills what a verification needs and was not given (cache first, the network only
when allowed); ``kds`` and ``pcs`` know the endpoints and check that each answer is what was
asked; ``cache`` keeps the answers for offline reuse; ``http`` bounds every request in time and
size; ``bundle`` writes a directory for air-gapped verification. See docs/fetch.md.

Nothing is imported here: the command-line parsers import ``config`` alone, so that urllib3 and
cryptography load only when a fetch or a verification runs.
"""
