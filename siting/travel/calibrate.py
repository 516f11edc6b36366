"""Fit the estimate backend's circuity and speed per county from a real road network.

``siting travel calibrate --osm FILE --out FILE`` samples towns of every
county, routes each to a national sample of towns on the road graph (fastest
path, access legs included), and fits per county of origin

- ``circuity`` = sum of route km / sum of straight-line km,
- ``speed_kmh`` = sum of route km / sum of route hours,

over pairs at least ``min_km`` apart (short trips are mostly access legs). The
CSV it writes (with its source file, hash and date in ``#`` comment lines) is
what ``travel.estimate.calibration`` reads, so a user without a network gets
regionally corrected estimates. siting ships no fitted numbers: run it on a
real extract.
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

import numpy as np
import pandas as pd

from siting._io import atomic_path
from siting.atlas import Atlas
from siting.config import RoadSettings
from siting.errors import DataError
from siting.travel.roads import RoadGraph, route_minutes_and_km

log = logging.getLogger(__name__)


def calibrate_estimate(
    atlas: Atlas,
    graph: RoadGraph,
    *,
    roads: RoadSettings | None = None,
    towns_per_county: int = 20,
    destinations: int = 60,
    min_km: float = 10.0,
    seed: int = 0,
) -> pd.DataFrame:
    """Per-county circuity and speed fitted on sampled road routes.

    Parameters
    ----------
    atlas
        Towns (localities) with their counties.
    graph
        The road graph (:func:`siting.travel.roads.load_road_graph`).
    roads
        Access speed and the farthest snap allowed.
    towns_per_county, destinations
        Sample sizes: origins per county, destinations nationwide (seeded).
    min_km
        Pairs closer than this in a straight line are not used.
    seed
        The sampling seed.

    Returns
    -------
    pandas.DataFrame
        ``county_id``, ``county``, ``circuity``, ``speed_kmh``, ``pairs``,
        ``median_circuity``; counties without usable pairs are left out.

    """
    roads = roads or RoadSettings()
    rng = np.random.default_rng(seed)
    towns = atlas.localities
    origin_ids = []
    for _, group in towns.groupby("county_id"):
        take = min(towns_per_county, len(group))
        origin_ids += list(rng.choice(group.index.to_numpy(), take, replace=False))
    target_ids = list(
        rng.choice(towns.index.to_numpy(), min(destinations, len(towns)), replace=False)
    )
    origins = towns.loc[origin_ids]
    targets = towns.loc[target_ids]
    minutes, km = route_minutes_and_km(
        graph,
        origins,
        targets,
        access_speed_kmh=roads.access_speed_kmh,
        max_access_km=roads.max_access_km,
    )
    oxy = np.column_stack([origins.geometry.x, origins.geometry.y])
    txy = np.column_stack([targets.geometry.x, targets.geometry.y])
    straight = np.sqrt(((oxy[:, None, :] - txy[None, :, :]) ** 2).sum(-1)) / 1000
    usable = np.isfinite(minutes) & (straight >= min_km)
    rows = []
    for county, positions in pd.Series(range(len(origins))).groupby(
        origins["county_id"].to_numpy()
    ):
        mask = usable[positions.to_numpy()]
        if not mask.any():
            log.warning("county %s: no usable routes, not calibrated", county)
            continue
        route_km = km[positions.to_numpy()][mask]
        line_km = straight[positions.to_numpy()][mask]
        hours = minutes[positions.to_numpy()][mask] / 60
        rows.append(
            {
                "county_id": str(county),
                "county": str(atlas.counties.loc[county, "name"])
                if county in atlas.counties.index
                else "",
                "circuity": round(float(route_km.sum() / line_km.sum()), 4),
                "speed_kmh": round(float(route_km.sum() / hours.sum()), 2),
                "pairs": int(mask.sum()),
                "median_circuity": round(float(np.median(route_km / line_km)), 4),
            }
        )
    if not rows:
        raise DataError(
            f"{graph.source}: no sampled pair has a road route at least {min_km:g} km long; "
            "does the extract cover the atlas?"
        )
    table = pd.DataFrame(rows)
    log.info("calibrated %d counties from %d routes", len(table), int(usable.sum()))
    return table


def write_calibration(table: pd.DataFrame, path: str | Path, *, source: Path) -> Path:
    """Write a calibration CSV with its provenance in ``#`` comment lines."""
    from siting.travel.cache import file_digest

    path = Path(path)
    header = (
        f"# fitted by `siting travel calibrate` from {source.name} "
        f"(sha256 {file_digest(source)[:16]}) on {dt.date.today().isoformat()}\n"
        "# circuity = route km / straight-line km; speed_kmh = route km / route hours;\n"
        "# fastest road routes from sampled towns of each county, access legs included.\n"
    )
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8") as handle:
        handle.write(header)
        table.to_csv(handle, index=False)
    return path
