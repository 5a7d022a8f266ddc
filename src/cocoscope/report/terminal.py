"""Terminal rendering with rich: colour when the stream is a terminal, never with NO_COLOR."""

from __future__ import annotations

import io
import os

from rich.console import Console
from rich.table import Table

from cocoscope.finding import Status
from cocoscope.report.model import Report, shown_findings

_STYLE = {Status.PASS: "green", Status.FAIL: "bold red", Status.UNKNOWN: "yellow",
          Status.WAIVED: "magenta", Status.NOT_APPLICABLE: "dim", Status.ADVICE: "cyan"}


def interesting_devices(r: Report) -> list[tuple[str, str, str, str]]:
    """Devices worth listing: skip bare ACPI namespace nodes that carry no id."""
    rows = []
    for d in r.devices:
        if not (d.driver or d.vendor or d.modalias):
            continue
        ids = ":".join(x for x in (d.vendor, d.device) if x) or (d.modalias or "")
        rows.append((d.bus, d.name, ids, d.driver or "(none)"))
    return rows


def render_terminal(r: Report, show: str = "fail", color: str = "auto", width: int = 120) -> str:
    if color == "auto":
        use_color = os.environ.get("NO_COLOR") is None and os.isatty(1)
    else:
        use_color = color == "always"
    buf = io.StringIO()
    con = Console(file=buf, force_terminal=use_color, no_color=not use_color, width=width,
                  color_system="standard" if use_color else None, highlight=False)
    con.print(f"[bold]cocoscope {r.tool_version}[/bold] audit, {r.created}")
    for i in r.inputs:
        con.print(f"  {i.kind}: {i.path}" + (f" [dim](sha256 {i.sha256[:16]}…)[/dim]" if i.sha256 else ""))
    if r.platform is not None:
        verdict = {"none": "not running under TDX or SEV-SNP"}.get(r.platform.platform,
                                                                    f"running under {r.platform.platform.upper()}")
        con.print(f"Platform: [bold]{r.platform.platform}[/bold] — {verdict}")
        for s in r.platform.signs:
            con.print(f"  [dim]{s}[/dim]")
    matrix = Table(title="CoCo threat matrix", show_lines=True)
    for col in ("threat", "exposed interfaces", "pass", "fail", "unknown", "waived", "n/a",
                "mitigations", "summary"):
        matrix.add_column(col)
    for row in r.rows:
        c = row.counts
        mit = []
        mit += [f"[green]+{m}[/green]" for m in row.mitigations_present]
        mit += [f"[red]-{m}[/red]" for m in row.mitigations_missing]
        mit += [f"[yellow]?{m}[/yellow]" for m in row.mitigations_unknown]
        matrix.add_row(row.name, ", ".join(row.exposed) or "-", str(c["pass"]),
                       f"[red]{c['fail']}[/red]" if c["fail"] else "0", str(c["unknown"]),
                       str(c["waived"]), str(c["not-applicable"]), "\n".join(mit), row.summary)
    con.print(matrix)
    table = Table(title="Findings" + (" (failing and waived; --show all for every rule)"
                                      if show == "fail" else ""))
    for col in ("rule", "status", "sev", "title", "evidence"):
        table.add_column(col)
    for f in shown_findings(r, show):
        style = _STYLE[f.status]
        table.add_row(f.rule_id, f"[{style}]{f.status.value}[/{style}]", f.severity.value,
                      f.title, f.message + ("\n" + "\n".join(f.notes) if f.notes else ""))
    con.print(table)
    devs = interesting_devices(r)
    if devs:
        t = Table(title=f"Devices the host presents ({len(devs)})")
        for col in ("bus", "device", "ids / modalias", "driver"):
            t.add_column(col)
        for d in devs:
            t.add_row(*d)
        con.print(t)
    return buf.getvalue()
