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


def test_municipal_organizers_sit_at_largest_locality(sweden):
    lulea = sweden.organizers.loc["m2580"]
    assert lulea["name"] == "Luleå"
    assert lulea["county_id"] == "25"
    assert lulea["location_method"] == "largest_locality"
    assert lulea.geometry.equals(sweden.localities.geometry[sweden.locality_id("Luleå")])
    # Kil has no GeoNames place >= 500 inhabitants: placed inside its polygon
    kil = sweden.organizers.loc["m1715"]
    assert kil["location_method"] == "polygon_point"
    assert sweden.municipalities.geometry["1715"].contains(kil.geometry)
    assert (sweden.organizers["weight"] == 1.0).all()


def test_population_weight_is_an_estimate_without_districts():
    atlas = load_atlas(organizer_weight="population_estimate")
    stockholm = atlas.organizers.loc["m0180"]
    # Södermalm, Bromma, ... are districts of Stockholm and are not added again
    assert stockholm["weight"] == 1_515_017
    assert 9_000_000 < atlas.organizers["weight"].sum() < 10_600_000


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
    assert (sweden.candidates["population"] >= 0).all()
    smaller = load_atlas(min_population=100_000)
    assert len(smaller.candidates) < len(sweden.candidates)


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
    assert sweden.summary()["unverified_sites"] == int((~sites["verified"]).sum()) > 0


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
