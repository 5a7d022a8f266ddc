"""Flipping any single byte of a real report's signed region, or of any certificate, is refused.

Refused means: ``InputError`` (the input no longer parses) or a Verification that is not ok.
No other exception may escape. The loops cover every byte; signatures of unchanged certificates
are cached, so a run costs one ECDSA verify (plus one RSA verify for certificate flips) per case.
"""

from __future__ import annotations

import pytest

from cocoscope.attest.snp.certs import parse_der
from cocoscope.attest.snp.evidence import load_evidence, parse_evidence
from cocoscope.attest.snp.policy import SnpPolicy
from cocoscope.attest.snp.report import REPORT_SIZE, SIGNED_END
from cocoscope.attest.snp.verify import SnpTrust, verify
from cocoscope.errors import InputError
from tests.attest.snp.snp_vectors import VECTORS, Vector, pem_certs

# Every vector must pass untouched: DEBUG (go-sev-guest) and provisional firmware (trustee) allowed.
POLICY = SnpPolicy(allow_debug=True, permit_provisional_firmware=True)


def _raw_report(vec: Vector) -> bytes:
    return load_evidence(str(vec.report)).report.raw


def _refused(report: bytes, certs: list[bytes], vec: Vector) -> bool:
    try:
        ev = parse_evidence(report, path="tampered")
        parsed = [parse_der(der, f"cert{i}") for i, der in enumerate(certs)]
    except InputError:
        return True
    return not verify(ev, SnpTrust(tuple(parsed)), POLICY, vec.at).ok


def _chain(vec: Vector) -> list[bytes]:
    assert vec.chain is not None
    return [vec.vek.read_bytes(), *pem_certs(vec.chain)]


def test_untouched_vectors_pass(snp_vector: Vector) -> None:
    assert not _refused(_raw_report(snp_vector), _chain(snp_vector), snp_vector)


def test_every_report_byte_flip_is_refused(snp_vector: Vector) -> None:
    raw, certs = _raw_report(snp_vector), _chain(snp_vector)
    accepted = []
    for i in range(REPORT_SIZE):  # the signed region and the signature itself
        flipped = bytearray(raw)
        flipped[i] ^= 0x01 if i < SIGNED_END else 0xFF
        if not _refused(bytes(flipped), certs, snp_vector):
            accepted.append(hex(i))
    assert accepted == []


@pytest.mark.parametrize("which", [0, 1, 2], ids=["vek", "ask-or-asvk", "ark"])
def test_every_certificate_byte_flip_is_refused(snp_vector: Vector, which: int) -> None:
    if which and snp_vector.name not in ("go-sev-guest", "trustee-vlek"):
        # ASK and ARK files of the other vectors are byte-identical to go-sev-guest's
        # (see test below); flipping them again would test the same bytes.
        assert _chain(snp_vector)[which] == _chain(VECTORS["go-sev-guest"])[which]
        return
    raw, certs = _raw_report(snp_vector), _chain(snp_vector)
    accepted = []
    for i in range(len(certs[which])):
        der = bytearray(certs[which])
        der[i] ^= 0x01
        tampered = list(certs)
        tampered[which] = bytes(der)
        if not _refused(raw, tampered, snp_vector):
            accepted.append(i)
    assert accepted == []
