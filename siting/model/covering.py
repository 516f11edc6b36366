"""Covering objectives at scale, each proven optimal, then tie-broken by total cost.

Three objectives on a dense cost matrix (n clients x m candidate sites), each
solved on the site variables and the neighbourhoods ``N_i(r) = {j : c_ij <= r}``
(CSR rows), never on an n x m assignment model:

- :func:`solve_center`: the least longest trip (plain or weighted) with p sites,
  by bisection over the matrix's distinct values, each step a covering
  feasibility problem;
- :func:`solve_coverage`: the most weight within a radius with p sites
  (maximal covering);
- :func:`solve_min_offices`: the fewest sites with every client within a
  radius (set cover).

Each then breaks ties by the least total weighted cost (plus site charges)
with its primary value held at the optimum: a :func:`~siting.model.pmedian.solve_pmedian`
with ``max_cost`` (center, min_offices) or ``min_covered_weight`` (coverage).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace

import highspy
import numpy as np
from numpy.typing import NDArray

from siting.errors import DataError
from siting.model.heuristics import constrained_greedy, constrained_search
from siting.model.milp import set_deadline
from siting.model.pmedian import (
    PMedianResult,
    SolverLimitError,
    _breaks,
    _feasible_sites,
    _incumbent,
    _is_number,
    _new_feasibility,
    _Rules,
    _validate,
    solve_pmedian,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CoveringResult:
    """A covering objective solved, then tie-broken by total cost.

    Attributes
    ----------
    objective
        ``"center"``, ``"coverage"`` or ``"min_offices"``.
    primary
        The primary objective's value at the returned sites: the longest
        (weighted) trip, the covered weight, or the number of sites.
    primary_bound
        A proven bound on the primary optimum: a lower bound for center and
        min_offices, an upper bound for coverage (equal to ``primary`` when proven).
    primary_status
        ``"optimal"`` or ``"time_limit"``.
    median
        The tie-break: the least total weighted cost plus site charges with the
        primary held at ``primary`` (its sites, assignment, bound and status).
    seconds
        Wall time of both stages.

    """

    objective: str
    primary: float
    primary_bound: float
    primary_status: str
    median: PMedianResult
    seconds: float

    @property
    def sites(self) -> tuple[int, ...]:
        """Column indices of the open sites, sorted."""
        return self.median.sites

    @property
    def assignment(self) -> NDArray[np.int64]:
        """For each client, its nearest open site's column index."""
        return self.median.assignment

    @property
    def status(self) -> str:
        """``"optimal"`` when both stages are proven, else the weaker status."""
        if self.primary_status == "optimal":
            return self.median.status
        return self.primary_status


def _deadline_left(deadline: float | None) -> float | None:
    return None if deadline is None else max(deadline - time.perf_counter(), 0.01)


def _common(costs, p, weights, radius, what, **options):
    """Validate the shared inputs (and ``radius`` when given) in one pass."""
    problems = []
    if radius is not None and (not _is_number(radius) or not 0 <= radius < np.inf):
        problems.append(f"radius must be a finite number >= 0, got {radius!r}")
    if problems:
        raise DataError(problems, source=f"{what} input")
    return _validate(
        costs,
        p,
        weights,
        cover_radius=None,
        min_covered_weight=None,
        mip_rel_gap=0.0,
        **options,
    )


