"""PCK helpers: pinned root, DER shortcuts checked against cryptography, SGX extensions."""

from __future__ import annotations

import base64
import hashlib
import re
import sys
import warnings
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID
from hypothesis import given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).parent))  # importlib mode: helper module beside us
from tdx_quote_vectors import ALL_QUOTES, GTG, GTG_TIME, REISSUED_CHAIN, SPR_E4

from cocoscope.attest.tdx import pck
from cocoscope.attest.tdx.collateral import load_collateral_dir
from cocoscope.attest.tdx.quote import parse_quote
from cocoscope.attest.tdx.verify import verify_quote
from cocoscope.errors import InputError


def test_packaged_root_matches_pin_and_shared_copy():
    root = pck.pinned_root()
    assert hashlib.sha256(root.public_bytes(Encoding.DER)).hexdigest() == pck.INTEL_SGX_ROOT_CA_SHA256
    shared = pck.load_pem_chain((GTG / "trusted_root_Intel_SGX_Root_CA.pem").read_bytes(), source="r")
    assert shared[0] == root


@pytest.mark.parametrize("path", ALL_QUOTES, ids=lambda p: p.name)
def test_subject_cn_from_der_equals_cryptography(path):
    q = parse_quote(path.read_bytes())
    for cert in pck.load_pem_chain(q.signature.pck_chain_pem, source=str(path)):
        (attr,) = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        assert pck.subject_cn(cert) == attr.value


def test_subject_cn_of_collateral_chain():
    certs = pck.load_pem_chain(REISSUED_CHAIN.read_bytes(), source="c")
    assert [pck.subject_cn(c) for c in certs] == [pck.TCB_SIGNING_CN, pck.ROOT_CN]


def _reference_pairs(content: bytes) -> dict[bytes, tuple[int, bytes]]:
    """The plain structural walk the fast path must agree with."""
    out = {}
    for tag, body in pck._der_items(content, "ref"):
        if tag != 0x30:
            raise ValueError("not a sequence")
        inner = pck._der_items(body, "ref")
        if len(inner) != 2 or inner[0][0] != 0x06:
            raise ValueError("not a pair")
        out[inner[0][1]] = inner[1]
    return out


def _result(fn, data):
    try:
        return fn(data)
    except ValueError:
        return "error"


def _pair(oid: bytes, tag: int, value: bytes) -> bytes:
    def tlv(t: int, v: bytes) -> bytes:
        n = len(v)
        head = bytes([n]) if n < 0x80 else bytes([0x81, n]) if n < 0x100 else bytes([0x82]) + n.to_bytes(2, "big")
        return bytes([t]) + head + v
    return tlv(0x30, tlv(0x06, oid) + tlv(tag, value))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.binary(min_size=1, max_size=12), st.sampled_from([2, 4, 0x30, 0x0A]),
                          st.binary(max_size=200)), max_size=6),
       st.lists(st.tuples(st.integers(0, 400), st.integers(0, 255)), max_size=3))
def test_fast_pair_walk_agrees_with_reference(pairs, edits):
    data = bytearray(b"".join(_pair(o, t, v) for o, t, v in pairs))
    for off, val in edits:
        if off < len(data):
            data[off] = val
    assert _result(lambda d: pck._pairs(d, "t"), bytes(data)) == _result(_reference_pairs, bytes(data))


def test_extensions_of_every_vector():
    seen = {}
    for path in ALL_QUOTES:
        q = parse_quote(path.read_bytes())
        ext = pck.pck_extensions(pck.load_pem_chain(q.signature.pck_chain_pem, source="q")[0], source="q")
        assert len(ext.tcb_components) == 16 and len(ext.cpusvn) == 16 and ext.pce_id == b"\0\0"
        seen[path.name] = ext.fmspc.hex()
    assert seen["tdx_prod_quote_SPR_E4.dat"] == "50806f000000"
    assert seen["quote_v5_sample.dat"] == "90c06f000000"
    assert seen["tdx_quote_6.dat"] == "00a06d080000"


_RAW = SPR_E4.read_bytes()
_BLOCKS = list(re.finditer(rb"-----BEGIN CERTIFICATE-----\n(.+?)-----END", _RAW, re.S))


def _with_der_edits(blob: bytes, block: re.Match[bytes], edits) -> bytes:
    der = bytearray(base64.b64decode(block.group(1)))
    for off, val in edits:
        der[off % len(der)] = val
    b64 = base64.b64encode(bytes(der))
    pem = b"\n".join(b64[i : i + 64] for i in range(0, len(b64), 64)) + b"\n"
    return blob[: block.start(1)] + pem + blob[block.end(1) :]


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 2), st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)),
                                   min_size=1, max_size=3))
def test_fuzz_certificate_der_in_quote(which, edits):
    data = _with_der_edits(_RAW, _BLOCKS[which], edits)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # serial-number deprecation warnings on mutated certs
        v = verify_quote(parse_quote(data), at=GTG_TIME)
    if data != _RAW:
        assert not v.ok


_CHAIN = (GTG / "tcbInfoIssuerChain.pem").read_bytes()
_CHAIN_BLOCKS = list(re.finditer(rb"-----BEGIN CERTIFICATE-----\n(.+?)-----END", _CHAIN, re.S))


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 1), st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)),
                                   min_size=1, max_size=3))
def test_fuzz_collateral_chain_der(tmp_path_factory, which, edits):
    d = tmp_path_factory.mktemp("col")
    (d / "chain.pem").write_bytes(_with_der_edits(_CHAIN, _CHAIN_BLOCKS[which], edits))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            col = load_collateral_dir(str(d))
        except InputError:
            return
        verify_quote(parse_quote(_RAW), collateral=col, at=GTG_TIME)
