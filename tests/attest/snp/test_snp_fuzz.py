"""Hypothesis fuzzing of the SNP parsers: only InputError may come out, never a false pass."""

from __future__ import annotations

import contextlib

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cocoscope.attest.snp.certs import parse_cert_blob, parse_der
from cocoscope.attest.snp.evidence import parse_cert_table, parse_evidence
from cocoscope.attest.snp.policy import SnpPolicy
from cocoscope.attest.snp.show import describe
from cocoscope.attest.snp.verify import SnpTrust, verify
from cocoscope.errors import InputError
from tests.attest.snp.snp_vectors import GUID, VECTORS, cert_table, hcl_wrap

REAL = {name: v.report.read_bytes() for name, v in VECTORS.items()}
TRUSTEE = VECTORS["trustee-vcek"]
VCEK = parse_der(TRUSTEE.vek.read_bytes(), "vcek")
SETTINGS = settings(max_examples=300, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(st.binary(max_size=3000))
def test_random_bytes(data: bytes) -> None:
    try:
        ev = parse_evidence(data)
    except InputError:
        return
    describe(ev)  # whatever parsed must also display


@SETTINGS
@given(st.binary(min_size=1184, max_size=1184))
def test_random_full_size_reports_never_verify(data: bytes) -> None:
    try:
        ev = parse_evidence(data)
    except InputError:
        return
    describe(ev)
    assert not verify(ev, SnpTrust(tuple([VCEK])), SnpPolicy(), TRUSTEE.at).ok


@SETTINGS
@given(st.dictionaries(st.integers(0, 1183), st.integers(1, 255), min_size=1, max_size=8))
def test_mutated_real_report_never_verifies(edits: dict[int, int]) -> None:
    raw = bytearray(parse_evidence(REAL["trustee-vcek"]).report.raw)
    for pos, xor in edits.items():
        raw[pos] ^= xor
    try:
        ev = parse_evidence(bytes(raw))
    except InputError:
        return
    assert not verify(ev, SnpTrust(tuple([VCEK])), SnpPolicy(), TRUSTEE.at).ok


@SETTINGS
@given(st.binary(max_size=400), st.integers(0, 5), st.integers(0, 2000))
def test_hcl_wrapper(var: bytes, hash_type: int, cut: int) -> None:
    blob = hcl_wrap(REAL["trustee-vcek"], var, hash_type=hash_type)
    try:
        ev = parse_evidence(blob[:len(blob) - cut])
    except InputError:
        return
    assert ev.hcl is not None
    assert not ev.hcl.binding(ev.report)[0]


@SETTINGS
@given(st.binary(max_size=600))
def test_cert_table_and_blobs(data: bytes) -> None:
    for blob in (data, bytes.fromhex(GUID["vcek"].replace("-", "")) + data):
        with contextlib.suppress(InputError):
            parse_cert_table(blob)
        with contextlib.suppress(InputError):
            parse_cert_blob(blob, "fuzz")


@SETTINGS
@given(st.integers(0, 2000), st.integers(1, 255), st.integers(0, 60))
def test_mutated_cert_table(pos: int, xor: int, cut: int) -> None:
    blob = bytearray(cert_table([(GUID["vcek"], TRUSTEE.vek.read_bytes())]))
    blob[pos % len(blob)] ^= xor
    try:
        certs = parse_cert_blob(bytes(blob[:len(blob) - cut]), "fuzz")
    except InputError:
        return
    ev = parse_evidence(REAL["trustee-vcek"])
    v = verify(ev, SnpTrust(tuple(certs)), SnpPolicy(), TRUSTEE.at)
    assert v.ok == (certs == [VCEK] or [c.der for c in certs] == [VCEK.der])
