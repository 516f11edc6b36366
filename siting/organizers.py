"""Organizers (school organizers, huvudmän): the demand points.

Four sources, each a function of plain tables (this module never reads a
manifest: :func:`siting.atlas.load_atlas` does, and passes what is needed):

- :func:`municipal_organizers`: one organizer per municipality, at a real place
  of that municipality (the default: 290 in Sweden).
- :func:`organizers_from_file`: a CSV or Excel sheet of organizers (the list a
  school authority holds), each by coordinates or by municipality.
- :func:`organizers_from_register`: real organizers from a saved copy of a
  school-unit register in the shape of Skolverket's Skolenhetsregistret API v2,
  each placed at the medoid of its school units.
- :func:`estimated_organizers`: an **estimate** when neither is at hand: one
  public organizer per municipality plus independent ones spread over the
  municipalities in proportion to their population.

All return a GeoDataFrame indexed by ``organizer_id`` with ``name``,
``municipality_id``, ``county_id``, ``weight``, ``organizer_type``,
``location_method`` and points; :data:`COLUMNS` lists them.
"""

from __future__ import annotations

import difflib
import json
import logging
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import Point
from shapely.ops import nearest_points

from siting.errors import DataError

log = logging.getLogger(__name__)

#: An organizer point farther than this from every municipality polygon is an error.
MAX_OUTSIDE_M = 10_000.0

#: A place moved into its municipality's polygon lands this far inside the border.
INSET_M = 100.0

COLUMNS = [
    "name",
    "municipality_id",
    "county_id",
    "weight",
    "organizer_type",
    "location_method",
    "geometry",
]

#: Skolenhetsregistret v2 ``organizerType`` codes, in the four words users know.
REGISTER_TYPES = {
    "KOMMUN": "kommunal",
    "KOMMFORB": "kommunal",
    "REGION": "region",
    "STAT": "stat",
    "SAME": "stat",
    "SPECIAL": "stat",
    "ENSKILD": "enskild",
    "HMANUTL": "enskild",
}


def main_places(municipalities: gpd.GeoDataFrame, localities: gpd.GeoDataFrame) -> pd.DataFrame:
    """Each municipality's main place: a real place of the municipality, inside its polygon.

    The place named like the municipality if there is one, else its most
    populous locality that is not a district of another (``section_of``). A
    place whose point falls outside the municipality's (generalised) polygon
    is moved to the nearest point :data:`INSET_M` inside it; ``moved_m`` says
    how far. A municipality with no place gets a point inside its polygon
    (``locality_id`` empty).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``municipality_id``: ``locality_id``, ``locality_name``,
        ``rule`` (``named``, ``largest`` or ``polygon_point``), ``moved_m``,
        ``geometry`` (shapely points in the municipalities' CRS).

    """
    whole = localities[localities["section_of"] == ""] if "section_of" in localities else localities
    ranked = whole.sort_values(["population", "name"], ascending=[False, True])
    names = municipalities["name"].astype(str).str.casefold()
    is_named = (
        ranked["name"].str.casefold().to_numpy()
        == names.reindex(ranked["municipality_id"]).to_numpy()
    )
    named = ranked[is_named].groupby("municipality_id").head(1)
    largest = ranked.groupby("municipality_id").head(1)
    chosen = pd.concat(
        [named.assign(rule="named"), largest.assign(rule="largest")]
    ).drop_duplicates("municipality_id")  # a named place first, else the largest
    chosen = chosen.reset_index().set_index("municipality_id")
    polygons = municipalities.geometry
    present = chosen.index.intersection(polygons.index)
    points = localities.geometry.reindex(chosen.loc[present, chosen.columns[0]]).to_numpy()
    inside = shapely.contains(polygons.loc[present].to_numpy(), points)  # vectorised
    point_of = dict(zip(present, points, strict=True))
    inside_of = dict(zip(present, inside, strict=True))
    rows = {}
    for mid, polygon in polygons.items():
        if mid not in point_of:
            rows[mid] = ("", "", "polygon_point", 0.0, polygon.representative_point())
            continue
        lid, rule = chosen.at[mid, chosen.columns[0]], chosen.at[mid, "rule"]
        point, moved = point_of[mid], 0.0
        if not inside_of[mid]:  # the coarse polygon misses the place: move it just inside
            inner = polygon.buffer(-INSET_M)
            target = inner if not inner.is_empty else polygon
            point_inside = nearest_points(target, point)[0]
            moved = float(point.distance(point_inside))
            point = (
                point_inside if polygon.contains(point_inside) else polygon.representative_point()
            )
        rows[mid] = (lid, localities.at[lid, "name"], rule, round(moved, 1), point)
    frame = pd.DataFrame.from_dict(
        rows,
        orient="index",
        columns=["locality_id", "locality_name", "rule", "moved_m", "geometry"],
    )
    frame.index.name = "municipality_id"
    return frame


