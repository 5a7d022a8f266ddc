"""Every SNP vector gives the outcome PROVENANCE states, at the stated time."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from cocoscope.attest.snp.certs import load_certs
from cocoscope.attest.snp.chain import chain_checks
from cocoscope.attest.snp.evidence import load_evidence
from cocoscope.attest.snp.policy import SnpPolicy
from cocoscope.attest.snp.product import Product
from cocoscope.attest.snp.verify import SnpTrust, verify, verify_file
from tests.attest.snp.snp_vectors import SNP, VECTORS, Vector

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def failed_names(v: object) -> set[str]:
    return {c.name for c in v.failed}  # type: ignore[attr-defined]


def test_real_reports_verify(snp_vector: Vector) -> None:
    """Signature, chain, TCB and chip id pass; under the default policy DEBUG=1 stops the
    go-sev-guest report and provisional firmware (COMMITTED < CURRENT) the trustee reports."""
    certs = [str(snp_vector.vek), str(snp_vector.chain)]
    v = verify_file(str(snp_vector.report), certs, time=snp_vector.at)
    names = {c.name for c in v.checks}
    assert {"signature", "chain.ark", "product", "tcb.committed"} <= names
    assert v.facts["product"] == "Milan"
    expected = {"policy.debug"} if snp_vector.debug else set()
    expected |= {"tcb.committed"} if snp_vector.provisional else set()
    assert failed_names(v) == expected
    if snp_vector.debug:
        assert not v.ok
    allowed = verify_file(str(snp_vector.report), certs, snp_vector.policy(), snp_vector.at)
    assert allowed.ok, [str(c) for c in allowed.failed]
    binding = "vlek.csp_id" if snp_vector.name == "trustee-vlek" else "vcek.hwid"
    assert binding in names and f"{'vlek' if 'vlek' in binding else 'vcek'}.tcb" in names


def test_debug_report_passes_when_debug_allowed() -> None:
    vec = VECTORS["go-sev-guest"]
    v = verify_file(str(vec.report), [str(vec.vek)], SnpPolicy(allow_debug=True), vec.at)
    assert v.ok


def test_vcek_alone_is_enough_roots_are_built_in(snp_vector: Vector) -> None:
    v = verify_file(str(snp_vector.report), [str(snp_vector.vek)], snp_vector.policy(allow_debug=True), snp_vector.at)
    assert v.ok


def test_vlek_report_fails_a_vmpl0_policy() -> None:
    vec = VECTORS["trustee-vlek"]
    v = verify_file(str(vec.report), [str(vec.vek)], vec.policy(vmpl=0), vec.at)
    assert failed_names(v) == {"policy.vmpl"}
    assert "expected 0, got 1" in v.failed[0].detail


def test_expired_vlek_fails_now_and_passes_inside_window() -> None:
    vec = VECTORS["trustee-vlek"]
    now = verify_file(str(vec.report), [str(vec.vek)], vec.policy(), NOW)
    assert failed_names(now) == {"chain.vlek"}
    assert "expired 2025-12-10" in now.failed[0].detail
    assert verify_file(str(vec.report), [str(vec.vek)], vec.policy(),
                       datetime(2025, 12, 10, tzinfo=UTC)).ok
    early = verify_file(str(vec.report), [str(vec.vek)], vec.policy(),
                        datetime(2024, 12, 1, tzinfo=UTC))
    assert failed_names(early) == {"chain.vlek"}


def test_vlek_csp_allow_list() -> None:
    vec = VECTORS["trustee-vlek"]
    ok = verify_file(str(vec.report), [str(vec.vek)], vec.policy(vlek_csp_ids=frozenset({'CN=cc-us-east-2.amazonaws.com'})), vec.at)
    assert ok.ok
    bad = verify_file(str(vec.report), [str(vec.vek)], vec.policy(vlek_csp_ids=frozenset({'CN=other'})), vec.at)
    assert failed_names(bad) == {"vlek.csp_id"}


@pytest.mark.parametrize("forged", ["test-vcek-invalid-legacy.der", "test-vcek-invalid-new.der"])
def test_forged_vceks_fail(forged: str) -> None:
    vec = VECTORS["trustee-vcek"]
    v = verify_file(str(vec.report), [str(SNP / 'trustee' / forged)], time=vec.at)
    assert {"chain.vcek", "signature", "vcek.hwid", "vcek.tcb"} <= failed_names(v)
    assert "signature does not verify" in next(c for c in v.checks if c.name == "chain.vcek").detail


def test_forged_vcek_hwid_encodings_both_decode() -> None:
    """trustee's two forged VCEKs carry hwID raw (legacy) and OCTET STRING-wrapped (new)."""
    for name in ("test-vcek-invalid-legacy.der", "test-vcek-invalid-new.der"):
        (cert,), _ = load_certs([str(SNP / "trustee" / name)])
        ext = cert.extensions()
        assert ext.hwid == bytes(range(64)), name


