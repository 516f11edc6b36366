"""Organizers (school organizers, huvudmän): the demand points.

Two sources:

- :func:`municipal_organizers`: one organizer per municipality (the default,
  290 in Sweden), placed at the municipality's most populous locality.
- :func:`organizers_from_register`: real organizers from a saved copy of a
  school-unit register in the shape of Skolverket's Skolenhetsregistret API v2,
  each placed at the medoid of its school units.

Both return a GeoDataFrame indexed by ``organizer_id`` with ``name``,
``municipality_id``, ``county_id``, ``weight``, ``location_method`` and points.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd

from siting.errors import DataError

log = logging.getLogger(__name__)

#: An organizer point farther than this from every municipality polygon is an error.
MAX_OUTSIDE_M = 10_000.0

COLUMNS = ["name", "municipality_id", "county_id", "weight", "location_method", "geometry"]


def municipal_organizers(
    municipalities: gpd.GeoDataFrame,
    localities: gpd.GeoDataFrame,
    *,
    weight: Literal["one", "population_estimate"] = "one",
) -> gpd.GeoDataFrame:
    """One organizer per municipality, at its most populous locality.

    A municipality with no locality in the places table is placed at a point
    inside its polygon (``location_method == "polygon_point"``).

    Parameters
    ----------
    municipalities
        Indexed by ``municipality_id`` with ``name`` and ``county_id``.
    localities
        Indexed by ``locality_id`` with ``population`` and ``municipality_id``.
    weight
        ``"one"``: every organizer weighs 1. ``"population_estimate"``: the sum
        of the populations of the municipality's localities that are not
        districts of another (an estimate of the municipality's population:
        places below the table's threshold are missing); a municipality with no
        locality weighs 0 then.

    Returns
    -------
    geopandas.GeoDataFrame
        Indexed by ``organizer_id`` (``"m"`` + municipality id), with
        ``population_estimate`` besides the standard columns.

    """
    largest = (
        localities.sort_values(["population", "name"], ascending=[False, True])
        .groupby("municipality_id", sort=False)
        .head(1)
        .set_index("municipality_id")
    )
    whole = localities[localities["section_of"] == ""] if "section_of" in localities else localities
    population = whole.groupby("municipality_id")["population"].sum()
    frame = municipalities[["name", "county_id"]].copy()
    frame["municipality_id"] = frame.index
    frame["population_estimate"] = population.reindex(frame.index).fillna(0).astype(int)
    has_place = frame.index.isin(largest.index)
    points = municipalities.geometry.representative_point()
    points[has_place] = largest.geometry.reindex(frame.index[has_place]).to_numpy()
    frame["location_method"] = np.where(has_place, "largest_locality", "polygon_point")
    frame["weight"] = 1.0 if weight == "one" else frame["population_estimate"].astype(float)
    frame.index = "m" + frame.index.astype(str)
    frame.index.name = "organizer_id"
    missing = frame.index[~has_place].tolist()
    if missing:
        log.info(
            "%d municipalities have no locality and are placed inside their polygon: %s",
            len(missing),
            ", ".join(missing),
        )
    return gpd.GeoDataFrame(frame, geometry=points.to_numpy(), crs=municipalities.crs)[
        [*COLUMNS[:-1], "population_estimate", "geometry"]
    ]


def check_organizers(
    organizers: gpd.GeoDataFrame,
    municipalities: gpd.GeoDataFrame,
    crs: str,
    problems: list[str],
) -> gpd.GeoDataFrame:
    """Check user-supplied organizers and give each its municipality and county.

    Problems are appended to ``problems`` (ids named); the returned frame is
    only meaningful when none were added.
    """
    if organizers.crs is None or not organizers.crs.equals(crs):
        problems.append(
            f"organizers: CRS is {organizers.crs}, expected {crs}; call .to_crs({crs!r})"
        )
        return organizers
    if organizers.index.has_duplicates:
        dup = sorted(set(organizers.index[organizers.index.duplicated()]))
        problems.append(f"organizers: duplicate id(s) {', '.join(map(str, dup[:10]))}")
    if "weight" not in organizers:
        organizers = organizers.assign(weight=1.0)
    weight = pd.to_numeric(organizers["weight"], errors="coerce")
    for oid in organizers.index[weight.isna() | (weight < 0)][:10]:
        problems.append(f"organizer {oid}: weight {organizers.at[oid, 'weight']!r} is not >= 0")
    joined = gpd.sjoin_nearest(
        organizers[["geometry"]],
        municipalities[["county_id", "geometry"]].reset_index(),
        how="left",
        distance_col="outside_m",
    )
    joined = joined[~joined.index.duplicated()]
    for oid in joined.index[joined["outside_m"] > MAX_OUTSIDE_M][:10]:
        problems.append(
            f"organizer {oid} lies {joined.at[oid, 'outside_m'] / 1000:.0f} km outside every "
            "municipality; check its coordinates"
        )
    frame = organizers.assign(
        municipality_id=joined["municipality_id"],
        county_id=joined["county_id"],
        weight=weight,
    )
    if "location_method" not in frame:
        frame["location_method"] = "given"
    if "name" not in frame:
        frame["name"] = frame.index.astype(str)
    frame.index.name = "organizer_id"
    return frame


def _coordinates(unit: dict) -> tuple[float, float] | None:
    """(lon, lat) of a school unit's visiting address, else of any address."""
    addresses = unit.get("addresses") or []
    ordered = sorted(addresses, key=lambda a: 0 if "BESOK" in str(a.get("type", "")).upper() else 1)
    for address in ordered:
        geo = address.get("geoCoordinates") or {}
        try:
            lat, lon = float(geo["latitude"]), float(geo["longitude"])
        except (KeyError, TypeError, ValueError):
            continue
        return lon, lat
    return None


def _organizer_key(organizer: dict) -> str | None:
    for key in ("organizerCode", "organizationNumber", "code", "id"):
        if organizer.get(key):
            return str(organizer[key])
    return None


def organizers_from_register(
    folder: str | Path,
    crs: str,
    *,
    include_inactive: bool = False,
) -> gpd.GeoDataFrame:
    """Organizers with their school units from a saved school-unit register.

    The folder holds ``school-units/<code>.json`` files, each the response of
    Skolenhetsregistret v2's ``/v2/school-units/{code}``: ``data.attributes``
    with ``schoolUnitCode``, ``name``, ``status``, ``organizer`` (an object with
    ``name``, ``type`` and a code: ``organizerCode``, ``organizationNumber`` or
    ``code``) and ``addresses[].geoCoordinates`` (``latitude``, ``longitude``).
    An optional ``organizers.json`` (the response of ``/v2/organizers``) supplies
    names for organizers its ``data[].attributes`` list.

    Each organizer is placed at the medoid of its school units (the unit with
    the least summed distance to the others), a real address; its weight is 1
    (one dialogue) and ``school_units`` counts its units.

    Parameters
    ----------
    folder
        The saved register.
    crs
        Projected CRS to return (the atlas's).
    include_inactive
        Keep school units whose status is not active (``AKTIV``/``ACTIVE``).

    Raises
    ------
    DataError
        Missing folder or files, unreadable JSON, or a unit without an organizer
        code or coordinates; every problem names the file.

    """
    folder = Path(folder)
    unit_dir = folder / "school-units"
    if not unit_dir.is_dir():
        raise DataError(
            f"register folder {folder} has no school-units/ folder; save the responses of "
            "/v2/school-units/{code} there as <code>.json (siting data fetch-register does this)"
        )
    problems: list[str] = []
    rows = []
    for path in sorted(unit_dir.glob("*.json")):
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
            unit = document["data"]["attributes"]
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            problems.append(f"{path.name}: not a school-unit response (data.attributes: {exc})")
            continue
        status = str(unit.get("status", "AKTIV")).upper()
        if not include_inactive and status not in ("AKTIV", "ACTIVE"):
            continue
        organizer = unit.get("organizer") or {}
        key = _organizer_key(organizer)
        coords = _coordinates(unit)
        if key is None:
            problems.append(
                f"{path.name}: organizer has no code (organizerCode/organizationNumber)"
            )
        if coords is None:
            problems.append(
                f"{path.name}: no addresses[].geoCoordinates with latitude and longitude"
            )
        if key is None or coords is None:
            continue
        rows.append(
            {
                "school_unit": str(unit.get("schoolUnitCode", path.stem)),
                "organizer_key": key,
                "organizer_name": organizer.get("name", key),
                "organizer_type": organizer.get("type", organizer.get("organizerType", "")),
                "lon": coords[0],
                "lat": coords[1],
            }
        )
    if problems:
        raise DataError(problems, source=str(unit_dir))
    if not rows:
        raise DataError(f"no active school units in {unit_dir}", source=str(folder))
    names = _register_names(folder / "organizers.json")
    units = pd.DataFrame(rows)
    points = gpd.GeoSeries.from_xy(units["lon"], units["lat"], crs="EPSG:4326").to_crs(crs)
    units["x"], units["y"] = points.x.to_numpy(), points.y.to_numpy()
    records = []
    for key, group in units.groupby("organizer_key", sort=True):
        xy = group[["x", "y"]].to_numpy()
        spread = np.sqrt(((xy[:, None, :] - xy[None, :, :]) ** 2).sum(-1)).sum(1)
        medoid = int(np.argmin(spread))
        records.append(
            {
                "organizer_id": f"o{key}",
                "name": names.get(key, group["organizer_name"].iloc[0]),
                "organizer_type": group["organizer_type"].iloc[0],
                "school_units": len(group),
                "weight": 1.0,
                "location_method": "school_unit_medoid",
                "x": xy[medoid, 0],
                "y": xy[medoid, 1],
            }
        )
    frame = pd.DataFrame(records).set_index("organizer_id")
    log.info("read %d school units of %d organizers from %s", len(units), len(frame), folder)
    geometry = gpd.points_from_xy(frame.pop("x"), frame.pop("y"), crs=crs)
    return gpd.GeoDataFrame(frame, geometry=geometry)


def _register_names(path: Path) -> dict[str, str]:
    if not path.is_file():
        return {}
    try:
        items = json.loads(path.read_text(encoding="utf-8"))["data"]
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise DataError(f"not an organizers response (data[]: {exc})", source=str(path)) from None
    names = {}
    for item in items:
        attributes = item.get("attributes", item)
        key = _organizer_key(attributes)
        if key and attributes.get("name"):
            names[key] = attributes["name"]
    return names
