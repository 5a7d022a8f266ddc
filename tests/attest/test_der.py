"""The one DER reader (attest/der.py): strict DER, and the fast OID-pair walk agrees with the
plain one on arbitrary (damaged) input."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cocoscope.attest import der


def tlv(tag: int, value: bytes) -> bytes:
    n = len(value)
    head = (bytes([n]) if n < 0x80 else bytes([0x81, n]) if n < 0x100
            else bytes([0x82]) + n.to_bytes(2, "big"))
    return bytes([tag]) + head + value


def test_read_short_and_long_lengths():
    assert der.read(tlv(0x04, b"ab")) == (0x04, 2, 4)
    long = tlv(0x04, bytes(200))
    assert der.read(long) == (0x04, 3, 203)
    assert der.items(tlv(2, b"\x01") + tlv(4, b"xy")) == [(2, b"\x01"), (4, b"xy")]


@pytest.mark.parametrize("data, why", [
    (b"\x04", "truncated"),
    (b"\x04\x80", "indefinite length"),
    (b"\x04\x81\x05hello", "shortest form"),  # 5 fits the short form
    (b"\x04\x82\x00\x80" + bytes(128), "shortest form"),  # leading zero length byte
    (b"\x04\x85\x00\x00\x00\x00\x01x", "bad length"),  # more than 4 length bytes
    (b"\x04\x03ab", "runs past"),
    (b"\x1f\x01\x01x", "multi-byte tag"),
])
def test_read_refuses_what_is_not_der(data, why):
    with pytest.raises(der.DerError, match=why):
        der.read(data)


def test_single_and_unsigned():
    assert der.single(tlv(2, b"\x00\xff"), der.INTEGER) == b"\x00\xff"
    assert der.unsigned(b"\x00\xff") == 255
    with pytest.raises(der.DerError, match="expected one element"):
        der.single(tlv(2, b"\x01") + b"\x00", der.INTEGER)
    with pytest.raises(der.DerError, match="expected one element"):
        der.single(tlv(4, b"\x01"), der.INTEGER)
    with pytest.raises(der.DerError, match="negative"):
        der.unsigned(b"\xff")
    with pytest.raises(der.DerError, match="empty"):
        der.unsigned(b"")


def _pair(oid: bytes, tag: int, value: bytes) -> bytes:
    return tlv(0x30, tlv(0x06, oid) + tlv(tag, value))


def test_oid_pairs_refuses_a_second_answer():
    with pytest.raises(der.DerError, match="twice"):
        der.oid_pairs(_pair(b"\x2a", 2, b"\x01") + _pair(b"\x2a", 2, b"\x02"))


def _reference_pairs(content: bytes) -> dict[bytes, tuple[int, bytes]]:
    """The plain structural walk the fast path must agree with."""
    out = {}
    for tag, body in der.items(content, "ref"):
        if tag != 0x30:
            raise ValueError("not a sequence")
        inner = der.items(body, "ref")
        if len(inner) != 2 or inner[0][0] != 0x06:
            raise ValueError("not a pair")
        if inner[0][1] in out:
            raise ValueError("twice")
        out[inner[0][1]] = inner[1]
    return out


def _result(fn, data):
    try:
        return fn(data)
    except ValueError:
        return "error"


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.binary(min_size=1, max_size=12), st.sampled_from([2, 4, 0x30, 0x0A]),
                          st.binary(max_size=200)), max_size=6),
       st.lists(st.tuples(st.integers(0, 400), st.integers(0, 255)), max_size=3))
def test_fast_pair_walk_agrees_with_reference(pairs, edits):
    data = bytearray(b"".join(_pair(o, t, v) for o, t, v in pairs))
    for off, val in edits:
        if off < len(data):
            data[off] = val
    assert _result(lambda d: der.oid_pairs(d, "t"), bytes(data)) == \
        _result(_reference_pairs, bytes(data))


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_arbitrary_bytes_raise_only_der_errors(data):
    for fn in (der.items, der.oid_pairs, lambda d: der.single(d, 0x30)):
        with contextlib.suppress(der.DerError):
            fn(data)
