"""`measure tdx --match/--target`: which VMM page order reproduces an MRTD."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cocoscope.attest.tdx.mrtd import PageOrder, compute_mrtd
from cocoscope.cli import main


@pytest.mark.ovmf
@pytest.mark.parametrize("order", list(PageOrder))
def test_target_names_the_page_order(order: PageOrder, ovmf_fd: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    target = compute_mrtd(ovmf_fd.read_bytes(), "OVMF.fd", order).mrtd.hex()
    code = main(["measure", "tdx", "--ovmf", str(ovmf_fd), "--target", target, "--format", "json"])
    doc = json.loads(capsys.readouterr().out)
    assert code == 0 and doc["quote_verified"] is False
    assert [m["page_order"] for m in doc["matches"]] == [order.value]
    assert {t["page_order"] for t in doc["tried"]} == {o.value for o in PageOrder}


@pytest.mark.ovmf
def test_no_match_exits_4(ovmf_fd: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["measure", "tdx", "--ovmf", str(ovmf_fd), "--target", "cd" * 48])
    out = capsys.readouterr().out
    assert code == 4
    assert "NO MATCH with either page order" in out and "single-pass" in out and "two-pass" in out


@pytest.mark.ovmf
def test_short_target_is_a_usage_error(ovmf_fd: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["measure", "tdx", "--ovmf", str(ovmf_fd), "--target", "abcd"]) == 2
    assert "48 bytes" in capsys.readouterr().err


@pytest.mark.ovmf
def test_match_reads_the_mrtd_of_a_real_quote(ovmf_fd: Path, testdata: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    # trustee's tdx_quote_6 comes from a TD built with another TDVF: no page order of Debian's
    # OVMF.fd gives its MRTD, and the quote's own MRTD is what was compared.
    quote = testdata / "attestation" / "tdx" / "trustee" / "tdx_quote_6.dat"
    code = main(["measure", "tdx", "--ovmf", str(ovmf_fd), "--match", str(quote)])
    out = capsys.readouterr().out
    assert code == 4
    assert out.startswith("target MRTD 21e8dead92d6c69d7cbba79816686c03a48485c7df0c11f6f04792d5e1d3")
    assert "signature was NOT verified" in out and "NO MATCH" in out
