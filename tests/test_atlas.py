from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest

from siting import DataError, UnknownNameError, load_atlas


def test_counts(sweden):
    assert len(sweden.counties) == 21
    assert len(sweden.municipalities) == 290
    assert len(sweden.organizers) == 290
    assert sweden.crs == "EPSG:3006"
    assert sweden.counties.crs.to_epsg() == 3006


def test_county_codes_and_names(sweden):
    assert sweden.counties.index[0] == "01"
    assert sweden.counties.at["01", "name"] == "Stockholms län"
    assert sweden.counties.at["25", "name"] == "Norrbottens län"
    assert sweden.counties.at["09", "name"] == "Gotlands län"


@pytest.mark.parametrize(
    ("town", "county"), [("Luleå", "25"), ("Solna", "01"), ("Visby", "09"), ("Göteborg", "14")]
)
def test_towns_lie_in_their_county(sweden, town, county):
    locality = sweden.locality_id(town)
    assert sweden.localities.at[locality, "county_id"] == county
    # and the point really lies in (or within 10 km of) that county's polygon
    point = sweden.localities.geometry[locality]
    assert sweden.counties.geometry[county].distance(point) < 10_000


def test_every_municipality_has_exactly_one_county(sweden):
    municipalities = sweden.municipalities
    assert municipalities.index.is_unique
    assert municipalities["county_id"].isin(sweden.counties.index).all()
    counts = municipalities.groupby("county_id").size()
    assert counts.sum() == 290
    assert counts["01"] == 26  # Stockholms län has 26 municipalities
    assert counts["09"] == 1  # Gotland is one municipality


def test_municipal_organizers_sit_at_their_main_place(sweden):
    lulea = sweden.organizers.loc["m2580"]
    assert lulea["name"] == "Luleå"
    assert lulea["county_id"] == "25"
    assert lulea["location_method"] == "main_place:named"
    assert lulea.geometry.equals(sweden.localities.geometry[sweden.locality_id("Luleå")])
    # Kil's town point falls just inside Karlstad's generalised polygon: the place is
    # corrected to Kil (data/places/corrections.csv) and moved 380 m into Kil's polygon
    kil = sweden.organizers.loc["m1715"]
    assert kil["locality_id"] == sweden.locality_id("Kil")
    assert 300 < kil["moved_m"] < 500
    assert sweden.municipalities.geometry["1715"].contains(kil.geometry)
    assert (sweden.organizers["weight"] == 1.0).all()
    assert set(sweden.organizers["organizer_type"]) == {"kommunal"}


def test_population_weight_is_scb_population():
    atlas = load_atlas(organizer_weight="population")
    assert atlas.organizers.at["m0180", "weight"] == 978_770  # Stockholm, SCB 31 Dec 2021
    assert atlas.organizers.at["m0138", "weight"] == 49_062  # Tyresö
    assert atlas.organizers.at["m0128", "weight"] == 17_252  # Salem
    assert atlas.organizers["weight"].sum() == 10_452_326
    assert "SCB" in atlas.organizer_source


def test_candidates_include_plan_towns_and_exclude_districts(sweden):
    names = set(sweden.candidates["name"])
    plan = {
        "Luleå",
        "Härnösand",
        "Solna",
        "Malmö",
        "Umeå",
        "Gävle",
        "Örebro",
        "Linköping",
        "Växjö",
        "Göteborg",
    }
    assert plan <= names
    assert "Södermalm" not in names  # a district of Stockholm
    assert "Vänersborg" in names  # SPSM special school town below 20,000 inhabitants
    # Tyresö (SCB: 49,062) offers its main place: GeoNames gives Bollmora, its centre, 0
    assert sweden.candidates.at["gn2719318", "name"] == "Brevik"
    assert (sweden.candidates["population"] >= 0).all()
    smaller = load_atlas(min_population=100_000)
    assert len(smaller.candidates) < len(sweden.candidates)
    assert smaller.candidates["reasons"].str.contains("municipality_population>=100000").sum() == 19


def test_sites_are_sourced(sweden):
    sites = sweden.sites
    assert sites["source_url"].str.match(r"https?://").all()
    offices = sites[sites["kind"] == "skolverket_office"]
    assert sorted(offices[offices["status"] == "opened_2022"]["town"]) == [
        "Härnösand",
        "Luleå",
        "Malmö",
        "Solna",
    ]
    assert len(offices) == 10
    universities = sites[sites["kind"] == "university"]
    assert universities["name"].str.split(" \\(").str[0].nunique() == 27  # UKÄ: 27 institutions
    assert sweden.summary()["unverified_site_rows"] == int((~sites["verified"]).sum()) > 0
    assert len(sweden.unverified_sites()) == sweden.summary()["unverified_site_rows"]


def test_unknown_town_suggests_names(sweden):
    with pytest.raises(UnknownNameError, match=r"unknown town 'Lulea'; did you mean 'Luleå'"):
        sweden.locality_id("Lulea")


def test_ambiguous_town_lists_qualified_names(sweden):
    with pytest.raises(UnknownNameError, match=r"'Viken \(Höganäs\)', 'Viken \(Skellefteå\)'"):
        sweden.locality_id("Viken")
    assert sweden.localities.at[sweden.locality_id("Viken (Höganäs)"), "county_id"] == "12"


def test_english_geonames_name_still_matches(sweden):
    assert sweden.locality_id("Gothenburg") == sweden.locality_id("göteborg")


# --- bad input: each raises one DataError naming the item -------------------------------


