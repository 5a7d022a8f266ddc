#!/usr/bin/env python3
"""TDX quote verification rate with warm collateral vs the floor of the bare signature checks.

    .venv/bin/python benchmarks/tdx_verify.py [--seconds S] [--rounds R]

Input: trustee's tdx_quote_6.dat with its TCB Info and QE Identity and Intel's TCB Signing
chain (tests/data/attestation/tdx/), verified at 2025-11-01 (see that folder's PROVENANCE);
every check passes with OutOfDate accepted.

* cocoscope: ``verify(QuoteEvidence(.., parse_quote(raw)), TdxTrust(warm), ...)`` per quote: parse, PCK
  chain (names, pinned root, two certificate signatures, validity), PCK extensions, quote
  signature, QE report signature and binding, collateral checks (the collateral signatures
  are verified once and cached: "warm"), QVL TCB evaluation, policy.
* floor: the four ECDSA P-256 verifications every quote needs, done directly with
  ``cryptography`` on pre-parsed keys and certificates: quote signature, QE report signature,
  PCK leaf by PCK CA, PCK CA by root. Nothing else.

Figures: verifications per second, median of R rounds of about S seconds each, and the ratio.
Within a round the two alternate in slices of 50 floor / 25 cocoscope verifications, so a
change in machine load affects both sides of the ratio alike.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

import cocoscope
from cocoscope.attest.tdx.collateral import load_collateral_dir
from cocoscope.attest.tdx.policy import TdxPolicy
from cocoscope.attest.tdx.quote import QuoteEvidence, parse_quote
from cocoscope.attest.tdx.verify import TdxTrust, verify

REPO = Path(__file__).resolve().parents[1]
TDX = REPO / "tests" / "data" / "attestation" / "tdx"
QUOTE = TDX / "trustee" / "tdx_quote_6.dat"
AT = datetime(2025, 11, 1, tzinfo=UTC)


def timed(fn: Callable[[], object], n: int) -> float:
    start = time.perf_counter()
    for _ in range(n):
        fn()
    return time.perf_counter() - start


def paired_rates(floor: Callable[[], object], ours: Callable[[], object],
                 seconds: float) -> tuple[float, float]:
    """Rates of both, measured in short alternating slices so load changes hit both alike."""
    t_floor = t_ours = 0.0
    n_floor = n_ours = 0
    while t_floor + t_ours < seconds:
        t_floor += timed(floor, 50)
        n_floor += 50
        t_ours += timed(ours, 25)
        n_ours += 25
    return n_floor / t_floor, n_ours / t_ours


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=2.0)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()

    import shutil
    import tempfile

    tmp = Path(tempfile.mkdtemp(prefix="tdx-bench-"))
    for f in (TDX / "trustee" / "tcbInfo.json", TDX / "trustee" / "enclaveIdentity.json",
              TDX / "tcb_signing_chain_2025.pem"):
        shutil.copy(f, tmp / f.name)
    collateral = load_collateral_dir(str(tmp))
    raw = QUOTE.read_bytes()
    policy = TdxPolicy(accepted_tcb=("OutOfDate",))

    def ours() -> object:
        return verify(QuoteEvidence("quote", parse_quote(raw)), TdxTrust(collateral), policy, AT)

    first = verify(QuoteEvidence("quote", parse_quote(raw)), TdxTrust(collateral), policy, AT)
    assert first.facts["tcb_status"] == "OutOfDate", first.facts
    assert first.ok, first.failed

    q = parse_quote(raw)
    sig = q.signature
    certs = x509.load_pem_x509_certificates(sig.pck_chain_pem.rstrip(b"\0"))
    att = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), b"\x04" + sig.attestation_key)
    leaf_key = certs[0].public_key()
    assert isinstance(leaf_key, ec.EllipticCurvePublicKey)

    def der(s: bytes) -> bytes:
        return encode_dss_signature(int.from_bytes(s[:32], "big"), int.from_bytes(s[32:], "big"))

    quote_der, qe_der = der(sig.quote_signature), der(sig.qe_report_signature)
    signed, qe_raw = q.signed_bytes, sig.qe_report.raw
    algo = ec.ECDSA(hashes.SHA256())

    def floor() -> None:
        att.verify(quote_der, signed, algo)
        leaf_key.verify(qe_der, qe_raw, algo)
        certs[0].verify_directly_issued_by(certs[1])
        certs[1].verify_directly_issued_by(certs[2])

    ours_rates, floor_rates, ratios = [], [], []
    for _ in range(args.rounds):
        f, o = paired_rates(floor, ours, args.seconds)
        floor_rates.append(f)
        ours_rates.append(o)
        ratios.append(o / f)
    print(f"cocoscope {cocoscope.__version__}, Python {platform.python_version()}, "
          f"{platform.machine()}, {QUOTE.name}, load average {os.getloadavg()[0]:.1f}")
    print(f"floor (4 bare ECDSA verifications): {statistics.median(floor_rates):8.0f} /s")
    print(f"cocoscope verify, warm:             {statistics.median(ours_rates):8.0f} /s")
    print(f"ratio (median of per-round ratios): {statistics.median(ratios):.2f} "
          f"(rounds: {', '.join(f'{r:.2f}' for r in ratios)})")
    shutil.rmtree(tmp)
    return 0


if __name__ == "__main__":
    sys.exit(main())
