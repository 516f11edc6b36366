"""The shipped Swedish facts, checked against their sources; organizers from a sheet."""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest
import yaml

from siting import DataError, load_atlas
from siting.atlas import default_data_dir

SPSM_OFFICE_TOWNS = {
    "Luleå": "",
    "Umeå": "",
    "Östersund": "",
    "Härnösand": "head_office",
    "Gävle": "",
    "Västerås": "",
    "Solna": "",
    "Stockholm": "",
    "Örebro": "regional_office",
    "Linköping": "",
    "Jönköping": "",
    "Växjö": "local_office",
    "Kalmar": "local_office",
    "Halmstad": "",
    "Göteborg": "",
    "Malmö": "regional_office",
}


def test_spsm_office_towns_and_kinds(sweden):
    sites = sweden.sites.fillna("")
    offices = sites[sites["kind"] == "spsm_office"]
    assert dict(zip(offices["town"], offices["office_type"], strict=True)) == SPSM_OFFICE_TOWNS
    assert offices["source_url"].str.contains("spsm.se|harnosand.se|mynewsdesk.com").all()
    assert offices["verified"].all()
    # the SPSM criterion counts offices only
    assert sweden.spec.criteria["spsm"].colocate_with == ["spsm_office"]  # no special schools


def test_lund_and_vanersborg_are_special_school_towns_only(sweden):
    sites = sweden.sites
    for town in ("Lund", "Vänersborg"):
        kinds = set(sites.loc[sites["town"] == town, "kind"]) - {"university"}
        assert kinds == {"spsm_special_school"}, town
    schools = sites[sites["kind"] == "spsm_special_school"]
    assert sorted(schools["town"]) == [
        "Härnösand",
        "Lund",
        "Stockholm",
        "Umeå",
        "Vänersborg",
        "Örebro",
    ]


def test_population_is_scb_2021(sweden):
    population = sweden.municipalities["population"]
    assert len(population) == 290
    assert population.sum() == 10_452_326  # SCB's official figure for 31 Dec 2021
    assert population["0180"] == 978_770  # Stockholm
    assert population["0138"] == 49_062  # Tyresö
    assert population["0123"] == 83_170  # Järfälla
    assert population["0128"] == 17_252  # Salem
    table = pd.read_csv(default_data_dir() / "population" / "municipalities.csv", dtype=str)
    assert (table["reference_date"] == "2021-12-31").all()
    assert table["source"].str.startswith("SCB").all()


def test_every_municipal_organizer_stands_at_a_place_of_its_own_municipality(sweden):
    organizers = sweden.organizers
    assert len(organizers) == 290
    polygons = sweden.municipalities.geometry
    outside = [
        oid
        for oid, mid, point in zip(
            organizers.index, organizers["municipality_id"], organizers.geometry, strict=True
        )
        if not polygons[mid].contains(point)
    ]
    assert outside == []
    places = sweden.localities.loc[organizers["locality_id"]]
    assert (places["municipality_id"].to_numpy() == organizers["municipality_id"].to_numpy()).all()
    # each organizer is its place's point, or that point moved into the generalised polygon
    distance = places.geometry.distance(organizers.geometry, align=False).to_numpy()
    assert distance.max() < 3_000
    assert distance == pytest.approx(organizers["moved_m"].to_numpy(), abs=0.1)
    # the cases the audit found
    town = places["name"].set_axis(organizers.index)
    assert town["m1715"] == "Kil"  # fell in Karlstad
    assert town["m0461"] == "Gnesta"  # fell in Södertälje
    assert town["m1440"] == "Älvängen"  # Ale's largest place fell in Kungälv
    assert town["m0840"] == "Mörbylånga"  # was a GeoNames copy of Lund's Södra Sandby
    assert town["m1256"] == "Knislinge"  # Östra Göinge: was a copy of Helsingborg's Hittarp
    assert town["m1447"] == "Gullspång"  # was a copy of Gislaved's Anderstorp
    assert town["m2463"] == "Åsele"  # was a copy of Leksand's Insjön
    assert sweden.localities.at[sweden.locality_id("Lövgärdet"), "municipality_id"] == "1480"