def test_vcek_of_another_report_fails() -> None:
    a, b = VECTORS["trustee-vcek"], VECTORS["virtee-milan"]
    v = verify_file(str(a.report), [str(b.vek)], time=a.at)
    assert {"signature", "vcek.hwid"} <= failed_names(v)


def test_same_chip_other_tcb_vcek_fails_tcb_binding() -> None:
    """virtee's and trustee's reports come from one chip at one TCB; go-sev-guest's does not."""
    a, b = VECTORS["go-sev-guest"], VECTORS["trustee-vcek"]
    v = verify_file(str(a.report), [str(b.vek)], SnpPolicy(allow_debug=True), a.at)
    assert "vcek.tcb" in failed_names(v) and "signature" in failed_names(v)


def test_missing_vcek_names_the_kds_url() -> None:
    vec = VECTORS["go-sev-guest"]
    v = verify_file(str(vec.report), [str(vec.chain)], time=vec.at)
    assert not v.ok
    detail = next(c for c in v.failed if c.name == "product").detail
    assert "version-2 report" in detail  # v2 report and no VCEK: product unknown, fail closed
    sig = next(c for c in v.failed if c.name == "signature").detail
    # the KDS URL PROVENANCE gives for vcek.testcer
    assert "https://kdsintf.amd.com/vcek/v1/Milan/3ac3fe21" in sig
    assert sig.split("?")[1].startswith("blSPL=2&teeSPL=0&snpSPL=5&ucodeSPL=68")


def test_missing_vcek_on_v3_report_gives_kds_hint() -> None:
    vec = VECTORS["trustee-vlek"]
    v = verify_file(str(vec.report), [], time=vec.at)
    assert {"chain.vlek", "signature"} <= failed_names(v)
    assert "cloud provider" in next(c for c in v.checks if c.name == "chain.vlek").detail


def test_certificate_dates_are_enforced() -> None:
    vec = VECTORS["go-sev-guest"]
    v = verify_file(str(vec.report), [str(vec.vek)], SnpPolicy(allow_debug=True), datetime(2022, 9, 23, tzinfo=UTC))
    assert failed_names(v) == {"chain.vcek"}
    assert "not valid before" in v.failed[0].detail


def test_wrong_product_chain_is_not_silently_replaced(tmp_path: Path) -> None:
    """A Genoa ASK offered for a Milan VCEK is accepted as an AMD cert but not used."""
    vec = VECTORS["trustee-vcek"]
    v = verify_file(str(vec.report), [str(vec.vek), str(SNP / 'go-sev-guest/ask_ark_genoa.pem')],
                    vec.policy(), vec.at)
    assert v.ok
    fake_ark = tmp_path / "ark.pem"
    # An ASK presented as if it were the root: not pinned, so refused.
    text = (SNP / "virtee-sev/builtin/milan_ark.pem").read_text()
    fake_ark.write_text(text.replace(text.splitlines()[5], text.splitlines()[5][:-4] + "AAAA"))
    try:
        v = verify_file(str(vec.report), [str(vec.vek), str(fake_ark)], time=vec.at)
    except Exception as exc:  # a damaged PEM may fail to parse: that is a refusal too
        from cocoscope.errors import InputError

        assert isinstance(exc, InputError)
    else:
        assert "chain.supplied" in failed_names(v)


