"""The GTFS backend: station-to-station minutes from a timetable feed.

For one service date and a departure window, every pair of stops that one trip
serves in order is a direct connection; its time is the fastest in-vehicle time
plus the expected wait, half the average interval between its departures in the
window (the window's length when it runs once). Connections form a graph whose
shortest paths give station-to-station minutes, so a change of trains costs a
second wait. Platforms are grouped under their ``parent_station``.

Reads a folder or a .zip of GTFS text files with pandas (the few files needed
are plain CSV); a missing required file is an error naming it.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import shortest_path

from siting.errors import DataError
from siting.travel.matrix import TravelTimeMatrix

log = logging.getLogger(__name__)

REQUIRED = ("stops.txt", "trips.txt", "stop_times.txt", "routes.txt")
#: Rail route types: the basic one (2) and the extended 100-117 (railway services).
RAIL_ROUTE_TYPES = (2, *range(100, 118))


def _reader(feed: Path):
    if feed.is_dir():

        def read(name):
            path = feed / name
            return pd.read_csv(path, dtype=str, keep_default_na=False) if path.is_file() else None

        return read
    if feed.suffix == ".zip" and feed.is_file():
        archive = zipfile.ZipFile(feed)
        names = set(archive.namelist())

        def read(name):
            if name not in names:
                return None
            return pd.read_csv(io.BytesIO(archive.read(name)), dtype=str, keep_default_na=False)

        return read
    raise DataError(f"GTFS feed not found: {feed} (a folder or a .zip of GTFS files)")


def _seconds(text: pd.Series) -> np.ndarray:
    parts = text.str.split(":", expand=True).astype(int)
    return (parts[0] * 3600 + parts[1] * 60 + parts[2]).to_numpy()


def active_services(read, date: dt.date, feed: str) -> set[str]:
    """Service ids running on ``date`` (calendar.txt and calendar_dates.txt)."""
    calendar, exceptions = read("calendar.txt"), read("calendar_dates.txt")
    if calendar is None and exceptions is None:
        raise DataError(
            f"{feed}: neither calendar.txt nor calendar_dates.txt is present; "
            "GTFS needs at least one"
        )
    services: set[str] = set()
    day = date.strftime("%Y%m%d")
    if calendar is not None:
        weekday = date.strftime("%A").lower()
        running = calendar[
            (calendar[weekday] == "1")
            & (calendar["start_date"] <= day)
            & (calendar["end_date"] >= day)
        ]
        services |= set(running["service_id"])
    if exceptions is not None:
        today = exceptions[exceptions["date"] == day]
        services |= set(today.loc[today["exception_type"] == "1", "service_id"])
        services -= set(today.loc[today["exception_type"] == "2", "service_id"])
    return services


def gtfs_matrix(
    feed: str | Path,
    date: dt.date,
    *,
    window: tuple[str, str] = ("06:00:00", "20:00:00"),
    route_types: tuple[int, ...] | None = RAIL_ROUTE_TYPES,
) -> TravelTimeMatrix:
    """Station-to-station minutes from a GTFS feed on one date.

    Parameters
    ----------
    feed
        A folder or .zip of GTFS files.
    date
        The service date.
    window
        Departures counted between these times (``HH:MM:SS``).
    route_types
        Keep routes of these types (rail by default); None keeps all.

    Returns
    -------
    TravelTimeMatrix
        Station ids (parent stations where given) both ways; ``inf`` where no
        connection exists in the window.

    """
    feed = Path(feed)
    read = _reader(feed)
    tables = {name: read(name) for name in REQUIRED}
    missing = [name for name, table in tables.items() if table is None]
    if missing:
        raise DataError(f"{feed}: missing required GTFS file(s) {', '.join(missing)}")
    stops, trips, stop_times, routes = (tables[n] for n in REQUIRED)
    services = active_services(read, date, str(feed))
    if route_types is not None:
        kept = routes[routes["route_type"].astype(int).isin(route_types)]["route_id"]
        trips = trips[trips["route_id"].isin(kept)]
    trips = trips[trips["service_id"].isin(services)]
    if trips.empty:
        raise DataError(f"{feed}: no trips of the kept route types run on {date.isoformat()}")

    station = stops.set_index("stop_id")["parent_station"] if "parent_station" in stops else None
    times = stop_times[stop_times["trip_id"].isin(trips["trip_id"])].copy()
    times["station"] = times["stop_id"]
    if station is not None:
        parent = times["stop_id"].map(station).fillna("")
        times["station"] = np.where(parent != "", parent, times["stop_id"])
    times["seq"] = times["stop_sequence"].astype(int)
    times["arr"] = _seconds(times["arrival_time"])
    times["dep"] = _seconds(times["departure_time"])
    start, end = (_seconds(pd.Series([w]))[0] for w in window)

    pairs = times.merge(times, on="trip_id", suffixes=("_a", "_b"))
    pairs = pairs[(pairs["seq_a"] < pairs["seq_b"]) & (pairs["station_a"] != pairs["station_b"])]
    pairs = pairs[(pairs["dep_a"] >= start) & (pairs["dep_a"] <= end)]
    if pairs.empty:
        raise DataError(f"{feed}: no departures between {window[0]} and {window[1]} on {date}")
    pairs = pairs.assign(ride=(pairs["arr_b"] - pairs["dep_a"]) / 60.0)
    grouped = pairs.groupby(["station_a", "station_b"])
    direct = grouped.agg(ride=("ride", "min"), departures=("trip_id", "nunique")).reset_index()
    window_min = (end - start) / 60.0
    direct["minutes"] = direct["ride"] + window_min / direct["departures"] / 2.0

    ids = sorted(set(direct["station_a"]) | set(direct["station_b"]))
    position = {s: k for k, s in enumerate(ids)}
    graph = csr_matrix(
        (direct["minutes"], (direct["station_a"].map(position), direct["station_b"].map(position))),
        shape=(len(ids), len(ids)),
    )
    minutes = shortest_path(graph, method="D", directed=True)
    log.info(
        "GTFS %s on %s: %d trips, %d stations, %d direct connections",
        feed.name,
        date,
        trips["trip_id"].nunique(),
        len(ids),
        len(direct),
    )
    return TravelTimeMatrix(
        tuple(ids), tuple(ids), minutes, np.full(minutes.shape, "rail", dtype=str)
    )


def gtfs_stations(feed: str | Path) -> pd.DataFrame:
    """Stations of a feed (parent stations where given): id, name, latitude, longitude."""
    feed = Path(feed)
    stops = _reader(feed)("stops.txt")
    if stops is None:
        raise DataError(f"{feed}: missing required GTFS file(s) stops.txt")
    if "parent_station" in stops:
        stops = stops[stops["parent_station"] == ""]
    if not {"stop_lat", "stop_lon"} <= set(stops.columns):
        raise DataError(f"{feed}: stops.txt needs stop_lat and stop_lon")
    return pd.DataFrame(
        {
            "name": stops["stop_name"].to_numpy(),
            "latitude": stops["stop_lat"].astype(float).to_numpy(),
            "longitude": stops["stop_lon"].astype(float).to_numpy(),
        },
        index=pd.Index(stops["stop_id"], name="station_id"),
    )
