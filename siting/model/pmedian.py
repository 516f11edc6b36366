"""An exact p-median that scales: Benders cuts of the radius formulation, solved by HiGHS.

The radius formulation (Elloumi 2010; García, Labbé & Marín 2011) charges each
client i, for every distinct distance level D of its row, the step to the next
level unless an open site lies within D. Projecting out its level variables
gives, for every client i and level D, the Benders optimality cut
(Durán-Mateluna, Alès & Elloumi 2023)::

    theta_i + sum_j max(0, D - d_ij) * y_j >= D

so the model is ``min sum_i w_i theta_i`` subject to ``sum_j y_j = p`` and these
cuts, y binary. Only the cuts that matter are generated:

1. a greedy + swap heuristic gives an incumbent (upper bound) and first cuts;
2. the LP relaxation is solved by cutting planes: for a point y*, client i's
   most violated cut is at the first level where the sorted cumulative y*
   reaches 1, found for all clients at once with numpy;
3. the master MIP over the generated cuts is solved by HiGHS from the
   incumbent; if its solution under-charges a client, that client's cut at the
   integer point is added and the MIP solved again. When no cut is violated the
   master's optimum is the p-median's optimum.

The model is built from arrays (CSR rows), never from Python loops over n*m terms.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import highspy
import numpy as np
import pandas as pd
from numpy.typing import NDArray

from siting.errors import DataError
from siting.model.heuristics import assignment_cost, greedy, swap_search
from siting.model.milp import new_highs
from siting.travel.matrix import TravelTimeMatrix

log = logging.getLogger(__name__)

INF = highspy.kHighsInf


@dataclass(frozen=True)
class PMedianResult:
    """An exactly solved (or time-limited) p-median on a cost matrix.

    Attributes
    ----------
    sites
        Column indices of the open sites, sorted.
    assignment
        For each client (row), the column index of its nearest open site (ties
        to the lower index).
    objective
        Weighted cost of ``sites``: the best solution found.
    lower_bound
        A proven lower bound on the optimum.
    status
        ``"optimal"`` (gap closed) or ``"time_limit"`` (best found, gap open).
    seconds
        Wall time.
    heuristic_objective
        Cost of the greedy + swap start.
    cuts
        Benders cuts generated.
    rounds
        Master MIP solves.

    """

    sites: tuple[int, ...]
    assignment: NDArray[np.int64]
    objective: float
    lower_bound: float
    status: str
    seconds: float
    heuristic_objective: float
    cuts: int
    rounds: int
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def gap(self) -> float:
        """Relative gap between ``objective`` and ``lower_bound`` (0 when proven optimal)."""
        if self.objective == 0:
            return 0.0
        return max(0.0, (self.objective - self.lower_bound) / abs(self.objective))


def _check(costs: NDArray, weights: NDArray, p: int, fixed: list[int], forbidden: list[int]):
    n, m = costs.shape
    problems = []
    if n == 0 or m == 0:
        problems.append(f"the cost matrix is empty ({n} clients x {m} candidate sites)")
    if not np.isfinite(costs).all():
        problems.append(f"the cost matrix has {int((~np.isfinite(costs)).sum())} NaN or infinite")
    elif (costs < 0).any():
        problems.append(f"the cost matrix has {int((costs < 0).sum())} negative entries")
    if weights.shape != (n,) or not np.isfinite(weights).all() or (weights < 0).any():
        problems.append("weights must be one finite non-negative number per client")
    allowed = m - len(set(forbidden))
    if not 1 <= p <= allowed:
        problems.append(f"p must be between 1 and {allowed} (the allowed candidate sites), got {p}")
    if len(set(fixed)) > p:
        problems.append(f"{len(set(fixed))} required sites exceed p = {p}")
    if set(fixed) & set(forbidden):
        both = sorted(set(fixed) & set(forbidden))
        problems.append(f"site(s) {both} are both required and forbidden")
    if problems:
        raise DataError(problems, source="p-median input")


class _Cuts:
    """Generates Benders cuts for all clients at once."""

    def __init__(self, costs: NDArray[np.float64]) -> None:
        self.costs = costs
        self.order = np.argsort(costs, axis=1, kind="stable")
        self.sorted = np.take_along_axis(costs, self.order, axis=1)
        self.rows = np.arange(costs.shape[0])
        self.seen: set[tuple[int, float]] = set()

    def levels(self, y: NDArray[np.float64]) -> tuple[NDArray, NDArray]:
        """Most violated level per client at ``y`` and the cut's value there."""
        cumulative = np.cumsum(y[self.order], axis=1)
        first = np.argmax(cumulative >= 1.0 - 1e-9, axis=1)
        level = self.sorted[self.rows, first]
        value = level - np.maximum(level[:, None] - self.costs, 0.0) @ y
        return level, value

    def rows_for(self, clients: NDArray, level: NDArray, n_sites: int):
        """CSR arrays of the new cuts (skipping ones already added)."""
        indices, values, lower = [], [], []
        for i in clients:
            key = (int(i), float(level[i]))
            if key in self.seen:
                continue
            self.seen.add(key)
            coefficient = level[i] - self.costs[i]
            closer = np.flatnonzero(coefficient > 0)
            indices.append(np.concatenate([closer, [n_sites + i]]))
            values.append(np.concatenate([coefficient[closer], [1.0]]))
            lower.append(level[i])
        if not lower:
            return None
        lengths = np.array([len(v) for v in indices])
        starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
        return (
            np.array(lower),
            starts.astype(np.int32),
            np.concatenate(indices).astype(np.int32),
            np.concatenate(values),
        )


