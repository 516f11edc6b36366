"""Door-to-door minutes: the better of road alone and road + rail + road.

Rail trips are composed as min-plus products over labelled matrices, all at
once with numpy: ``min over stations s, t of road(i, s) + transfer + rail(s, t)
+ transfer + road(t, j)``. The chosen mode is kept per pair.
"""

from __future__ import annotations

import logging
from functools import lru_cache

import geopandas as gpd
import numpy as np
from numpy.typing import NDArray

from siting.atlas import Atlas
from siting.config import TravelSettings
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


@lru_cache(maxsize=2)
def _road_graph(osm_file: str):
    from siting.travel.roads import road_graph_from_xml

    return road_graph_from_xml(osm_file)


def road_leg(
    atlas: Atlas,
    origins: gpd.GeoDataFrame,
    destinations: gpd.GeoDataFrame,
    settings: TravelSettings,
) -> TravelTimeMatrix:
    """Road minutes from the configured backend (``estimate`` or ``roads``)."""
    if settings.backend == "roads":
        from siting.travel.roads import road_matrix

        return road_matrix(
            _road_graph(settings.roads.osm_file), origins, destinations, crs=atlas.crs
        ).matrix
    return estimate_matrix(atlas, origins, destinations, settings.estimate)


@lru_cache(maxsize=4)
def _gtfs(atlas: Atlas, feed: str, date, window) -> tuple[gpd.GeoDataFrame, np.ndarray]:
    from siting.travel.gtfs import gtfs_matrix, gtfs_stations

    matrix = gtfs_matrix(feed, date, window=window)
    table = gtfs_stations(feed).reindex(list(matrix.origins))
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
        from siting.errors import ScenarioError

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
    return TravelTimeMatrix(road.origins, road.destinations, minutes, mode.astype(str))
