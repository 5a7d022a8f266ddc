"""PCK helpers: pinned root, DER shortcuts checked against cryptography, SGX extensions."""

from __future__ import annotations

import base64
import hashlib
import re
import warnings

import pytest
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID
from hypothesis import given, settings
from hypothesis import strategies as st

from cocoscope.attest.tdx import pck
from cocoscope.attest.tdx.collateral import load_collateral_dir
from cocoscope.attest.tdx.policy import TdxPolicy
from cocoscope.attest.tdx.quote import QuoteEvidence, parse_quote
from cocoscope.attest.tdx.verify import TdxTrust, verify
from cocoscope.errors import InputError
from tests.attest.tdx.tdx_quote_vectors import ALL_QUOTES, GTG, GTG_TIME, REISSUED_CHAIN, SPR_E4


def test_packaged_root_matches_pin_and_go_tdx_guest_copy():
    root = pck.pinned_root()
    assert hashlib.sha256(root.public_bytes(Encoding.DER)).hexdigest() == pck.INTEL_SGX_ROOT_CA_SHA256
    theirs = pck.load_pem_chain((GTG / "trusted_root_Intel_SGX_Root_CA.pem").read_bytes(), source="r")
    assert theirs[0] == root


@pytest.mark.parametrize("path", ALL_QUOTES, ids=lambda p: p.name)
def test_subject_cn_from_der_equals_cryptography(path):
    q = parse_quote(path.read_bytes())
    for cert in pck.load_pem_chain(q.signature.pck_chain_pem, source=str(path)):
        (attr,) = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        assert pck.subject_cn(cert) == attr.value


def test_subject_cn_of_collateral_chain():
    certs = pck.load_pem_chain(REISSUED_CHAIN.read_bytes(), source="c")
    assert [pck.subject_cn(c) for c in certs] == [pck.TCB_SIGNING_CN, pck.ROOT_CN]


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
        v = verify(QuoteEvidence("<quote>", parse_quote(data)), TdxTrust(), TdxPolicy(), GTG_TIME)
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
        verify(QuoteEvidence("<quote>", parse_quote(_RAW)), TdxTrust(col), TdxPolicy(), GTG_TIME)