def municipal_organizers(
    municipalities: gpd.GeoDataFrame,
    places: pd.DataFrame,
    *,
    weight: str = "one",
) -> gpd.GeoDataFrame:
    """One organizer per municipality, at its main place (see :func:`main_places`).

    Parameters
    ----------
    municipalities
        Indexed by ``municipality_id`` with ``name``, ``county_id`` and, for
        ``weight="population"``, ``population``.
    places
        The result of :func:`main_places`.
    weight
        ``"one"``: every organizer weighs 1. ``"population"``: the
        municipality's population (the atlas's population table).

    Returns
    -------
    geopandas.GeoDataFrame
        Indexed by ``organizer_id`` (``"m"`` + municipality id), with
        ``locality_id`` and ``moved_m`` besides the standard columns.

    """
    frame = municipalities[["name", "county_id"]].copy()
    frame["municipality_id"] = frame.index
    if weight == "population":
        frame["weight"] = municipalities["population"].astype(float)
    else:
        frame["weight"] = 1.0
    frame["organizer_type"] = "kommunal"
    rule = places["rule"].reindex(frame.index)
    frame["location_method"] = np.where(
        rule == "polygon_point", "polygon_point", "main_place:" + rule.astype(str)
    )
    frame["locality_id"] = places["locality_id"].reindex(frame.index)
    frame["moved_m"] = places["moved_m"].reindex(frame.index)
    geometry = places["geometry"].reindex(frame.index).to_numpy()
    frame.index = "m" + frame.index.astype(str)
    frame.index.name = "organizer_id"
    return gpd.GeoDataFrame(frame, geometry=list(geometry), crs=municipalities.crs)[
        [*COLUMNS[:-1], "locality_id", "moved_m", "geometry"]
    ]


def _largest_remainder(shares: pd.Series, total: int) -> pd.Series:
    """Integers proportional to ``shares`` summing to ``total`` (ties by index order)."""
    exact = shares / shares.sum() * total
    counts = np.floor(exact).astype(int)
    left = total - int(counts.sum())
    order = (exact - counts).sort_values(ascending=False, kind="stable").index[:left]
    counts[order] += 1
    return counts


def estimated_organizers(
    municipalities: gpd.GeoDataFrame,
    localities: gpd.GeoDataFrame,
    places: pd.DataFrame,
    *,
    total: int,
) -> gpd.GeoDataFrame:
    """An **estimate** of all organizers: municipal ones plus independent ones by population.

    Every municipality is one public organizer (``kommunal``) at its main place.
    The other ``total - len(municipalities)`` organizers are independent
    (``enskild``); they are spread over the municipalities in proportion to
    the municipalities' population (largest remainder), and within a
    municipality over its places in proportion to the places' population, each
    at a place (moved into the municipality's polygon where the polygon misses
    it). Every organizer weighs 1 and has ``estimate`` True.

    Parameters
    ----------
    municipalities
        Indexed by ``municipality_id`` with ``name``, ``county_id``, ``population``.
    localities
        Indexed by ``locality_id`` with ``name``, ``population``,
        ``municipality_id``, ``section_of``.
    places
        The result of :func:`main_places`.
    total
        How many organizers there are in all (a sourced count).

    """
    if total < len(municipalities):
        raise DataError(
            f"organizers.estimate.total {total} is below the {len(municipalities)} municipalities"
        )
    public = municipal_organizers(municipalities, places)
    counts = _largest_remainder(municipalities["population"].astype(float), total - len(public))
    whole = localities[localities["section_of"] == ""] if "section_of" in localities else localities
    records = []
    for mid, count in counts.items():
        if count == 0:
            continue
        own = whole[whole["municipality_id"] == mid]
        if own.empty:
            spread = pd.Series({places.at[mid, "locality_id"] or "": count})
        else:
            spread = _largest_remainder(own["population"].astype(float).clip(lower=1), count)
        polygon = municipalities.geometry[mid]
        k = 0
        for lid, n in spread.items():
            if not lid or lid == places.at[mid, "locality_id"]:
                point = places.at[mid, "geometry"]
            else:
                point = localities.geometry[lid]
                if not polygon.contains(point):
                    point = nearest_points(polygon.buffer(-INSET_M), point)[0]
            for _ in range(int(n)):
                k += 1
                records.append(
                    {
                        "organizer_id": f"e{mid}-{k:03d}",
                        "name": f"independent organizer {k} in {municipalities.at[mid, 'name']} "
                        "(estimate)",
                        "municipality_id": mid,
                        "county_id": municipalities.at[mid, "county_id"],
                        "weight": 1.0,
                        "organizer_type": "enskild",
                        "location_method": "estimate:place_by_population",
                        "locality_id": lid,
                        "geometry": Point(point.x, point.y),
                    }
                )
    independent = gpd.GeoDataFrame(
        pd.DataFrame(records).set_index("organizer_id"), geometry="geometry", crs=public.crs
    )
    frame = pd.concat([public.drop(columns="moved_m"), independent])
    frame["estimate"] = True
    log.info(
        "estimated %d organizers: %d municipal, %d independent by population",
        len(frame),
        len(public),
        len(independent),
    )
    return frame


