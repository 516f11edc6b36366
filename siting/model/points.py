"""The p-median on planar points without a dense cost matrix (e.g. TSPLIB ``sw24978``).

Costs come from the coordinates when needed (:class:`EuclideanCosts`) and the
Benders loop of :mod:`siting.model.pmedian` runs with *column generation* on the
sites: the cuts start on the sites near the incumbent's; after the LP converges,
every other site is priced against the cuts' duals (its coefficients found with a
KD-tree) and the most negative enter as new columns. The LP value plus the p most
negative reduced costs is a Lagrangian (Farley) bound valid for every site; it
closes the search when it meets the incumbent (within 1 for whole-number
objectives) and fixes sites closed before the MIP. The restricted LP is highly dual
degenerate, so on large instances pricing converges slowly (see
benchmarks/pmedian.py --sw24978).
"""

from __future__ import annotations

import time

import highspy
import numpy as np
from numpy.typing import NDArray

from siting.errors import DataError
from siting.model.heuristics import sampled_start
from siting.model.pmedian import (
    PMedianResult,
    _benders,
    _columns,
    _Cuts,
    _float_array,
    _is_integer,
    _is_number,
    _Rules,
)


class EuclideanCosts:
    """Client-to-site costs computed on demand from planar coordinates (no dense matrix).

    The cost of client i at site j is the Euclidean distance between them, rounded
    to the nearest integer when ``rounded`` (TSPLIB's ``EUC_2D`` convention,
    ``floor(d + 0.5)``). Blocks of the matrix are computed when asked for, and a
    KD-tree over the sites finds every site within a radius of a client.

    Parameters
    ----------
    clients
        ``(n, 2)`` client coordinates.
    sites
        ``(m, 2)`` candidate site coordinates.
    rounded
        Round each distance to the nearest integer.

    """

    def __init__(
        self, clients: NDArray[np.float64], sites: NDArray[np.float64], *, rounded: bool = True
    ) -> None:
        from scipy.spatial import cKDTree

        self.clients = np.ascontiguousarray(clients, dtype=float)
        self.sites = np.ascontiguousarray(sites, dtype=float)
        self.rounded = rounded
        self.shape = (len(self.clients), len(self.sites))
        self.tree = cKDTree(self.sites)

    def _finish(self, distance: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.floor(distance + 0.5) if self.rounded else distance

    def block(self, rows, cols=None) -> NDArray[np.float64]:
        """The dense costs ``costs[rows][:, cols]`` (all sites when ``cols`` is None)."""
        from scipy.spatial.distance import cdist

        b = self.sites if cols is None else self.sites[np.asarray(cols, dtype=np.int64)]
        return self._finish(cdist(self.clients[np.asarray(rows, dtype=np.int64)], b))

    def nearest(self, sites) -> NDArray[np.float64]:
        """Every client's cost to its nearest site among ``sites``."""
        sites = np.asarray(sites, dtype=np.int64)
        out = np.empty(self.shape[0])
        step = max(1, 20_000_000 // max(1, len(sites)))
        for lo in range(0, self.shape[0], step):
            rows = np.arange(lo, min(lo + step, self.shape[0]))
            out[rows] = self.block(rows, sites).min(axis=1)
        return out

    def within(self, rows, radius) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray]:
        """Pairs (row, site, cost) with cost strictly below each row's ``radius``."""
        rows = np.asarray(rows, dtype=np.int64)
        radius = np.broadcast_to(np.asarray(radius, dtype=float), rows.shape)
        # rounded costs below r need a distance below r - 0.5; query with a margin
        found = self.tree.query_ball_point(self.clients[rows], radius + 1e-6, return_sorted=False)
        lengths = np.fromiter((len(f) for f in found), dtype=np.int64, count=len(found))
        cols = np.fromiter((j for f in found for j in f), dtype=np.int64, count=int(lengths.sum()))
        owner = np.repeat(np.arange(len(rows)), lengths)
        cost = self._finish(
            np.sqrt(((self.clients[rows[owner]] - self.sites[cols]) ** 2).sum(axis=1))
        )
        keep = cost < radius[owner]
        return owner[keep], cols[keep], cost[keep]


class _GeometricCuts(_Cuts):
    """Benders cuts from a :class:`EuclideanCosts` oracle: no dense matrix is held.

    Separation at ``y`` needs each client's costs to the sites where ``y > 0`` only
    (computed in row blocks); a cut's row needs the sites closer than its level,
    found with the oracle's KD-tree.
    """

    def __init__(self, oracle: EuclideanCosts, clients: NDArray[np.int64]) -> None:
        self.oracle = oracle
        self.clients = np.asarray(clients, dtype=np.int64)
        self.k = len(self.clients)
        # every client is a candidate site when sites and clients coincide; else look it up
        distance, _ = oracle.tree.query(oracle.clients[self.clients])
        self.floor = oracle._finish(distance)
        self.seen = set()
        self.active = np.zeros(oracle.shape[1], dtype=bool)
        self.row_client: list[NDArray[np.int64]] = []
        self.row_level: list[NDArray[np.float64]] = []

    def to_sites(self, sites) -> NDArray[np.float64]:
        return self.oracle.block(self.clients, list(sites))

    def levels(self, y: NDArray[np.float64]) -> tuple[NDArray, NDArray]:
        support = np.flatnonzero(y > 1e-12)
        weight = y[support]
        level = np.empty(self.k)
        value = np.empty(self.k)
        step = max(1, 10_000_000 // max(1, len(support)))
        for lo in range(0, self.k, step):
            part = slice(lo, min(lo + step, self.k))
            costs = self.oracle.block(self.clients[part], support)
            order = np.argsort(costs, axis=1, kind="stable")
            cumulative = np.cumsum(weight[order], axis=1)
            hit = cumulative >= 1.0 - 1e-9
            first = np.argmax(hit, axis=1)
            rows = np.arange(costs.shape[0])
            at = costs[rows, order[rows, first]]
            # when y sums below 1 nothing reaches it: the farthest support site's level
            at = np.where(hit.any(axis=1), at, costs.max(axis=1))
            level[part] = at
            value[part] = at - np.maximum(at[:, None] - costs, 0.0) @ weight
        return level, value

    def _closer(self, clients: NDArray[np.int64], level: NDArray):
        active = np.flatnonzero(self.active)
        owners, cols, costs = [], [], []
        step = max(1, 10_000_000 // max(1, len(active)))
        for lo in range(0, len(clients), step):
            part = np.arange(lo, min(lo + step, len(clients)))
            block = self.oracle.block(self.clients[clients[part]], active)
            owner, col = np.nonzero(block < level[clients[part]][:, None])
            owners.append(part[owner])
            cols.append(active[col])
            costs.append(block[owner, col])
        self.row_client.append(clients)
        self.row_level.append(level[clients])
        return np.concatenate(owners), np.concatenate(cols), np.concatenate(costs)

    def _records(self) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
        if len(self.row_client) > 1:
            self.row_client = [np.concatenate(self.row_client)]
            self.row_level = [np.concatenate(self.row_level)]
        return self.row_client[0], self.row_level[0]

    def price(self, duals: NDArray[np.float64], count_dual: float) -> NDArray[np.float64]:
        """Reduced cost of every site as a column of the full cuts, from the LP's duals.

        ``duals`` are the cut rows' duals in the order they were added; a site's
        coefficient in the cut of client i at level D is ``max(0, D - d_ij)``.
        """
        client, level = self._records()
        rows = np.flatnonzero(duals > 1e-12)
        total = np.zeros(len(self.active))
        for lo in range(0, len(rows), 2000):
            part = rows[lo : lo + 2000]
            owner, cols, costs = self.oracle.within(self.clients[client[part]], level[part])
            share = duals[part][owner] * (level[part][owner] - costs)
            total += np.bincount(cols, weights=share, minlength=len(total))
        return -count_dual - total

    def column(self, sites: NDArray[np.int64]) -> tuple[NDArray, NDArray, NDArray]:
        """Coefficients (cut number, site, value) of ``sites`` in the cuts added so far."""
        client, level = self._records()
        cut_rows, cols, values = [], [], []
        step = max(1, 10_000_000 // max(1, len(sites)))
        for lo in range(0, len(client), step):
            part = np.arange(lo, min(lo + step, len(client)))
            costs = self.oracle.block(self.clients[client[part]], sites)
            r, c = np.nonzero(costs < level[part][:, None])
            cut_rows.append(part[r])
            cols.append(sites[c])
            values.append(level[part][r] - costs[r, c])
        return np.concatenate(cut_rows), np.concatenate(cols), np.concatenate(values)


def solve_pmedian_points(
    clients: NDArray[np.float64],
    p: int,
    weights: NDArray[np.float64] | None = None,
    *,
    sites: NDArray[np.float64] | None = None,
    rounded: bool = True,
    time_limit_s: float | None = None,
    mip_rel_gap: float = 0.0,
    threads: int = 1,
    start: list[int] | None = None,
) -> PMedianResult:
    """Solve a p-median exactly on planar points without a dense cost matrix.

    The same Benders method as :func:`solve_pmedian`, with costs computed from the
    coordinates when needed (:class:`EuclideanCosts`): memory grows with the cuts,
    not with n x m, so national instances (e.g. TSPLIB ``sw24978``, 24,978 places)
    fit in a few GiB.

    Parameters
    ----------
    clients
        ``(n, 2)`` client coordinates.
    p
        Number of sites to open.
    weights
        Client weights (1 each by default).
    sites
        ``(m, 2)`` candidate site coordinates; the clients themselves when omitted.
    rounded
        Round each distance to the nearest integer (TSPLIB ``EUC_2D``).
    time_limit_s, mip_rel_gap, threads, start
        As for :func:`solve_pmedian`.

    Returns
    -------
    PMedianResult
        Open sites, assignment, objective, proven lower bound and status.

    Raises
    ------
    DataError
        Malformed coordinates, weights or p (named).

    """
    started = time.perf_counter()
    source = "p-median points"
    problems: list[str] = []
    xy = _float_array(clients, (len(np.asarray(clients)), 2), "clients (n x 2)", problems)
    site_xy = xy if sites is None else _float_array(sites, (len(sites), 2), "sites", problems)
    if problems:
        raise DataError(problems, source=source)
    n, m = len(xy), len(site_xy)
    if not n or not m or not (np.isfinite(xy).all() and np.isfinite(site_xy).all()):
        raise DataError("coordinates must be finite and non-empty", source=source)
    w = _float_array(np.ones(n) if weights is None else weights, (n,), "weights", problems)
    if w is not None and (not np.isfinite(w).all() or (w < 0).any()):
        problems.append("weights must be one finite non-negative number per client")
    if not _is_integer(p) or not 1 <= p <= m:
        problems.append(f"p must be a whole number between 1 and {m}, got {p!r}")
    if time_limit_s is not None and (not _is_number(time_limit_s) or not time_limit_s > 0):
        problems.append(f"time_limit_s must be a positive number of seconds, got {time_limit_s!r}")
    if not _is_number(mip_rel_gap) or not 0 <= mip_rel_gap <= 1:
        problems.append(f"mip_rel_gap must be between 0 and 1, got {mip_rel_gap!r}")
    if start is not None:
        _columns(start, m, "start", problems)
    if problems:
        raise DataError(problems, source=source)
    assert w is not None
    deadline = None if time_limit_s is None else started + time_limit_s
    oracle = EuclideanCosts(xy, site_xy, rounded=rounded)
    rules = _Rules(
        p_min=int(p),
        p_max=int(p),
        fixed=[],
        forbidden=[],
        site_cost=np.zeros(m),
        cap=None,
        conflicts=np.zeros((0, 2), dtype=np.int64),
        cover_radius=None,
        min_covered_weight=None,
    )
    incumbent = sampled_start(oracle.block, oracle.tree, w, int(p), m, deadline=deadline)
    if start is not None:
        begun = sorted({int(j) for j in start})
        if len(begun) == p and w @ oracle.nearest(begun) < w @ oracle.nearest(incumbent):
            incumbent = begun
    timings: dict[str, float] = {"heuristic_s": time.perf_counter() - started}

    def evaluate(chosen) -> float | None:
        if len(set(int(j) for j in chosen)) != p:
            return None
        return float(w @ oracle.nearest(chosen))

    def count_row(h: highspy.Highs, _start: int) -> int:
        h.addRow(p, p, m, np.arange(m, dtype=np.int32), np.ones(m))
        return 0

    generator = _GeometricCuts(oracle, np.flatnonzero(w > 0))
    # the cuts start on the sites near the incumbent's; the others enter by pricing
    near = oracle.tree.query(site_xy[incumbent], k=min(m, 100))[1]
    generator.active[np.unique(np.concatenate([np.ravel(near), incumbent]))] = True
    best_sites, upper, lower_bound, status, rounds, cuts, heuristic = _benders(
        generator,
        w[w > 0],
        rules,
        incumbent,
        evaluate=evaluate,
        site_rows=count_row,
        covered=lambda chosen: np.zeros(0),
        granularity=1.0 if rounded and (w == np.round(w)).all() else 0.0,
        started=started,
        deadline=deadline,
        mip_rel_gap=mip_rel_gap,
        threads=threads,
        timings=timings,
    )
    assignment = np.empty(n, dtype=np.int64)
    step = max(1, 20_000_000 // len(best_sites))
    for lo in range(0, n, step):
        rows = np.arange(lo, min(lo + step, n))
        assignment[rows] = np.asarray(best_sites)[np.argmin(oracle.block(rows, best_sites), axis=1)]
    return PMedianResult(
        sites=tuple(best_sites),
        assignment=assignment,
        objective=upper,
        lower_bound=lower_bound,
        status=status,
        seconds=time.perf_counter() - started,
        heuristic_objective=heuristic,
        cuts=cuts,
        rounds=rounds,
        timings=timings,
    )
