"""The SNP policy: file loading, flag overrides, unset = unchecked, each field's check."""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path

import pytest

from cocoscope.attest.policy import load_policy
from cocoscope.attest.snp.evidence import load_evidence
from cocoscope.attest.snp.policy import SnpPolicy, appraise
from cocoscope.attest.snp.product import Product
from cocoscope.attest.snp.report import AttestationReport, parse_report
from cocoscope.errors import InputError
from tests.attest.snp.snp_vectors import VECTORS

# Every permission granted, nothing else set: no appraisal check runs. (permit_provisional_firmware
# is read by the TCB consistency checks of the verifier, not by appraise().)
UNCHECKED = SnpPolicy(allow_debug=True, allow_migration_agent=True, allow_masked_chip_id=True)


def report(name: str = "trustee-vlek") -> AttestationReport:
    return load_evidence(str(VECTORS[name].report)).report


def results(policy: SnpPolicy, r: AttestationReport | None = None) -> dict[str, bool]:
    r = r or report()
    return {c.name: c.passed for c in appraise(policy, r, Product.MILAN, "vlek")}


def test_unset_fields_are_unchecked() -> None:
    assert results(UNCHECKED) == {}
    assert all(v is None for v in dataclasses.asdict(UNCHECKED).values() if not isinstance(v, bool))


def test_default_policy_is_production_safe() -> None:
    assert results(SnpPolicy(), report("go-sev-guest")) == {"policy.debug": False,
                                                            "policy.migrate_ma": True}
    assert results(SnpPolicy(allow_debug=True), report("go-sev-guest")) == {
        "policy.migrate_ma": True}


def test_measurement_one_or_set() -> None:
    m = report().measurement
    assert results(SnpPolicy(measurement=frozenset({m}))) == {
        "policy.measurement": True, "policy.debug": True, "policy.migrate_ma": True}
    assert not results(SnpPolicy(measurement=frozenset({bytes(48)})))["policy.measurement"]
    assert results(SnpPolicy(measurement=frozenset({bytes(48), m})))["policy.measurement"]


def test_report_data_exact_and_nonce_prefix() -> None:
    rd = report().report_data
    assert results(SnpPolicy(report_data=rd))["policy.report_data"]
    assert not results(SnpPolicy(report_data=rd[:32]))["policy.report_data"]  # zero-padded
    assert results(SnpPolicy(nonce=rd[:16]))["policy.nonce"]
    assert not results(SnpPolicy(nonce=b"\x00" + rd[1:16]))["policy.nonce"]
    go = report("go-sev-guest")
    assert results(SnpPolicy(report_data=bytes([1, 2, 3, 4, 5])), go)["policy.report_data"]


@pytest.mark.parametrize(("field", "value", "check", "ok"), [
    ("host_data", bytes(32), "policy.host_data", True),
    ("host_data", b"\x01" * 32, "policy.host_data", False),
    ("family_id", bytes(16), "policy.family_id", True),
    ("image_id", b"\x01" * 16, "policy.image_id", False),
    ("id_key_digest", frozenset({bytes(48)}), "policy.id_key_digest", True),
    ("min_guest_svn", 0, "policy.min_guest_svn", True),
    ("min_guest_svn", 1, "policy.min_guest_svn", False),
    ("vmpl", 1, "policy.vmpl", True),
    ("vmpl", 0, "policy.vmpl", False),
    ("min_firmware", "1.55", "policy.min_firmware", True),
    ("min_firmware", "1.55.30", "policy.min_firmware", False),
    ("min_abi", "0.0", "policy.min_abi", True),
    ("min_abi", "1.51", "policy.min_abi", False),
    ("allow_smt", False, "policy.smt", False),
    ("allow_cxl", False, "policy.cxl", True),
    ("require_single_socket", True, "policy.single_socket", False),
    ("require_aes_256_xts", True, "policy.aes_256_xts", False),
    ("require_rapl_disabled", True, "policy.rapl_disabled", False),
    ("require_ciphertext_hiding", True, "policy.ciphertext_hiding", False),
    ("require_page_swap_disabled", True, "policy.page_swap_disabled", False),
    ("platform_smt", True, "platform.smt", True),
    ("platform_tsme", False, "platform.tsme", False),
    ("platform_ecc", True, "platform.ecc", True),
    ("platform_rapl_disabled", True, "platform.rapl_disabled", False),
    ("platform_ciphertext_hiding", False, "platform.ciphertext_hiding", True),
    ("platform_alias_check_complete", True, "platform.alias_check_complete", True),
    ("platform_tio", False, "platform.tio", True),
    ("signing_keys", frozenset({"vcek"}), "policy.signing_key", False),
    ("signing_keys", frozenset({"vcek", "vlek"}), "policy.signing_key", True),
    ("min_launch_mitigations", 1, "policy.launch_mitigations", False),  # v3: no vectors
])
def test_each_field(field: str, value: object, check: str, ok: bool) -> None:
    got = results(dataclasses.replace(UNCHECKED, **{field: value}))
    assert got == {check: ok}


