"""Terminal rendering with rich: width from the terminal (80 columns fit), colour only on a
terminal and never with NO_COLOR.

Order of the page: what was audited, the short answer (a plain VM gets "not a CoCo guest"
and the next step first), the threat matrix, the findings sorted by severity then id, a
legend for every mark and status word, and a closing verdict line with the totals.
"""

from __future__ import annotations

import io
import os
import shutil

from rich.console import Console
from rich.table import Table
from rich.text import Text

from cocoscope.finding import Severity, Status
from cocoscope.model.platform import Platform
from cocoscope.report.model import Report, failing, shown_findings, target_text, totals

_STYLE = {Status.PASS: "green", Status.FAIL: "bold red", Status.UNKNOWN: "yellow",
          Status.WAIVED: "magenta", Status.NOT_APPLICABLE: "dim", Status.ADVICE: "cyan"}
_SEV_STYLE = {Severity.CRITICAL: "bold red", Severity.HIGH: "red", Severity.MEDIUM: "yellow",
              Severity.LOW: "default", Severity.INFO: "dim"}
# Totals in the verdict line, most urgent first.
_ORDER = (Status.FAIL, Status.WAIVED, Status.UNKNOWN, Status.ADVICE, Status.PASS,
          Status.NOT_APPLICABLE)
LEGEND = ("Mitigations: + present, - missing (a failing or waived rule), ? undecided "
          "(evidence missing). Status: fail = the rule is violated; waived = violated but "
          "accepted by a waiver; unknown = the evidence it needs was not given; advice = worth "
          "a review, never failing; pass; n/a = does not apply to this guest.")
BRIEF_FINDINGS = 10
BRIEF_MESSAGE = 160  # characters of a finding's message on the short page (two lines at 80)


def interesting_devices(r: Report) -> list[tuple[str, str, str, str]]:
    """Devices worth listing: skip bare ACPI namespace nodes that carry no id."""
    rows = []
    for d in r.devices:
        if not (d.driver or d.vendor or d.modalias):
            continue
        ids = ":".join(x for x in (d.vendor, d.device) if x) or (d.modalias or "")
        rows.append((d.bus, d.name, ids, d.driver or "(none)"))
    return rows


def _fit(text: str, room: int) -> str:
    """Keep the end of a long path (the file name) when it does not fit."""
    room = max(room, 12)
    return text if len(text) <= room else "…" + text[-(room - 1):]


def terminal_width() -> int:
    """The terminal's width (COLUMNS wins); 80 on a pipe."""
    return shutil.get_terminal_size((80, 24)).columns


def is_plain_live_vm(r: Report) -> bool:
    """A live audit of a machine that is not a TDX or SEV-SNP guest."""
    return r.platform is not None and not r.platform.platform.confidential


def _answer(r: Report) -> list[str]:
    """The short answer for a live audit of a plain VM, and what to do next."""
    assert r.platform is not None
    what = {Platform.NONE: "no memory encryption"}.get(
        r.platform.platform, f"{r.platform.platform.value.upper()}, which is not a CoCo platform "
        "(no memory integrity, no attestation)")
    return [
        f"[bold]Answer:[/bold] not a CoCo guest: this machine runs with {what}, so the host "
        "sees and can change its memory. The findings below say how far its kernel config and "
        "command line are from those of a confidential guest.",
        "[bold]Next step:[/bold] audit the image you will deploy instead, from its files: "
        "`cocoscope audit --config IMAGE/boot/config-VERSION --cmdline-file CMDLINE --platform "
        "tdx|snp` (a Kconfig fragment: add --kconfig-tree SRC), or run cocoscope inside the TDX "
        "or SEV-SNP guest. `--show fail` lists every failing rule, `--show all` every rule.",
    ]


def _folded(r: Report) -> str:
    """What the short page leaves out, and how to see it."""
    t = totals(r)
    return (f"Folded away: {t[Status.ADVICE]} advice, {t[Status.UNKNOWN]} unknown, "
            f"{t[Status.PASS]} pass, {t[Status.NOT_APPLICABLE]} n/a (--show all lists every "
            "rule).")


def _clip(text: str, room: int) -> str:
    return text if len(text) <= room else text[:room - 1].rstrip() + "…"


def _verdict(r: Report, fail_on: Severity) -> str:
    t = totals(r)
    bad = failing(r, fail_on)
    counts = ", ".join(f"{t[s]} {s.value}" for s in _ORDER)
    if bad:
        worst = max(f.severity.rank for f in bad)
        sev = next(s for s in Severity if s.rank == worst)
        head = (f"[bold red]Verdict: {len(bad)} failing at or above {fail_on.value}[/bold red] "
                f"(worst {sev.value})")
    elif t[Status.FAIL]:
        head = (f"[bold]Verdict: no failing rule at or above {fail_on.value}[/bold] "
                f"({t[Status.FAIL]} below it)")
    elif t[Status.UNKNOWN]:
        head = "[bold]Verdict: nothing failing, but not proven[/bold] (some rules lacked evidence)"
    else:
        head = "[bold green]Verdict: nothing failing[/bold green]"
    return f"{head}. Totals: {counts}."


