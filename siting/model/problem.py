"""SitingProblem: the plain arrays the optimization core sees.

Nothing here is geographic or names an agency: ids, weights, a minutes matrix,
the county of every client and site, the criteria's site arrays by name, county
adjacency. :func:`siting.problem_builder.build_problem` makes one from an atlas;
:meth:`SitingProblem.from_matrix` from any labelled cost matrix.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from siting.errors import DataError
from siting.travel.matrix import TravelTimeMatrix

log = logging.getLogger(__name__)


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
    site_attributes, attribute_names
        Whether each site meets each yes/no criterion (co-location or a town
        attribute), shape (m, a), and those criteria's names.
    site_layer_minutes, layer_names
        Minutes from each site to the nearest site of each nearness criterion's
        layer, shape (m, k), and those criteria's names.
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
    site_minutes: NDArray[np.float64]
    county_adjacency: NDArray[np.int64]
    client_names: tuple[str, ...] = ()
    site_names: tuple[str, ...] = ()
    modes: NDArray[np.str_] | None = None  # travel mode per client-site pair, for reports
    site_attributes: NDArray[np.bool_] | None = None
    attribute_names: tuple[str, ...] = ()
    site_layer_minutes: NDArray[np.float64] | None = None
    layer_names: tuple[str, ...] = ()

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
        for array, names, what in (
            (self.site_attributes, self.attribute_names, "site_attributes"),
            (self.site_layer_minutes, self.layer_names, "site_layer_minutes"),
        ):
            shape = (m, len(names))
            if (array is None and names) or (array is not None and array.shape != shape):
                got = None if array is None else array.shape
                problems.append(f"{what} has shape {got}, expected {shape}")
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

        The second door into the model, beside
        :func:`siting.problem_builder.build_problem`: every client and site in one
        region, no criteria data (criteria cannot be switched on). ``weights``
        default to 1.
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
            site_minutes=between,
            county_adjacency=np.zeros((0, 2), dtype=np.int64),
        )

    @property
    def criterion_names(self) -> tuple[str, ...]:
        """Every criterion this problem carries data for."""
        return self.attribute_names + self.layer_names

    def attribute(self, name: str) -> NDArray[np.bool_]:
        """Whether each site meets the yes/no criterion ``name``."""
        return self.site_attributes[:, self.attribute_names.index(name)]

    def layer_minutes(self, name: str) -> NDArray[np.float64]:
        """Minutes from each site to the nearest site of the nearness criterion ``name``."""
        return self.site_layer_minutes[:, self.layer_names.index(name)]

    def site_index(self, ids: list[str], what: str) -> list[int]:
        """Column positions of site ids; unknown ids raise one error naming them."""
        position = {s: k for k, s in enumerate(self.site_ids)}
        unknown = [i for i in ids if i not in position]
        if unknown:
            raise DataError(f"{what}: {', '.join(unknown)} are not candidate sites")
        return [position[i] for i in ids]