def test_require_false_is_unchecked_not_inverted() -> None:
    assert results(dataclasses.replace(UNCHECKED, require_single_socket=False)) == {}
    assert results(dataclasses.replace(UNCHECKED, allow_smt=True)) == {}


def test_min_tcb_per_component() -> None:
    r = report()  # bl 4, tee 0, snp 24, ucode 217
    got = results(dataclasses.replace(UNCHECKED, min_tcb={"bl": 4, "snp": 25, "ucode": 200}), r)
    assert got == {"policy.min_tcb.bl": True, "policy.min_tcb.snp": False,
                   "policy.min_tcb.ucode": True}
    fmc = appraise(dataclasses.replace(UNCHECKED, min_tcb={"fmc": 0}), r, Product.MILAN, "vlek")
    assert not fmc[0].passed and "no fmc" in fmc[0].detail
    turin = appraise(dataclasses.replace(UNCHECKED, min_tcb={"fmc": 4}), r, Product.TURIN,
                     "vlek")
    assert turin[0].passed  # Turin reads byte 0 (=4 here) as the FMC SPL


def test_v5_mitigation_vectors() -> None:
    raw = bytearray(report().raw)
    raw[0] = 5
    raw[0x1F8:0x200] = (0b101).to_bytes(8, "little")
    r = parse_report(bytes(raw))
    got = results(dataclasses.replace(UNCHECKED, min_launch_mitigations=0b101,
                                      min_current_mitigations=0b1), r)
    assert got == {"policy.launch_mitigations": True, "policy.current_mitigations": False}


def test_author_key_digest_needs_author_key_enabled() -> None:
    r = report()
    got = appraise(dataclasses.replace(UNCHECKED, author_key_digest=frozenset({bytes(48)})), r,
                   Product.MILAN, "vlek")
    assert not got[0].passed and "AUTHOR_KEY_EN" in got[0].detail


def test_load_toml_json_and_overrides(tmp_path: Path) -> None:
    m = report().measurement.hex()
    toml = tmp_path / "p.toml"
    toml.write_text(f'[snp]\nmeasurement = "{m}"\nvmpl = 0\nallow_debug = true\n'
                    '[snp.min_tcb]\nbl = 3\nsnp = 8\n')
    pol = load_policy(SnpPolicy, str(toml))
    assert pol.measurement == frozenset({bytes.fromhex(m)}) and pol.vmpl == 0
    assert pol.min_tcb == {"bl": 3, "snp": 8} and pol.allow_debug is True
    assert load_policy(SnpPolicy, str(toml), {"vmpl": 1, "measurement": None}).vmpl == 1
    js = tmp_path / "p.json"
    js.write_text('{"measurement": ["' + m + '", "' + "00" * 48 + '"], "min_firmware": "1.55"}')
    assert len(load_policy(SnpPolicy, str(js)).measurement or ()) == 2


@pytest.mark.parametrize(("text", "match"), [
    ('vmpl = "x"', "expected an integer"),
    ('debug = true', "unknown key 'debug'"),
    ('[min_tcb]\nbogus = 1', "unknown component"),
    ('min_firmware = "1.x"', "dotted numbers"),
    ('min_abi = "1.2.3"', "up to 2 numbers"),
    ('signing_keys = ["ask"]', "not vcek or vlek"),
    ('report_data = "' + "00" * 65 + '"', "at most 64"),
    ('host_data = "zz"', "not hex"),
])
def test_bad_policy_files(tmp_path: Path, text: str, match: str) -> None:
    p = tmp_path / "bad.toml"
    p.write_text(text + "\n")
    with pytest.raises(InputError, match=match):
        load_policy(SnpPolicy, str(p))


def test_id_key_digest_is_sha384_sized() -> None:
    digest = hashlib.sha384(b"id key").digest()
    got = results(dataclasses.replace(UNCHECKED, id_key_digest=frozenset({digest})))
    assert got == {"policy.id_key_digest": False}
