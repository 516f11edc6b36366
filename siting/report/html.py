"""A self-contained HTML report of a run, in the report's language.

What was solved (scenario file, overrides, every setting, data sources, siting
version), the key figures, what the objective is made of (travel minutes, each
soft price, fixed cost, each explained), an interactive map (inline SVG, no
network), the static map, the offices, why these towns, office values and
criteria prices when computed.
"""

from __future__ import annotations

import base64
import html

import pandas as pd

from siting.pipeline import Run
from siting.report.interactive import interactive_map
from siting.report.labels import Labels, labels_for
from siting.report.tables import (
    criterion_label,
    for_people,
    objective_parts,
    offices_table,
    part_explanation,
    part_label,
    provenance,
    settings_table,
)
from siting.report.why import ForcedTown, criteria_met, forced_table, office_values_table

STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2rem auto;
max-width:72rem;padding:0 1rem;color:#222;line-height:1.45}
h1{font-size:1.5rem;margin-bottom:.2rem} h2{font-size:1.15rem;margin-top:2rem}
table{border-collapse:collapse;font-size:.85rem;margin:.5rem 0}
th,td{border:1px solid #ccc;padding:.25rem .5rem;text-align:left;vertical-align:top}
td.num,th.num{text-align:right;white-space:nowrap} .muted{color:#666;font-size:.85rem}
.modified{background:#fff4d6;border-left:4px solid #E69F00;padding:.3rem .6rem}
img#map{max-width:100%;height:auto;border:1px solid #ddd}
td.yes{color:#1a7f37} td.no{color:#b42318}
details summary{cursor:pointer}
"""


def _cell(value, labels: Labels, *, decimals: int = 1) -> tuple[str, str]:
    """A value as (text, css class) in the report's language."""
    if isinstance(value, bool) or type(value).__name__ == "bool_":
        return (labels("yes"), "yes") if value else (labels("no"), "no")
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "\u2013", "num"
    if isinstance(value, int | float) or hasattr(value, "dtype"):
        return labels.number(value, decimals), "num"
    return str(value), ""


def html_table(frame: pd.DataFrame, labels: Labels, *, index: bool = False, **attrs) -> str:
    """A DataFrame as an HTML table with numbers in the language's style, right-aligned."""
    e = html.escape
    head = ([frame.index.name or ""] if index else []) + [str(c) for c in frame.columns]
    header = "".join(f"<th>{e(h)}</th>" for h in head)
    body = []
    for key, row in frame.iterrows():
        cells = [(str(key), "")] if index else []
        cells += [_cell(v, labels) for v in row.to_numpy()]
        body.append("<tr>" + "".join(f'<td class="{c}">{e(t)}</td>' for t, c in cells) + "</tr>")
    extra = "".join(f' {k.rstrip("_")}="{e(str(v))}"' for k, v in attrs.items())
    return f"<table{extra}><tr>{header}</tr>{''.join(body)}</table>"


def _provenance_html(run: Run, labels: Labels) -> str:
    e = html.escape
    facts = provenance(run)
    overrides = ", ".join(facts["overrides"]) or labels("none")
    rows = [
        (labels("scenario_file"), facts["scenario_file"] or labels("built_in_code")),
        (labels("overrides"), overrides),
        (labels("scenario_hash"), facts["scenario_hash"]),
        (labels("siting_version"), facts["siting_version"]),
        (labels("manifest"), f"{facts['atlas']} ({facts['manifest']})"),
        (labels("travel"), f"{facts['travel_backend']}: {' + '.join(facts['travel_modes'])}"),
    ]
    return (
        '<table id="provenance">'
        + "".join(f"<tr><th>{e(k)}</th><td>{e(str(v))}</td></tr>" for k, v in rows)
        + "</table>"
    )


def _kpis_html(run: Run, labels: Labels) -> str:
    e = html.escape
    solution = run.solution
    rows = []
    for key, value in solution.kpis().items():
        if key == "gap":
            shown = labels.optimality(solution.status, solution.gap)
        elif key.startswith("share"):
            shown = labels.share(value)
        else:
            shown = labels.number(value, 1)
        rows.append(
            f"<tr><th>{e(labels(f'kpi_{key}'))}</th>"
            f'<td class="num" data-kpi="{key}">{e(shown)}</td></tr>'
        )
    return f'<table id="kpis">{"".join(rows)}</table>'


def _parts_html(run: Run, labels: Labels) -> str:
    e = html.escape
    rows = []
    for key, value in objective_parts(run):
        strong = key == "objective"
        name = e(part_label(run, key, labels))
        rows.append(
            f'<tr data-part="{key}"><th>{"<strong>" + name + "</strong>" if strong else name}'
            f'</th><td class="num">{e(labels.number(value, 1))}</td>'
            f"<td>{e(part_explanation(run, key, labels))}</td></tr>"
        )
    return f'<table id="objective-parts">{"".join(rows)}</table>'


def _prices_html(run: Run, labels: Labels) -> str:
    e = html.escape
    solution = run.solution
    if not solution.criteria_prices:
        return f'<p class="muted">{e(labels("prices_off"))}</p>'
    rows = []
    for group, value in solution.criteria_prices.items():
        name = group.removeprefix("model.")
        if name.startswith("criteria."):
            name = criterion_label(run, name.removeprefix("criteria."))
        shown = labels("infeasible") if value is None else labels.number(value, 1)
        delta = "" if value is None else labels.number(solution.objective - value, 1)
        rows.append(
            f"<tr><td>{e(name)}</td><td class='num'>{e(shown)}</td>"
            f"<td class='num'>{e(delta)}</td></tr>"
        )
    return (
        f"<p>{e(labels('prices_intro'))}</p><table><tr><th></th>"
        f"<th>{e(labels('objective'))}</th><th>{e(labels('extra_cost'))}</th></tr>"
        + "".join(rows)
        + "</table>"
    )


def _values_html(run: Run, labels: Labels) -> str:
    e = html.escape
    solution = run.solution
    if not solution.office_values:
        return f'<p class="muted">{e(labels("values_off"))}</p>'
    table = office_values_table(run).drop(columns=["office_id"])
    return (
        f"<p>{e(labels('values_intro', objective=labels.number(solution.objective, 1)))}</p>"
        + html_table(for_people(table, run, labels), labels, id="office-values")
    )


def _why_html(run: Run, labels: Labels, forced: list[ForcedTown] | None) -> str:
    e = html.escape
    met = for_people(criteria_met(run), run, labels)
    out = f"<p>{e(labels('why_intro'))}</p>" + html_table(met, labels, id="criteria-met")
    if forced:
        table = forced_table(run, forced)
        status = {
            "chosen": labels("already_chosen"),
            "not_candidate": labels("not_candidate"),
            "infeasible": labels("infeasible"),
            "forced": "",
        }
        table["status"] = table["status"].map(status)
        table["offices_with_it"] = table["offices_with_it"].str.replace(";", ", ")
        out += (
            f"<h3>{e(labels('reference_heading'))}</h3><p>{e(labels('reference_intro'))}</p>"
            + html_table(
                for_people(table.rename(columns={"status": "note"}), run, labels),
                labels,
                id="reference",
            )
        )
    return out


def _criteria_html(run: Run, labels: Labels) -> str:
    e = html.escape
    rows = []
    for name, declared in run.atlas.spec.criteria.items():
        chosen = run.solution.settings.criteria.get(name)
        mode = chosen.mode if chosen is not None else "off"
        rows.append(
            f"<tr><td>{e(declared.label or name)}</td><td>{e(name)}</td>"
            f"<td>{e(declared.kind)}: {e(', '.join(declared.site_kinds) or declared.attribute)}"
            f"</td><td>{e(mode)}</td></tr>"
        )
    if not rows:
        return ""
    return (
        f"<h2>{e(labels('criteria_heading'))}</h2><table><tr><th></th><th>model.criteria.</th>"
        f"<th></th><th>mode</th></tr>{''.join(rows)}</table>"
    )


def _sources_html(run: Run, labels: Labels) -> str:
    e = html.escape
    scenario = run.scenario
    notes = [run.atlas.spec.attribution]
    if scenario.travel.backend == "estimate":
        notes.append(labels("estimate_note"))
    if "rail" in scenario.travel.modes:
        notes.append(labels("rail_note", transfer=labels.number(scenario.travel.rail.transfer_min)))
    notes.append(labels("facts_note", file=run.atlas.spec.sites.file))
    return f'<p class="muted">{e(" ".join(notes))}</p>'


def render_report(run: Run, map_png: bytes, *, forced: list[ForcedTown] | None = None) -> str:
    """The report as one HTML string (the static map embedded as a PNG data URI).

    Parameters
    ----------
    run
        The solved run.
    map_png
        The static map as PNG bytes.
    forced
        The reference towns forced in (:func:`siting.report.why.forced_references`), if any.

    """
    labels = labels_for(run)
    scenario, solution = run.scenario, run.solution
    e = html.escape
    title = scenario.title()
    offices = offices_table(run)[
        ["name", "county", "required", "organizers", "weight", "mean_minutes", "max_minutes"]
    ]
    offices_html = html_table(for_people(offices, run, labels), labels, id="offices")
    seconds = ", ".join(
        f"{k.removesuffix('_s')} {labels.number(v, 2)} s" for k, v in run.seconds.items()
    )
    modified = (
        f'<p class="modified" id="modified">{e(labels("modified"))}: '
        f"{e(', '.join(scenario.overrides))}</p>"
        if scenario.overrides
        else ""
    )
    settings = settings_table(run)
    settings_html = html_table(
        settings.rename(columns={"setting": labels("setting"), "value": labels("value")}),
        labels,
        id="settings",
    )
    image = base64.b64encode(map_png).decode("ascii")
    optimality = labels.optimality(solution.status, solution.gap)
    summary_line = labels(
        "solved_settings",
        offices=len(solution.offices),
        objective=solution.settings.objective,
    )
    return f"""<!DOCTYPE html>
<html lang="{labels.language}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{e(title)}</title><style>{STYLE}</style></head>
<body>
<h1 id="title">{e(title)}</h1>
<p>{e(scenario.question)}</p>
{modified}
<p class="muted">{e(labels("solver"))} {e(solution.solver)} ·
<span id="status" data-status="{e(solution.status)}">{e(optimality)}</span> · {e(seconds)}</p>
{_provenance_html(run, labels)}
<h2>{e(labels("key_figures"))}</h2>
{_kpis_html(run, labels)}
<h2>{e(labels("objective_heading"))}</h2>
{_parts_html(run, labels)}
<h2>{e(labels("interactive_map"))}</h2>
{interactive_map([run], labels)}
<h2>{e(labels("map"))}</h2>
<img id="map" alt="Map of the offices and the regions they serve"
 src="data:image/png;base64,{image}">
<h2>{e(labels("offices_heading"))}</h2>
{offices_html}
<h2>{e(labels("why_heading"))}</h2>
{_why_html(run, labels, forced)}
<h2>{e(labels("values_heading"))}</h2>
{_values_html(run, labels)}
<h2>{e(labels("prices_heading"))}</h2>
{_prices_html(run, labels)}
{_criteria_html(run, labels)}
<h2>{e(labels("settings_heading"))}</h2>
<p>{e(summary_line)}</p>
<details><summary>{e(labels("settings_heading"))}</summary>{settings_html}</details>
<h2>{e(labels("sources_heading"))}</h2>
{_sources_html(run, labels)}
<script>
window.addEventListener("load", function () {{
  var map = document.getElementById("map");
  document.body.dataset.mapShown = map.complete && map.naturalWidth > 0 ? "yes" : "no";
}});
</script>
</body></html>
"""
