"""A self-contained HTML report of a run: KPIs, offices, criteria prices, solver, map."""

from __future__ import annotations

import base64
import html

from siting.pipeline import Run
from siting.report.tables import offices_table

STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2rem auto;
max-width:60rem;color:#222;line-height:1.45}
h1{font-size:1.5rem;margin-bottom:.2rem} h2{font-size:1.15rem;margin-top:2rem}
table{border-collapse:collapse;font-size:.85rem;margin:.5rem 0}
th,td{border:1px solid #ccc;padding:.25rem .5rem;text-align:left}
td.num,th.num{text-align:right} .muted{color:#666;font-size:.85rem}
img#map{max-width:100%;height:auto;border:1px solid #ddd}
"""

KPI_LABELS = {
    "offices": "Offices",
    "organizers": "Organizers",
    "mean_minutes": "Mean travel minutes (weighted)",
    "median_minutes": "Median travel minutes",
    "max_minutes": "Longest travel minutes",
    "share_within_120_min": "Share of organizers within 2 h",
    "share_within_180_min": "Share of organizers within 3 h",
    "organizers_per_office_min": "Fewest organizers per office",
    "organizers_per_office_max": "Most organizers per office",
    "objective": "Objective",
    "gap": "Proven gap",
}


def _format(key: str, value) -> str:
    if key.startswith("share"):
        return f"{value:.1%}"
    if key == "gap":
        return f"{value:.2e}"
    if isinstance(value, float):
        return f"{value:,.1f}"
    return f"{value:,}"


def render_report(run: Run, map_png: bytes) -> str:
    """The report as one HTML string (the map embedded as a PNG data URI)."""
    scenario, solution = run.scenario, run.solution
    e = html.escape
    kpis = solution.kpis()
    kpi_rows = "\n".join(
        f'<tr><th>{e(KPI_LABELS[k])}</th><td class="num" data-kpi="{k}">{_format(k, v)}</td></tr>'
        for k, v in kpis.items()
    )
    offices = offices_table(run).drop(columns=["counties", "county_id"])
    offices_html = offices.to_html(
        classes="offices", border=0, na_rep="unknown", float_format=lambda v: f"{v:,.1f}"
    )
    if solution.criteria_prices:
        rows = []
        for group, value in solution.criteria_prices.items():
            shown = "infeasible" if value is None else f"{value:,.1f}"
            delta = "" if value is None else f"{solution.objective - value:,.1f}"
            rows.append(
                f"<tr><td>{e(group)}</td><td class='num'>{shown}</td>"
                f"<td class='num'>{delta}</td></tr>"
            )
        prices = (
            "<table><tr><th>Hard criterion</th><th class='num'>Objective without it</th>"
            "<th class='num'>Its price</th></tr>" + "".join(rows) + "</table>"
        )
    else:
        prices = "<p class='muted'>No hard criteria besides the number of offices.</p>"
    parts = "".join(
        f"<tr><th>{e(k)}</th><td class='num'>{v:,.1f}</td></tr>" for k, v in solution.parts.items()
    )
    seconds = ", ".join(f"{k.removesuffix('_s')} {v:.2f} s" for k, v in run.seconds.items())
    image = base64.b64encode(map_png).decode("ascii")
    estimate = (
        "Road minutes come from the <em>estimate</em> backend (straight line × circuity ÷ "
        "speed, ferries for Gotland): an estimate, not a route-planner time."
        if scenario.travel.backend == "estimate"
        else ""
    )
    if "rail" in scenario.travel.modes:
        estimate += (
            " Rail legs use line speeds calibrated to published fastest times, plus "
            f"{scenario.travel.rail.transfer_min:g} minutes' transfer at each end."
        )
    criteria_rows = []
    for name, declared in run.atlas.spec.criteria.items():
        chosen = solution.settings.criteria.get(name)
        mode = chosen.mode if chosen is not None else "off"
        criteria_rows.append(
            f"<tr><td>{e(name)}</td><td>{e(declared.label or name)}</td>"
            f"<td>{e(declared.kind)}: {e(', '.join(declared.site_kinds) or declared.attribute)}"
            f"</td><td>{e(mode)}</td></tr>"
        )
    criteria_html = (
        "<table><tr><th>Criterion</th><th>Meaning</th><th>Declared as</th><th>Mode</th></tr>"
        + "".join(criteria_rows)
        + "</table>"
        if criteria_rows
        else "<p class='muted'>The data declares no criteria.</p>"
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{e(scenario.name)}</title><style>{STYLE}</style></head>
<body>
<h1>{e(scenario.name)}</h1>
<p>{e(scenario.question)}</p>
<p class="muted">Scenario hash {scenario.digest()} · solver {e(solution.solver)} ·
status <span id="status">{e(solution.status)}</span> · gap {solution.gap:.2e} · {e(seconds)}</p>
<h2>Key figures</h2>
<table id="kpis">{kpi_rows}</table>
<h2>Map</h2>
<img id="map" alt="Map of the offices and the regions they serve"
 src="data:image/png;base64,{image}">
<h2>Offices</h2>
<div style="overflow-x:auto">{offices_html}</div>
<h2>Objective</h2>
<table>{parts}</table>
<h2>Price of each hard criterion</h2>
{prices}
<script>
window.addEventListener("load", function () {{
  var map = document.getElementById("map");
  document.body.dataset.mapShown = map.complete && map.naturalWidth > 0 ? "yes" : "no";
}});
</script>
<h2>Sources</h2>
<p class="muted">{e(run.atlas.spec.attribution)} {estimate}
Facts (offices and the sites the criteria read) carry a source each in
{e(run.atlas.spec.sites.file)}.</p>
<h2>Criteria</h2>
{criteria_html}
</body></html>
"""
