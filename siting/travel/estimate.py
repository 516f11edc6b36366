"""The ``estimate`` backend: straight-line distance x circuity / speed, ferries for islands.

Distances are Euclidean in the atlas's projected CRS (metres), never on
longitude/latitude. A trip between an island (a set of whole counties named by
a ferry link in the manifest) and the mainland never crosses the sea in a
straight line: it drives to a terminal, boards, crosses, and drives on; the
fastest link wins.

With a calibration file (``travel.estimate.calibration``, written by
``siting travel calibrate`` from a real road network) circuity and speed are
per county: a trip drives at the mean pace of its two ends' counties.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from numpy.typing import NDArray

from siting.atlas import Atlas
from siting.config import EstimateSettings
from siting.errors import DataError
from siting.travel.matrix import TravelTimeMatrix

log = logging.getLogger(__name__)


def _xy(points: gpd.GeoDataFrame, what: str) -> NDArray[np.float64]:
    xy = np.column_stack([points.geometry.x.to_numpy(), points.geometry.y.to_numpy()])
    bad = points.index[~np.isfinite(xy).all(axis=1)]
    if len(bad):
        raise DataError(f"{what}: no coordinates for id(s) {', '.join(map(str, bad[:10]))}")
    return xy


def read_calibration(path: str | Path) -> pd.DataFrame:
    """A per-county calibration (``siting travel calibrate``), indexed by ``county_id``.

    Columns ``circuity`` and ``speed_kmh``; every row is checked.

    Raises
    ------
    DataError
        The file is missing, lacks a column, or has a value out of range
        (circuity 1-3, speed 1-200 km/h), naming the row.

    """
    path = Path(path).expanduser()
    if not path.is_file():
        raise DataError(f"travel.estimate.calibration: calibration file not found: {path}")
    stat = path.stat()
    return _read_calibration(str(path), stat.st_size, stat.st_mtime_ns)


@lru_cache(maxsize=4)
def _read_calibration(path: str, size: int, mtime_ns: int) -> pd.DataFrame:
    del size, mtime_ns  # in the cache key only
    try:
        table = pd.read_csv(path, dtype={"county_id": str}, comment="#")
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: not a readable CSV file ({exc})") from None
    missing = [c for c in ("county_id", "circuity", "speed_kmh") if c not in table]
    if missing:
        raise DataError(f"{path}: missing column(s) {', '.join(missing)}")
    problems = []
    for row, record in enumerate(table.itertuples(), start=2):
        circuity = pd.to_numeric(record.circuity, errors="coerce")
        speed = pd.to_numeric(record.speed_kmh, errors="coerce")
        if not 1.0 <= circuity <= 3.0:
            problems.append(f"row {row} (county {record.county_id}): circuity {record.circuity}")
        if not 1.0 <= speed <= 200.0:
            problems.append(f"row {row} (county {record.county_id}): speed_kmh {record.speed_kmh}")
    if table["county_id"].duplicated().any():
        problems.append(
            "duplicate county_id(s) "
            + ", ".join(table["county_id"][table["county_id"].duplicated()])
        )
    if problems:
        raise DataError(problems, source=path)
    return table.set_index("county_id")[["circuity", "speed_kmh"]].astype(float)


def county_pace(settings: EstimateSettings, county_ids) -> NDArray[np.float64]:
    """Minutes per straight-line metre at each point: circuity / speed of its county.

    Without a calibration file every point gets the settings' circuity and speed.
    """
    default = settings.circuity / settings.speed_kmh * 60.0 / 1000.0
    ids = pd.Series(np.asarray(county_ids, dtype=object)).astype(str)
    if settings.calibration is None:
        return np.full(len(ids), default)
    table = read_calibration(settings.calibration)
    pace = table["circuity"] / table["speed_kmh"] * 60.0 / 1000.0
    return ids.map(pace).fillna(default).to_numpy(dtype=float)


def road_minutes(
    origins_xy: NDArray[np.float64],
    destinations_xy: NDArray[np.float64],
    settings: EstimateSettings,
    origin_pace: NDArray[np.float64] | None = None,
    destination_pace: NDArray[np.float64] | None = None,
) -> NDArray[np.float64]:
    """Estimated road minutes for every origin x destination pair (no sea check).

    ``origin_pace``/``destination_pace`` (minutes per metre, from
    :func:`county_pace`): a pair drives at the mean pace of its two ends;
    without them, the settings' circuity and speed.
    """
    metres = np.sqrt(((origins_xy[:, None, :] - destinations_xy[None, :, :]) ** 2).sum(-1))
    default = settings.circuity / settings.speed_kmh * 60.0 / 1000.0
    a = np.full(len(origins_xy), default) if origin_pace is None else origin_pace
    b = np.full(len(destinations_xy), default) if destination_pace is None else destination_pace
    minutes = metres * (a[:, None] + b[None, :]) / 2.0
    return minutes + np.where(metres > 0, settings.access_min, 0.0)


def estimate_matrix(
    atlas: Atlas,
    origins: gpd.GeoDataFrame,
    destinations: gpd.GeoDataFrame,
    settings: EstimateSettings | None = None,
) -> TravelTimeMatrix:
    """Estimated travel minutes from every origin to every destination.

    Parameters
    ----------
    atlas
        Supplies the CRS and the ferry links.
    origins, destinations
        Points in the atlas's CRS with a ``county_id`` column, indexed by id.
    settings
        Circuity, speed and access minutes; documented defaults when omitted.

    Returns
    -------
    TravelTimeMatrix
        Minutes, with mode ``"road"`` or ``"road+ferry"`` per pair.

    """
    settings = settings or EstimateSettings()
    for what, frame in (("origins", origins), ("destinations", destinations)):
        if frame.crs is None or not frame.crs.equals(atlas.crs):
            raise DataError(f"{what}: CRS is {frame.crs}, expected {atlas.crs}")
        if "county_id" not in frame:
            raise DataError(f"{what}: a county_id column is needed (ferries link counties)")
    a, b = _xy(origins, "origins"), _xy(destinations, "destinations")
    pace_a = county_pace(settings, origins["county_id"])
    pace_b = county_pace(settings, destinations["county_id"])
    minutes = road_minutes(a, b, settings, pace_a, pace_b)
    mode = np.full(minutes.shape, "road", dtype=object)
    for island in {tuple(f.island_counties) for f in atlas.spec.ferries}:
        links = [f for f in atlas.spec.ferries if tuple(f.island_counties) == island]
        on_a = origins["county_id"].isin(island).to_numpy()
        on_b = destinations["county_id"].isin(island).to_numpy()
        crossing = on_a[:, None] != on_b[None, :]
        if not crossing.any():
            continue
        best = np.full(minutes.shape, np.inf)
        for link in links:
            island_id = atlas.locality_id(link.island_terminal)
            main_id = atlas.locality_id(link.mainland_terminal)
            island_xy = atlas.localities.geometry[island_id]
            main_xy = atlas.localities.geometry[main_id]
            t_island = np.array([[island_xy.x, island_xy.y]])
            t_main = np.array([[main_xy.x, main_xy.y]])
            p_island = county_pace(settings, [atlas.localities.at[island_id, "county_id"]])
            p_main = county_pace(settings, [atlas.localities.at[main_id, "county_id"]])
            sea = link.crossing_min + link.boarding_min
            # origin side -> its terminal, sea, other terminal -> destination
            a_term = np.where(
                on_a[:, None],
                road_minutes(a, t_island, settings, pace_a, p_island),
                road_minutes(a, t_main, settings, pace_a, p_main),
            )
            b_term = np.where(
                on_b[None, :],
                road_minutes(t_island, b, settings, p_island, pace_b),
                road_minutes(t_main, b, settings, p_main, pace_b),
            )
            best = np.minimum(best, a_term + sea + b_term)
        minutes = np.where(crossing, best, minutes)
        mode[crossing] = "road+ferry"
    log.info(
        "estimated %d x %d matrix (%s), %d pairs by ferry",
        *minutes.shape,
        f"circuity {settings.circuity}, {settings.speed_kmh} km/h"
        + (f", per county from {settings.calibration}" if settings.calibration else ""),
        int((mode != "road").sum()),
    )
    return TravelTimeMatrix(
        tuple(map(str, origins.index)),
        tuple(map(str, destinations.index)),
        minutes,
        mode.astype(str),
    )