def solve_pmedian(
    costs: NDArray[np.float64],
    p: int,
    weights: NDArray[np.float64] | None = None,
    *,
    fixed: list[int] | tuple[int, ...] = (),
    forbidden: list[int] | tuple[int, ...] = (),
    time_limit_s: float | None = None,
    mip_rel_gap: float = 0.0,
    threads: int = 1,
    start: list[int] | None = None,
) -> PMedianResult:
    """Solve a p-median exactly on a dense cost matrix.

    Parameters
    ----------
    costs
        n clients x m candidate sites, non-negative and finite.
    p
        Number of sites to open.
    weights
        Client weights (1 each by default).
    fixed
        Column indices that must be open.
    forbidden
        Column indices that must stay closed.
    time_limit_s
        Stop after about this many seconds with the best solution and a bound.
    mip_rel_gap
        Relative gap at which HiGHS may stop (0: prove optimality).
    threads
        Threads HiGHS may use.
    start
        Column indices of a known solution (e.g. a neighbouring run's): the
        search starts from it, after a swap search, when it beats the greedy start.

    Returns
    -------
    PMedianResult
        Open sites, assignment, objective, proven lower bound and status.

    """
    started = time.perf_counter()
    costs = np.asarray(costs, dtype=float)
    n, m = costs.shape
    weights = np.ones(n) if weights is None else np.asarray(weights, dtype=float)
    fixed, forbidden = sorted(set(fixed)), sorted(set(forbidden))
    _check(costs, weights, p, fixed, forbidden)
    deadline = None if time_limit_s is None else started + time_limit_s
    timings: dict[str, float] = {}

    # 1. heuristic incumbent; forbidden sites priced out of reach
    work = costs.copy()
    if forbidden:
        work[:, forbidden] = costs.max() * (n + 1) + 1
    incumbent = swap_search(
        work, weights, greedy(work, weights, p, fixed=fixed), fixed=fixed, deadline=deadline
    )
    upper = assignment_cost(costs, weights, incumbent)
    if (
        start is not None
        and len(set(start)) == p
        and set(fixed) <= set(start)
        and not set(start) & set(forbidden)
    ):
        warm = swap_search(work, weights, sorted(set(start)), fixed=fixed, deadline=deadline)
        if assignment_cost(costs, weights, warm) < upper:
            incumbent, upper = warm, assignment_cost(costs, weights, warm)
    heuristic_objective = upper
    timings["heuristic_s"] = time.perf_counter() - started

    active = np.flatnonzero(weights > 0)
    sub_costs, sub_weights = costs[active], weights[active]
    cuts = _Cuts(sub_costs)
    k = len(active)

    h = new_highs(threads)
    lower_cols = np.concatenate([np.zeros(m), sub_costs.min(axis=1)])
    upper_cols = np.concatenate([np.ones(m), np.full(k, INF)])
    upper_cols[forbidden] = 0.0
    lower_cols[fixed] = 1.0
    h.addVars(m + k, lower_cols, upper_cols)
    h.changeColsCost(
        m + k, np.arange(m + k, dtype=np.int32), np.concatenate([np.zeros(m), sub_weights])
    )
    h.addRow(p, p, m, np.arange(m, dtype=np.int32), np.ones(m))

    def add(clients, level) -> int:
        built = cuts.rows_for(clients, level, m)
        if built is None:
            return 0
        lower, starts, indices, values = built
        h.addRows(
            len(lower), lower, np.full(len(lower), INF), len(indices), starts, indices, values
        )
        return len(lower)

    y_incumbent = np.zeros(m)
    y_incumbent[incumbent] = 1.0
    level, _ = cuts.levels(y_incumbent)
    add(np.arange(k), level)
    if len(incumbent) > 1:  # and at each client's second-nearest incumbent site
        second = np.partition(sub_costs[:, incumbent], 1, axis=1)[:, 1]
        add(np.arange(k), second)

    # 2. LP relaxation by cutting planes (at least one round: it gives the bound)
    lp_rounds = 0
    while True:
        if lp_rounds and deadline is not None and time.perf_counter() > deadline:
            break
        if deadline is not None:
            h.setOptionValue("time_limit", max(deadline - time.perf_counter(), 0.01))
        h.run()
        if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            break  # the LP itself ran out of time: keep the cuts' bound so far
        solution = np.asarray(h.getSolution().col_value)
        y, theta = solution[:m], solution[m:]
        level, value = cuts.levels(y)
        violated = np.flatnonzero(value - theta > 1e-6 * np.maximum(1.0, np.abs(value)))
        lp_rounds += 1
        if not len(violated) or not add(violated, level):
            break
    lp_solved = h.getModelStatus() == highspy.HighsModelStatus.kOptimal
    # without a solved LP, the trivial bound: every client at its cheapest site
    lp_bound = (
        float(h.getInfo().objective_function_value)
        if lp_solved
        else float(sub_weights @ sub_costs.min(axis=1))
    )
    # reduced-cost fixing: a closed site whose reduced cost lifts the LP bound
    # above the incumbent cannot open in any better solution
    closable = np.zeros(0, dtype=np.int64)
    if lp_solved:
        reduced = np.asarray(h.getSolution().col_dual)[:m]
        closable = np.flatnonzero(
            (y < 1e-9) & (lp_bound + reduced > upper + 1e-9 * max(1.0, upper))
        )
    if len(closable):
        zeros = np.zeros(len(closable))
        h.changeColsBounds(len(closable), closable.astype(np.int32), zeros, zeros)
    timings["lp_s"] = time.perf_counter() - started - timings["heuristic_s"]
    log.info(
        "p-median LP: bound %.6g after %d rounds, %d cuts; heuristic %.6g; %d sites fixed closed",
        lp_bound,
        lp_rounds,
        len(cuts.seen),
        upper,
        len(closable),
    )

    # 3. master MIP over the generated cuts. Every improving solution HiGHS finds is
    # checked at once; one that under-charges a client interrupts the search, its
    # cuts are added and the master is solved again from the incumbent.
    h.changeColsIntegrality(
        m, np.arange(m, dtype=np.int32), np.full(m, highspy.HighsVarType.kInteger)
    )
    h.setOptionValue("mip_rel_gap", mip_rel_gap)
    pending: list[tuple[NDArray, NDArray]] = []
    found: list[NDArray] = []

    def violations(x: NDArray) -> tuple[NDArray, NDArray, NDArray]:
        y_int = np.round(x[:m])
        level, value = cuts.levels(y_int)
        under = np.flatnonzero(value - x[m:] > 1e-6 * np.maximum(1.0, np.abs(value)))
        # a cut already in the model is met within HiGHS's tolerances: not a violation
        under = np.array([i for i in under if (int(i), float(level[i])) not in cuts.seen], int)
        return y_int, under, level

    def on_improving(event) -> None:
        y_int, under, level = violations(np.asarray(event.data_out.mip_solution))
        found.append(np.flatnonzero(y_int > 0.5))
        if len(under):
            pending.append((under, level))

    def on_interrupt(event) -> None:
        event.interrupt(bool(pending))  # HiGHS keeps the flag across runs: always set it

    h.cbMipImprovingSolution.subscribe(on_improving)
    h.cbMipInterrupt.subscribe(on_interrupt)

    best_sites, lower_bound, status, rounds = incumbent, lp_bound, "time_limit", 0
    while True:
        remaining = None if deadline is None else deadline - time.perf_counter()
        if remaining is not None and remaining <= 0:
            break
        if remaining is not None:
            h.setOptionValue("time_limit", max(remaining, 0.01))
        start = highspy.HighsSolution()
        best_y = np.zeros(m)
        best_y[best_sites] = 1.0
        start.col_value = list(np.concatenate([best_y, sub_costs[:, best_sites].min(axis=1)]))
        h.setSolution(start)
        pending.clear()
        found.clear()
        h.run()
        rounds += 1
        info = h.getInfo()
        model_status = h.getModelStatus()
        if np.isfinite(info.mip_dual_bound):
            lower_bound = max(lower_bound, float(info.mip_dual_bound))
        final = np.asarray(h.getSolution().col_value)
        _, under, level = violations(final)
        pending.append((under, level))
        found.append(np.flatnonzero(np.round(final[:m]) > 0.5))
        for sites in found:
            if len(sites) == p:
                cost = assignment_cost(costs, weights, sites)
                if cost < upper - 1e-9:
                    upper, best_sites = cost, sites.tolist()
        added = sum(add(clients, level) for clients, level in pending if len(clients))
        log.debug(
            "MIP round %d: %s, bound %.6g, incumbent %.6g, %d cuts added, %.2f s",
            rounds,
            h.modelStatusToString(model_status),
            float(info.mip_dual_bound),
            upper,
            added,
            time.perf_counter() - started,
        )
        if added:
            continue
        if model_status == highspy.HighsModelStatus.kOptimal:
            status = "optimal" if mip_rel_gap == 0 else "gap_reached"
        break
    lower_bound = min(lower_bound, upper)
    if status == "optimal":
        lower_bound = min(upper, max(lower_bound, upper - 1e-6 * max(1.0, upper)))
    seconds = time.perf_counter() - started
    timings["mip_s"] = seconds - timings["heuristic_s"] - timings["lp_s"]
    best_sites = sorted(best_sites)
    assignment = np.asarray(best_sites)[np.argmin(costs[:, best_sites], axis=1)]
    log.info(
        "p-median: %s, objective %.6g, bound %.6g, %d cuts, %d MIP rounds, %.2f s",
        status,
        upper,
        lower_bound,
        len(cuts.seen),
        rounds,
        seconds,
    )
    return PMedianResult(
        sites=tuple(best_sites),
        assignment=assignment,
        objective=upper,
        lower_bound=lower_bound,
        status=status,
        seconds=seconds,
        heuristic_objective=heuristic_objective,
        cuts=len(cuts.seen),
        rounds=rounds,
        timings=timings,
    )


