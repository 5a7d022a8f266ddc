"""The one verification API: load_evidence sniffs the platform, verify routes by evidence type,
and the platform modules share their names (load_evidence, load_trust, verify, verify_file)."""

from __future__ import annotations

import ast
from datetime import UTC, datetime
from pathlib import Path

import pytest

from cocoscope.attest import verify as api
from cocoscope.attest.policy import load_policy
from cocoscope.attest.snp import verify as snp_verify
from cocoscope.attest.snp.evidence import ReportEvidence
from cocoscope.attest.snp.policy import SnpPolicy
from cocoscope.attest.tdx import verify as tdx_verify
from cocoscope.attest.tdx.policy import TdxPolicy
from cocoscope.attest.tdx.quote import QuoteEvidence
from cocoscope.errors import UsageError

SRC = Path(api.__file__).resolve().parent


def test_routes_snp_and_tdx_evidence(testdata: Path) -> None:
    snp = testdata / "attestation/snp/virtee-sev"
    ev = api.load_evidence(str(snp / "report_milan.hex"))
    assert isinstance(ev, ReportEvidence)
    trust = snp_verify.load_trust([str(snp / "vcek_milan.der")])
    v = api.verify(ev, trust, load_policy(SnpPolicy, None), datetime(2024, 1, 1, tzinfo=UTC))
    assert v.kind == "snp-report" and v.ok

    quote = testdata / "attestation/tdx/go-tdx-guest/tdx_prod_quote_SPR_E4.dat"
    qev = api.load_evidence(str(quote))
    assert isinstance(qev, QuoteEvidence)
    pol = TdxPolicy(accepted_tcb=("Unknown",))
    v = api.verify(qev, tdx_verify.load_trust(None), pol, datetime(2023, 7, 1, 1, tzinfo=UTC))
    assert v.kind == "tdx-quote" and v.ok
    with pytest.raises(UsageError, match="TDX collateral and a TDX policy"):
        api.verify(qev, trust, pol, datetime(2023, 7, 1, 1, tzinfo=UTC))
    with pytest.raises(UsageError, match="SNP certificates and an SNP policy"):
        api.verify(ev, tdx_verify.TdxTrust(), SnpPolicy(), datetime(2024, 1, 1, tzinfo=UTC))


def test_platform_modules_share_names() -> None:
    for module in (snp_verify, tdx_verify):
        for name in ("load_trust", "verify", "verify_file"):
            assert callable(getattr(module, name)), f"{module.__name__}.{name}"


def test_tdx_does_not_import_the_snp_package() -> None:
    for path in (SRC / "tdx").glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                assert not node.module.startswith("cocoscope.attest.snp"), path.name
