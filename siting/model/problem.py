"""SitingProblem: the plain arrays the optimization core sees, and how to build them.

Nothing here after :func:`build_problem` is geographic: ids, weights, a minutes
matrix, the county of every client and site, site properties, county adjacency.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
from numpy.typing import NDArray

from siting.atlas import Atlas
from siting.config import TravelSettings
from siting.errors import DataError
from siting.travel.cache import cached_travel_matrix
from siting.travel.matrix import TravelTimeMatrix
from siting.travel.multimodal import rail_network, travel_matrix

log = logging.getLogger(__name__)

#: Polygons closer than this count as neighbours (the generalised borders leave slivers).
ADJACENCY_TOLERANCE_M = 500.0


@dataclass(frozen=True, eq=False)
class SitingProblem:
    """Clients (organizers), candidate sites and everything the criteria read.

    Attributes
    ----------
    client_ids, site_ids, county_ids
        Labels of the rows, the columns and the counties.
    weights
        Weight of each client (dialogues, population, ...), shape (n,).
    minutes
        Travel minutes client -> site, shape (n, m).
    client_county, site_county
        Index into ``county_ids`` of each client and site.
    site_spsm
        Whether SPSM is present at each site.
    site_rail
        Whether each site has an intercity station; None when unknown.
    site_university_minutes
        Minutes from each site to the nearest university with teacher education.
    site_minutes
        Minutes between sites, shape (m, m).
    county_adjacency
        Pairs (a, b), a < b, of neighbouring counties (ferry links included).
    client_names, site_names
        For messages and reports.

    """

    client_ids: tuple[str, ...]
    site_ids: tuple[str, ...]
    county_ids: tuple[str, ...]
    weights: NDArray[np.float64]
    minutes: NDArray[np.float64]
    client_county: NDArray[np.int64]
    site_county: NDArray[np.int64]
    site_spsm: NDArray[np.bool_]
    site_rail: NDArray[np.bool_] | None
    site_university_minutes: NDArray[np.float64]
    site_minutes: NDArray[np.float64]
    county_adjacency: NDArray[np.int64]
    client_names: tuple[str, ...] = ()
    site_names: tuple[str, ...] = ()
    modes: NDArray[np.str_] | None = None  # travel mode per client-site pair, for reports

    def __post_init__(self) -> None:
        n, m = len(self.client_ids), len(self.site_ids)
        problems = []
        if m == 0:
            problems.append("there are no candidate sites")
        if n == 0:
            problems.append("there are no organizers")
        if self.minutes.shape != (n, m):
            problems.append(f"minutes has shape {self.minutes.shape}, expected {(n, m)}")
        elif not np.isfinite(self.minutes).all() or (self.minutes < 0).any():
            bad = np.argwhere(~np.isfinite(self.minutes) | (self.minutes < 0))[:5]
            pairs = ", ".join(f"{self.client_ids[i]}->{self.site_ids[j]}" for i, j in bad)
            problems.append(f"travel minutes are NaN, infinite or negative for {pairs}")
        if self.weights.shape != (n,) or (self.weights < 0).any():
            problems.append("weights must be one non-negative number per organizer")
        if problems:
            raise DataError(problems, source="siting problem")

    @property
    def n_clients(self) -> int:
        """Number of clients (rows)."""
        return len(self.client_ids)

    @property
    def n_sites(self) -> int:
        """Number of candidate sites (columns)."""
        return len(self.site_ids)

    @classmethod
    def from_matrix(
        cls,
        matrix: TravelTimeMatrix,
        weights: pd.Series | None = None,
        *,
        site_minutes: TravelTimeMatrix | None = None,
    ) -> SitingProblem:
        """A problem from a labelled cost matrix alone (no counties, no site facts).

        The second door into the model, beside :func:`build_problem`: every
        client and site in one region, no SPSM, university or rail data; criteria
        that need them cannot be switched on. ``weights`` default to 1.
        """
        n, m = matrix.minutes.shape
        w = np.ones(n) if weights is None else weights.reindex(list(matrix.origins)).to_numpy(float)
        if np.isnan(w).any():
            raise DataError("weights missing for some matrix rows", source="from_matrix")
        between = (
            np.zeros((m, m))
            if site_minutes is None
            else site_minutes.loc(list(matrix.destinations), list(matrix.destinations)).minutes
        )
        return cls(
            client_ids=matrix.origins,
            site_ids=matrix.destinations,
            county_ids=("all",),
            weights=w,
            minutes=matrix.minutes,
            client_county=np.zeros(n, dtype=np.int64),
            site_county=np.zeros(m, dtype=np.int64),
            site_spsm=np.zeros(m, dtype=bool),
            site_rail=None,
            site_university_minutes=np.full(m, np.inf),
            site_minutes=between,
            county_adjacency=np.zeros((0, 2), dtype=np.int64),
        )

    def site_index(self, ids: list[str], what: str) -> list[int]:
        """Column positions of site ids; unknown ids raise one error naming them."""
        position = {s: k for k, s in enumerate(self.site_ids)}
        unknown = [i for i in ids if i not in position]
        if unknown:
            raise DataError(f"{what}: {', '.join(unknown)} are not candidate sites")
        return [position[i] for i in ids]


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
    network = rail_network(atlas)
    site_rail = None
    if network is not None:
        intercity = network.stations.index[network.stations["intercity"]]
        site_rail = candidates.index.isin(list(intercity))

    spec = atlas.spec.sites
    spsm_places = set(atlas.sites.loc[atlas.sites["kind"].isin(spec.spsm_kinds), "locality_id"])
    universities = atlas.sites[atlas.sites["kind"].isin(spec.university_kinds)]
    universities = universities.drop_duplicates("locality_id")
    if len(universities):
        to_university = matrix(atlas, candidates, universities, travel)
        university_minutes = to_university.minutes.min(axis=1)
    else:
        university_minutes = np.full(len(candidates), np.inf)

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
        site_spsm=candidates.index.isin(list(spsm_places)),
        site_rail=site_rail,
        site_university_minutes=university_minutes,
        site_minutes=site_minutes.minutes,
        county_adjacency=adjacency,
        client_names=tuple(organizers["name"].astype(str)),
        site_names=tuple(candidates["name"].astype(str)),
        modes=minutes.mode,
    )
