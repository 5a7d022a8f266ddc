"""Where the test suite's own inputs are, for module-level tables (fixtures use ``testdata``).

Every file under ``data/`` carries a provenance line in the PROVENANCE file of its folder.
"""

from __future__ import annotations

from pathlib import Path

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent
DATA = TESTS / "data"
ATTESTATION = DATA / "attestation"