def test_norrkoping_is_a_teacher_education_town(sweden):
    universities = sweden.sites[sweden.sites["kind"] == "university"]
    norrkoping = universities[universities["town"] == "Norrköping"]
    assert list(norrkoping["name"]) == ["Linköpings universitet (Norrköping)"]
    assert norrkoping["verified"].all()
    facts = pd.read_csv(
        default_data_dir() / "facts" / "sources" / "teacher_education_institutions.csv"
    )
    assert len(facts) == 27
    assert universities["name"].str.split(" \\(").str[0].nunique() == 27
    # every listed campus town is in the table
    for campus in ("Linköping", "Norrköping", "Växjö", "Kalmar", "Sundsvall", "Östersund"):
        assert campus in set(universities["town"]), campus


def test_atlas_counts_agree_with_the_map_legend(sweden):
    summary = sweden.summary()
    sites = sweden.sites
    spsm = sites[sites["kind"].isin(sweden.spec.criteria["spsm"].colocate_with)]
    spsm = spsm.drop_duplicates("locality_id")
    universities = sites[sites["kind"].isin(sweden.spec.criteria["university"].near)]
    assert summary["spsm_office_towns"] == len(spsm) == 16
    assert summary["university_towns"] == universities["locality_id"].nunique() == 25
    unverified = sweden.unverified_sites()
    assert len(unverified) == summary["unverified_site_rows"]
    assert "univ-kungliga-tekniska-hogskolan-stockholm" in unverified.index


def test_every_fact_row_has_a_source_and_a_verified_flag():
    data = default_data_dir()
    sites = pd.read_csv(data / "facts" / "sites.csv", dtype=str, keep_default_na=False)
    assert sites["source_url"].str.match(r"https?://").all()
    assert set(sites["verified"]) == {"yes", "no"}
    corrections = pd.read_csv(data / "places" / "corrections.csv", dtype=str)
    assert corrections["source_url"].str.match(r"https?://").all()
    assert set(corrections["verified"]) == {"no"}  # inferred, and says so
    times = pd.read_csv(data / "rail" / "published_times.csv", dtype=str, keep_default_na=False)
    # every time has a source: a URL, or (issue 3's five) the project's issue, unverified
    assert ((times["source_url"] != "") | (times["verified"] == "no")).all()
    assert (times["source"] != "").all()


def test_estimate_is_labelled_and_sums_to_the_sourced_count():
    atlas = load_atlas(organizers="estimate")
    organizers = atlas.organizers
    assert len(organizers) == 2800
    assert organizers["estimate"].all()
    assert organizers["organizer_type"].value_counts().to_dict() == {
        "enskild": 2510,
        "kommunal": 290,
    }
    assert atlas.organizer_source.startswith("ESTIMATE")
    assert any("estimated" in text for text in atlas.estimates)
    per_municipality = organizers.groupby("municipality_id").size()
    # largest remainder by SCB population: Stockholm 978,770 / 10,452,326 x 2,510 = 235.04
    assert per_municipality["0180"] == 1 + 235
    polygons = atlas.municipalities.geometry
    assert all(
        polygons[m].contains(p)
        for m, p in zip(organizers["municipality_id"], organizers.geometry, strict=True)
    )


# --- organizers from a sheet --------------------------------------------------------------


def _sheet(tmp_path, rows, name="organizers.csv"):
    path = tmp_path / name
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def test_organizers_file_by_coordinates_and_municipality(tmp_path):
    path = _sheet(
        tmp_path,
        [
            {
                "id": "a",
                "name": "Luleå kommun",
                "municipality": "2580",
                "latitude": "",
                "longitude": "",
                "weight": "3",
                "type": "kommunal",
            },
            {
                "id": "b",
                "name": "Skolbolaget",
                "municipality": "",
                "latitude": "59.36",
                "longitude": "18.0",
                "weight": "",
                "type": "enskild",
            },
            {
                "id": "c",
                "name": "Kils kommun",
                "municipality": "kil",
                "latitude": "",
                "longitude": "",
                "weight": "1",
                "type": "",
            },
        ],
    )
    atlas = load_atlas(organizers_file=path, organizer_weight="file")
    organizers = atlas.organizers
    assert organizers.at["a", "municipality_id"] == "2580"
    assert organizers.at["a", "weight"] == 3.0
    assert organizers.at["a", "geometry"].equals(atlas.organizers.geometry["a"])
    assert organizers.at["b", "municipality_id"] == "0184"  # Solna, by its coordinates
    assert organizers.at["b", "weight"] == 1.0
    assert organizers.at["c", "municipality_id"] == "1715"
    assert organizers.at["b", "organizer_type"] == "enskild"
    assert "organizers file" in atlas.organizer_source
    one = load_atlas(organizers_file=path)
    assert (one.organizers["weight"] == 1.0).all()


