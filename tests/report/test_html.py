"""The HTML report (report/html.py), rendered through `cocoscope audit --format html` and
`cocoscope surface --format html`; the page in a real browser is tested in test_html_browser.py."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path

import pytest

from cocoscope.cli import main
from cocoscope.finding import Severity
from cocoscope.model import INTERFACES
from tests.paths import ATTESTATION, DATA

KAFL = DATA / "kconfig" / "kafl_linux_kernel_tdx_guest_5.15-rc6.config"
SYZ = DATA / "kconfig" / "syzkaller_guest_5.12.config"
RANK = {s.value: s.rank for s in Severity}


def render(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    main([*argv, "--format", "html"])
    return capsys.readouterr().out


def audit_json(capsys: pytest.CaptureFixture[str], *argv: str) -> dict:  # type: ignore[type-arg]
    main([*argv, "--format", "json"])
    return json.loads(capsys.readouterr().out)  # type: ignore[no-any-return]


def lanes(page: str) -> dict[str, str]:
    """interface id -> lane class (its colour) in the SVG picture."""
    return dict((i, c) for c, i in re.findall(
        r'<a class="lane ([\w-]+)" href="#\w+" data-interface="([\w-]+)"', page))


def test_html_is_escaped_and_complete(fake_root: Callable[..., Path],
                                      capsys: pytest.CaptureFixture[str]) -> None:
    root = fake_root(cmdline='console=ttyS0 console="<script>"')
    out = render(capsys, "audit", "--root", str(root), "--show", "all")
    # The host-controlled command line is escaped; the page's one script is its own filter.
    assert "console=&lt;script&gt;" in out and out.count("<script") == 1
    assert out.count("<table") >= 3 and "Threat matrix" in out and "e1000" in out

    class Tags(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.depth = 0

        def handle_starttag(self, tag: str, attrs: list) -> None:  # type: ignore[type-arg]
            if tag in ("table", "tr", "td", "th"):
                self.depth += 1

        def handle_endtag(self, tag: str) -> None:
            if tag in ("table", "tr", "td", "th"):
                self.depth -= 1

    t = Tags()
    t.feed(out)
    assert t.depth == 0


def test_page_loads_nothing_from_elsewhere(capsys: pytest.CaptureFixture[str]) -> None:
    out = render(capsys, "audit", "--config", str(KAFL), "--show", "all")
    assert not re.search(r"<(link|img|iframe|object|embed)\b|\bsrc=|@import|url\((?!#)", out)
    # the only URL is the SVG namespace name, which is never fetched
    assert set(re.findall(r"https?://[^\s\"'<>]+", out)) == {"http://www.w3.org/2000/svg"}


def test_lanes_are_every_interface_coloured_by_its_worst_finding(
        fake_root: Callable[..., Path], capsys: pytest.CaptureFixture[str]) -> None:
    argv = ("audit", "--root", str(fake_root(tdx=True)), "--config", str(KAFL), "--show", "all")
    doc = audit_json(capsys, *argv)
    page = render(capsys, *argv)
    got = lanes(page)
    assert list(got) == [i.id.value for i in INTERFACES]
    for i in INTERFACES:
        assert f">{i.name}</text>" in page
    findings = [f for t in doc["threats"] for f in t["findings"]]
    for iface, cls in got.items():
        mine = [f for f in findings if f["interface"] == iface]
        failing = [f["severity"] for f in mine if f["status"] == "fail"]
        if failing:
            assert cls == "sev-" + max(failing, key=RANK.__getitem__), iface
        elif any(f["status"] == "waived" for f in mine):
            assert cls == "waived"
        elif any(f["status"] == "unknown" for f in mine):
            assert cls == "unknown", iface
        elif any(f["status"] == "advice" for f in mine):
            assert cls == "advice"
        elif any(f["status"] == "pass" for f in mine):
            assert cls == "pass", iface
        else:
            assert cls == "none", iface
    # this guest has failures on some lanes and not on others
    assert {c for c in got.values() if c.startswith("sev-")} and "pass" in got.values()


def test_findings_sorted_by_severity_then_status_then_id(capsys: pytest.CaptureFixture[str]) -> None:
    page = render(capsys, "audit", "--config", str(SYZ), "--platform", "tdx", "--show", "all")
    rows = re.findall(r'data-severity="(\w+)" data-status="([\w-]+)".*?<code>(CCS-[\w-]+)</code>',
                      page, re.S)
    assert len(rows) > 100
    order = ("fail", "waived", "unknown", "advice", "pass", "not-applicable")
    keys = [(-RANK[sev], order.index(st), rule) for sev, st, rule in rows]
    assert keys == sorted(keys)
    assert rows[0][0] in ("critical", "high")


def test_default_lists_failing_and_waived_only(capsys: pytest.CaptureFixture[str]) -> None:
    page = render(capsys, "audit", "--config", str(SYZ), "--platform", "tdx")
    statuses = set(re.findall(r'<tr class="finding[^"]*" data-row data-severity="\w+" '
                              r'data-status="([\w-]+)"', page))
    assert statuses == {"fail"}
    # the filter offers the statuses present, not all six
    assert re.findall(r'name="status" value="([\w-]+)"', page) == ["fail"]


def test_attestation_lists_every_check(capsys: pytest.CaptureFixture[str]) -> None:
    quote = ATTESTATION / "tdx" / "trustee" / "tdx_quote_4.dat"
    page = render(capsys, "audit", "--config", str(SYZ), "--platform", "tdx", "--evidence",
                  str(quote), "--time", "2025-01-01T00:00:00Z")
    main(["attest", "tdx", "verify", str(quote), "--time", "2025-01-01T00:00:00Z",
          "--format", "json"])
    verified = json.loads(capsys.readouterr().out)
    checks = {c["name"]: c["status"] for c in verified["checks"]}
    section = page[page.index('<section id="attestation">'):page.index('<section id="surface">')]
    shown = dict(re.findall(r'<td><code>([\w.]+)</code></td><td><span class="st (\w+)">', section))
    assert shown == checks and len(shown) >= 10
    assert shown["policy.debug"] == "fail"  # trustee's quote 4 is a debug TD
    assert "tdx-quote FAILED" in page[:page.index('<section id="layout">')]


def test_no_evidence_says_not_checked(capsys: pytest.CaptureFixture[str]) -> None:
    page = render(capsys, "audit", "--config", str(KAFL))
    section = page[page.index('<section id="attestation">'):page.index('<section id="surface">')]
    assert "not checked (no --evidence given)" in section and "<table" not in section
    assert "Not counted: run" in page  # no --source: the surface is not claimed either


def test_surface_page_on_the_fixture_tree(capsys: pytest.CaptureFixture[str]) -> None:
    tree = DATA / "surface" / "tree"
    page = render(capsys, "surface", "--source", str(tree), "--all-files", "--no-cache",
                  "--jobs", "1")
    main(["surface", "--source", str(tree), "--all-files", "--no-cache", "--jobs", "1",
          "--format", "json"])
    doc = json.loads(capsys.readouterr().out)
    got = lanes(page)
    assert list(got) == [i.id.value for i in INTERFACES]
    by = {r["key"]: r for r in doc["by_interface"]}
    for iface, cls in got.items():
        row = by.get(iface)
        assert cls == ("none" if row is None else "risky" if row["risky"] else "sites"), iface
    risky = [s for s in doc["sites"] if s["risky"]]
    assert page.count("<tr data-row") == len(risky) > 0
    assert f"{doc['totals']['sites']} host-input sites in built code" in page


def test_audit_with_source_shows_subsystems_and_drivers(
        linux_tree: Path, debian_cloud_config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ("audit", "--config", str(debian_cloud_config), "--source", str(linux_tree))
    doc = audit_json(capsys, *argv)
    counts = next(t for t in doc["threats"]
                  if t["threat"] == "malformed-runtime-input")["facts"]["surface_counts"]
    subsystems = {k[len("subsystem:"):]: v for k, v in counts.items() if k.startswith("subsystem:")}
    drivers = {k[len("driver:"):]: v for k, v in counts.items() if k.startswith("driver:")}
    assert len(subsystems) == len(drivers) == 15
    page = render(capsys, *argv)
    section = page[page.index('<section id="surface">'):]
    for title in ("By interface class", "By subsystem", "Top drivers (modules)"):
        assert f"<h3>{title}</h3>" in section
    top = max(drivers, key=lambda k: (drivers[k], k))
    assert f"<tr><td>{top}</td><td class=\"num\">{drivers[top]}</td>" in section
    mmio = counts["interface:mmio"]
    assert re.search(r'data-interface="mmio".*?' + f"· {mmio} sites</text>", page, re.S)
