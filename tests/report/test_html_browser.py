"""The HTML report in a real browser: Debian's chromium, headless, driven by Playwright.

Needs /usr/bin/chromium (Debian package chromium; .ci/run installs it). Playwright never
downloads a browser here: it is pointed at the system one. Without chromium the tests skip
with the reason, except under CI, where a missing browser is a failure.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from cocoscope.cli import main
from cocoscope.model import INTERFACES
from tests.paths import DATA

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
KAFL = DATA / "kconfig" / "kafl_linux_kernel_tdx_guest_5.15-rc6.config"

pytestmark = pytest.mark.browser

# Every element whose box leaves the viewport horizontally (the SVG clips its own contents, so
# an SVG text that does not fit is caught here too).
OVERFLOW_JS = """() => {
  const w = document.documentElement.clientWidth, out = [];
  for (const el of document.querySelectorAll('body *')) {
    const r = el.getBoundingClientRect();
    if (r.width > 0 && (r.right > w + 0.5 || r.left < -0.5)) {
      out.push(el.tagName + (el.id ? '#' + el.id : '') + ' ' + Math.round(r.left) + '..' +
               Math.round(r.right) + ' ' + (el.textContent || '').slice(0, 40));
    }
  }
  return {scrollWidth: document.documentElement.scrollWidth, width: w, overflowing: out};
}"""


# Text of the picture that leaves its box (guest, host or lane), or lane texts that overlap.
PICTURE_JS = """() => {
  const bad = [];
  for (const g of document.querySelectorAll('svg.picture g.box, svg.picture a.lane')) {
    const r = g.querySelector('rect').getBoundingClientRect();
    const texts = Array.from(g.querySelectorAll('text')).map(t => [t, t.getBoundingClientRect()]);
    for (const [t, b] of texts) {
      if (b.left < r.left - 0.5 || b.right > r.right + 0.5) { bad.push('outside: ' + t.textContent); }
    }
    if (g.matches('a.lane') && texts[0][1].right > texts[1][1].left) {
      bad.push('overlap: ' + texts[0][0].textContent);
    }
  }
  return bad;
}"""


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail("CI needs Debian's chromium for the browser tests (.ci/run installs it)")
        pytest.skip("no /usr/bin/chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


@pytest.fixture
def page_at(browser: Any) -> Iterator[Callable[[Path, int], Any]]:
    """Open a file at a viewport width; every request that is not the file itself is refused
    and remembered, so a page that reaches for the network fails the test."""
    pages: list[Any] = []
    elsewhere: list[str] = []

    def open_(path: Path, width: int) -> Any:
        page = browser.new_page(viewport={"width": width, "height": 900})
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))

        def route(r: Any) -> None:
            if r.request.url == path.as_uri():
                r.continue_()
            else:
                elsewhere.append(r.request.url)
                r.abort()

        page.route("**/*", route)
        page.goto(path.as_uri())
        page.errors = errors
        pages.append(page)
        return page

    yield open_
    for p in pages:
        p.close()
    assert elsewhere == []


def _audit_page(tmp_path: Path, fake_root: Callable[..., Path],
                capsys: pytest.CaptureFixture[str]) -> tuple[Path, list[dict[str, Any]]]:
    argv = ["audit", "--root", str(fake_root(tdx=True)), "--config", str(KAFL), "--show", "all"]
    main([*argv, "--format", "json"])
    doc = json.loads(capsys.readouterr().out)
    out = tmp_path / "audit.html"
    main([*argv, "--format", "html", "-o", str(out)])
    capsys.readouterr()
    return out, [f for t in doc["threats"] for f in t["findings"]]


def _visible_rows(page: Any) -> list[dict[str, str]]:
    rows: list[dict[str, str]] = page.eval_on_selector_all(
        "tr[data-row]", "rs => rs.filter(r => !r.hidden && r.offsetParent !== null)"
        ".map(r => Object.assign({}, r.dataset))")
    return rows


@pytest.mark.parametrize("width", [1024, 1600])
def test_audit_page_fits_and_names_guest_host_and_interfaces(
        tmp_path: Path, fake_root: Callable[..., Path], capsys: pytest.CaptureFixture[str],
        page_at: Callable[[Path, int], Any], width: int) -> None:
    path, _ = _audit_page(tmp_path, fake_root, capsys)
    page = page_at(path, width)
    fit = page.evaluate(OVERFLOW_JS)
    assert fit["overflowing"] == [] and fit["scrollWidth"] <= fit["width"] == width
    assert page.evaluate(PICTURE_JS) == []
    texts = page.locator("svg.picture text").all_text_contents()
    assert "CoCo guest" in texts and "Host VMM" in texts
    assert [i.name for i in INTERFACES] == [t for t in texts if t in {i.name for i in INTERFACES}]
    page.screenshot(path=str(tmp_path / f"audit-{width}.png"), full_page=True)
    assert page.errors == []


def test_filtering_by_severity_interface_and_text(
        tmp_path: Path, fake_root: Callable[..., Path], capsys: pytest.CaptureFixture[str],
        page_at: Callable[[Path, int], Any]) -> None:
    path, findings = _audit_page(tmp_path, fake_root, capsys)
    page = page_at(path, 1024)
    assert len(_visible_rows(page)) == len(findings)
    assert page.text_content("#shown-count") == f"{len(findings)} of {len(findings)} shown"

    for sev in ("high", "medium", "low", "info"):
        page.uncheck(f"input[name=severity][value={sev}]")
    critical = [f for f in findings if f["severity"] == "critical"]
    shown = _visible_rows(page)
    assert len(shown) == len(critical) > 0 and {r["severity"] for r in shown} == {"critical"}

    page.click("button[type=reset]")
    page.click("svg a.lane[data-interface=mmio]")  # a lane of the picture filters the table
    mmio = [f for f in findings if f["interface"] == "mmio"]
    shown = _visible_rows(page)
    assert len(shown) == len(mmio) > 0 and {r["interface"] for r in shown} == {"mmio"}
    assert page.input_value("select[name=interface]") == "mmio"
    assert "selected" in (page.get_attribute("svg a.lane[data-interface=mmio]", "class") or "")

    page.click("button[type=reset]")
    page.fill("input[name=q]", "VIRTIO_MMIO")
    shown_ids = page.eval_on_selector_all(
        "tr[data-row]", "rs => rs.filter(r => !r.hidden).map(r => r.textContent)")
    assert shown_ids and all("VIRTIO_MMIO" in t for t in shown_ids)
    listed = ("rule_id", "title", "message", "remediation", "notes", "location")
    assert len(shown_ids) == sum("VIRTIO_MMIO" in json.dumps([f[k] for k in listed])
                                 for f in findings)
    assert page.errors == []


def test_surface_page_fits_at_1024(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                   page_at: Callable[[Path, int], Any]) -> None:
    out = tmp_path / "surface.html"
    main(["surface", "--source", str(DATA / "surface" / "tree"), "--all-files", "--no-cache",
          "--jobs", "1", "--format", "html", "-o", str(out)])
    page = page_at(out, 1024)
    fit = page.evaluate(OVERFLOW_JS)
    assert fit["overflowing"] == [] and fit["scrollWidth"] <= 1024
    assert page.evaluate(PICTURE_JS) == []
    texts = page.locator("svg.picture text").all_text_contents()
    assert "CoCo guest" in texts and "Host VMM" in texts
    assert {i.name for i in INTERFACES} <= set(texts)
    page.click("svg a.lane[data-interface=port-io]")
    assert {r["interface"] for r in _visible_rows(page)} <= {"port-io"}
    assert page.errors == []
