from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import yaml

from siting.errors import InfeasibleError, ScenarioError
from siting.pipeline import run
from siting.report.outputs import write_outputs
from siting.scenario import apply_overrides, load_scenario

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = sorted((ROOT / "scenarios").glob("*.yaml"))


def write(tmp_path, document, name="s.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    return path


def test_shipped_scenarios_exist_and_say_what_they_answer():
    names = {p.stem for p in SHIPPED}
    assert {
        "offices-2022",
        "plan-2022-ten",
        "optimized-four",
        "optimized-ten",
        "fewest-day-trip",
        "no-county-rule",
    } <= names
    for path in SHIPPED:
        assert path.read_text(encoding="utf-8").startswith("# Question:"), path


#: Offices and objective of each shipped scenario on the shipped data. Moving the
#: criteria into the manifest changed no answer (this table held the same values before
#: and after that commit); the sourced data of issue 10 (SPSM's own 16 towns, SCB
#: population, corrected places, new rail lines) then moved them to these.
SHIPPED_ANSWERS = {
    "fewest-day-trip": (
        ("gn2662689", "gn2670061", "gn2671392", "gn2678210", "gn2693347", "gn2707399", "gn606086"),
        7.0,
    ),
    "no-county-rule": (("gn2675397", "gn2692969", "gn2702979", "gn602150"), 30538.330227121776),
    "offices-2022": (("gn2675397", "gn2692969", "gn2707684", "gn604490"), 37101.75275839374),
    "optimized-four": (("gn2675397", "gn2692969", "gn2702979", "gn602150"), 30746.942820949727),
    "optimized-ten": (
        (
            "gn2663536",
            "gn2675397",
            "gn2685750",
            "gn2686657",
            "gn2692969",
            "gn2694762",
            "gn2711537",
            "gn2712414",
            "gn602150",
            "gn604490",
        ),
        19171.323377015095,
    ),
    "plan-2022-ten": (
        (
            "gn2663536",
            "gn2675397",
            "gn2686657",
            "gn2692969",
            "gn2694762",
            "gn2707684",
            "gn2711537",
            "gn2712414",
            "gn602150",
            "gn604490",
        ),
        18329.43381526175,
    ),
}


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_every_shipped_scenario_solves(path):
    result = run(load_scenario(path, ["solver.time_limit_s=60"]), prices=False)
    assert result.solution.status == "optimal"
    assert result.solution.kpis()["organizers"] == 290
    offices, objective = SHIPPED_ANSWERS[path.stem]
    assert result.solution.offices == offices
    assert result.solution.objective == pytest.approx(objective, rel=1e-9)


def test_offices_2022_values():
    result = run(load_scenario(ROOT / "scenarios" / "offices-2022.yaml"), prices=False)
    names = sorted(result.solution.office_table()["name"])
    assert names == ["Härnösand", "Luleå", "Malmö", "Solna"]
    assignment = result.solution.assignment
    # counties served whole: one office per county
    assert (assignment.groupby("county_id")["office"].nunique() == 1).all()
    lulea = result.atlas.locality_id("Luleå")
    assert set(assignment.loc[assignment["office"] == lulea, "county_id"]) == {"25", "24"}


def test_overrides_change_fields():
    raw = {"name": "x", "model": {"p": 4}}
    assert apply_overrides(raw, ["model.p=8", "model.criteria.spsm.mode=hard"])["model"] == {
        "p": 8,
        "criteria": {"spsm": {"mode": "hard"}},
    }
    assert raw["model"] == {"p": 4}  # the input is not changed
    with pytest.raises(ScenarioError, match=r"write it as field\.path=value"):
        apply_overrides(raw, ["model.p"])


def test_every_problem_reported_by_field(tmp_path):
    path = write(
        tmp_path,
        {
            "name": "bad",
            "model": {
                "p": "ten",
                "objectve": "median",
                "criteria": {"spsm": {"mode": "sometimes"}},
            },
            "solver": {"time_limit_s": -1},
            "travel": {"estimate": {"speed_kmh": -5}},
        },
    )
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    message = str(info.value)
    assert message.startswith(f"5 problem(s) in {path}")
    assert "model.p: Input should be a valid integer" in message and "'ten'" in message
    assert "model.objectve: unknown key; did you mean 'objective'?" in message
    assert "model.criteria.spsm.mode: Input should be 'off', 'hard' or 'soft'" in message
    assert "solver.time_limit_s: Input should be greater than 0" in message
    assert "travel.estimate.speed_kmh: Input should be greater than 0" in message


def test_missing_and_malformed_files(tmp_path):
    with pytest.raises(ScenarioError, match=r"scenario file not found: .*nope\.yaml"):
        load_scenario(tmp_path / "nope.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("name: [unclosed\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match="not valid YAML"):
        load_scenario(broken)


def test_unknown_town_is_named_with_suggestion(tmp_path):
    path = write(tmp_path, {"name": "x", "model": {"p": 2, "required": ["Lulea", "Solna"]}})
    with pytest.raises(
        ScenarioError,
        match=r"model.required: unknown town 'Lulea'; did you "
        r"mean 'Luleå'",
    ):
        run(load_scenario(path))


def test_required_town_below_threshold_becomes_candidate(tmp_path):
    path = write(tmp_path, {"name": "x", "model": {"p": 2, "required": ["Kiruna"]}})
    result = run(load_scenario(path), prices=False)
    assert result.atlas.locality_id("Kiruna") in result.solution.offices


def test_infeasible_scenario_is_diagnosed(tmp_path):
    path = write(
        tmp_path, {"name": "x", "model": {"p": 2, "spread": {"mode": "hard", "max_minutes": 220}}}
    )
    with pytest.raises(
        InfeasibleError,
        match=r"model.p=2, model.spread.max_minutes=220 cannot "
        r"hold together",
    ) as info:
        run(load_scenario(path))
    assert set(info.value.restoring) == {"model.p", "model.spread.max_minutes"}
    # no number of offices helps when a town is beyond the limit from every candidate
    with pytest.raises(
        InfeasibleError,
        match=r"from every candidate: Storuman \(148 min\), "
        r"Sorsele \(146 min\)",
    ):
        run(load_scenario(path, ["model.spread.max_minutes=145"]))


def test_outputs_are_complete_and_consistent(tmp_path):
    result = run(load_scenario(ROOT / "scenarios" / "offices-2022.yaml"))
    paths = write_outputs(result, tmp_path / "out")
    names = sorted(p.name for p in paths)
    assert names == [
        "assignments.csv",
        "map.pdf",
        "map.png",
        "map.svg",
        "offices.csv",
        "regions.gpkg",
        "report.html",
        "results.xlsx",
        "summary.json",
    ]
    offices = pd.read_csv(tmp_path / "out" / "offices.csv", dtype={"county_id": str})
    assert set(offices["name"]) == {"Luleå", "Härnösand", "Solna", "Malmö"}
    assert offices["organizers"].sum() == 290
    assignments = pd.read_csv(tmp_path / "out" / "assignments.csv")
    assert len(assignments) == 290 and set(assignments["mode"]) == {"road", "road+ferry", "rail"}
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["status"] == "optimal"
    assert summary["kpis"]["offices"] == 4
    assert summary["objective"] == pytest.approx(result.solution.objective)
    layers = gpd.list_layers(tmp_path / "out" / "regions.gpkg")["name"].tolist()
    assert layers == ["counties", "organizers", "offices", "assignment_lines"]
    counties = gpd.read_file(tmp_path / "out" / "regions.gpkg", layer="counties")
    assert counties.crs.to_epsg() == 3006 and len(counties) == 21
    html = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert 'data-kpi="offices">4<' in html and "data:image/png;base64," in html
    hidden = [p.name for p in (tmp_path / "out").iterdir() if p.name.startswith(".")]
    assert hidden == [".siting-run.json"]  # the manifest; no staging folder left


def test_failed_run_keeps_earlier_outputs(tmp_path, monkeypatch):
    result = run(load_scenario(ROOT / "scenarios" / "offices-2022.yaml"), prices=False)
    out = tmp_path / "out"
    write_outputs(result, out, ["csv"])
    before = (out / "offices.csv").read_bytes()

    import siting.report.outputs as outputs

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(outputs, "render_report", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        write_outputs(result, out, ["csv", "html"])
    assert (out / "offices.csv").read_bytes() == before
    assert sorted(p.name for p in out.iterdir()) == [
        ".siting-run.json",
        "assignments.csv",
        "offices.csv",
    ]


def test_scenario_with_a_school_register(tmp_path):
    import json as jsonlib

    units = tmp_path / "register" / "school-units"
    units.mkdir(parents=True)
    for code, lat, lon, org in [
        ("1", 65.58, 22.15, "A"),
        ("2", 59.33, 18.06, "B"),
        ("3", 55.60, 13.00, "C"),
    ]:
        document = {
            "data": {
                "attributes": {
                    "schoolUnitCode": code,
                    "status": "AKTIV",
                    "organizer": {"organizationNumber": org, "name": f"Huvudman {org}"},
                    "addresses": [
                        {
                            "type": "BESOKSADRESS",
                            "geoCoordinates": {"latitude": lat, "longitude": lon},
                        }
                    ],
                }
            }
        }
        (units / f"{code}.json").write_text(jsonlib.dumps(document), encoding="utf-8")
    path = write(
        tmp_path, {"name": "register", "data": {"school_register": "register"}, "model": {"p": 2}}
    )
    result = run(load_scenario(path), prices=False)
    assert sorted(result.solution.assignment.index) == ["oA", "oB", "oC"]
    assert result.solution.kpis()["organizers"] == 3


def test_readme_scenario_example_is_valid():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = text.split("```yaml\n", 1)[1].split("```", 1)[0]
    from siting.scenario import validate_scenario

    scenario = validate_scenario(yaml.safe_load(block), "README.md")
    assert scenario.model.criteria["rail"].mode == "soft"
    assert scenario.travel.modes == ["road", "rail"]


def test_unquoted_off_is_the_mode_off(tmp_path):
    path = tmp_path / "off.yaml"
    path.write_text(
        "name: x\nmodel:\n  p: 2\n  criteria:\n    spsm: {mode: off}\n    rail: {mode: hard}\n",
        encoding="utf-8",
    )
    scenario = load_scenario(path)
    criteria = scenario.model.criteria
    assert criteria["spsm"].mode == "off" and criteria["rail"].mode == "hard"
    with pytest.raises(
        ScenarioError,
        match=r"model.criteria.spsm.mode: Input should be 'off', 'hard' "
        r"or 'soft', got True",
    ):
        load_scenario(path, ["model.criteria.spsm.mode=on"])


def test_old_criterion_spelling_points_to_model_criteria(tmp_path):
    path = tmp_path / "old.yaml"
    path.write_text("name: x\nmodel:\n  p: 2\n  spsm: {mode: hard}\n", encoding="utf-8")
    with pytest.raises(
        ScenarioError, match=r"model.spsm: unknown key; .* write model.criteria.spsm"
    ):
        load_scenario(path)


def test_overrides_on_a_scenario_with_a_date(tmp_path):
    # a GTFS scenario holds a YAML date; copying it for --set used to raise TypeError
    path = tmp_path / "gtfs.yaml"
    path.write_text(
        "name: g\nmodel: {p: 2}\ntravel:\n  modes: [road, rail]\n"
        "  rail: {source: gtfs, gtfs_feed: feed.zip, gtfs_date: 2024-03-12}\n",
        encoding="utf-8",
    )
    scenario = load_scenario(path, ["model.p=3"])
    assert scenario.model.p == 3
    assert str(scenario.travel.rail.gtfs_date) == "2024-03-12"
