"""The HTML report (report/html.py), rendered through `cocoscope audit --format html`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from cocoscope.cli import main


def test_html_is_escaped_and_complete(fake_root: Callable[..., Path],
                                      capsys: pytest.CaptureFixture[str]) -> None:
    from html.parser import HTMLParser

    root = fake_root(cmdline='console=ttyS0 console="<script>"')
    main(["audit", "--root", str(root), "--format", "html", "--show", "all"])
    out = capsys.readouterr().out
    assert "<script>" not in out and "&lt;script&gt;" in out
    assert out.count("<table>") >= 3 and "Threat matrix" in out and "e1000" in out

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
