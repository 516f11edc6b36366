"""The ``estimate`` backend: straight-line distance x circuity / speed, ferries for islands.

Distances are Euclidean in the atlas's projected CRS (metres), never on
longitude/latitude. A trip between an island (a set of whole counties named by
a ferry link in the manifest) and the mainland never crosses the sea in a
straight line: it drives to a terminal, boards, crosses, and drives on; the
fastest link wins.
"""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
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


def road_minutes(
    origins_xy: NDArray[np.float64],
    destinations_xy: NDArray[np.float64],
    settings: EstimateSettings,
) -> NDArray[np.float64]:
    """Estimated road minutes for every origin x destination pair (no sea check)."""
    metres = np.sqrt(((origins_xy[:, None, :] - destinations_xy[None, :, :]) ** 2).sum(-1))
    minutes = metres / 1000.0 * settings.circuity / settings.speed_kmh * 60.0
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
    minutes = road_minutes(a, b, settings)
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
            island_xy = atlas.localities.geometry[atlas.locality_id(link.island_terminal)]
            main_xy = atlas.localities.geometry[atlas.locality_id(link.mainland_terminal)]
            t_island = np.array([[island_xy.x, island_xy.y]])
            t_main = np.array([[main_xy.x, main_xy.y]])
            sea = link.crossing_min + link.boarding_min
            # origin side -> its terminal, sea, other terminal -> destination
            a_term = np.where(
                on_a[:, None],
                road_minutes(a, t_island, settings),
                road_minutes(a, t_main, settings),
            )
            b_term = np.where(
                on_b[None, :],
                road_minutes(t_island, b, settings),
                road_minutes(t_main, b, settings),
            )
            best = np.minimum(best, a_term + sea + b_term)
        minutes = np.where(crossing, best, minutes)
        mode[crossing] = "road+ferry"
    log.info(
        "estimated %d x %d matrix (%s), %d pairs by ferry",
        *minutes.shape,
        f"circuity {settings.circuity}, {settings.speed_kmh} km/h",
        int((mode != "road").sum()),
    )
    return TravelTimeMatrix(
        tuple(map(str, origins.index)),
        tuple(map(str, destinations.index)),
        minutes,
        mode.astype(str),
    )
