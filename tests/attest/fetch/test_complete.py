"""Issue 13's end-to-end cases through the CLI: verify with nothing but the evidence and
--fetch, again from the cache with the server gone, no request without --fetch, stale entries,
revocation, and every failure a clear error (exit 3) naming the URL."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cocoscope.cli import main
from tests.attest.fetch.service import (
    HTML,
    MILAN_REPORT,
    MILAN_VCEK_PATH,
    QUOTE_6,
    QUOTE_SPR,
    Answer,
    Service,
    free_url,
)

AT_2025 = "2025-11-01T00:00:00Z"  # inside tcbInfo.json / enclaveIdentity.json (2025-10-28..11-26)
# The owners' reference values (launch digest of report_milan.hex, MRTD of tdx_quote_6.dat), so a
# passing run is a full verification and not only an authenticity check.
MILAN_MEASUREMENT = ("--measurement", "7a1e5c266c0108dbc9bb94fa926951320940915d0aafb42464bd88b5"
                     "79ea158d3e1a0dc39b2c60bd95b9c480cd81841f")
QUOTE_6_MRTD = ("--mrtd", "21e8dead92d6c69d7cbba79816686c03a48485c7df0c11f6f04792d5e1d378f6b8c4"
                "6615ba6946adccac6becffbb1e88")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict, str]:  # type: ignore[type-arg]
    code = main([*argv, "--format", "json"])
    out, err = capsys.readouterr()
    return code, (json.loads(out) if out.strip() else {}), err


def _check(doc: dict, name: str) -> str:  # type: ignore[type-arg]
    (c,) = [c for c in doc["checks"] if c["name"] == name]
    return str(c["status"])


def test_snp_verifies_with_nothing_but_the_report(service: Service,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    service.kds_milan()
    code, doc, err = run(capsys, "attest", "snp", "verify", str(MILAN_REPORT), "--fetch",
                         "--kds-url", service.url, *MILAN_MEASUREMENT)
    assert code == 0, err
    assert doc["ok"] is True and doc["failed"] == []
    assert _check(doc, "chain.vcek") == _check(doc, "signature") == "pass"
    assert service.seen == [MILAN_VCEK_PATH, "/vcek/v1/Milan/crl"]
    sources = doc["facts"]["collateral_sources"]
    assert sources[0].startswith("VCEK for Milan chip d49554ec717f4e5b… at TCB bl=3 tee=0 "
                                 "snp=8 ucode=115: fetched (http://127.0.0.1:")
    assert sources[1].startswith("AMD CRL for Milan: not served")
    assert doc["facts"]["revocation"] == "not checked (no AMD CRL given, cached or served)"

    # Again without --fetch: from the cache, and nothing is asked of the server.
    code, doc, err = run(capsys, "attest", "snp", "verify", str(MILAN_REPORT), *MILAN_MEASUREMENT)
    assert code == 0, err
    assert ": cached (" in doc["facts"]["collateral_sources"][0]
    assert service.seen == [MILAN_VCEK_PATH, "/vcek/v1/Milan/crl"]


def test_snp_from_cache_after_the_server_stopped(capsys: pytest.CaptureFixture[str]) -> None:
    from tests.attest.fetch.service import running

    with running() as svc:
        svc.kds_milan()
        assert run(capsys, "attest", "snp", "verify", str(MILAN_REPORT), "--fetch",
                   "--kds-url", svc.url, *MILAN_MEASUREMENT)[0] == 0
    code, doc, err = run(capsys, "attest", "snp", "verify", str(MILAN_REPORT), *MILAN_MEASUREMENT)
    assert code == 0, err
    assert _check(doc, "signature") == "pass"


def test_without_fetch_no_request_is_made(service: Service, capsys: pytest.CaptureFixture[str],
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    service.kds_milan()
    service.pcs_2025()
    monkeypatch.setenv("COCOSCOPE_KDS_URL", service.url)
    monkeypatch.setenv("COCOSCOPE_PCS_URL", service.url)
    code, doc, _ = run(capsys, "attest", "snp", "verify", str(MILAN_REPORT),
                       "--kds-url", service.url)
    assert code == 4 and _check(doc, "signature") == "fail"
    assert "not cached (--fetch would fetch it)" in doc["facts"]["collateral_sources"][0]
    code, doc, _ = run(capsys, "attest", "tdx", "verify", str(QUOTE_6), "--time", AT_2025)
    assert code == 4 and doc["facts"]["tcb_status"] == "Unknown"
    assert service.seen == []


def test_tdx_reaches_out_of_date_then_works_from_cache(
        service: Service, capsys: pytest.CaptureFixture[str]) -> None:
    service.pcs_2025()
    code, doc, err = run(capsys, "attest", "tdx", "verify", str(QUOTE_6), "--fetch",
                         "--pcs-url", service.url, "--time", AT_2025)
    assert doc["facts"]["tcb_status"] == "OutOfDate"
    assert doc["failed"] == ["policy.tcb_status"] and code == 4  # default policy: UpToDate only
    assert all(_check(doc, n) == "pass" for n in (
        "collateral.signing_chain.signatures", "collateral.tcb_info.signature",
        "collateral.qe_identity.signature", "qe_report.identity"))
    assert doc["facts"]["revocation"] == "not checked (no CRLs given)"
    fetched = len(service.seen)
    assert fetched == 4  # TCB Info, QE Identity, PCK CRL (404), Root CA CRL (404)

    service.routes.clear()  # the server knows nothing any more
    code, doc, err = run(capsys, "attest", "tdx", "verify", str(QUOTE_6), "--time", AT_2025,
                         "--accept-tcb", "OutOfDate", *QUOTE_6_MRTD)
    assert code == 0, err
    assert doc["facts"]["tcb_status"] == "OutOfDate"
    assert len(service.seen) == fetched


def test_stale_entry_reported_offline_and_refetched_with_fetch(
        service: Service, capsys: pytest.CaptureFixture[str]) -> None:
    service.pcs_2025()
    run(capsys, "attest", "tdx", "verify", str(QUOTE_6), "--fetch", "--pcs-url", service.url,
        "--time", AT_2025)
    later = "2026-01-01T00:00:00Z"  # past the TCB Info's nextUpdate (2025-11-26)
    code, doc, _ = run(capsys, "attest", "tdx", "verify", str(QUOTE_6), "--time", later)
    assert code == 4
    stale = doc["facts"]["collateral_sources"][0]
    assert stale.startswith("TDX TCB Info for FMSPC 00a06d080000: cached, stale (valid until "
                            "2025-11-26T13:07:17+00:00; --fetch refreshes it)")
    assert _check(doc, "collateral.tcb_info.window") == "fail"
    before = service.seen.count("/tdx/certification/v4/tcb?fmspc=00A06D080000")
    run(capsys, "attest", "tdx", "verify", str(QUOTE_6), "--fetch", "--pcs-url", service.url,
        "--time", later)
    assert service.seen.count("/tdx/certification/v4/tcb?fmspc=00A06D080000") == before + 1


def test_revocation_checked_when_crls_are_served(service: Service,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    service.pcs_2023()
    code, doc, _ = run(capsys, "attest", "tdx", "verify", str(QUOTE_SPR), "--fetch",
                       "--pcs-url", service.url, "--time", "2023-07-01T01:00:00Z")
    assert _check(doc, "pck.crl.root") == _check(doc, "pck.crl.pck") == "pass"
    # SPR_E4's SVNs match no level of this TCB Info (go-tdx-guest zeroes them first).
    assert code == 4 and doc["failed"] == ["policy.tcb_status"]
    assert service.seen[-2:] == ["/sgx/certification/v4/pckcrl?ca=platform&encoding=der",
                                 "/sgx/certification/v4/rootcacrl"]
    assert doc["facts"]["revocation"] == "pck.crl.root, pck.crl.pck"


@pytest.mark.parametrize(("answer", "message"), [
    (Answer(status=500, body=b"oops"), "HTTP 500 for the TDX TCB Info for FMSPC 00a06d080000"),
    (Answer(body=HTML, headers={"Content-Type": "text/html"}), "the server answered with an HTML"),
    (Answer(status=404), "HTTP 404 for the TDX TCB Info"),
])
def test_bad_answers_are_clear_errors(service: Service, capsys: pytest.CaptureFixture[str],
                                      answer: Answer, message: str) -> None:
    service.pcs_2025()
    service.route("/tdx/certification/v4/tcb?fmspc=00A06D080000", answer)
    code, doc, err = run(capsys, "attest", "tdx", "verify", str(QUOTE_6), "--fetch",
                         "--pcs-url", service.url, "--time", AT_2025)
    assert code == 3 and doc == {}
    assert err.startswith(f"cocoscope: error: {service.url}/tdx/certification/v4/tcb?fmspc=")
    assert message in err and "Traceback" not in err


def test_unreachable_server_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    url = free_url()
    code, _, err = run(capsys, "attest", "snp", "verify", str(MILAN_REPORT), "--fetch",
                       "--kds-url", url)
    assert code == 3
    assert err.startswith(f"cocoscope: error: {url}/vcek/v1/Milan/d49554ec")
    assert "request failed" in err


def test_air_gapped_bundles(service: Service, tmp_path: Path,
                            capsys: pytest.CaptureFixture[str]) -> None:
    service.kds_milan()
    service.pcs_2025()
    snp_dir, tdx_dir = tmp_path / "snp", tmp_path / "tdx"
    assert main(["attest", "snp", "certs", "fetch", "--report", str(MILAN_REPORT),
                 "--kds-url", service.url, "-o", str(snp_dir)]) == 0
    assert sorted(p.name for p in snp_dir.iterdir()) == ["ask_ark.pem", "vcek.der"]
    assert main(["attest", "tdx", "collateral", "fetch", "--quote", str(QUOTE_6),
                 "--pcs-url", service.url, "-o", str(tdx_dir), "--time", AT_2025]) == 0
    assert sorted(p.name for p in tdx_dir.iterdir()) == [
        "qe_identity.json", "tcb_info_00a06d080000.json", "tcb_signing_chain.pem"]
    capsys.readouterr()
    assert main(["cache", "clear"]) == 0  # the directories alone must be enough
    service.routes.clear()
    code, doc, err = run(capsys, "attest", "snp", "verify", str(MILAN_REPORT),
                         "--certs", str(snp_dir), *MILAN_MEASUREMENT)
    assert code == 0, err
    code, doc, err = run(capsys, "attest", "tdx", "verify", str(QUOTE_6), "--collateral-dir",
                         str(tdx_dir), "--time", AT_2025)
    assert doc["facts"]["tcb_status"] == "OutOfDate" and doc["failed"] == ["policy.tcb_status"]
    # Only what the directory lacks is looked up (offline: in the cache, which is empty).
    assert doc["facts"]["collateral_sources"] == [
        "PCK CRL (platform CA): not cached (--fetch would fetch it)",
        "Root CA CRL: not cached (--fetch would fetch it)"]


def test_vlek_report_says_vlek_is_not_fetchable(service: Service, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    from tests.attest.fetch.service import SNP

    vlek_report = SNP / "trustee" / "test-vlek-report.bin"
    code = main(["attest", "snp", "certs", "fetch", "--report", str(vlek_report),
                 "--kds-url", service.url, "-o", str(tmp_path / "d")])
    assert code == 3
    assert "AMD KDS does not serve VLEKs" in capsys.readouterr().err
    code, doc, _ = run(capsys, "attest", "snp", "verify", str(vlek_report), "--fetch",
                       "--kds-url", service.url, "--time", "2025-06-01T00:00:00Z")
    assert doc["facts"]["collateral_sources"][0].startswith("VLEK: not fetchable")
    assert MILAN_VCEK_PATH not in service.seen


def test_audit_evidence_fetches_too(service: Service, capsys: pytest.CaptureFixture[str]) -> None:
    service.kds_milan()
    main(["audit", "--evidence", str(MILAN_REPORT), "--fetch", "--kds-url", service.url,
          "--format", "json"])
    doc = json.loads(capsys.readouterr().out)
    (row,) = [t for t in doc["threats"] if t["threat"] == "guest-malicious-configuration"]
    assert row["facts"]["collateral_sources"][0].startswith("VCEK for Milan chip d49554ec")
    assert "signature: pass (ECDSA P-384 over report[0x000:0x2A0])" in row["facts"]["checks"]
    assert service.seen == [MILAN_VCEK_PATH, "/vcek/v1/Milan/crl"]


def test_audit_fetch_needs_evidence(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", "--config", "/dev/null", "--fetch"]) == 2
    assert "--fetch needs --evidence" in capsys.readouterr().err


def test_missing_crl_fails_only_a_policy_requiring_revocation(
        service: Service, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    strict = tmp_path / "strict.toml"
    strict.write_text("require_revocation = true\n")
    service.kds_milan()  # no CRL served
    service.pcs_2025()  # no CRLs served
    code, doc, _ = run(capsys, "attest", "snp", "verify", str(MILAN_REPORT), "--fetch",
                       "--kds-url", service.url, *MILAN_MEASUREMENT)
    assert code == 0 and "policy.revocation" not in [c["name"] for c in doc["checks"]]
    code, doc, _ = run(capsys, "attest", "snp", "verify", str(MILAN_REPORT), "--fetch",
                       "--kds-url", service.url, *MILAN_MEASUREMENT, "--policy", str(strict))
    assert code == 4 and doc["failed"] == ["policy.revocation"]
    (rev,) = [c for c in doc["checks"] if c["name"] == "policy.revocation"]
    assert "chain.crl missing: no CRL given, cached or served" in rev["detail"]
    code, doc, _ = run(capsys, "attest", "tdx", "verify", str(QUOTE_6), "--fetch", "--pcs-url",
                       service.url, "--time", AT_2025, "--accept-tcb", "OutOfDate",
                       *QUOTE_6_MRTD, "--policy", str(strict))
    assert code == 4 and doc["failed"] == ["policy.revocation"]


def test_served_crls_satisfy_a_policy_requiring_revocation(
        service: Service, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    strict = tmp_path / "strict.toml"
    strict.write_text("require_revocation = true\n")
    service.pcs_2023()
    _, doc, _ = run(capsys, "attest", "tdx", "verify", str(QUOTE_SPR), "--fetch", "--pcs-url",
                    service.url, "--time", "2023-07-01T01:00:00Z", "--policy", str(strict))
    (rev,) = [c for c in doc["checks"] if c["name"] == "policy.revocation"]
    assert rev["status"] == "pass" and rev["detail"] == "checked: pck.crl.root, pck.crl.pck"


def test_collateral_fetch_by_fmspc(service: Service, tmp_path: Path,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    service.pcs_2023()
    out = tmp_path / "c"
    assert main(["attest", "tdx", "collateral", "fetch", "--fmspc", "50806f000000", "--ca",
                 "platform", "--pcs-url", service.url, "-o", str(out),
                 "--time", "2023-07-01T01:00:00Z"]) == 0
    assert sorted(p.name for p in out.iterdir()) == [
        "pck_crl_platform.der", "qe_identity.json", "root_ca_crl.der",
        "tcb_info_50806f000000.json", "tcb_signing_chain.pem"]
    capsys.readouterr()
    # Offline with only the directory: the CRLs in it are applied.
    _, doc, _ = run(capsys, "attest", "tdx", "verify", str(QUOTE_SPR), "--collateral-dir",
                    str(out), "--time", "2023-07-01T01:00:00Z")
    assert _check(doc, "pck.crl.root") == _check(doc, "pck.crl.pck") == "pass"
    assert "collateral_sources" not in doc["facts"]  # nothing missing, nothing looked up
    assert main(["attest", "tdx", "collateral", "fetch", "--fmspc", "50806f", "--pcs-url",
                 service.url, "-o", str(out)]) == 2
    assert "--fmspc is 6 bytes" in capsys.readouterr().err