def solve_center(
    costs: NDArray[np.float64],
    p: int | None = None,
    weights: NDArray[np.float64] | None = None,
    *,
    p_min: int | None = None,
    p_max: int | None = None,
    weighted: bool = False,
    fixed: list[int] | tuple[int, ...] = (),
    forbidden: list[int] | tuple[int, ...] = (),
    site_cost: NDArray[np.float64] | None = None,
    conflicts: NDArray[np.int64] | list[tuple[int, int]] | None = None,
    time_limit_s: float | None = None,
    threads: int = 1,
) -> CoveringResult:
    """The p-center: the least longest trip, ties broken by total cost.

    Minimises ``R = max_i min_{j open} c_ij`` (or ``w_i c_ij`` when ``weighted``;
    every client counts when plain, zero-weight ones too) by bisection over the
    matrix's distinct values between a lower bound (each client's nearest
    allowed site) and the heuristic's value; each step asks HiGHS whether the
    rules allow every client a site within the radius. Then the least
    ``sum_i w_i c_i + sum site_cost`` with every trip within ``R*``.

    Parameters
    ----------
    costs
        n clients x m sites, non-negative and finite.
    p, p_min, p_max
        Number of sites, or bounds on it (as in ``solve_pmedian``).
    weights
        Client weights (1 each by default): the tie-break's weights, and the
        trips' weights when ``weighted``.
    weighted
        Minimise the longest weighted trip ``w_i c_ij`` instead of the longest trip.
    fixed, forbidden, site_cost, conflicts
        As in ``solve_pmedian``; ``site_cost`` counts in the tie-break only.
    time_limit_s
        Seconds for both stages; on expiry the best sites found, with bounds.
    threads
        Threads HiGHS may use.

    Returns
    -------
    CoveringResult
        ``primary`` is the longest (weighted) trip; ``median`` the tie-break.

    Raises
    ------
    DataError
        A malformed input, named.
    PMedianInfeasibleError
        No sites meet the hard rules (conflicts, fixed, p).

    """
    started = time.perf_counter()
    costs, weights, rules = _common(
        costs,
        p,
        weights,
        None,
        "p-center",
        p_min=p_min,
        p_max=p_max,
        fixed=fixed,
        forbidden=forbidden,
        site_cost=site_cost,
        max_cost=None,
        conflicts=conflicts,
        time_limit_s=time_limit_s,
        threads=threads,
    )
    if not isinstance(weighted, bool):
        raise DataError(f"weighted must be true or false, got {weighted!r}", source="p-center")
    n, m = costs.shape
    deadline = None if time_limit_s is None else started + time_limit_s
    trips = weights[:, None] * costs if weighted else costs
    allowed = np.ones(m, dtype=bool)
    allowed[rules.forbidden] = False

    def longest(sites) -> float:
        return float(trips[:, list(sites)].min(axis=1).max())

    # an incumbent meeting the rules: the p-median heuristic on the trips
    best = _incumbent(
        trips, np.ones(n), replace(rules, site_cost=np.zeros(m)), None, threads, deadline
    )
    values = np.unique(trips[:, allowed])
    lower = float(trips[:, allowed].min(axis=1).max())
    low, high = int(np.searchsorted(values, lower)), int(np.searchsorted(values, longest(best)))
    status = "optimal"
    steps = 0
    while low < high:
        middle = (low + high) // 2
        radius = values[middle]
        try:
            sites = _feasible_sites(
                trips,
                weights,
                replace(rules, cap=np.full(n, radius)),
                threads,
                _deadline_left(deadline),
            )
        except SolverLimitError:
            status = "time_limit"
            break
        steps += 1
        if sites is None:
            low = middle + 1
        else:
            best = sites
            high = int(np.searchsorted(values, longest(sites)))
        if deadline is not None and time.perf_counter() > deadline and low < high:
            status = "time_limit"
            break
    radius = longest(best)
    log.info("p-center: longest trip %.6g after %d covering checks (%s)", radius, steps, status)
    # the tie-break: each client's cap is its largest cost whose trip is within R*
    within = trips <= radius
    cap = np.where(within, costs, -np.inf).max(axis=1)
    if weighted:
        cap[weights == 0] = np.inf
    median = solve_pmedian(
        costs,
        None,
        weights,
        p_min=rules.p_min,
        p_max=rules.p_max,
        fixed=rules.fixed,
        forbidden=rules.forbidden,
        site_cost=rules.site_cost,
        max_cost=cap,
        conflicts=rules.conflicts,
        time_limit_s=_deadline_left(deadline),
        threads=threads,
        start=best,
    )
    return CoveringResult(
        objective="center",
        primary=longest(median.sites),
        primary_bound=min(float(values[low]), radius),
        primary_status=status,
        median=median,
        seconds=time.perf_counter() - started,
    )


def _run_sites_mip(h: highspy.Highs, start: NDArray[np.float64], deadline) -> tuple[str, float]:
    """Solve a site MIP from a start; its status and dual bound."""
    if deadline is not None:
        set_deadline(h, deadline, mip=True)
    warm = highspy.HighsSolution()
    warm.col_value = list(start)
    h.setSolution(warm)
    h.run()
    status = "optimal" if h.getModelStatus() == highspy.HighsModelStatus.kOptimal else "time_limit"
    return status, float(h.getInfo().mip_dual_bound)