@dataclass(frozen=True)
class PMedianSolution:
    """A p-median solved on a labelled matrix: everything by id.

    Attributes
    ----------
    open_sites
        Ids of the open sites, sorted.
    assignment
        Client id -> the id of its nearest open site.
    cost
        Client id -> its cost (minutes) to that site.
    objective
        Weighted total cost.
    lower_bound
        Proven lower bound.
    gap
        Relative gap (0 when proven optimal).
    status
        ``"optimal"``, ``"gap_reached"`` or ``"time_limit"``.
    seconds
        Wall time.

    """

    open_sites: tuple[str, ...]
    assignment: pd.Series
    cost: pd.Series
    objective: float
    lower_bound: float
    gap: float
    status: str
    seconds: float


def pmedian(
    matrix: TravelTimeMatrix,
    p: int,
    weights: pd.Series | None = None,
    *,
    required: list[str] | tuple[str, ...] = (),
    forbidden: list[str] | tuple[str, ...] = (),
    time_limit_s: float | None = None,
    mip_rel_gap: float = 0.0,
) -> PMedianSolution:
    """Solve a p-median on a labelled cost matrix (clients x candidate sites).

    Parameters
    ----------
    matrix
        Costs (e.g. travel minutes) from each client (row) to each candidate site.
    p
        Number of sites to open.
    weights
        Client id -> weight; 1 each when omitted. Must cover every row.
    required
        Site ids that must be open.
    forbidden
        Site ids that must stay closed.
    time_limit_s
        Stop after about this many seconds, returning the best solution and its gap.
    mip_rel_gap
        Relative gap at which to stop (0: prove optimality).

    Returns
    -------
    PMedianSolution
        Open sites, assignment and costs by id, objective, bound, gap and status.

    Examples
    --------
    >>> import pandas as pd
    >>> from siting import TravelTimeMatrix, pmedian
    >>> costs = pd.DataFrame([[0, 5, 9], [4, 0, 6], [9, 6, 0]],
    ...                      index=["a", "b", "c"], columns=["A", "B", "C"])
    >>> pmedian(TravelTimeMatrix.from_frame(costs), 1).open_sites
    ('B',)

    """
    if weights is None:
        w = np.ones(len(matrix.origins))
    else:
        missing = [o for o in matrix.origins if o not in weights.index]
        if missing:
            raise DataError(f"weights missing for client id(s) {', '.join(missing[:10])}")
        w = weights.reindex(list(matrix.origins)).to_numpy(dtype=float)
    position = {site: k for k, site in enumerate(matrix.destinations)}
    unknown = [s for s in [*required, *forbidden] if s not in position]
    if unknown:
        raise DataError(f"unknown site id(s) {', '.join(unknown)}; they are not matrix columns")
    result = solve_pmedian(
        matrix.minutes,
        p,
        w,
        fixed=[position[s] for s in required],
        forbidden=[position[s] for s in forbidden],
        time_limit_s=time_limit_s,
        mip_rel_gap=mip_rel_gap,
    )
    sites = np.asarray(matrix.destinations)
    rows = np.arange(len(matrix.origins))
    index = pd.Index(matrix.origins, name="client_id")
    return PMedianSolution(
        open_sites=tuple(sites[list(result.sites)].tolist()),
        assignment=pd.Series(sites[result.assignment].tolist(), index=index, name="site_id"),
        cost=pd.Series(matrix.minutes[rows, result.assignment], index=index, name="cost"),
        objective=result.objective,
        lower_bound=result.lower_bound,
        gap=result.gap,
        status=result.status,
        seconds=result.seconds,
    )
