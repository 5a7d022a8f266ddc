"""HTML pages (Jinja2 templates in report/templates): one self-contained file each, for an audit
(`audit --format html`) and for a source surface (`surface --format html`).

Everything the page needs is inline (style, the SVG picture, a small filtering script); it loads
nothing from the network. Autoescaping is on for every template: report text comes from configs,
command lines and device names the host controls.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from cocoscope.report import htmlview as view
from cocoscope.report.model import Report, target_text
from cocoscope.report.terminal import interesting_devices

if TYPE_CHECKING:
    from cocoscope.surface.inventory import Inventory

# Colour, lane class and meaning, in the order the legend shows them.
AUDIT_LEGEND = (
    ("sev-critical", "#7b1010", "failing: critical"), ("sev-high", "#c62828", "failing: high"),
    ("sev-medium", "#e65100", "failing: medium"), ("sev-low", "#a66b00", "failing: low"),
    ("sev-info", "#3949ab", "failing: info"), ("waived", "#7b1fa2", "waived"),
    ("unknown", "#9a6a00", "undecided (dashed)"), ("advice", "#0277bd", "advice only"),
    ("pass", "#2e7d32", "every rule passes"), ("none", "#757575", "no rule applies"),
)
SURFACE_LEGEND = (
    ("risky", "#c62828", "read in built code, some reads risky"),
    ("sites", "#9a6a00", "read in built code, no risky read"),
    ("none", "#757575", "not read by built code"),
)
MATRIX_LABELS = {"pass": "pass", "fail": "fail", "unknown": "unk.", "waived": "waiv.",
                 "advice": "adv.", "not-applicable": "n/a"}
SITES_SHOWN = 2000  # risky sites listed on the surface page; the JSON output has them all


@cache
def _env() -> Environment:
    return Environment(loader=PackageLoader("cocoscope.report", "templates"),
                       autoescape=select_autoescape(default=True, default_for_string=True),
                       undefined=StrictUndefined, trim_blocks=False, lstrip_blocks=False,
                       keep_trailing_newline=True)


def _render(template: str, **context: Any) -> str:
    return _env().get_template(template).render(**context)


def render_html(r: Report, show: str = "fail") -> str:
    surface = view.surface_from_counts(r)
    pic = view.audit_picture(r, surface)
    findings = view.findings_for(r, show)
    return _render(
        "audit.html.j2", title="cocoscope audit", version=r.tool_version, created=r.created,
        report=r, show=show, banner=view.banner(r), pic=pic, lane_legend=AUDIT_LEGEND,
        matrix_statuses=view.STATUSES, matrix_labels=MATRIX_LABELS,
        severities=view.SEVERITIES, statuses=view.statuses_of(findings), findings=findings, attestation=view.attestation(r), surface=surface,
        devices=interesting_devices(r), target=target_text(r))


def surface_view(inv: Inventory) -> view.Surface:
    from collections import Counter

    from cocoscope.surface.rollup import by_interface, by_subsystem

    def rows(rs: list[Any], limit: int | None) -> tuple[view.SurfaceRow, ...]:
        return tuple(view.SurfaceRow(x.key, x.sites, x.risky) for x in rs[:limit])

    host = inv.host_sites
    drivers: Counter[str] = Counter(s.module for s in host if s.module)
    risky: Counter[str] = Counter(s.module for s in host if s.module and s.risky)
    return view.Surface(
        len(host), sum(s.risky for s in host), rows(by_interface(inv), None),
        rows(by_subsystem(inv), 30),
        tuple(view.SurfaceRow(m, n, risky[m]) for m, n in
              sorted(drivers.items(), key=lambda kv: (-kv[1], kv[0]))[:15]),
        note=f"{inv.files_scanned} files scanned; platform {inv.platform or 'any'}.")


def _surface_lanes(s: view.Surface) -> tuple[view.Lane, ...]:
    by = {r.key: r for r in s.by_interface}
    out = []
    for lane in view.lanes((), None):
        row = by.get(lane.id)
        if row is None:
            state, label, sites = "none", "no read in built code", 0
        else:
            state = "risky" if row.risky else "sites"
            label, sites = f"{row.risky or 0} risky", row.sites
        out.append(view.Lane(lane.id, lane.name, lane.description, state, label, {}, sites,
                             lane.y))
    return tuple(out)


def render_surface_html(inv: Inventory) -> str:
    s = surface_view(inv)
    level = "high" if s.risky else ("unknown" if s.sites else "ok")
    banner = view.Banner(level, f"{s.sites} host-input sites in built code, {s.risky} risky",
                         (f"Source tree {inv.tree}" + (f", config {inv.config}" if inv.config
                                                       else " (every .c file)") + ".",
                          s.note))
    guest = [f"tree: {'/'.join(inv.tree.rstrip('/').split('/')[-2:])}"]
    if inv.config:
        guest.append(f"config: {inv.config.rsplit('/', 1)[-1]}")
    guest.append(f"platform: {inv.platform or 'any'}")
    pic = view.picture(guest, view.HOST_LINES, _surface_lanes(s))
    risky = [x for x in inv.host_sites if x.risky]
    return _render(
        "surface.html.j2", title="cocoscope surface", version=_version(), created=_now(),
        banner=banner, pic=pic, lane_legend=SURFACE_LEGEND, surface=s,
        sites=risky[:SITES_SHOWN], sites_total=len(risky), tree=inv.tree, config=inv.config,
        platform=inv.platform)


def _version() -> str:
    from cocoscope import __version__

    return __version__


def _now() -> str:
    import datetime as dt

    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
