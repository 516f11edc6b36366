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


#: Columns each required file must have.
COLUMNS = {
    "stops.txt": ("stop_id",),
    "trips.txt": ("route_id", "service_id", "trip_id"),
    "stop_times.txt": ("trip_id", "arrival_time", "departure_time", "stop_id", "stop_sequence"),
    "routes.txt": ("route_id", "route_type"),
}


def _csv(source, name: str, feed: Path) -> pd.DataFrame:
    try:
        return pd.read_csv(source, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise DataError(f"{feed}: {name} is not a readable CSV file ({exc})") from None


def _reader(feed: Path):
    if feed.is_dir():

        def read(name):
            path = feed / name
            return _csv(path, name, feed) if path.is_file() else None

        return read
    if feed.suffix == ".zip" and feed.is_file():
        try:
            archive = zipfile.ZipFile(feed)
            names = set(archive.namelist())
        except (zipfile.BadZipFile, OSError) as exc:
            raise DataError(f"{feed}: not a readable zip of GTFS files ({exc})") from None

        def read(name):
            if name not in names:
                return None
            try:
                data = archive.read(name)
            except (zipfile.BadZipFile, OSError, ValueError) as exc:
                raise DataError(f"{feed}: {name} cannot be read from the zip ({exc})") from None
            return _csv(io.BytesIO(data), name, feed)

        return read
    raise DataError(f"GTFS feed not found: {feed} (a folder or a .zip of GTFS files)")


def _seconds(text: pd.Series, what: str = "time") -> np.ndarray:
    try:
        parts = text.str.split(":", expand=True).astype(int)
        return (parts[0] * 3600 + parts[1] * 60 + parts[2]).to_numpy()
    except (ValueError, KeyError) as exc:
        raise DataError(f"{what}: expected HH:MM:SS times ({exc})") from None


def _integers(text: pd.Series, what: str) -> pd.Series:
    try:
        return text.astype(int)
    except ValueError as exc:
        raise DataError(f"{what}: expected whole numbers ({exc})") from None


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
    lacking = [
        f"{name} lacks column(s) {', '.join(c for c in COLUMNS[name] if c not in table)}"
        for name, table in tables.items()
        if not set(COLUMNS[name]) <= set(table.columns)
    ]
    if lacking:
        raise DataError(f"{feed}: {'; '.join(lacking)}")
    stops, trips, stop_times, routes = (tables[n] for n in REQUIRED)
    services = active_services(read, date, str(feed))
    if route_types is not None:
        kept = routes[
            _integers(routes["route_type"], f"{feed}: routes.txt route_type").isin(route_types)
        ]["route_id"]
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
    times["seq"] = _integers(times["stop_sequence"], f"{feed}: stop_times.txt stop_sequence")
    times["arr"] = _seconds(times["arrival_time"], f"{feed}: stop_times.txt arrival_time")
    times["dep"] = _seconds(times["departure_time"], f"{feed}: stop_times.txt departure_time")
    start, end = (_seconds(pd.Series([w]), "travel.rail.gtfs_window")[0] for w in window)

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
    return TravelTimeMatrix(tuple(ids), tuple(ids), minutes, np.full(minutes.shape, "rail"))


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
