"""The p-median on planar points without a dense cost matrix (e.g. TSPLIB ``sw24978``).

Costs come from the coordinates when needed (:class:`EuclideanCosts`). The method is
the Benders decomposition of :mod:`siting.model.pmedian` reshaped for many clients
and few open sites, where each client's cut would hold thousands of sites:

1. **Grouped cuts.** Clients are split into compact groups (recursive bisection);
   the master has one ``theta_g`` per group and each round adds, per group whose
   charge is too low, the sum of its clients' cuts at the separated levels
   ``theta_g + sum_j (sum_{i in g} w_i max(0, D_i - d_ij)) y_j >= sum_{i in g} w_i D_i``.
   The master LP stays small (a few thousand rows and columns).
2. **Column generation with a Lagrangian bound.** The sites start as the
   incumbent's and their neighbours. The cut rows' duals give multipliers
   ``lambda_i`` (each group's cut levels weighted by their duals) and the
   Lagrangian relaxation of the assignment rows
   ``L(lambda) = sum_i w_i lambda_i + (sum of the p smallest rho_j)``,
   ``rho_j = -sum_i w_i max(0, lambda_i - d_ij)``, is a valid lower bound for
   *every* site. The ``rho`` are computed exactly only where they can matter: sites
   are cut into spatial blocks, each block's ``rho`` is bounded below through the
   distance to its bounding box, and only blocks whose bound is low are computed
   site by site (:func:`site_prices`). Sites with ``rho_j`` below the count row's
   dual enter as columns; the LP's p largest sites are tried as incumbents.
3. **Proof or branching.** When ``L`` meets the incumbent (within 1 for
   whole-number objectives) the incumbent is optimal. Otherwise a site with
   ``L + rho_j - rho_(p)`` above the incumbent can open in no better solution and is
   fixed closed; the master MIP over the surviving sites is solved by HiGHS, every
   improving solution checked against the true costs and the missing group cuts
   added (as in :func:`siting.model.pmedian._benders`).

Memory grows with the sites priced in and the cuts, never with n x m.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import highspy
import numpy as np
from numpy.typing import NDArray
from scipy.spatial import cKDTree

from siting.errors import DataError
from siting.model.heuristics import sampled_start
from siting.model.milp import new_highs, set_deadline
from siting.model.pmedian import (
    PMedianResult,
    _columns,
    _float_array,
    _is_integer,
    _is_number,
)

log = logging.getLogger(__name__)

INF = highspy.kHighsInf


#: Client groups of the master (one theta and one cut per group and round).
GROUPS = 200
#: Sites next to each incumbent site that start as columns.
NEIGHBOURS = 50
#: Most sites priced in per round.
PRICE_IN = 1000


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


def _bisect(xy: NDArray[np.float64], count: int) -> NDArray[np.int64]:
    """Labels of ``count`` compact groups of points (recursive median bisection)."""
    parts = [np.arange(len(xy))]
    while len(parts) < min(count, len(xy)):
        largest = max(range(len(parts)), key=lambda k: len(parts[k]))
        part = parts.pop(largest)
        spread = xy[part].max(axis=0) - xy[part].min(axis=0)
        order = part[np.argsort(xy[part, int(np.argmax(spread))], kind="stable")]
        half = len(order) // 2
        parts += [order[:half], order[half:]]
    labels = np.empty(len(xy), dtype=np.int64)
    for k, part in enumerate(parts):
        labels[part] = k
    return labels


@dataclass(frozen=True)
class _Blocks:
    """Sites cut into spatial blocks with their bounding boxes."""

    members: list[NDArray[np.int64]]
    low: NDArray[np.float64]  # (blocks, 2)
    high: NDArray[np.float64]

    @classmethod
    def of(cls, xy: NDArray[np.float64], size: int = 32) -> _Blocks:
        labels = _bisect(xy, max(1, -(-len(xy) // size)))
        members = [np.flatnonzero(labels == k) for k in range(labels.max() + 1)]
        low = np.array([xy[b].min(axis=0) for b in members])
        high = np.array([xy[b].max(axis=0) for b in members])
        return cls(members, low, high)


def site_prices(
    oracle: EuclideanCosts,
    clients: NDArray[np.int64],
    weights: NDArray[np.float64],
    lam: NDArray[np.float64],
    blocks: _Blocks,
    p: int,
    threshold: float,
) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    """Lower bounds on every site's Lagrangian price, exact wherever they can matter.

    The price of site j is ``rho_j = -sum_i w_i max(0, lambda_i - d_ij)``. A block's
    sites are at least as far from client i as the block's bounding box, so
    ``-sum_i w_i max(0, lambda_i - d(i, box))`` bounds all of them below. Blocks are
    computed site by site in increasing order of that bound until the next bound
    reaches both ``threshold`` and the p-th smallest exact price: every price below
    either is then exact, so the p smallest (and the Lagrangian bound) are exact.

    Returns the prices (exact or a lower bound) and which are exact.
    """
    xy = oracle.clients[clients]
    count = len(blocks.members)
    bound = np.empty(count)
    step = max(1, 4_000_000 // max(1, len(clients)))
    for lo in range(0, count, step):
        part = slice(lo, min(lo + step, count))
        gap_x = np.maximum(
            np.maximum(
                blocks.low[part, 0][None] - xy[:, :1], xy[:, :1] - blocks.high[part, 0][None]
            ),
            0.0,
        )
        gap_y = np.maximum(
            np.maximum(
                blocks.low[part, 1][None] - xy[:, 1:], xy[:, 1:] - blocks.high[part, 1][None]
            ),
            0.0,
        )
        near = oracle._finish(np.sqrt(gap_x**2 + gap_y**2))
        bound[part] = -(weights[:, None] * np.maximum(lam[:, None] - near, 0.0)).sum(axis=0)
    prices = np.repeat(bound, [len(b) for b in blocks.members])
    order_sites = np.concatenate(blocks.members)
    rho = np.empty(len(oracle.sites))
    rho[order_sites] = prices
    exact = np.zeros(len(oracle.sites), dtype=bool)
    found: list[NDArray[np.float64]] = []
    kth = np.inf
    for b in np.argsort(bound, kind="stable"):
        if bound[b] >= max(threshold, kth):
            break
        sites = blocks.members[b]
        gap = np.maximum(np.maximum(blocks.low[b] - xy, xy - blocks.high[b]), 0.0)
        near = np.flatnonzero(oracle._finish(np.sqrt((gap**2).sum(axis=1))) < lam)
        costs = oracle.block(clients[near], sites)
        rho[sites] = -(weights[near, None] * np.maximum(lam[near, None] - costs, 0.0)).sum(axis=0)
        exact[sites] = True
        found.append(rho[sites])
        values = np.concatenate(found)
        if len(values) >= p:
            kth = float(np.partition(values, p - 1)[p - 1])
    return rho, exact


class _Master:
    """The master LP/MIP over grouped cuts; its site columns are the sites priced in.

    Column ``g < G`` is ``theta_g``; column ``G + k`` is site ``sites[k]``. Row 0 is
    the count row; row ``1 + r`` is cut r (group ``cut_group[r]``, its clients'
    levels ``cut_level[r]``).
    """

    def __init__(
        self,
        oracle: EuclideanCosts,
        clients: NDArray[np.int64],
        weights: NDArray[np.float64],
        p: int,
        groups: NDArray[np.int64],
        threads: int,
    ) -> None:
        self.oracle, self.clients, self.w, self.p = oracle, clients, weights, p
        self.group = groups
        self.count = int(groups.max()) + 1
        self.members = [np.flatnonzero(groups == g) for g in range(self.count)]
        xy = oracle.clients[clients]
        self.centre = np.array([xy[m].mean(axis=0) for m in self.members])
        self.radius = np.array(
            [
                np.sqrt(((xy[m] - c) ** 2).sum(axis=1)).max()
                for m, c in zip(self.members, self.centre, strict=True)
            ]
        )
        floor = oracle._finish(oracle.tree.query(xy)[0])
        #: every client at its nearest site: the trivial lower bound
        self.trivial_bound = float(weights @ floor)
        self.h = new_highs(threads)
        self.h.addVars(
            self.count, np.bincount(groups, weights=weights * floor), np.full(self.count, INF)
        )
        every = np.arange(self.count, dtype=np.int32)
        self.h.changeColsCost(self.count, every, np.ones(self.count))
        self.h.addRow(p, p, 0, np.zeros(0, dtype=np.int32), np.zeros(0))
        self.sites = np.zeros(0, dtype=np.int64)
        self.tree: cKDTree | None = None
        self.cut_group: list[int] = []
        self.cut_level: list[NDArray[np.float64]] = []

    def _charges(self, g: int, level: NDArray, cols: NDArray[np.int64]) -> NDArray:
        """Group g's cut coefficients at sites ``cols``: sum_i w_i max(0, D_i - d_ij)."""
        members = self.members[g]
        costs = self.oracle.block(self.clients[members], cols)
        return (self.w[members, None] * np.maximum(level[:, None] - costs, 0.0)).sum(axis=0)

    def _reach(self, g: int, level: NDArray) -> float:
        # d_ij < D needs a Euclidean distance below D + 0.5 (rounded costs)
        return float(level.max()) + float(self.radius[g]) + 1.0

    def add_sites(self, new: NDArray[np.int64]) -> None:
        """Make ``new`` site columns, with their coefficients in every cut so far."""
        new = np.asarray(new, dtype=np.int64)
        if not len(new):
            return
        tree = cKDTree(self.oracle.sites[new])
        rows, cols, values = [], [], []
        if self.cut_group:
            groups = np.array(self.cut_group)
            reach = [self._reach(g, lev) for g, lev in zip(groups, self.cut_level, strict=True)]
            hits = tree.query_ball_point(self.centre[groups], np.array(reach))
            for r, hit in enumerate(hits):
                if not hit:
                    continue
                hit = np.asarray(hit, dtype=np.int64)
                charge = self._charges(int(groups[r]), self.cut_level[r], new[hit])
                keep = charge > 0
                rows.append(np.full(int(keep.sum()), 1 + r))
                cols.append(hit[keep])
                values.append(charge[keep])
        count_rows = np.zeros(len(new), dtype=np.int64)
        row = np.concatenate([count_rows, *rows]).astype(np.int64)
        col = np.concatenate([np.arange(len(new)), *cols]).astype(np.int64)
        value = np.concatenate([np.ones(len(new)), *values])
        order = np.lexsort((row, col))
        starts = np.searchsorted(col[order], np.arange(len(new))).astype(np.int32)
        self.h.addCols(
            len(new),
            np.zeros(len(new)),
            np.zeros(len(new)),
            np.ones(len(new)),
            len(order),
            starts,
            row[order].astype(np.int32),
            value[order],
        )
        self.sites = np.concatenate([self.sites, new])
        self.tree = cKDTree(self.oracle.sites[self.sites])

    def add_cuts(self, level: NDArray[np.float64], groups) -> int:
        """Add group cuts at the clients' ``level`` for ``groups``; return how many."""
        assert self.tree is not None
        lower, starts, indices, values = [], [], [], []
        size = 0
        for g in groups:
            g = int(g)
            members = self.members[g]
            lev = level[members]
            hit = np.asarray(
                self.tree.query_ball_point(self.centre[g], self._reach(g, lev)), dtype=np.int64
            )
            charge = self._charges(g, lev, self.sites[hit]) if len(hit) else np.zeros(0)
            keep = charge > 0
            starts.append(size)
            indices.append(np.concatenate([[g], self.count + hit[keep]]))
            values.append(np.concatenate([[1.0], charge[keep]]))
            size += 1 + int(keep.sum())
            lower.append(float(self.w[members] @ lev))
            self.cut_group.append(g)
            self.cut_level.append(lev.copy())
        if not lower:
            return 0
        self.h.addRows(
            len(lower),
            np.array(lower),
            np.full(len(lower), INF),
            size,
            np.array(starts, dtype=np.int32),
            np.concatenate(indices).astype(np.int32),
            np.concatenate(values),
        )
        return len(lower)

    def separate(self, y: NDArray[np.float64]) -> tuple[NDArray, NDArray]:
        """Every client's most violated level at ``y`` (site columns) and each group's charge."""
        support = np.flatnonzero(y > 1e-9)
        weight = y[support]
        sites = self.sites[support]
        level = np.empty(len(self.clients))
        value = np.empty(len(self.clients))
        step = max(1, 10_000_000 // max(1, len(support)))
        for lo in range(0, len(self.clients), step):
            part = slice(lo, min(lo + step, len(self.clients)))
            costs = self.oracle.block(self.clients[part], sites)
            order = np.argsort(costs, axis=1, kind="stable")
            cumulative = np.cumsum(weight[order], axis=1)
            hit = cumulative >= 1.0 - 1e-9
            rows = np.arange(costs.shape[0])
            at = costs[rows, order[rows, np.argmax(hit, axis=1)]]
            at = np.where(hit.any(axis=1), at, costs.max(axis=1))
            level[part] = at
            value[part] = at - np.maximum(at[:, None] - costs, 0.0) @ weight
        return level, np.bincount(self.group, weights=self.w * value, minlength=self.count)

    def multipliers(self) -> tuple[NDArray[np.float64], float]:
        """Lagrangian multipliers (per client) from the cut duals, and the count row's dual."""
        dual = np.asarray(self.h.getSolution().row_dual)
        lam = np.zeros(len(self.clients))
        for r, (g, lev) in enumerate(zip(self.cut_group, self.cut_level, strict=True)):
            if dual[1 + r] > 0:
                lam[self.members[g]] += dual[1 + r] * lev
        return lam, float(dual[0])

    def columns_at(self, chosen) -> NDArray[np.float64]:
        """A master point at the sites ``chosen`` (each a column), theta at their true charges."""
        x = np.zeros(self.h.getNumCol())
        position = {int(s): k for k, s in enumerate(self.sites)}
        x[[self.count + position[int(j)] for j in chosen]] = 1.0
        nearest = self.oracle.block(self.clients, list(chosen)).min(axis=1)
        x[: self.count] = np.bincount(self.group, weights=self.w * nearest, minlength=self.count)
        return x


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

    Benders cuts summed over compact client groups, sites priced in as columns by a
    Lagrangian bound valid for every site, Lagrangian fixing and a master MIP when
    the bound does not meet the incumbent (see the module docstring). Costs are
    computed from the coordinates when needed (:class:`EuclideanCosts`): memory
    grows with the sites priced in and the cuts, not with n x m (TSPLIB
    ``sw24978``, 24,978 places, p = 10: about 1.3 GiB).

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
    incumbent = sampled_start(oracle.block, oracle.tree, w, int(p), m, deadline=deadline)
    if start is not None:
        begun = sorted({int(j) for j in start})
        if len(begun) == p and w @ oracle.nearest(begun) < w @ oracle.nearest(incumbent):
            incumbent = begun
    timings: dict[str, float] = {"heuristic_s": time.perf_counter() - started}

    def evaluate(chosen) -> float:
        return float(w @ oracle.nearest(chosen))

    upper = evaluate(incumbent)
    heuristic = upper
    # whole-number costs and weights: every objective is a whole number
    slack = 1.0 - 1e-6 if rounded and (w == np.round(w)).all() else 1e-9 * max(1.0, upper)
    active = np.flatnonzero(w > 0)
    weights = w[active]
    master = _Master(oracle, active, weights, int(p), _bisect(xy[active], GROUPS), threads)
    blocks = _Blocks.of(site_xy)
    near = oracle.tree.query(site_xy[incumbent], k=min(m, NEIGHBOURS))[1]
    master.add_sites(np.unique(np.concatenate([np.ravel(near), incumbent])))
    master.add_cuts(
        master.separate(np.isin(master.sites, incumbent).astype(float))[0], range(master.count)
    )
    h = master.h

    def cutting_planes() -> bool:
        """Solve the master LP over its columns to convergence; False when out of time."""
        while True:
            if deadline is not None:
                remaining = deadline - time.perf_counter()
                if remaining <= 0:
                    return False
                set_deadline(h, deadline)
            h.run()
            if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
                return False
            x = np.asarray(h.getSolution().col_value)
            level, charge = master.separate(x[master.count :])
            theta = x[: master.count]
            under = np.flatnonzero(charge - theta > 1e-7 * np.maximum(1.0, np.abs(charge)))
            if not len(under):
                return True
            master.add_cuts(level, under)

    best_bound, lam_best, rho_best = master.trivial_bound, None, None
    lp_rounds, status = 0, "time_limit"
    while True:
        if not cutting_planes():
            break
        lp_rounds += 1
        y = np.asarray(h.getSolution().col_value)[master.count :]
        rounded_sites = np.sort(master.sites[np.argsort(-y, kind="stable")[:p]])
        cost = evaluate(rounded_sites)
        if cost < upper - 1e-9 * max(1.0, upper):
            upper, incumbent = cost, rounded_sites.tolist()
        lam, count_dual = master.multipliers()
        rho, _ = site_prices(oracle, active, weights, lam, blocks, int(p), count_dual)
        bound = float(weights @ lam + np.partition(rho, p - 1)[:p].sum())
        if bound > best_bound:
            best_bound, lam_best, rho_best = bound, lam, rho
        have = np.zeros(m, dtype=bool)
        have[master.sites] = True
        entering = np.flatnonzero(~have & (rho < count_dual - 1e-9 * max(1.0, upper)))
        log.debug(
            "LP round %d: %.6g (%d rows, %d columns); Lagrangian %.6g; incumbent %.6g; "
            "%d sites price in; %.1f s",
            lp_rounds,
            h.getInfo().objective_function_value,
            h.getNumRow(),
            len(master.sites),
            bound,
            upper,
            len(entering),
            time.perf_counter() - started,
        )
        if best_bound >= upper - slack:
            status = "optimal"
            break
        if not len(entering):
            break
        master.add_sites(entering[np.argsort(rho[entering], kind="stable")[:PRICE_IN]])
    timings["lp_s"] = time.perf_counter() - started - timings["heuristic_s"]
    lower_bound = best_bound
    rounds = 0
    if (
        status != "optimal"
        and rho_best is not None
        and (deadline is None or time.perf_counter() < deadline)
    ):
        upper, incumbent, lower_bound, status, rounds = _branch(
            master,
            oracle,
            blocks,
            lam_best,
            rho_best,
            best_bound,
            upper,
            incumbent,
            slack=slack,
            deadline=deadline,
            mip_rel_gap=mip_rel_gap,
            evaluate=evaluate,
        )
    if slack >= 0.5 and np.isfinite(lower_bound):
        lower_bound = np.ceil(lower_bound - 1e-6)  # the optimum is a whole number
    lower_bound = min(float(lower_bound), upper)
    timings["mip_s"] = time.perf_counter() - started - timings["heuristic_s"] - timings["lp_s"]
    log.info(
        "p-median points: %s, objective %.6g, bound %.6g, %d columns, %d cuts, %.1f s",
        status,
        upper,
        lower_bound,
        len(master.sites),
        len(master.cut_group),
        time.perf_counter() - started,
    )
    best_sites = sorted(int(j) for j in incumbent)
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
        cuts=len(master.cut_group),
        rounds=rounds,
        timings=timings,
    )