def render_terminal(r: Report, show: str = "fail", color: str = "auto",
                    width: int | None = None, *, fail_on: Severity = Severity.MEDIUM,
                    brief: bool = False) -> str:
    """``brief``: the short page for a plain VM (answer first, the most severe findings, no
    device table); ``show`` picks the findings otherwise."""
    if color == "auto":
        use_color = os.environ.get("NO_COLOR") is None and os.isatty(1)
    else:
        use_color = color == "always"
    width = width or terminal_width()
    buf = io.StringIO()
    con = Console(file=buf, force_terminal=use_color, no_color=not use_color, width=width,
                  color_system="standard" if use_color else None, highlight=False,
                  soft_wrap=False)
    con.print(f"[bold]cocoscope {r.tool_version}[/bold] audit, {r.created}")
    if brief:  # the answer before anything else
        for answer in _answer(r):
            con.print(answer, overflow="fold")
        con.print(_verdict(r, fail_on), overflow="fold")
        con.print()
    for i in r.inputs:
        digest = f" (sha256 {i.sha256[:12]}…)" if i.sha256 else ""
        head = f"  {i.kind}: "
        line = Text(head) + Text(_fit(i.path, width - len(head) - len(digest)))
        con.print(line + Text(digest, style="dim"), no_wrap=True, overflow="ellipsis")
    if r.platform is not None:
        p = r.platform.platform
        verdict = ("not running under TDX or SEV-SNP" if not p.confidential
                   else f"running under {p.value.upper()}")
        con.print(f"Platform: [bold]{p.value}[/bold] — {verdict}")
        if not brief:
            for s in r.platform.signs:
                con.print(Text("  " + s, style="dim"), overflow="fold")
    if (target := target_text(r)) is not None:
        con.print(Text("Target: " + target), overflow="fold")
    for note in r.notes:
        con.print(Text("Note: " + note, style="yellow"), overflow="fold")
    matrix = Table(title="CoCo threat matrix", show_lines=True, expand=False)
    matrix.add_column("threat", overflow="fold", ratio=3)
    for col in ("fail", "waiv", "unkn", "pass", "n/a"):
        matrix.add_column(col, justify="right", no_wrap=True)
    matrix.add_column("mitigations (+ - ?)", overflow="fold", ratio=4)
    for row in r.rows:
        c = row.counts
        mit = ([f"[green]+{m}[/green]" for m in row.mitigations_present]
               + [f"[red]-{m}[/red]" for m in row.mitigations_missing]
               + [f"[yellow]?{m}[/yellow]" for m in row.mitigations_unknown])
        name = row.name + (f"\n[dim]exposed: {', '.join(row.exposed)}[/dim]"
                           if row.exposed and not brief else "")
        matrix.add_row(name, f"[red]{c['fail']}[/red]" if c["fail"] else "0", str(c["waived"]),
                       str(c["unknown"]), str(c["pass"]), str(c["not-applicable"]),
                       "\n".join(mit) or "-")
    con.print(matrix)
    shown = shown_findings(r, "fail" if brief else show)
    more = 0
    if brief and len(shown) > BRIEF_FINDINGS:
        more = len(shown) - BRIEF_FINDINGS
        shown = shown[:BRIEF_FINDINGS]
    title = {"fail": "Findings: failing and waived, most severe first",
             "all": "Findings: every rule, most severe first"}[show if not brief else "fail"]
    if more:
        title = f"Findings: the {BRIEF_FINDINGS} most severe of {len(shown) + more} failing"
    table = Table(title=title)
    table.add_column("sev", no_wrap=True)
    table.add_column("rule", no_wrap=True)
    table.add_column("status", no_wrap=True)
    table.add_column("finding", overflow="fold", ratio=1)
    for f in shown:
        style = _STYLE[f.status]
        body = Text(f.title, style="bold")
        body.append("\n" + (_clip(f.message, BRIEF_MESSAGE) if brief else f.message))
        for note in () if brief else f.notes:
            body.append("\n" + note, style="dim")
        table.add_row(Text(f.severity.value, style=_SEV_STYLE[f.severity]), f.rule_id,
                      Text(f.status.value, style=style), body)
    if shown:
        con.print(table)
    else:
        con.print("No failing or waived finding." if show == "fail" else "No finding.")
    if more:
        con.print(f"… and {more} more failing or waived: --show fail lists them all.")
    if brief:
        con.print(_folded(r), overflow="fold")
    devs = interesting_devices(r)
    if devs and brief:
        con.print(f"Devices the host presents: {len(devs)} (--show all lists them).")
    elif devs:
        t = Table(title=f"Devices the host presents ({len(devs)})")
        for col in ("bus", "device", "ids / modalias", "driver"):
            t.add_column(col, overflow="fold")
        for d in devs:
            t.add_row(*d)
        con.print(t)
    con.print(Text(LEGEND, style="dim"), overflow="fold")
    con.print(_verdict(r, fail_on), overflow="fold")
    return buf.getvalue()