def _name_lookup(municipalities: pd.DataFrame) -> dict[str, str]:
    return {str(name).casefold(): mid for mid, name in municipalities["name"].items()}


def organizers_from_file(
    path: str | Path,
    municipalities: gpd.GeoDataFrame,
    places: pd.DataFrame,
    *,
    bounds_lonlat: tuple[float, float, float, float],
    crs: str,
) -> gpd.GeoDataFrame:
    """Organizers from a CSV or Excel sheet, one row each.

    Columns (case-insensitive): ``id`` (or ``organizer_id``), ``name``, and
    either ``latitude`` and ``longitude`` (WGS 84) or ``municipality`` (a
    municipality code or name); optional ``weight`` (default 1) and ``type``
    (e.g. kommunal, enskild, region, stat). An organizer given only a
    municipality stands at the municipality's main place.

    Raises
    ------
    DataError
        One error naming the file and every bad row by its row number in the
        sheet (the header is row 1): a missing id or name, a duplicate id, an
        unknown municipality (with the closest names), coordinates that are not
        numbers or lie outside ``bounds_lonlat``, a negative weight.

    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"organizers file not found: {path}; check data.organizers_file")
    try:
        if path.suffix.lower() in (".xlsx", ".xlsm", ".xls"):
            raw = pd.read_excel(path, dtype=str).fillna("")
        else:
            raw = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (ValueError, OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise DataError(f"cannot read the organizers sheet: {exc}", source=str(path)) from None
    raw.columns = [str(c).strip().casefold() for c in raw.columns]
    raw = raw.rename(columns={"organizer_id": "id", "municipality_id": "municipality"})
    problems = []
    missing = [c for c in ("id", "name") if c not in raw.columns]
    has_xy = {"latitude", "longitude"} <= set(raw.columns)
    if "municipality" not in raw.columns and not has_xy:
        missing.append("latitude and longitude, or municipality")
    if missing:
        raise DataError(f"missing column(s): {', '.join(missing)}", source=str(path))
    codes = set(municipalities.index)
    by_name = _name_lookup(municipalities)
    west, south, east, north = bounds_lonlat
    seen: dict[str, int] = {}
    records = []
    for k, row in enumerate(raw.to_dict("records")):
        line = k + 2
        oid = str(row.get("id", "")).strip()
        name = str(row.get("name", "")).strip()
        before = len(problems)
        if not oid:
            problems.append(f"row {line}: no id")
        elif oid in seen:
            problems.append(f"row {line}: duplicate id {oid!r} (first in row {seen[oid]})")
        else:
            seen[oid] = line
        if not name:
            problems.append(f"row {line}: no name")
        weight = str(row.get("weight", "") or "1").strip()
        try:
            weight_value = float(weight)
            if weight_value < 0 or not np.isfinite(weight_value):
                raise ValueError
        except ValueError:
            problems.append(f"row {line}: weight {weight!r} is not a number >= 0")
            weight_value = 1.0
        municipality = str(row.get("municipality", "")).strip()
        mid = None
        if municipality:
            key = municipality.zfill(4) if municipality.isdigit() else municipality
            mid = key if key in codes else by_name.get(municipality.casefold())
            if mid is None:
                close = difflib.get_close_matches(municipality.casefold(), list(by_name), n=2)
                shown = ", ".join(repr(municipalities.at[by_name[c], "name"]) for c in close)
                hint = f"; did you mean {shown}?" if close else ""
                problems.append(f"row {line}: unknown municipality {municipality!r}{hint}")
        lat_text = str(row.get("latitude", "")).strip() if has_xy else ""
        lon_text = str(row.get("longitude", "")).strip() if has_xy else ""
        lonlat = None
        if lat_text or lon_text:
            try:
                lat, lon = float(lat_text.replace(",", ".")), float(lon_text.replace(",", "."))
            except ValueError:
                problems.append(
                    f"row {line}: latitude/longitude {lat_text!r}, {lon_text!r} are not numbers"
                )
            else:
                if south <= lat <= north and west <= lon <= east:
                    lonlat = (lon, lat)
                else:
                    problems.append(
                        f"row {line}: ({lat}, {lon}) lies outside the country "
                        f"(latitude {south} to {north}, longitude {west} to {east})"
                    )
        elif not municipality:
            problems.append(f"row {line}: give latitude and longitude, or a municipality")
        if len(problems) > before:
            continue
        records.append(
            {
                "organizer_id": oid,
                "name": name,
                "weight": weight_value,
                "organizer_type": str(row.get("type", "")).strip().lower(),
                "given_municipality": mid,
                "lon": lonlat[0] if lonlat else np.nan,
                "lat": lonlat[1] if lonlat else np.nan,
            }
        )
    if problems:
        raise DataError(problems, source=str(path))
    if not records:
        raise DataError("no organizers in the sheet", source=str(path))
    frame = pd.DataFrame(records).set_index("organizer_id")
    has_point = frame["lon"].notna()
    projected = gpd.GeoSeries.from_xy(
        frame.loc[has_point, "lon"], frame.loc[has_point, "lat"], crs="EPSG:4326"
    ).to_crs(crs)
    geometry = []
    for oid in frame.index:
        if has_point[oid]:
            geometry.append(projected[oid])
        else:
            geometry.append(places.at[frame.at[oid, "given_municipality"], "geometry"])
    frame["location_method"] = np.where(has_point, "given_coordinates", "municipality_main_place")
    frame = frame.drop(columns=["lon", "lat"])
    log.info("read %d organizers from %s", len(frame), path)
    return gpd.GeoDataFrame(frame, geometry=geometry, crs=crs)


def check_organizers(
    organizers: gpd.GeoDataFrame,
    municipalities: gpd.GeoDataFrame,
    crs: str,
    *,
    source: str = "organizers",
) -> gpd.GeoDataFrame:
    """Check organizers from outside and give each its municipality and county.

    A ``given_municipality`` column (from a sheet) wins over the spatial join.

    Raises
    ------
    DataError
        Naming ``source`` (the file or register the organizers came from, not
        the manifest) and every bad organizer by id: wrong CRS, duplicate ids,
        negative weights, points far outside every municipality.

    """
    problems: list[str] = []
    if organizers.crs is None or not organizers.crs.equals(crs):
        raise DataError(
            f"organizers: CRS is {organizers.crs}, expected {crs}; call .to_crs({crs!r})",
            source=source,
        )
    if organizers.index.has_duplicates:
        dup = sorted(set(organizers.index[organizers.index.duplicated()]))
        problems.append(f"duplicate organizer id(s) {', '.join(map(str, dup[:10]))}")
    if "weight" not in organizers:
        organizers = organizers.assign(weight=1.0)
    weight = pd.to_numeric(organizers["weight"], errors="coerce")
    for oid in organizers.index[weight.isna() | (weight < 0)][:10]:
        problems.append(f"organizer {oid}: weight {organizers.at[oid, 'weight']!r} is not >= 0")
    joined = gpd.sjoin_nearest(
        organizers[["geometry"]],
        municipalities[["geometry"]].reset_index(),
        how="left",
        distance_col="outside_m",
    )
    joined = joined[~joined.index.duplicated()]
    for oid in joined.index[joined["outside_m"] > MAX_OUTSIDE_M][:10]:
        problems.append(
            f"organizer {oid} lies {joined.at[oid, 'outside_m'] / 1000:.0f} km outside every "
            "municipality; check its coordinates"
        )
    if problems:
        raise DataError(problems, source=source)
    municipality = joined["municipality_id"]
    if "given_municipality" in organizers:
        given = organizers["given_municipality"]
        municipality = given.where(given.notna() & (given != ""), municipality)
        organizers = organizers.drop(columns="given_municipality")
    frame = organizers.assign(
        municipality_id=municipality,
        county_id=municipalities.loc[municipality, "county_id"].to_numpy(),
        weight=weight,
    )
    if "location_method" not in frame:
        frame["location_method"] = "given"
    if "organizer_type" not in frame:
        frame["organizer_type"] = ""
    if "name" not in frame:
        frame["name"] = frame.index.astype(str)
    frame.index.name = "organizer_id"
    return frame


# --- the school-unit register ------------------------------------------------------------


def _coordinates(unit: dict) -> tuple[float, float] | None:
    """(lon, lat) of a school unit's visiting address, else of any address."""
    addresses = unit.get("addresses") or []
    if not isinstance(addresses, list):
        return None
    ordered = sorted(
        (a for a in addresses if isinstance(a, dict)),
        key=lambda a: 0 if "BESOK" in str(a.get("type", "")).upper() else 1,
    )
    for address in ordered:
        geo = address.get("geoCoordinates") or {}
        try:
            lat = float(str(geo["latitude"]).replace(",", "."))
            lon = float(str(geo["longitude"]).replace(",", "."))
        except (KeyError, TypeError, ValueError):
            continue
        if lat == 0 and lon == 0:
            continue
        return lon, lat
    return None


