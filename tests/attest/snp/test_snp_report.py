"""Parsing: report fields, hex and HCL forms, the certificate table, and malformed input."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from cocoscope.attest.snp.certs import load_certs, parse_cert_blob
from cocoscope.attest.snp.evidence import load_evidence, parse_cert_table, parse_evidence
from cocoscope.attest.snp.product import Product, decode_tcb, product_from_cpuid
from cocoscope.attest.snp.report import parse_report
from cocoscope.attest.snp.show import describe
from cocoscope.errors import InputError
from tests.attest.snp.snp_vectors import GUID, SNP, VECTORS, cert_table, hcl_wrap, pem_certs


def test_go_sev_guest_report_fields() -> None:
    r = load_evidence(str(VECTORS["go-sev-guest"].report)).report
    assert r.version == 2 and r.vmpl == 0 and r.signature_algo == 1
    assert r.policy.raw == 0xB0000 and r.policy.debug and r.policy.smt
    assert not r.policy.migrate_ma and r.policy.reserved_must_be_one
    assert r.report_data == bytes([1, 2, 3, 4, 5]).ljust(64, b"\0")
    assert r.measurement.hex() == ("b07af9620f3b839b47996422ddec6058338951d984e312115131ea82705e"
                                   "af5b6bdf8a9ece31a5a608eb0cf2e4872b01")
    assert str(r.current_fw) == "1.49.3"
    assert str(r.tcb("reported", Product.MILAN)) == "bl=2 tee=0 snp=5 ucode=68"
    assert r.chip_id.hex().startswith("3ac3fe21") and r.cpuid_fam_id is None
    assert r.nonzero_reserved() == []


def test_trustee_report_tcb_reported_below_current() -> None:
    r = load_evidence(str(VECTORS["trustee-vcek"].report)).report
    assert r.policy.raw == 0x3001F and (r.policy.abi_major, r.policy.abi_minor) == (0, 31)
    assert r.guest_svn == 4
    assert r.tcb("current", Product.MILAN).ucode == 0xCE
    assert r.tcb("reported", Product.MILAN).ucode == 0x73


def test_vlek_report_is_v3_with_cpuid() -> None:
    r = load_evidence(str(VECTORS["trustee-vlek"].report)).report
    assert r.version == 3 and r.key_info.signing_key == 1 and r.vmpl == 1
    assert (r.cpuid_fam_id, r.cpuid_mod_id, r.cpuid_step) == (0x19, 0x01, 0x01)
    assert r.cpuid_product() is Product.MILAN and r.chip_id_masked
    assert r.platform_info.raw == 0x27 and r.platform_info.alias_check_complete
    assert str(r.current_fw) == "1.55.29"


def test_hex_form_equals_raw() -> None:
    ev = load_evidence(str(VECTORS["virtee-milan"].report))
    assert ev.form == "hex"
    text = VECTORS["virtee-milan"].report.read_bytes()
    spaced = b"\n".join(text[i:i + 64] for i in range(0, len(text), 64)) + b"\n"
    assert parse_evidence(spaced).report == ev.report
    assert ev.report.measurement.hex().startswith("7a1e5c266c0108db")


def test_turin_tcb_layout_differs() -> None:
    raw = bytes([1, 2, 3, 4, 0, 0, 0, 9])
    turin = decode_tcb(raw, Product.TURIN)
    milan = decode_tcb(raw, Product.MILAN)
    assert (turin.fmc, turin.bl, turin.tee, turin.snp, turin.ucode) == (1, 2, 3, 4, 9)
    assert (milan.fmc, milan.bl, milan.tee, milan.snp, milan.ucode) == (None, 1, 2, 0, 9)


@pytest.mark.parametrize(("fam", "model", "want"), [
    (0x19, 0x01, Product.MILAN), (0x19, 0x11, Product.GENOA), (0x19, 0xA0, Product.GENOA),
    (0x1A, 0x02, Product.TURIN), (0x19, 0x50, None), (0x17, 0x01, None)])
def test_product_from_cpuid(fam: int, model: int, want: Product | None) -> None:
    assert product_from_cpuid(fam, model) is want


def test_v5_report_fields_and_mbz() -> None:
    raw = bytearray(VECTORS["trustee-vlek"].report.read_bytes())
    raw[0] = 5
    raw[0x1F8:0x200] = (0x3).to_bytes(8, "little")
    r = parse_report(bytes(raw))
    assert r.launch_mit_vector == 3 and r.current_mit_vector == 0
    assert r.nonzero_reserved() == []
    raw[0] = 3
    assert parse_report(bytes(raw)).nonzero_reserved() == [(0x1F8, 0x208)]
    assert describe(parse_evidence(bytes(raw)))["version"] == 3


def test_hcl_binding() -> None:
    var = b'{"keys":[{"kid":"HCLAkPub"}]}'
    report = bytearray(VECTORS["trustee-vcek"].report.read_bytes())
    report[0x50:0x70] = hashlib.sha256(var).digest()
    ev = parse_evidence(hcl_wrap(bytes(report), var))
    assert ev.form == "hcl" and ev.hcl is not None and ev.hcl.variable_data == var
    assert ev.hcl.binding(ev.report)[0]
    other = parse_evidence(hcl_wrap(bytes(report), var + b" "))
    assert other.hcl is not None and not other.hcl.binding(other.report)[0]
    hexed = parse_evidence(hcl_wrap(bytes(report), var).hex().encode())
    assert hexed.form == "hcl-hex" and hexed.report == ev.report


def test_hcl_refuses_tdx_and_truncation() -> None:
    report = VECTORS["trustee-vcek"].report.read_bytes()
    with pytest.raises(InputError, match="TDX"):
        parse_evidence(hcl_wrap(report, b"{}", report_type=4))
    with pytest.raises(InputError, match="runs past"):
        parse_evidence(hcl_wrap(report, b"{}")[:-1])
    with pytest.raises(InputError, match="truncated"):
        parse_evidence(b"HCLA" + bytes(100))


def test_cert_table_round_trip(tmp_path: Path) -> None:
    vec = VECTORS["go-sev-guest"]
    ask, ark = pem_certs(vec.chain)  # type: ignore[arg-type]
    blob = cert_table([(GUID["vcek"], vec.vek.read_bytes()), (GUID["ask"], ask),
                       (GUID["ark"], ark)])
    entries = parse_cert_table(blob)
    assert [e.kind for e in entries] == ["vcek", "ask", "ark"]
    assert entries[0].data == vec.vek.read_bytes()
    certs = parse_cert_blob(blob, "table")
    assert [c.role[0] for c in certs] == ["vcek", "ask", "ark"]
    (tmp_path / "certs.bin").write_bytes(blob)
    loaded, _ = load_certs([str(tmp_path / "certs.bin")])
    assert len(loaded) == 3


def test_cert_table_errors() -> None:
    vek = VECTORS["go-sev-guest"].vek.read_bytes()
    blob = cert_table([(GUID["vcek"], vek)])
    import uuid

    unterminated = uuid.UUID(GUID["ask"]).bytes + (24).to_bytes(4, "little") + bytes(4)
    with pytest.raises(InputError, match="terminating"):
        parse_cert_table(unterminated)
    bad = bytearray(blob)
    bad[20:24] = (len(vek) + 1).to_bytes(4, "little")
    with pytest.raises(InputError, match="outside"):
        parse_cert_table(bytes(bad))


@pytest.mark.parametrize(("data", "match"), [
    (b"", "not an SEV-SNP report"),
    (bytes(1183), "not an SEV-SNP report"),
    (bytes(1185), "not an SEV-SNP report"),
    (b"abc", "odd number"),
    (bytes(1184), "unsupported report version 0"),
    (b"\x06" + bytes(1183), "unsupported report version 6"),
])
def test_malformed_reports_are_input_errors(data: bytes, match: str) -> None:
    with pytest.raises(InputError, match=match) as info:
        parse_evidence(data, path="r.bin")
    assert "r.bin" in info.value.render()


def test_unsupported_version_names_offset() -> None:
    with pytest.raises(InputError) as info:
        parse_evidence(b"\x09" + bytes(1183), path="r.bin")
    assert info.value.where == "offset 0x0"


def test_certificate_inputs(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"not a valid X\.509"):
        load_certs([str(VECTORS["go-sev-guest"].report)])
    (tmp_path / "README").write_text("not a cert")
    (tmp_path / "vcek.der").write_bytes(VECTORS["go-sev-guest"].vek.read_bytes())
    certs, ignored = load_certs([str(tmp_path)])
    assert len(certs) == 1 and ignored == [str(tmp_path / "README")]
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(InputError, match="no certificates"):
        load_certs([str(empty)])
    with pytest.raises(InputError, match="not found"):
        load_certs([str(tmp_path / "missing.pem")])
    broken = tmp_path / "broken.pem"
    broken.write_bytes(b"-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----\n")
    with pytest.raises(InputError, match="base64"):
        load_certs([str(broken)])


def test_shipped_roots_are_all_pinned() -> None:
    from cocoscope.attest.snp.certs import ARK_PINS, INTERMEDIATE_PINS, shipped_certs

    fps = {c.fingerprint for c in shipped_certs()}
    assert fps == set(ARK_PINS.values()) | INTERMEDIATE_PINS
    # and they are the same certificates the reference repositories ship
    for name in ("milan", "genoa", "turin"):
        for der in pem_certs(SNP / "virtee-sev" / "builtin" / f"{name}_ark.pem"):
            assert hashlib.sha256(der).hexdigest() in fps
