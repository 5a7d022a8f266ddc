"""Markdown rendering: the matrix, then findings, then devices."""

from __future__ import annotations

from cocoscope.report.model import Report, shown_findings, target_text


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(r: Report, show: str = "fail") -> str:
    out = ["# cocoscope audit", "", f"cocoscope {r.tool_version}, {r.created}", ""]
    if r.platform is not None:
        out += [f"**Platform:** {r.platform.platform} ({'; '.join(r.platform.signs)})", ""]
    if (target := target_text(r)) is not None:
        out += [f"**Target:** {target}", ""]
    out += [f"> **Note:** {note}" for note in r.notes] + ([""] if r.notes else [])
    out += ["## Inputs", ""] + [f"- {i.kind}: `{i.path}`" + (f" (sha256 {i.sha256})" if i.sha256 else "")
                               for i in r.inputs] + [""]
    out += ["## Threat matrix", "", "| threat | exposed interfaces | pass | fail | unknown | "
            "waived | n/a | mitigations missing | summary |", "|---|---|---|---|---|---|---|---|---|"]
    for row in r.rows:
        c = row.counts
        out.append(f"| {row.name} | {', '.join(row.exposed) or '-'} | {c['pass']} | {c['fail']} | "
                   f"{c['unknown']} | {c['waived']} | {c['not-applicable']} | "
                   f"{', '.join(row.mitigations_missing) or '-'} | {_cell(row.summary)} |")
    out += ["", "## Findings", "", "| rule | status | severity | threat | title | evidence |",
            "|---|---|---|---|---|---|"]
    for f in shown_findings(r, show):
        out.append(f"| {f.rule_id} | {f.status.value} | {f.severity.value} | {f.threat.value} | "
                   f"{_cell(f.title)} | {_cell(f.message)} |")
    if r.devices:
        out += ["", "## Devices the host presents", "", "| bus | device | ids | driver |",
                "|---|---|---|---|"]
        for d in r.devices:
            ids = ":".join(x for x in (d.vendor, d.device) if x) or (d.modalias or "")
            out.append(f"| {d.bus} | {d.name} | {_cell(ids)} | {d.driver or '(none)'} |")
    return "\n".join(out) + "\n"
