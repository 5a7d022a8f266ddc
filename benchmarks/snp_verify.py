"""SEV-SNP report verification throughput against the floor: one bare ECDSA P-384 verify.

    .venv/bin/python benchmarks/snp_verify.py [--seconds S] [--rounds N]

A full ``verify`` (parse the 1184 raw bytes, format checks, product, chain with a warm
certificate cache, VCEK TCB/hwID binding, the report signature, the default policy) is timed
against ``cryptography``'s ECDSA P-384/SHA-384 verify of the same signature over the same bytes,
which every correct verifier must do once per report. The peer is that bare call, so no second
virtualenv is needed. Output: one line per measurement and the ratio (aim: >= 0.5).
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import cryptography
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from cocoscope.attest.snp.certs import load_certs
from cocoscope.attest.snp.evidence import parse_evidence
from cocoscope.attest.snp.policy import SnpPolicy
from cocoscope.attest.snp.verify import SnpTrust, verify

SNP = Path(__file__).resolve().parents[1] / "tests" / "data" / "attestation" / "snp"
REPORT = SNP / "trustee" / "test-report.bin"
CERTS = [SNP / "trustee" / "test-vcek.der", SNP / "trustee" / "milan_ask_ark_asvk.pem"]
AT = datetime(2024, 1, 1, tzinfo=UTC)


def rate(fn: Callable[[], object], seconds: float) -> float:
    """Calls per second over at least ``seconds`` of wall time."""
    fn()
    n, start = 0, time.perf_counter()
    while True:
        for _ in range(50):
            fn()
        n += 50
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return n / elapsed


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=2.0, help="per measurement")
    ap.add_argument("--rounds", type=int, default=3, help="alternating rounds; best kept")
    args = ap.parse_args()

    raw = REPORT.read_bytes()
    certs, _ = load_certs([str(p) for p in CERTS])
    policy = SnpPolicy()
    ev = parse_evidence(raw)
    vcek = next(c for c in certs if c.role[0] == "vcek")
    key = vcek.public_key
    assert isinstance(key, ec.EllipticCurvePublicKey)
    sig = encode_dss_signature(ev.report.signature_r, ev.report.signature_s)
    signed = raw[:0x2A0]

    def full() -> None:
        v = verify(parse_evidence(raw), SnpTrust(tuple(certs)), policy, AT)
        if not v.ok:
            raise SystemExit(f"benchmark vector did not verify: {v.failed}")

    def bare() -> None:
        key.verify(sig, signed, ec.ECDSA(hashes.SHA384()))

    full()  # warm the certificate cache (parsed certificates and chain signatures)
    best_full = best_bare = 0.0
    for _ in range(args.rounds):  # alternate so load from other processes hits both alike
        best_bare = max(best_bare, rate(bare, args.seconds))
        best_full = max(best_full, rate(full, args.seconds))
    print(f"machine: {platform.machine()} python {sys.version.split()[0]} "
          f"cryptography {cryptography.__version__}")
    print(f"bare ECDSA P-384 verify (floor): {best_bare:10.0f} /s")
    print(f"cocoscope verify, warm cache:    {best_full:10.0f} /s")
    print(f"ratio full/bare:                 {best_full / best_bare:10.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
