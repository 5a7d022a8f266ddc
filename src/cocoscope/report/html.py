"""Self-contained HTML rendering (one file, no scripts, inline style) for sharing a report."""

from __future__ import annotations

from html import escape

from cocoscope.report.model import Report, shown_findings
from cocoscope.report.terminal import interesting_devices

_STYLE = """body{font-family:system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;
vertical-align:top;text-align:left}th{background:#f3f3f3}.fail{color:#b00;font-weight:bold}
.pass{color:#070}.unknown{color:#a60}.waived{color:#909}.not-applicable{color:#888}.advice{color:#068}
small{color:#666}"""


def _row(cells: list[str], tag: str = "td") -> str:
    return "<tr>" + "".join(f"<{tag}>{c}</{tag}>" for c in cells) + "</tr>"


def render_html(r: Report, show: str = "fail") -> str:
    e = escape
    out = ["<!DOCTYPE html>", "<html><head><meta charset='utf-8'>",
           f"<title>cocoscope audit {e(r.created)}</title><style>{_STYLE}</style></head><body>",
           f"<h1>cocoscope audit</h1><p>cocoscope {e(r.tool_version)}, {e(r.created)}</p>"]
    if r.platform is not None:
        out.append(f"<p><b>Platform:</b> {e(r.platform.platform)} "
                   f"<small>({e('; '.join(r.platform.signs))})</small></p>")
    out.append("<h2>Inputs</h2><ul>")
    out += [f"<li>{e(i.kind)}: <code>{e(i.path)}</code>"
            + (f" <small>sha256 {e(i.sha256)}</small>" if i.sha256 else "") + "</li>"
            for i in r.inputs]
    out.append("</ul><h2>Threat matrix</h2><table>")
    out.append(_row(["threat", "exposed interfaces", "pass", "fail", "unknown", "waived", "n/a",
                     "mitigations missing", "summary"], "th"))
    for row in r.rows:
        c = row.counts
        out.append(_row([e(row.name), e(", ".join(row.exposed) or "-"), str(c["pass"]),
                         f"<span class='fail'>{c['fail']}</span>" if c["fail"] else "0",
                         str(c["unknown"]), str(c["waived"]), str(c["not-applicable"]),
                         e(", ".join(row.mitigations_missing) or "-"), e(row.summary)]))
    out.append("</table><h2>Findings</h2><table>")
    out.append(_row(["rule", "status", "severity", "title", "evidence", "remediation"], "th"))
    for f in shown_findings(r, show):
        where = ""
        if f.location is not None:
            where = f"<br><small>{e(f.location.path)}" + (
                f":{f.location.line}" if f.location.line else "") + "</small>"
        notes = "".join(f"<br><small>{e(n)}</small>" for n in f.notes)
        out.append(_row([e(f.rule_id), f"<span class='{f.status.value}'>{f.status.value}</span>",
                         e(f.severity.value), e(f.title), e(f.message) + where + notes,
                         e(f.remediation)]))
    out.append("</table>")
    devs = interesting_devices(r)
    if devs:
        out.append(f"<h2>Devices the host presents ({len(devs)})</h2><table>")
        out.append(_row(["bus", "device", "ids / modalias", "driver"], "th"))
        out += [_row([e(x) for x in d]) for d in devs]
        out.append("</table>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"