def test_organizers_file_reports_every_bad_row_at_once(tmp_path):
    path = _sheet(
        tmp_path,
        [
            {"id": "a", "name": "A", "municipality": "Lulea", "latitude": "", "longitude": ""},
            {"id": "b", "name": "B", "municipality": "", "latitude": "48.85", "longitude": "2.35"},
            {"id": "a", "name": "C", "municipality": "0180", "latitude": "", "longitude": ""},
            {"id": "d", "name": "", "municipality": "", "latitude": "", "longitude": ""},
        ],
    )
    with pytest.raises(DataError) as info:
        load_atlas(organizers_file=path)
    message = str(info.value)
    assert message.startswith("5 problems in") and str(path) in message
    assert "row 2: unknown municipality 'Lulea'; did you mean 'Luleå'" in message
    assert "row 3: (48.85, 2.35) lies outside the country" in message
    assert "row 4: duplicate id 'a' (first in row 2)" in message
    assert "row 5: no name" in message
    assert "row 5: give latitude and longitude, or a municipality" in message


def test_organizers_excel_sheet(tmp_path):
    path = tmp_path / "organizers.xlsx"
    pd.DataFrame(
        {
            "ID": ["x1", "x2"],
            "Name": ["Umeå kommun", "Växjö kommun"],
            "Municipality": ["Umeå", "0780"],
        }
    ).to_excel(path, index=False)
    atlas = load_atlas(organizers_file=path)
    assert list(atlas.organizers["municipality_id"]) == ["2480", "0780"]


@pytest.fixture(scope="module")
def organizers_2800(tmp_path_factory):
    """A 2,800-row organizers sheet written from the shipped estimate."""
    estimate = load_atlas(organizers="estimate").organizers.to_crs("EPSG:4326")
    folder = tmp_path_factory.mktemp("organizers")
    path = folder / "organizers_2800.csv"
    pd.DataFrame(
        {
            "id": estimate.index,
            "name": estimate["name"],
            "latitude": estimate.geometry.y.round(6),
            "longitude": estimate.geometry.x.round(6),
            "type": estimate["organizer_type"],
        }
    ).to_csv(path, index=False)
    return path


def test_solve_on_a_2800_row_organizers_file(organizers_2800, tmp_path):
    scenario = tmp_path / "scenario.yaml"
    scenario.write_text(
        yaml.safe_dump(
            {
                "name": "2,800 organizers",
                "data": {"organizers_file": str(organizers_2800)},
                "model": {"p": 4},
                "outputs": {"formats": ["csv", "json"]},
            }
        ),
        encoding="utf-8",
    )
    out = tmp_path / "out"
    result = subprocess.run(
        [sys.executable, "-m", "siting", "solve", str(scenario), "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["organizers"]["count"] == 2800
    assert "organizers_2800.csv" in summary["organizers"]["source"]
    assert summary["kpis"]["organizers"] == 2800
    assignments = pd.read_csv(out / "assignments.csv")
    assert len(assignments) == 2800


def test_bad_organizers_file_in_the_cli_is_exit_2(tmp_path):
    _sheet(tmp_path, [{"id": "a", "name": "A", "municipality": "Atlantis"}])
    scenario = tmp_path / "scenario.yaml"
    scenario.write_text(
        yaml.safe_dump(
            {"name": "bad", "data": {"organizers_file": "organizers.csv"}, "model": {"p": 2}}
        ),
        encoding="utf-8",
    )
    result = subprocess.run(
        [sys.executable, "-m", "siting", "solve", str(scenario), "--out", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert "row 2: unknown municipality 'Atlantis'" in result.stderr
    assert "Traceback" not in result.stdout + result.stderr


def test_population_estimate_is_a_deprecated_alias(caplog):
    from siting.scenario import validate_scenario

    scenario = validate_scenario({"name": "x", "data": {"organizer_weight": "population_estimate"}})
    assert scenario.data.organizer_weight == "population"
    assert "deprecated" in caplog.text
