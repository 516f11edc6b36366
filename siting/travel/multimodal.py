"""Door-to-door minutes: the better of road alone and road + rail + road.

Rail trips are composed as min-plus products over labelled matrices, all at
once with numpy: ``min over stations s, t of road(i, s) + transfer + rail(s, t)
+ transfer + road(t, j)``. The chosen mode is kept per pair.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from pathlib import Path

import geopandas as gpd
import numpy as np
from numpy.typing import NDArray

from siting.atlas import Atlas
from siting.config import TravelSettings
from siting.errors import DataError, ScenarioError
from siting.travel.estimate import estimate_matrix
from siting.travel.matrix import TravelTimeMatrix
from siting.travel.rail import RailNetwork, load_rail

log = logging.getLogger(__name__)

#: Rows per block in min-plus products (bounds memory at rows x k x m floats).
BLOCK_ROWS = 256


def min_plus(
    left: NDArray[np.float64], right: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """The min-plus product ``out[i, j] = min_k left[i, k] + right[k, j]`` and its argmin k."""
    out = np.empty((left.shape[0], right.shape[1]))
    best = np.empty((left.shape[0], right.shape[1]), dtype=np.int64)
    for start in range(0, left.shape[0], BLOCK_ROWS):
        total = left[start : start + BLOCK_ROWS, :, None] + right[None, :, :]
        best[start : start + BLOCK_ROWS] = total.argmin(axis=1)
        out[start : start + BLOCK_ROWS] = np.take_along_axis(
            total, best[start : start + BLOCK_ROWS, None, :], axis=1
        )[:, 0, :]
    return out, best


@lru_cache(maxsize=4)
def _network(atlas: Atlas) -> RailNetwork | None:
    return None if atlas.rail_file is None else load_rail(atlas, atlas.rail_file)


def rail_network(atlas: Atlas) -> RailNetwork | None:
    """The atlas's rail network (loaded once per atlas), or None when it has none."""
    return _network(atlas)


def _road_graph(atlas: Atlas, settings: TravelSettings):
    from siting.travel.roads import load_road_graph

    roads = settings.roads
    try:
        return load_road_graph(
            roads.osm_file,
            crs=atlas.crs,
            access_speed_kmh=roads.access_speed_kmh,
            max_access_km=roads.max_access_km,
        )
    except DataError as exc:
        raise DataError([f"travel.roads.osm_file: {p}" for p in exc.problems]) from None


def atlas_ferry_links(atlas: Atlas) -> tuple:
    """The atlas's ferry links as road-graph edges between their terminal towns."""
    from siting.travel.roads import FerryLink

    links = []
    for link in atlas.spec.ferries:
        a = atlas.localities.geometry[atlas.locality_id(link.island_terminal)]
        b = atlas.localities.geometry[atlas.locality_id(link.mainland_terminal)]
        links.append(
            FerryLink(
                name=f"{link.island_terminal}-{link.mainland_terminal}",
                a_xy=(a.x, a.y),
                b_xy=(b.x, b.y),
                minutes=link.crossing_min + link.boarding_min,
            )
        )
    return tuple(links)


def road_leg(
    atlas: Atlas,
    origins: gpd.GeoDataFrame,
    destinations: gpd.GeoDataFrame,
    settings: TravelSettings,
) -> TravelTimeMatrix:
    """Road minutes from the configured backend (``estimate`` or ``roads``).

    With ``roads``, pairs with no path are ``inf`` here (a rail leg may still
    join them); :func:`travel_matrix` lists those left unjoined as an error.
    The atlas's ferry links join islands when the extract has no ferry routes.
    """
    if settings.backend == "roads":
        from siting.travel.roads import road_matrix

        graph = _road_graph(atlas, settings)
        links = () if graph.n_ferries else atlas_ferry_links(atlas)
        return road_matrix(
            graph,
            origins,
            destinations,
            crs=atlas.crs,
            access_speed_kmh=settings.roads.access_speed_kmh,
            max_access_km=settings.roads.max_access_km,
            ferry_links=links,
        ).matrix
    return estimate_matrix(atlas, origins, destinations, settings.estimate)