def _register_organizer(document: dict, unit: dict) -> tuple[str | None, str, str]:
    """(key, name, type) of a unit's organizer.

    Skolenhetsregistret v2 gives the organizer in ``included`` (type
    ``organizer`` or ``organization``) with ``organizationNumber`` beside or
    inside ``attributes`` and ``attributes.displayName``/``organizerType``;
    some answers leave the number out, and then the organizer's name is its key.
    An older hand-written shape put ``organizer`` inside the unit's attributes.
    """
    included = document.get("included")
    if isinstance(included, list):
        included = next(
            (
                i
                for i in included
                if isinstance(i, dict) and i.get("type") in ("organizer", "organization")
            ),
            None,
        )
    if isinstance(included, dict):
        attributes = included.get("attributes") or {}
        name = attributes.get("displayName") or attributes.get("name") or ""
        number = included.get("organizationNumber") or attributes.get("organizationNumber")
        kind = str(attributes.get("organizerType", ""))
        key = str(number) if number else (f"name:{name.strip().upper()}" if name else None)
        return key, name, kind
    organizer = unit.get("organizer") or {}
    if isinstance(organizer, dict):
        for field in ("organizationNumber", "organizerCode", "code"):
            if organizer.get(field):
                kind = str(organizer.get("organizerType", organizer.get("type", "")))
                return str(organizer[field]), organizer.get("name", ""), kind
    return None, "", ""


