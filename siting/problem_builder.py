"""From an atlas to a :class:`~siting.model.problem.SitingProblem`: travel minutes and criteria.

The one place where geography meets the optimization core: organizers and
candidate towns become a minutes matrix, and every criterion the manifest
declares becomes a column of plain arrays (a yes/no per site, or minutes from
each site to the nearest site of a layer), kept by the criterion's name.
"""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np

from siting.atlas import Atlas, CriterionSpec
from siting.config import TravelSettings
from siting.model.problem import SitingProblem
from siting.travel.cache import cached_travel_matrix
from siting.travel.matrix import TravelTimeMatrix
from siting.travel.multimodal import rail_network, travel_matrix

log = logging.getLogger(__name__)

#: Polygons closer than this count as neighbours (the generalised borders leave slivers).
ADJACENCY_TOLERANCE_M = 500.0


def county_adjacency(atlas: Atlas) -> list[tuple[str, str]]:
    """Neighbouring counties: shared (or nearly shared) borders, plus ferry links."""
    counties = atlas.counties.reset_index()[["county_id", "geometry"]]
    buffered = counties.assign(geometry=counties.buffer(ADJACENCY_TOLERANCE_M))
    pairs = gpd.sjoin(buffered, counties, predicate="intersects")
    edges = {
        tuple(sorted((a, b)))
        for a, b in zip(pairs["county_id_left"], pairs["county_id_right"], strict=True)
        if a != b
    }
    for ferry in atlas.spec.ferries:
        terminal = atlas.locality_id(ferry.mainland_terminal)
        mainland = atlas.localities.at[terminal, "county_id"]
        for island in ferry.island_counties:
            edges.add(tuple(sorted((island, mainland))))
    return sorted(edges)


def build_problem(
    atlas: Atlas,
    *,
    travel: TravelSettings | None = None,
    organizers: gpd.GeoDataFrame | None = None,
    candidates: gpd.GeoDataFrame | None = None,
) -> SitingProblem:
    """Turn an atlas into a :class:`SitingProblem` (travel minutes included).

    Parameters
    ----------
    atlas
        Geography, organizers, candidates and sites.
    travel
        How minutes are computed; the documented defaults when omitted.
    organizers, candidates
        Subsets or replacements of the atlas's tables (same columns).

    """
    travel = travel or TravelSettings()
    organizers = atlas.organizers if organizers is None else organizers
    candidates = atlas.candidates if candidates is None else candidates
    matrix = cached_travel_matrix if travel.cache else travel_matrix
    minutes = matrix(atlas, organizers, candidates, travel)
    if travel.perturbation.fraction > 0:
        rng = np.random.default_rng(travel.perturbation.seed)
        fraction = travel.perturbation.fraction
        factor = rng.uniform(1 - fraction, 1 + fraction, size=minutes.minutes.shape)
        minutes = TravelTimeMatrix(
            minutes.origins, minutes.destinations, minutes.minutes * factor, minutes.mode
        )
    site_minutes = matrix(atlas, candidates, candidates, travel)
    attributes, layers = {}, {}
    for name, criterion in atlas.spec.criteria.items():
        if criterion.kind == "near":
            layers[name] = _layer_minutes(atlas, criterion, candidates, travel, matrix)
        else:
            attributes[name] = _site_attribute(atlas, criterion, candidates)
    m = len(candidates)

    county_ids = tuple(atlas.counties.index)
    county_position = {c: k for k, c in enumerate(county_ids)}
    adjacency = np.array(
        [(county_position[a], county_position[b]) for a, b in county_adjacency(atlas)],
        dtype=np.int64,
    ).reshape(-1, 2)
    return SitingProblem(
        client_ids=minutes.origins,
        site_ids=minutes.destinations,
        county_ids=county_ids,
        weights=organizers["weight"].to_numpy(dtype=float),
        minutes=minutes.minutes,
        client_county=organizers["county_id"].map(county_position).to_numpy(dtype=np.int64),
        site_county=candidates["county_id"].map(county_position).to_numpy(dtype=np.int64),
        site_minutes=site_minutes.minutes,
        county_adjacency=adjacency,
        client_names=tuple(organizers["name"].astype(str)),
        site_names=tuple(candidates["name"].astype(str)),
        modes=minutes.mode,
        site_attributes=np.column_stack([*attributes.values()]).astype(bool)
        if attributes
        else np.zeros((m, 0), dtype=bool),
        attribute_names=tuple(attributes),
        site_layer_minutes=np.column_stack([*layers.values()]) if layers else np.zeros((m, 0)),
        layer_names=tuple(layers),
    )


def _site_attribute(
    atlas: Atlas, criterion: CriterionSpec, candidates: gpd.GeoDataFrame
) -> np.ndarray:
    """Whether each candidate town meets a co-location or attribute criterion."""
    if criterion.kind == "colocate":
        towns = set(atlas.layer(criterion.colocate_with)["locality_id"])
        return candidates.index.isin(list(towns))
    if criterion.attribute in ("station", "intercity_station"):
        network = rail_network(atlas)
        stations = network.stations
        if criterion.attribute == "intercity_station":
            stations = stations[stations["intercity"]]
        return candidates.index.isin(list(stations.index))
    column = atlas.localities[criterion.attribute]
    return column.reindex(candidates.index).fillna(False).to_numpy(dtype=bool)


def _layer_minutes(atlas, criterion, candidates, travel, matrix) -> np.ndarray:
    """Minutes from each candidate to the nearest site of a nearness criterion's layer."""
    sites = atlas.layer(criterion.near)
    if not len(sites):
        return np.full(len(candidates), np.inf)
    return matrix(atlas, candidates, sites, travel).minutes.min(axis=1)