def solve_coverage(
    costs: NDArray[np.float64],
    radius: float,
    p: int | None = None,
    weights: NDArray[np.float64] | None = None,
    *,
    p_min: int | None = None,
    p_max: int | None = None,
    fixed: list[int] | tuple[int, ...] = (),
    forbidden: list[int] | tuple[int, ...] = (),
    site_cost: NDArray[np.float64] | None = None,
    conflicts: NDArray[np.int64] | list[tuple[int, int]] | None = None,
    time_limit_s: float | None = None,
    threads: int = 1,
) -> CoveringResult:
    """Maximal covering: the most weight within ``radius``, ties broken by total cost.

    Maximises ``W = sum_i w_i z_i`` with ``z_i <= sum_{j in N_i(radius)} y_j``,
    ``z_i <= 1``, under the site rules; then the least ``sum_i w_i c_i + sum
    site_cost`` with the covered weight at least ``W*``.

    Parameters
    ----------
    costs
        n clients x m sites, non-negative and finite.
    radius
        A client is covered by a site at cost ``<= radius``.
    p, p_min, p_max
        Number of sites, or bounds on it.
    weights
        Client weights (1 each by default).
    fixed, forbidden, site_cost, conflicts
        As in ``solve_pmedian``; ``site_cost`` counts in the tie-break only.
    time_limit_s
        Seconds for both stages.
    threads
        Threads HiGHS may use.

    Returns
    -------
    CoveringResult
        ``primary`` is the covered weight; ``primary_bound`` an upper bound on it.

    """
    started = time.perf_counter()
    costs, weights, rules = _common(
        costs,
        p,
        weights,
        radius,
        "maximal covering",
        p_min=p_min,
        p_max=p_max,
        fixed=fixed,
        forbidden=forbidden,
        site_cost=site_cost,
        max_cost=None,
        conflicts=conflicts,
        time_limit_s=time_limit_s,
        threads=threads,
    )
    m = costs.shape[1]
    deadline = None if time_limit_s is None else started + time_limit_s
    covers = costs <= radius

    def covered(sites) -> float:
        return float(weights[covers[:, list(sites)].any(axis=1)].sum())

    # heuristic start: greedy + local search on "weight left uncovered"
    uncovered = weights[:, None] * ~covers
    conflict_matrix = _conflict_matrix(rules, m)
    common = {
        "p_min": rules.p_min,
        "p_max": rules.p_max,
        "none_cost": weights,
        "fixed": rules.fixed,
        "forbidden": rules.forbidden,
        "conflicts": conflict_matrix,
    }
    start = constrained_search(
        uncovered, constrained_greedy(uncovered, **common), deadline=deadline, **common
    )
    if _breaks(costs, weights, rules, start):
        start = _incumbent(costs, weights, rules, None, threads, deadline)
    model_rules = replace(rules, cover_radius=float(radius), min_covered_weight=0.0)
    h = _new_feasibility(costs, weights, model_rules, threads)
    clients = np.flatnonzero((weights > 0) & covers.any(axis=1))
    z = np.arange(m, m + len(clients), dtype=np.int32)
    h.changeColsCost(len(z), z, -weights[clients])
    y = np.zeros(m)
    y[start] = 1.0
    status, bound = _run_sites_mip(
        h, np.concatenate([y, covers[np.ix_(clients, start)].any(axis=1)]), deadline
    )
    solution = np.asarray(h.getSolution().col_value)
    best = start
    if len(solution) == h.getNumCol():
        sites = np.flatnonzero(solution[:m] > 0.5).tolist()
        if not _breaks(costs, weights, rules, sites) and covered(sites) > covered(best):
            best = sites
    weight = covered(best)
    upper = weight if status == "optimal" else max(weight, -bound)
    log.info("maximal covering: weight %.6g within %g (%s)", weight, radius, status)
    median = solve_pmedian(
        costs,
        None,
        weights,
        p_min=rules.p_min,
        p_max=rules.p_max,
        fixed=rules.fixed,
        forbidden=rules.forbidden,
        site_cost=rules.site_cost,
        conflicts=rules.conflicts,
        cover_radius=float(radius),
        min_covered_weight=weight,
        time_limit_s=_deadline_left(deadline),
        threads=threads,
        start=best,
    )
    return CoveringResult(
        objective="coverage",
        primary=covered(median.sites),
        primary_bound=upper,
        primary_status=status,
        median=median,
        seconds=time.perf_counter() - started,
    )