def test_turin_vcek_chain_and_extensions() -> None:
    """No Turin report exists; the Turin VCEK still chains to the pinned ARK-Turin."""
    certs, _ = load_certs([str(SNP / "virtee-sev/vcek_turin.der")])
    (vcek,) = certs
    ext = vcek.extensions()
    assert ext.struct_version == 1 and ext.product_name == "Turin"
    assert ext.hwid == bytes.fromhex("1e550a8ee5cf9f4d")
    assert ext.spls == {"fmc": 0, "bl": 0, "tee": 0, "snp": 0, "ucode": 9} or (
        ext.spls["fmc"] == 0 and ext.spls["ucode"] == 9 and "spl_4" not in ext.spls)
    at = datetime(2025, 1, 1, tzinfo=UTC)
    result = chain_checks(vcek, "vcek", Product.TURIN, certs, at)
    assert result.ok, result.checks
    wrong = chain_checks(vcek, "vcek", Product.MILAN, certs, at)
    assert not wrong.ok


def test_hcl_wrapped_real_report_checks_the_binding(tmp_path: Path) -> None:
    from tests.attest.snp.snp_vectors import hcl_wrap

    vec = VECTORS["trustee-vcek"]
    p = tmp_path / "hcl.bin"
    p.write_bytes(hcl_wrap(vec.report.read_bytes(), b'{"keys":[]}'))
    v = verify_file(str(p), [str(vec.vek)], vec.policy(), vec.at)
    assert failed_names(v) == {"hcl.report_data"}  # signature etc. still pass
    assert load_evidence(str(p)).form == "hcl"


def test_verification_runs_every_check_even_after_failures() -> None:
    vec = VECTORS["go-sev-guest"]
    ev = load_evidence(str(vec.report))
    certs, _ = load_certs([str(SNP / "trustee/test-vcek.der")])
    v = verify(ev, SnpTrust(tuple(certs)), SnpPolicy(vmpl=1), vec.at)
    assert {"signature", "policy.debug", "policy.vmpl", "vcek.hwid"} <= failed_names(v)


def _with(raw: bytes, offset: int, value: bytes) -> bytes:
    out = bytearray(raw)
    out[offset:offset + len(value)] = value
    return bytes(out)


@pytest.mark.parametrize(("key_info", "detail"), [(7 << 2, "no key"), (3 << 2, "reserved")])
def test_unsigned_or_reserved_signing_key_is_refused(key_info: int, detail: str) -> None:
    from cocoscope.attest.snp.evidence import parse_evidence

    vec = VECTORS["go-sev-guest"]
    raw = _with(load_evidence(str(vec.report)).report.raw, 0x48, key_info.to_bytes(4, "little"))
    certs, _ = load_certs([str(vec.vek)])
    v = verify(parse_evidence(raw), SnpTrust(tuple(certs)), SnpPolicy(), vec.at)
    bad = {c.name: c.detail for c in v.failed}
    assert detail in bad["format.signing_key"]
    assert "policy.debug" in bad  # the policy is still judged and reported


def test_crl_not_signed_by_the_ark_fails(tmp_path: Path) -> None:
    from datetime import timedelta

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    vec = VECTORS["trustee-vcek"]
    (ark,) = [c for c in load_certs([str(vec.chain)])[0] if c.role[0] == "ark"]
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    crl = (x509.CertificateRevocationListBuilder().issuer_name(ark.cert.subject)
           .last_update(vec.at - timedelta(days=1)).next_update(vec.at + timedelta(days=1))
           .sign(key, hashes.SHA384()))
    path = tmp_path / "crl.der"
    path.write_bytes(crl.public_bytes(serialization.Encoding.DER))
    v = verify_file(str(vec.report), [str(vec.vek)], vec.policy(), vec.at, crl=str(path))
    assert failed_names(v) == {"chain.crl"}
    assert "does not verify" in v.failed[0].detail
    (tmp_path / "junk.crl").write_bytes(b"junk")
    from cocoscope.errors import InputError

    with pytest.raises(InputError, match="CRL"):
        verify_file(str(vec.report), [str(vec.vek)], time=vec.at, crl=str(tmp_path / 'junk.crl'))