def _rewrite_csv(path, edit):
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    edit(frame).to_csv(path, index=False)


def test_missing_manifest():
    with pytest.raises(DataError, match=r"atlas manifest not found: .*nope\.yaml"):
        load_atlas("nope.yaml")


def test_unknown_manifest_key(data_copy):
    data_copy.write_text(data_copy.read_text() + "colour: red\n")
    with pytest.raises(DataError, match="colour: Extra inputs are not permitted"):
        load_atlas(data_copy)


def test_missing_file(data_copy):
    (data_copy.parent / "places" / "localities.csv").unlink()
    with pytest.raises(DataError, match=r"localities: file not found: .*localities\.csv"):
        load_atlas(data_copy)


def test_duplicate_ids_and_unknown_site_town_reported_together(data_copy):
    sites = data_copy.parent / "facts" / "sites.csv"
    _rewrite_csv(
        sites,
        lambda f: pd.concat([f, f.iloc[[0]]]).assign(
            town=lambda g: g["town"].where(g["site_id"] != "skolverket-gavle", "Gävlee")
        ),
    )
    with pytest.raises(DataError) as info:
        load_atlas(data_copy)
    message = str(info.value)
    assert "sites: duplicate id(s) skolverket-lulea" in message
    assert "site skolverket-gavle: unknown town 'Gävlee'; did you mean 'Gävle'" in message
    assert message.startswith("2 problems in")


def test_municipality_in_no_county(data_copy):
    gpkg = data_copy.parent / "counties" / "sweden.gpkg"
    municipalities = gpd.read_file(gpkg, layer="municipalities")
    municipalities.loc[municipalities["municipality_id"] == "0114", "county_id"] = "99"
    municipalities.to_file(gpkg, layer="municipalities", driver="GPKG")
    with pytest.raises(
        DataError,
        match=r"municipality 0114 \(Upplands Väsby\) is in no county: "
        r"county_id '99'",
    ):
        load_atlas(data_copy)


def test_wrong_crs(data_copy):
    gpkg = data_copy.parent / "counties" / "sweden.gpkg"
    counties = gpd.read_file(gpkg, layer="counties").to_crs("EPSG:4326")
    counties.to_file(gpkg, layer="counties", driver="GPKG")
    with pytest.raises(
        DataError,
        match=r"counties \(sweden.gpkg\): CRS is EPSG:4326, "
        r"expected EPSG:3006",
    ):
        load_atlas(data_copy)


def test_locality_outside_the_country(data_copy):
    path = data_copy.parent / "places" / "localities.csv"

    def move(frame):
        frame.loc[frame["name"] == "Visby", "latitude"] = "48.85"
        frame.loc[frame["name"] == "Luleå", "longitude"] = "nan"
        return frame

    _rewrite_csv(path, move)
    with pytest.raises(DataError) as info:
        load_atlas(data_copy)
    assert "locality gn2662689 (Visby): (48.85, 18.29" in str(info.value)
    assert "outside Sweden's bounds" in str(info.value)
    assert "locality gn604490 (Luleå): latitude/longitude is not a number" in str(info.value)


def test_organizer_outside_every_municipality(sweden):
    organizers = gpd.GeoDataFrame(
        {"name": ["Inland", "At sea"], "weight": [1.0, 2.0]},
        index=pd.Index(["a", "b"], name="organizer_id"),
        geometry=gpd.points_from_xy([674_000, 1_000_000], [6_580_000, 6_200_000]),
        crs="EPSG:3006",
    )
    with pytest.raises(DataError, match=r"organizer b lies \d+ km outside every municipality"):
        load_atlas(organizers=organizers)
    atlas = load_atlas(organizers=organizers.iloc[:1])
    assert atlas.organizers.at["a", "county_id"] == "01"
    assert atlas.organizers.at["a", "municipality_id"] == "0180"


def test_organizers_in_wrong_crs(sweden):
    organizers = gpd.GeoDataFrame(
        {"name": ["x"]}, geometry=gpd.points_from_xy([18.0], [59.3]), crs="EPSG:4326"
    )
    with pytest.raises(DataError, match=r"organizers: CRS is EPSG:4326, expected EPSG:3006"):
        load_atlas(organizers=organizers)


def test_wrong_layer_name_names_the_manifest_field(data_copy):
    text = data_copy.read_text(encoding="utf-8")
    data_copy.write_text(text.replace("layer: municipalities", "layer: kommuner"), encoding="utf-8")
    with pytest.raises(
        DataError,
        match=r"municipalities.file / municipalities.layer: cannot read layer 'kommuner' "
        r"of .*sweden.gpkg.*the file's layers are counties, municipalities",
    ):
        load_atlas(data_copy)


def test_corrupt_geopackage_is_a_data_error(data_copy, tmp_path):
    (data_copy.parent / "counties" / "sweden.gpkg").write_bytes(b"not a geopackage" * 100)
    with pytest.raises(DataError, match=r"counties.file / counties.layer: cannot read layer"):
        load_atlas(data_copy)


def test_corrupt_geopackage_in_the_cli_is_exit_2_without_traceback(data_copy):
    import subprocess
    import sys

    (data_copy.parent / "counties" / "sweden.gpkg").write_bytes(b"\x00garbage" * 50)
    result = subprocess.run(
        [sys.executable, "-m", "siting", "atlas", "--manifest", str(data_copy)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert "counties.file / counties.layer" in result.stderr
    assert "Traceback" not in result.stdout + result.stderr