def _conflict_matrix(rules: _Rules, m: int):
    if not len(rules.conflicts):
        return None
    from scipy import sparse

    a, b = rules.conflicts[:, 0], rules.conflicts[:, 1]
    return sparse.csr_matrix(
        (np.ones(2 * len(a)), (np.concatenate([a, b]), np.concatenate([b, a]))), shape=(m, m)
    )


def solve_min_offices(
    costs: NDArray[np.float64],
    radius: float,
    weights: NDArray[np.float64] | None = None,
    *,
    p_min: int | None = None,
    p_max: int | None = None,
    fixed: list[int] | tuple[int, ...] = (),
    forbidden: list[int] | tuple[int, ...] = (),
    site_cost: NDArray[np.float64] | None = None,
    conflicts: NDArray[np.int64] | list[tuple[int, int]] | None = None,
    time_limit_s: float | None = None,
    threads: int = 1,
) -> CoveringResult:
    """Set cover: the fewest sites with every client within ``radius``, ties by total cost.

    Minimises ``sum_j y_j`` subject to ``sum_{j in N_i(radius)} y_j >= 1`` for
    every client (zero-weight ones too) and the site rules; then the least
    ``sum_i w_i c_i + sum site_cost`` with ``p = p*`` and ``max_cost = radius``.

    Parameters
    ----------
    costs
        n clients x m sites, non-negative and finite.
    radius
        Every client needs an open site at cost ``<= radius``.
    weights
        Client weights for the tie-break (1 each by default).
    p_min, p_max
        Optional bounds on the number of sites.
    fixed, forbidden, site_cost, conflicts
        As in ``solve_pmedian``; ``site_cost`` counts in the tie-break only.
    time_limit_s
        Seconds for both stages.
    threads
        Threads HiGHS may use.

    Returns
    -------
    CoveringResult
        ``primary`` is the number of sites; ``primary_bound`` a lower bound on it.

    Raises
    ------
    DataError
        A malformed input, or a client with no site within ``radius`` (named).
    PMedianInfeasibleError
        The site rules leave no cover.

    """
    started = time.perf_counter()
    costs, weights, rules = _common(
        costs,
        None,
        weights,
        radius,
        "set cover",
        p_min=p_min,
        p_max=p_max,
        fixed=fixed,
        forbidden=forbidden,
        site_cost=site_cost,
        max_cost=radius,
        conflicts=conflicts,
        time_limit_s=time_limit_s,
        threads=threads,
    )
    n, m = costs.shape
    deadline = None if time_limit_s is None else started + time_limit_s
    cap_rules = replace(rules, cap=np.full(n, float(radius)))
    # heuristic start: a site charge above any total cost makes the count come first
    charge = np.full(m, float(weights @ costs.max(axis=1)) + 1.0)
    start = _incumbent(costs, weights, replace(cap_rules, site_cost=charge), None, 1, deadline)
    h = _new_feasibility(costs, weights, cap_rules, threads)
    h.changeColsCost(m, np.arange(m, dtype=np.int32), np.ones(m))
    y = np.zeros(m)
    y[start] = 1.0
    status, bound = _run_sites_mip(h, y, deadline)
    solution = np.asarray(h.getSolution().col_value)
    best = start
    if len(solution) == h.getNumCol():
        sites = np.flatnonzero(solution[:m] > 0.5).tolist()
        if not _breaks(costs, weights, cap_rules, sites) and len(sites) < len(best):
            best = sites
    count = len(best)
    lower = count if status == "optimal" else min(count, int(np.ceil(bound - 1e-6)))
    log.info("set cover: %d sites within %g (%s)", count, radius, status)
    median = solve_pmedian(
        costs,
        count,
        weights,
        fixed=rules.fixed,
        forbidden=rules.forbidden,
        site_cost=rules.site_cost,
        max_cost=float(radius),
        conflicts=rules.conflicts,
        time_limit_s=_deadline_left(deadline),
        threads=threads,
        start=best,
    )
    return CoveringResult(
        objective="min_offices",
        primary=float(count),
        primary_bound=float(lower),
        primary_status=status,
        median=median,
        seconds=time.perf_counter() - started,
    )