def organizers_from_register(
    folder: str | Path,
    crs: str,
    *,
    include_inactive: bool = False,
) -> gpd.GeoDataFrame:
    """Organizers with their school units from a saved school-unit register.

    The folder holds ``school-units/<code>.json`` files, each the answer of
    Skolenhetsregistret v2's ``GET /v2/school-units/{code}``::

        {"data": {"type": "schoolunit", "schoolUnitCode": "43038662",
                  "attributes": {"displayName": ..., "status": "AKTIV",
                                 "municipalityCode": "0125",
                                 "addresses": [{"type": "BESOKSADRESS",
                                                "geoCoordinates": {"latitude": "59.39",
                                                                   "longitude": "17.66"}}]}},
         "included": {"type": "organization", "organizationNumber": "2120000126",
                      "attributes": {"displayName": "EKERÖ KOMMUN",
                                     "organizerType": "KOMMUN"}}}

    These field names were checked against public client code of the API (test
    fixtures of deno-li/fuzzy-MCP, which call it) and its OpenAPI title
    "Skolenhetsregistret öppna API v2", not against a live answer (no network
    here). An optional ``organizers.json`` (``GET /v2/organizers``:
    ``data.attributes[]`` with ``organizationNumber``, ``displayName``,
    ``organizerType``) supplies names.

    Each organizer is placed at the medoid of its school units (the unit with
    the least summed distance to the others), a real address; its weight is 1
    (one dialogue), ``school_units`` counts its units and ``organizer_type`` is
    kommunal, enskild, region or stat.

    Raises
    ------
    DataError
        A missing folder, a file that is not UTF-8 JSON or not a school-unit
        answer, a unit without an organizer or coordinates: every problem
        names its file.

    """
    folder = Path(folder)
    unit_dir = folder / "school-units"
    if not unit_dir.is_dir():
        raise DataError(
            f"register folder {folder} has no school-units/ folder; save the answers of "
            "/v2/school-units/{code} there as <code>.json (siting data fetch-register does this)"
        )
    problems: list[str] = []
    rows = []
    for path in sorted(unit_dir.glob("*.json")):
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except UnicodeDecodeError:
            problems.append(f"{path.name}: not UTF-8 text (save the API's answer unchanged)")
            continue
        except json.JSONDecodeError as exc:
            problems.append(f"{path.name}: not JSON ({exc.msg} at line {exc.lineno})")
            continue
        data = document.get("data") if isinstance(document, dict) else None
        unit = data.get("attributes") if isinstance(data, dict) else None
        if not isinstance(unit, dict):
            problems.append(
                f"{path.name}: not a school-unit answer (expected an object data.attributes)"
            )
            continue
        status = str(unit.get("status", "AKTIV")).upper()
        if not include_inactive and status not in ("AKTIV", "ACTIVE"):
            continue
        key, name, kind = _register_organizer(document, unit)
        coords = _coordinates(unit)
        if key is None:
            problems.append(
                f"{path.name}: no organizer (included.organizationNumber or "
                "included.attributes.displayName)"
            )
        if coords is None:
            problems.append(
                f"{path.name}: no addresses[].geoCoordinates with latitude and longitude"
            )
        if key is None or coords is None:
            continue
        rows.append(
            {
                "school_unit": str(
                    data.get("schoolUnitCode") or unit.get("schoolUnitCode") or path.stem
                ),
                "organizer_key": key,
                "organizer_name": name or key,
                "organizer_type": REGISTER_TYPES.get(kind.upper(), kind.lower()),
                "lon": coords[0],
                "lat": coords[1],
            }
        )
    if problems:
        raise DataError(problems, source=str(unit_dir))
    if not rows:
        raise DataError(f"no active school units in {unit_dir}", source=str(folder))
    names, types = _register_names(folder / "organizers.json")
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
                "organizer_id": "o" + "".join(c for c in key if c.isalnum()),
                "name": names.get(key, group["organizer_name"].iloc[0]),
                "organizer_type": types.get(key, group["organizer_type"].iloc[0]),
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


def _register_names(path: Path) -> tuple[dict[str, str], dict[str, str]]:
    """Names and types by organization number from a saved ``/v2/organizers`` answer."""
    if not path.is_file():
        return {}, {}
    try:
        items = json.loads(path.read_text(encoding="utf-8"))["data"]
        if isinstance(items, dict):  # v2: {"data": {"type": "organizer", "attributes": [...]}}
            items = items["attributes"]
        if not isinstance(items, list):
            raise TypeError("data.attributes is not a list")
    except UnicodeDecodeError:
        raise DataError("not UTF-8 text", source=str(path)) from None
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise DataError(
            f"not an organizers answer (data.attributes[]: {exc})", source=str(path)
        ) from None
    names, types = {}, {}
    for item in items:
        if not isinstance(item, dict):
            continue
        attributes = item.get("attributes", item)
        key = attributes.get("organizationNumber") or item.get("organizationNumber")
        name = attributes.get("displayName") or attributes.get("name")
        if key and name:
            names[str(key)] = name
        if key and attributes.get("organizerType"):
            kind = str(attributes["organizerType"])
            types[str(key)] = REGISTER_TYPES.get(kind.upper(), kind.lower())
    return names, types