def _require_reachable(
    matrix: TravelTimeMatrix,
    origins: gpd.GeoDataFrame,
    destinations: gpd.GeoDataFrame,
    settings: TravelSettings,
) -> None:
    missing = np.argwhere(~np.isfinite(matrix.minutes))
    if not len(missing):
        return
    import pandas as pd

    from siting.travel.roads import unreachable_error

    def names(frame):
        return frame["name"].astype(str).to_numpy() if "name" in frame else frame.index

    o_names, d_names = names(origins), names(destinations)
    table = pd.DataFrame(
        {
            "origin_id": [matrix.origins[i] for i, _ in missing],
            "origin_name": [o_names[i] for i, _ in missing],
            "destination_id": [matrix.destinations[j] for _, j in missing],
            "destination_name": [d_names[j] for _, j in missing],
        }
    )
    raise unreachable_error(table, Path(settings.roads.osm_file or "").name)


@lru_cache(maxsize=4)
def _gtfs(atlas: Atlas, feed: str, date, window) -> tuple[gpd.GeoDataFrame, np.ndarray]:
    from siting.travel.gtfs import gtfs_matrix, gtfs_stations

    try:
        matrix = gtfs_matrix(feed, date, window=window)
        table = gtfs_stations(feed).reindex(list(matrix.origins))
    except DataError as exc:
        raise DataError([f"travel.rail.gtfs_feed: {p}" for p in exc.problems]) from None
    points = gpd.GeoDataFrame(
        table, geometry=gpd.points_from_xy(table["longitude"], table["latitude"]), crs="EPSG:4326"
    ).to_crs(atlas.crs)
    nearest = gpd.sjoin_nearest(
        points[["geometry"]], atlas.municipalities[["county_id", "geometry"]]
    )
    points["county_id"] = nearest.groupby(level=0)["county_id"].first()
    return points, matrix.minutes


def rail_stations_and_minutes(
    atlas: Atlas, settings: TravelSettings
) -> tuple[gpd.GeoDataFrame, np.ndarray]:
    """Stations (with county_id) and station x station rail minutes, from lines or GTFS."""
    rail = settings.rail
    if rail.source == "gtfs":
        stations, minutes = _gtfs(atlas, rail.gtfs_feed, rail.gtfs_date, rail.gtfs_window)
        return stations, minutes / rail.speed_factor
    network = rail_network(atlas)
    if network is None:
        raise ScenarioError(
            "travel.modes: rail needs a rail line file in the atlas manifest "
            "or travel.rail.source: gtfs"
        )
    stations = network.stations.assign(
        county_id=atlas.localities.loc[network.stations.index, "county_id"].to_numpy()
    )
    return stations, network.matrix(rail.speed_factor, change_min=rail.change_min).minutes


def travel_matrix(
    atlas: Atlas,
    origins: gpd.GeoDataFrame,
    destinations: gpd.GeoDataFrame,
    settings: TravelSettings | None = None,
) -> TravelTimeMatrix:
    """Door-to-door minutes from every origin to every destination.

    Parameters
    ----------
    atlas
        CRS, ferries and the rail network.
    origins, destinations
        Points with ``county_id``, indexed by id.
    settings
        Modes, road estimate, rail speed factor and transfer minutes.

    Returns
    -------
    TravelTimeMatrix
        Minutes and, per pair, the mode: ``road``, ``road+ferry`` or ``rail``
        (road to a station, rail, road on).

    """
    settings = settings or TravelSettings()
    road = road_leg(atlas, origins, destinations, settings)
    if "rail" not in settings.modes:
        if settings.backend == "roads":
            _require_reachable(road, origins, destinations, settings)
        return road
    stations, rail = rail_stations_and_minutes(atlas, settings)
    to_station = road_leg(atlas, origins, stations, settings)
    from_station = road_leg(atlas, stations, destinations, settings)
    transfer = settings.rail.transfer_min
    to_exit, exit_station = min_plus(to_station.minutes + transfer, rail)  # origin -> exit
    via_rail, last = min_plus(to_exit, from_station.minutes + transfer)
    rows = np.arange(len(origins))[:, None]
    exit_used = last  # the station where the rail leg ends, per pair
    entry_used = exit_station[rows, exit_used]  # the station where it starts
    ferry = (to_station.mode[rows, entry_used] == "road+ferry") | (
        from_station.mode[exit_used, np.arange(len(destinations))[None, :]] == "road+ferry"
    )
    rail_wins = via_rail < road.minutes
    minutes = np.where(rail_wins, via_rail, road.minutes)
    mode = np.where(rail_wins, np.where(ferry, "rail+ferry", "rail"), road.mode)
    log.info("door-to-door %d x %d: rail faster for %d pairs", *minutes.shape, int(rail_wins.sum()))
    matrix = TravelTimeMatrix(road.origins, road.destinations, minutes, mode.astype(str))
    if settings.backend == "roads":
        _require_reachable(matrix, origins, destinations, settings)
    return matrix
