"""Reports a strategist can hand on: provenance, parts of the objective, names, languages, maps."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from itertools import combinations
from pathlib import Path

import matplotlib.pyplot as plt
import pytest
from openpyxl import load_workbook

from siting.pipeline import run
from siting.report.labels import Labels
from siting.report.maps import (
    MIN_NEIGHBOUR_DELTA_E,
    colour_difference,
    figure_bytes,
    municipality_neighbours,
    plot_solution,
    region_colours,
    served_municipalities,
)
from siting.report.outputs import regions_layers
from siting.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "scenarios" / "offices-2022.yaml"
OVERRIDES = [
    "model.p=3",
    "model.required=[Luleå, Solna]",
    "reference=[Härnösand, Luleå]",
    "outputs.formats=[json, html, xlsx]",
]


@pytest.fixture(scope="module")
def p3(tmp_path_factory):
    """The real command: offices-2022 with three offices, one of them free to move."""
    out = tmp_path_factory.mktemp("p3")
    sets = [arg for o in OVERRIDES for arg in ("--set", o)]
    done = subprocess.run(
        [sys.executable, "-m", "siting", "solve", str(SCENARIO), "--out", str(out), *sets],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return out, done.stdout


def test_summary_records_overrides_settings_and_sources(p3):
    out, stdout = p3
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["overrides"] == OVERRIDES
    assert summary["scenario_file"].endswith("offices-2022.yaml")
    assert summary["title"] == (
        "Skolverket's four offices of 2022 (modified: model.p=3, model.required=[Luleå, Solna])"
    )
    model = summary["settings"]["model"]
    assert model["p"] == 3 and model["required"] == ["Luleå", "Solna"]  # names, not ids
    assert model["county"] == {"whole": True, "own_county": True, "contiguous": False}
    assert summary["provenance"]["siting_version"] == "0.1.0"
    assert "Statistics Sweden" in summary["provenance"]["data_sources"]
    names = [o["name"] for o in summary["offices"]]
    assert len(names) == 3 and {"Luleå", "Solna"} < set(names)  # one office free to move
    assert summary["optimality"] == "proven optimal"
    parts = summary["objective_parts"]
    assert parts["travel_minutes"] == pytest.approx(summary["objective"])  # no soft prices here
    # the reference: Luleå already chosen; Härnösand forced in instead of the free office
    reference = {row["town"]: row for row in summary["reference"]}
    assert reference["Luleå"]["status"] == "chosen" and reference["Luleå"]["extra_cost"] is None
    forced = reference["Härnösand"]
    assert forced["status"] == "forced"
    assert forced["offices_with_it"].split(";") == ["Solna", "Härnösand", "Luleå"]
    assert forced["extra_cost"] == pytest.approx(forced["forced_objective"] - summary["objective"])
    assert forced["extra_cost"] > 0
    assert "proven optimal" in stdout and "e+00" not in stdout


def test_workbook_holds_every_table_and_the_settings(p3):
    out, _ = p3
    book = load_workbook(out / "results.xlsx")
    assert book.sheetnames[:5] == ["offices", "assignments", "counties", "kpis", "settings"]
    offices = list(book["offices"].values)
    assert offices[0][:2] == ("Kontor", "Kontorets id")  # Swedish, names first
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    names = [row[0] for row in offices[1:]]
    assert sorted(names) == sorted(o["name"] for o in summary["offices"])
    assert names[:2] == ["Luleå", "Solna"]  # north to south (the free office is further south)
    settings = {row[0]: row[1] for row in book["settings"].values}
    assert json.loads(settings["overrides"]) == OVERRIDES
    assert settings["model.p"] == "3"
    assert settings["solver.mip_rel_gap"] == "0.000001"  # never 1e-06
    kpis = {row[0]: row[1] for row in book["kpis"].values}
    assert kpis["Kontor"] == 3 and kpis["Optimalitet"] == "bevisat optimal"
    assignments = list(book["assignments"].values)
    assert assignments[0][:3] == ("Huvudman", "Län", "Kontor")
    assert len(assignments) == 291
    assert "reference" in book.sheetnames


def test_report_states_what_was_solved(p3):
    out, _ = p3
    page = (out / "report.html").read_text(encoding="utf-8")
    title = re.search(r'<h1 id="title">([^<]*)</h1>', page).group(1)
    assert "(modified: model.p=3" in title  # not a bare "four offices"
    assert 'data-kpi="offices">3<' in page
    assert re.search(r"<td[^>]*>model\.p</td><td[^>]*>3</td>", page)
    assert "model.required=[Luleå, Solna]" in page
    assert "Referensorterna tvingade in" in page and "Härnösand" in page
    text = re.sub(r"data:image/png;base64,[^\"]*", "", page)
    assert not re.search(r"\de[+-]\d", text)


def test_labels_numbers_and_optimality():
    swedish, english = Labels("sv"), Labels("en")
    assert swedish.number(18136.36) == "18\xa0136,4"
    assert english.number(18136.36) == "18,136.4"
    assert swedish.share(0.4655) == "46,6\xa0%"
    assert english.optimality("optimal", 0.0) == "proven optimal"
    assert english.optimality("time_limit", 0.004) == "within 0.4 % of optimal"
    assert swedish.optimality("time_limit", 0.004) == "högst 0,4 % från optimum"
    assert english.optimality("time_limit", float("inf")) == "feasible, no proven bound"


@pytest.fixture(scope="module")
def plan():
    return run(load_scenario(ROOT / "scenarios" / "plan-2022-ten.yaml"))


def test_touching_regions_never_share_a_similar_colour(plan):
    colours = region_colours([plan])
    assert len(set(colours.values())) == 10  # ten offices, ten colours
    served = served_municipalities(plan)
    touching = {
        tuple(sorted((served[a], served[b])))
        for a, b in municipality_neighbours(plan.atlas)
        if a in served and b in served and served[a] != served[b]
    }
    names = plan.solution.site_names
    assert len(touching) >= 12
    for a, b in touching:
        assert colour_difference(colours[a], colours[b]) >= MIN_NEIGHBOUR_DELTA_E, (a, b)
    # the pair: Linköping's and Göteborg's regions look clearly different
    by_name = {names[o]: c for o, c in colours.items()}
    assert colour_difference(by_name["Linköping"], by_name["Göteborg"]) >= MIN_NEIGHBOUR_DELTA_E
    assert all(colour_difference(x, y) > 9 for x, y in combinations(set(colours.values()), 2))


def test_map_legend_beside_the_country_and_text_as_text(plan):
    fig, ax = plot_solution(plan)
    fig.canvas.draw()
    legend = ax.get_legend().get_window_extent()
    country = ax.get_window_extent()
    assert legend.x0 >= country.x1 - 1  # the legend covers no part of the map (Kiruna)
    svg = figure_bytes(fig, "svg").decode("utf-8")
    plt.close(fig)
    assert ">Luleå<" in svg and ">Malmö<" in svg  # names are <text>, not glyph paths


def test_a_map_is_rendered_once_when_saved_not_once_per_layer(plan, monkeypatch):
    from matplotlib.backend_bases import FigureCanvasBase
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    draws = []
    render = FigureCanvasAgg.draw
    monkeypatch.setattr(FigureCanvasAgg, "draw", lambda self, *a, **k: draws.append(1))
    idle = FigureCanvasBase.draw_idle
    fig, _ = plot_solution(plan)  # geopandas asks for a redraw after each layer
    assert draws == []
    assert FigureCanvasBase.draw_idle is idle  # restored once drawn
    monkeypatch.setattr(FigureCanvasAgg, "draw", render)
    figure_bytes(fig, "png", dpi=50)
    plt.close(fig)


def test_one_name_and_one_rounding_in_every_table(plan):
    layers = regions_layers(plan)
    for layer in ("organizers", "assignment_lines"):
        frame = layers[layer]
        assert "office_id" in frame and "office" not in frame and "candidate_id" not in frame
        assert (frame["travel_minutes"] == frame["travel_minutes"].round(1)).all()
    assert layers["offices"].columns[0] == "office_id"
    assert "office_name" in layers["counties"]
