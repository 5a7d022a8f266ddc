"""TDX quote parser on the real vectors, malformed input, and fuzzing."""

from __future__ import annotations

import contextlib
import struct

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cocoscope.attest.tdx.quote import BODY_TYPE_TDX15, parse_quote
from cocoscope.errors import InputError
from tests.attest.tdx.tdx_quote_vectors import ALL_QUOTES, COS, Q4, Q5, Q6, SPR_E4, V5_SAMPLE
from tests.paths import ATTESTATION


@pytest.mark.parametrize(
    ("path", "version", "body_type", "size", "trailing"),
    [
        (SPR_E4, 4, 2, 4974, 39),
        (V5_SAMPLE, 5, 3, 5006, 0),
        (COS, 4, 2, 8000, 3065),
        (Q4, 4, 2, 4936, 0),
        (Q5, 5, 3, 5006, 0),
        (Q6, 4, 2, 5006, 70),
    ],
)
def test_layout_of_each_vector(path, version, body_type, size, trailing):
    q = parse_quote(path.read_bytes(), source=str(path))
    assert (q.header.version, q.body_type, q.size, len(q.trailing)) == (version, body_type, size, trailing)
    assert q.header.tee_type == 0x81 and q.header.att_key_type == 2
    # v4 signs header+body (0x278 bytes); v5 additionally the 6-byte type/size prefix.
    assert len(q.signed_bytes) == (0x278 if version == 4 else 54 + (648 if body_type == 3 else 584))
    assert q.signature.pck_chain_pem.count(b"BEGIN CERTIFICATE") == 3
    assert len(q.signature.qe_auth_data) == 32
    assert q.signature.qe_report.isv_prod_id == 2  # the TD quoting enclave


def test_spr_e4_fields_match_sources_md():
    q = parse_quote(SPR_E4.read_bytes())
    b = q.body
    assert b.tee_tcb_svn.hex().startswith("030004")
    assert b.td_attributes == 0x40000000  # PKS only
    assert b.mrtd.hex().startswith("6363b804") and b.mrtd.hex().endswith("215cbb")
    assert b.rtmrs[0].hex().startswith("2927da70")
    assert b.rtmrs[3] == bytes(48)
    assert b.tee_tcb_svn2 is None and b.mrservicetd is None
    assert q.tdx_version == "1.0"


def test_v5_body_has_tdx15_fields():
    q = parse_quote(V5_SAMPLE.read_bytes())
    assert q.body_type == BODY_TYPE_TDX15 and q.tdx_version == "1.5"
    assert q.body.tee_tcb_svn2 is not None and len(q.body.tee_tcb_svn2) == 16
    assert q.body.mrservicetd is not None and len(q.body.mrservicetd) == 48


def test_debug_td_attribute_of_quote_4():
    assert parse_quote(Q4.read_bytes()).body.td_attributes == 0x10000001


def test_cos_report_data_is_the_nonce():
    nonce = (COS.parent / "nonce.dat").read_bytes()
    assert parse_quote(COS.read_bytes()).body.report_data == nonce


@pytest.mark.parametrize("cut", [0, 1, 47, 48, 100, 0x278, 0x27B, 0x27C, 0x300, 1200, 4000])
def test_truncation_is_input_error_with_offset(cut):
    data = SPR_E4.read_bytes()[:cut]
    with pytest.raises(InputError) as exc:
        parse_quote(data, source="q.bin")
    assert "q.bin" in str(exc.value) and "offset" in str(exc.value)


@pytest.mark.parametrize(
    ("offset", "value", "message"),
    [
        (0, struct.pack("<H", 3), "version 3"),
        (2, struct.pack("<H", 3), "key type 3"),
        (4, struct.pack("<I", 0), "TEE type 0x0"),
        (0x27C + 128, struct.pack("<H", 5), "not 6"),
    ],
)
def test_wrong_header_or_cert_type(offset, value, message):
    data = bytearray(SPR_E4.read_bytes())
    data[offset : offset + len(value)] = value
    with pytest.raises(InputError, match=message):
        parse_quote(bytes(data))


def test_v5_unknown_body_type_and_size():
    data = bytearray(V5_SAMPLE.read_bytes())
    data[48:50] = struct.pack("<H", 1)  # SGX enclave report body
    with pytest.raises(InputError, match="body type 1"):
        parse_quote(bytes(data))
    data = bytearray(V5_SAMPLE.read_bytes())
    data[50:54] = struct.pack("<I", 584)
    with pytest.raises(InputError, match="body size"):
        parse_quote(bytes(data))


def test_signature_length_past_end():
    data = bytearray(SPR_E4.read_bytes())
    data[0x278:0x27C] = struct.pack("<I", 10_000)
    with pytest.raises(InputError, match="exceeds"):
        parse_quote(bytes(data))


def test_every_vector_roundtrips_through_show_json(capsys):
    from cocoscope.cli import main

    for path in ALL_QUOTES:
        assert main(["attest", "tdx", "show", str(path), "--format", "json"]) == 0
        assert '"rtmrs"' in capsys.readouterr().out


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2048))
def test_fuzz_random_bytes(data):
    with contextlib.suppress(InputError):
        parse_quote(data)


_REAL = SPR_E4.read_bytes()


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, len(_REAL) - 1), st.integers(0, 255)), max_size=6),
       st.integers(0, len(_REAL)))
def test_fuzz_mutated_real_quote(edits, cut):
    data = bytearray(_REAL)
    for off, val in edits:
        data[off] = val
    try:
        q = parse_quote(bytes(data[:cut]))
    except InputError:
        return
    assert len(q.signed_bytes) in (0x278, 54 + 584, 54 + 648)


def test_is_tdx_quote_sniff():
    from cocoscope.attest.tdx.quote import is_tdx_quote

    assert all(is_tdx_quote(p.read_bytes()) for p in ALL_QUOTES)
    snp = ATTESTATION / "snp" / "go-sev-guest" / "attestation.bin"
    assert not is_tdx_quote(snp.read_bytes())
    assert not is_tdx_quote(b"\x04\x00\x02\x00")