def _branch(
    master,
    oracle,
    blocks,
    lam,
    rho,
    bound,
    upper,
    incumbent,
    *,
    slack,
    deadline,
    mip_rel_gap,
    evaluate,
):
    """Fix sites closed by their Lagrangian price, then solve the master MIP over the rest.

    Opening site j costs at least ``bound + rho_j - rho_(p)`` (it replaces the p-th
    cheapest site in the Lagrangian), so sites where that exceeds the incumbent
    stay closed. Returns (objective, sites, bound, status, MIP rounds).
    """
    p = master.p
    kth = float(np.partition(rho, p - 1)[p - 1])
    # prices exact up to where the fixing test decides
    rho, _ = site_prices(oracle, master.clients, master.w, lam, blocks, p, kth + upper - bound)
    kth = float(np.partition(rho, p - 1)[p - 1])
    survive = np.flatnonzero(bound + rho - kth <= upper - slack)
    survive = np.union1d(survive, incumbent)
    log.info("p-median points: %d sites survive Lagrangian fixing", len(survive))
    if len(survive) > 5000:
        log.warning("p-median points: too many sites left for the MIP; stopping with the bound")
        return upper, incumbent, bound, "time_limit", 0
    have = np.zeros(len(oracle.sites), dtype=bool)
    have[master.sites] = True
    master.add_sites(survive[~have[survive]])
    h = master.h
    alive = np.isin(master.sites, survive)
    shut = (master.count + np.flatnonzero(~alive)).astype(np.int32)
    if len(shut):
        h.changeColsBounds(len(shut), shut, np.zeros(len(shut)), np.zeros(len(shut)))
    site_cols = (master.count + np.arange(len(master.sites))).astype(np.int32)
    h.changeColsIntegrality(
        len(site_cols), site_cols, np.full(len(site_cols), highspy.HighsVarType.kInteger)
    )
    h.setOptionValue("mip_rel_gap", mip_rel_gap)
    if slack >= 0.5:
        h.setOptionValue("mip_abs_gap", slack)
    pending: list[tuple[NDArray, NDArray]] = []
    found: list[NDArray] = []

    def check(x: NDArray) -> None:
        y = np.round(x[master.count :])
        level, charge = master.separate(y)
        theta = x[: master.count]
        under = np.flatnonzero(charge - theta > 1e-7 * np.maximum(1.0, np.abs(charge)))
        found.append(master.sites[y > 0.5])
        if len(under):
            pending.append((level, under))

    def on_improving(event) -> None:
        check(np.asarray(event.data_out.mip_solution))

    def on_interrupt(event) -> None:
        event.interrupt(bool(pending))  # HiGHS keeps the flag across runs: always set it

    h.cbMipImprovingSolution.subscribe(on_improving)
    h.cbMipInterrupt.subscribe(on_interrupt)
    status, rounds, lower = "time_limit", 0, bound
    while True:
        if deadline is not None:
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                break
            set_deadline(h, deadline, mip=True)
        warm = highspy.HighsSolution()
        warm.col_value = list(master.columns_at(incumbent))
        h.setSolution(warm)
        pending.clear()
        found.clear()
        h.run()
        rounds += 1
        model_status = h.getModelStatus()
        dual_bound = float(h.getInfo().mip_dual_bound)
        final = np.asarray(h.getSolution().col_value)
        if len(final) == h.getNumCol():
            check(final)
        for sites in found:
            if len(sites) == p:
                cost = evaluate(sites)
                if cost < upper - 1e-9 * max(1.0, upper):
                    upper, incumbent = cost, sorted(int(j) for j in sites)
        added = sum(master.add_cuts(level, under) for level, under in pending)
        log.debug(
            "MIP round %d: bound %.6g, incumbent %.6g, %d cuts added",
            rounds,
            dual_bound,
            upper,
            added,
        )
        if added:
            continue
        if np.isfinite(dual_bound):
            lower = max(lower, dual_bound)
        if model_status == highspy.HighsModelStatus.kOptimal:
            status = "optimal" if mip_rel_gap == 0 else "gap_reached"
            lower = max(lower, min(upper, dual_bound))
        elif model_status == highspy.HighsModelStatus.kInfeasible:
            status, lower = "optimal", upper  # no surviving set beats the incumbent
        break
    if status == "optimal":
        lower = max(lower, upper - slack)
    return upper, incumbent, lower, status, rounds
