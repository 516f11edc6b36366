"""An interactive map for the HTML report: inline SVG and a small inline script, offline.

No tile server, no CDN, no JavaScript library: the municipalities are drawn as
SVG paths from the atlas's GeoDataFrame (kilometres in its projected CRS, north
up), with the office regions, county borders, railways, the criteria's site
layers, candidates, organizers and offices in groups that check boxes show or
hide. Hovering over (or tapping) a municipality shows its organizers, their
office, travel minutes and mode; with several runs (``siting compare``) the
panels stand side by side and the box shows the office in every scenario.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterable

import numpy as np
import shapely
from matplotlib.markers import MarkerStyle

from siting.pipeline import Run
from siting.report.labels import Labels
from siting.report.maps import (
    COLOURS,
    REGION_ALPHA,
    criteria_kinds,
    rail_lines,
    region_colours,
    served_municipalities,
)
from siting.report.tables import assignments_table

#: Metres per SVG unit: the map is drawn in kilometres.
UNIT_M = 1000.0

STYLE = """
.siting-maps{display:flex;flex-wrap:wrap;gap:1rem;align-items:flex-start}
.siting-panel{flex:1 1 18rem;max-width:34rem;min-width:14rem;position:relative}
.siting-panel h3{font-size:.95rem;margin:.2rem 0}
.siting-panel svg{width:100%;height:auto;display:block;background:#fff}
.siting-map path.muni{stroke:#fff;stroke-width:.4;vector-effect:non-scaling-stroke;
 fill-opacity:REGION_ALPHA;cursor:pointer}
.siting-map path.muni:hover,.siting-map path.muni.active{stroke:#000;stroke-width:2}
.siting-map .county{fill:none;stroke:#333;stroke-width:.9;vector-effect:non-scaling-stroke}
.siting-map .rail{fill:none;stroke:RAIL;stroke-width:1.2;vector-effect:non-scaling-stroke}
.siting-map .rail.regional{stroke-dasharray:4 3}
.siting-map .overlay{pointer-events:none}
.siting-map text{font:bold 19px system-ui,sans-serif;paint-order:stroke;stroke:#fff;
 stroke-width:4px;stroke-linejoin:round}
.hide-regions .siting-map path.muni{fill:LAND!important;fill-opacity:1}
.siting-layers{display:flex;flex-wrap:wrap;gap:.3rem 1rem;margin:.5rem 0;font-size:.85rem}
.siting-layers label{cursor:pointer;white-space:nowrap}
.siting-tip{position:absolute;z-index:5;background:#fff;border:1px solid #888;
 border-radius:4px;padding:.35rem .5rem;font-size:.8rem;box-shadow:0 2px 6px #0003;
 pointer-events:none;max-width:24rem}
.siting-tip table{margin:.2rem 0;font-size:.78rem} .siting-tip td,.siting-tip th{border:0;
 padding:.05rem .3rem} .siting-tip[hidden]{display:none}
"""

SCRIPT = """
(function () {
  var root = document.getElementById("siting-interactive");
  if (!root) { return; }
  var data = JSON.parse(document.getElementById("siting-map-data").textContent);
  var tip = root.querySelector(".siting-tip");
  function esc(t) {
    return String(t).replace(/[&<>"]/g, function (c) {
      return {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"}[c];
    });
  }
  function describe(id) {
    var place = data.municipalities[id] || {name: id, county: ""};
    var out = "<strong>" + esc(place.name) + "</strong> <span>" + esc(place.county) + "</span>";
    data.panels.forEach(function (panel) {
      var rows = panel.rows[id] || [];
      if (data.panels.length > 1) { out += "<div><em>" + esc(panel.title) + "</em></div>"; }
      if (!rows.length) { out += "<div>" + esc(data.labels.none) + "</div>"; return; }
      out += "<table><tr><th>" + data.labels.head.map(esc).join("</th><th>") + "</th></tr>";
      rows.forEach(function (row) {
        out += "<tr><td>" + row.map(esc).join("</td><td>") + "</td></tr>";
      });
      out += "</table>";
    });
    return out;
  }
  function show(event) {
    var target = event.target;
    if (!target.classList || !target.classList.contains("muni")) { return; }
    var id = target.getAttribute("data-id");
    root.querySelectorAll("path.muni.active").forEach(function (p) {
      p.classList.remove("active");
    });
    root.querySelectorAll('path.muni[data-id="' + id + '"]').forEach(function (p) {
      p.classList.add("active");
    });
    tip.innerHTML = describe(id);
    tip.setAttribute("data-municipality", id);
    tip.hidden = false;
    var box = root.getBoundingClientRect();
    var x = (event.clientX || 0) - box.left + 14, y = (event.clientY || 0) - box.top + 14;
    tip.style.left = Math.max(0, Math.min(x, box.width - 260)) + "px";
    tip.style.top = y + "px";
  }
  root.addEventListener("mouseover", show);
  root.addEventListener("click", show);
  root.addEventListener("mouseleave", function () { tip.hidden = true; });
  root.querySelectorAll("input[data-layer]").forEach(function (box) {
    box.addEventListener("change", function () {
      root.classList.toggle("hide-" + box.getAttribute("data-layer"), !box.checked);
    });
  });
})();
"""


def _xy(run: Run) -> tuple[float, float]:
    """The west and north edges of the atlas (metres): SVG x grows east, y grows south."""
    west, _, _, north = run.atlas.municipalities.total_bounds
    return float(west), float(north)


def _path(geometry, west: float, north: float) -> str:
    """An SVG path (``M x y L ... Z`` per ring) of a polygon, in kilometres from the corner."""
    parts = []
    for polygon in getattr(geometry, "geoms", [geometry]):
        for ring in [polygon.exterior, *polygon.interiors]:
            coords = np.asarray(ring.coords)
            x = (coords[:, 0] - west) / UNIT_M
            y = (north - coords[:, 1]) / UNIT_M
            points = " ".join(f"{a:.1f} {b:.1f}" for a, b in zip(x, y, strict=True))
            parts.append(f"M{points}Z")
    return "".join(parts)


def _point(point, west: float, north: float) -> tuple[float, float]:
    return (point.x - west) / UNIT_M, (north - point.y) / UNIT_M


def _marker(marker: str, x: float, y: float, size: float, style: str) -> str:
    """A site symbol in SVG for the matplotlib marker the manifest names."""
    r = size / 2
    if marker == "s":
        return (
            f'<rect x="{x - r:.1f}" y="{y - r:.1f}" width="{size:.1f}" '
            f'height="{size:.1f}" {style}/>'
        )
    if marker == "D":
        d = f"M{x:.1f} {y - r:.1f}L{x + r:.1f} {y:.1f}L{x:.1f} {y + r:.1f}L{x - r:.1f} {y:.1f}Z"
        return f'<path d="{d}" {style}/>'
    if marker == "^":
        d = f"M{x:.1f} {y - r:.1f}L{x + r:.1f} {y + r:.1f}L{x - r:.1f} {y + r:.1f}Z"
        return f'<path d="{d}" {style}/>'
    if marker in ("+", "P"):
        d = f"M{x - r:.1f} {y:.1f}H{x + r:.1f}M{x:.1f} {y - r:.1f}V{y + r:.1f}"
        return f'<path d="{d}" {style}/>'
    if marker in ("x", "X"):
        d = (
            f"M{x - r:.1f} {y - r:.1f}L{x + r:.1f} {y + r:.1f}"
            f"M{x - r:.1f} {y + r:.1f}L{x + r:.1f} {y - r:.1f}"
        )
        return f'<path d="{d}" {style}/>'
    return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r:.1f}" {style}/>'


def _star(x: float, y: float, r: float) -> str:
    angles = np.pi / 2 + np.arange(10) * np.pi / 5
    radii = np.where(np.arange(10) % 2 == 0, r, r * 0.45)
    points = " ".join(
        f"{x + rad * np.cos(a):.1f},{y - rad * np.sin(a):.1f}"
        for rad, a in zip(radii, angles, strict=True)
    )
    return points


def _layer_groups(run: Run, west: float, north: float) -> list[tuple[str, str, str]]:
    """The criteria's site layers as (key, legend label, SVG group)."""
    atlas = run.atlas
    groups = []
    for kind in criteria_kinds(atlas):
        style = atlas.layer_style(kind)
        towns = atlas.layer(kind)
        filled = MarkerStyle(style.marker).is_filled()
        fill = style.colour if (style.filled and filled) else "none"
        attrs = (
            f'fill="{fill}" stroke="{style.colour}" stroke-width="1.5" '
            'vector-effect="non-scaling-stroke"'
        )
        size = 1.6 * style.size
        shapes = "".join(
            _marker(style.marker, *_point(p, west, north), size, attrs) for p in towns.geometry
        )
        key = f"sites-{kind}"
        groups.append(
            (key, f"{style.label} ({len(towns)})", f'<g class="overlay layer-{key}">{shapes}</g>')
        )
    return groups


def _panel_svg(run: Run, colours: dict[str, str], labels: Labels, index: int) -> str:
    """One map panel: an ``<svg>`` with every layer as a group."""
    atlas, solution = run.atlas, run.solution
    west, north = _xy(run)
    east, south = atlas.municipalities.total_bounds[2], atlas.municipalities.total_bounds[1]
    width, height = (east - west) / UNIT_M, (north - south) / UNIT_M
    e = html.escape
    served = served_municipalities(run)
    munis = []
    for muni_id, row in atlas.municipalities.iterrows():
        office = served.get(muni_id)
        fill = colours.get(office, "#E6E6E6")
        munis.append(
            f'<path class="muni" data-id="{e(str(muni_id))}" data-office="{e(str(office or ""))}"'
            f' fill="{fill}" d="{_path(row.geometry, west, north)}"/>'
        )
    counties = "".join(
        f'<path class="county" d="{_path(g, west, north)}"/>' for g in atlas.counties.geometry
    )
    rails = ""
    lines = rail_lines(atlas)
    if lines is not None:
        for intercity, line in zip(lines["intercity"], lines.geometry, strict=True):
            (x1, y1), (x2, y2) = (_point(shapely.Point(c), west, north) for c in line.coords)
            kind = "rail" if intercity else "rail regional"
            rails += f'<path class="{kind}" d="M{x1:.1f} {y1:.1f}L{x2:.1f} {y2:.1f}"/>'
    organizers = atlas.organizers.loc[solution.assignment.index]
    weights = solution.assignment["weight"].to_numpy(float)
    top = weights.max() if len(weights) and weights.max() > 0 else 1.0
    dots = "".join(
        f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{1.8 + 3 * w / top:.1f}"/>'
        for (x, y), w in zip(
            (_point(p, west, north) for p in organizers.geometry), weights, strict=True
        )
    )
    offices = set(solution.offices)
    candidates = "".join(
        f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5"/>'
        for cid, p in run.candidates.geometry.items()
        if cid not in offices
        for x, y in [_point(p, west, north)]
    )
    stars, names = [], []
    for office in solution.offices:
        x, y = _point(run.candidates.geometry[office], west, north)
        ring = (
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="17" fill="none" stroke="#000" '
            'stroke-width="1.5" vector-effect="non-scaling-stroke"/>'
            if office in solution.settings.required
            else ""
        )
        stars.append(
            f'{ring}<polygon data-office="{e(office)}" points="{_star(x, y, 13)}" '
            f'fill="{colours[office]}" stroke="#000" stroke-width="1" '
            'vector-effect="non-scaling-stroke"/>'
        )
        names.append(
            f'<text x="{x + 16:.1f}" y="{y - 6:.1f}">{e(solution.site_names.get(office, office))}'
            "</text>"
        )
    layer_groups = _layer_groups(run, west, north)
    return (
        f'<svg class="siting-map" data-panel="{index}" viewBox="-5 -5 {width + 10:.0f} '
        f'{height + 10:.0f}" xmlns="http://www.w3.org/2000/svg" role="img" '
        f'aria-label="{e(run.scenario.title())}">'
        f'<g class="layer-regions">{"".join(munis)}</g>'
        f'<g class="overlay layer-counties">{counties}</g>'
        f'<g class="overlay layer-railways">{rails}</g>'
        f'<g class="overlay layer-organizers" fill="{COLOURS["organizer"]}">{dots}</g>'
        + "".join(group for _, _, group in layer_groups)
        + f'<g class="overlay layer-candidates" fill="#fff" stroke="#777" stroke-width="1" '
        f'vector-effect="non-scaling-stroke">{candidates}</g>'
        f'<g class="overlay layer-offices">{"".join(stars)}{"".join(names)}</g>'
        "</svg>"
    )


def _rows(run: Run, labels: Labels) -> dict[str, list[list[str]]]:
    """Municipality id -> one row per organizer: name, office, minutes, mode."""
    table = assignments_table(run)
    municipality = run.atlas.organizers["municipality_id"].reindex(table.index)
    rows: dict[str, list[list[str]]] = {}
    for organizer_id, row in table.iterrows():
        rows.setdefault(str(municipality[organizer_id]), []).append(
            [
                str(row["organizer_name"]),
                str(row["office_name"]),
                labels.number(row["travel_minutes"], 0),
                labels.mode(str(row["mode"])) if "mode" in row else "",
            ]
        )
    return rows


def interactive_map(runs: Iterable[Run], labels: Labels) -> str:
    """The interactive map as an HTML fragment (style, controls, SVG panels, data, script).

    Parameters
    ----------
    runs
        One run (a report) or several (a comparison, panels side by side).
    labels
        Words in the report's language.

    Returns
    -------
    str
        HTML to place in a page's body; it needs nothing from outside the page.

    """
    runs = list(runs)
    colours = region_colours(runs)
    first = runs[0]
    atlas = first.atlas
    e = html.escape
    layers = [
        ("regions", labels("layer_regions")),
        ("counties", labels("county")),
        ("railways", labels("layer_railways")),
        *[(key, label) for key, label, _ in _layer_groups(first, *_xy(first))],
        ("candidates", labels("layer_candidates")),
        ("organizers", labels("layer_organizers")),
        ("offices", labels("layer_offices")),
    ]
    toggles = "".join(
        f'<label><input type="checkbox" checked data-layer="{e(key)}"> {e(label)}</label>'
        for key, label in layers
    )
    hide_css = "".join(f".hide-{key} .layer-{key}{{display:none}}" for key, _ in layers[1:])
    panels = "".join(
        f'<div class="siting-panel"><h3>{e(run.scenario.title())}</h3>'
        f"{_panel_svg(run, colours, labels, k)}</div>"
        for k, run in enumerate(runs)
    )
    county_names = atlas.counties["name"]
    data = {
        "labels": {
            "head": [
                labels("organizer_name"),
                labels("office_name"),
                labels("travel_minutes"),
                labels("mode"),
            ],
            "none": labels("none"),
        },
        "municipalities": {
            str(k): {"name": row["name"], "county": str(county_names.get(row["county_id"], ""))}
            for k, row in atlas.municipalities.iterrows()
        },
        "panels": [{"title": run.scenario.title(), "rows": _rows(run, labels)} for run in runs],
    }
    payload = json.dumps(data, ensure_ascii=False).replace("</", "<\\/")
    style = (
        STYLE.replace("REGION_ALPHA", str(REGION_ALPHA))
        .replace("RAIL", COLOURS["rail"])
        .replace("LAND", COLOURS["land"])
    )
    return (
        f"<style>{style}{hide_css}</style>"
        f'<div id="siting-interactive" style="position:relative">'
        f'<p class="muted">{e(labels("map_hint"))}</p>'
        f'<div class="siting-layers">{toggles}</div>'
        f'<div class="siting-maps">{panels}</div>'
        '<div class="siting-tip" hidden></div></div>'
        f'<script type="application/json" id="siting-map-data">{payload}</script>'
        f"<script>{SCRIPT}</script>"
    )
