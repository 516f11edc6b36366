"""An exact capacitated p-median at scale: sparse columns, pricing and a proven gap.

The problem: open ``p`` sites and assign every client to exactly one open site
(single source) so that each open site's summed client load stays within its
capacity (and, optionally, within a per-site ``[lower_load, upper_load]``
band), minimising ``sum_ij w_i c_ij x_ij + sum_j f_j y_j``.

The classic model has n*m assignment columns. Here only a few of them are ever
built:

1. **Heuristic incumbent.** Candidate site sets (the uncapacitated greedy + swap
   sites, a capacity-aware greedy, any ``start``) are each given their best
   single-source assignment by a small assignment MILP over the open sites
   (exact for equal loads, where it is a transportation problem). A swap local
   search improves the best: each trial re-costs one slot of a warm-started
   assignment LP over the open sites, and the trials per open site are its
   nearest closed sites, the sites that would serve its clients most cheaply
   (Cooper's step) and the sites most attractive at the assignment duals.
2. **LP by column and row generation.** The LP relaxation starts from the k
   nearest eligible sites of each client (k adaptive: about 2 m / p) plus the
   incumbent's columns, with the capacity rows ``sum_i l_i x_ij <= Q_j y_j``.
   The variable upper bounds ``x_ij <= y_j`` are added as they are violated.
   Pricing computes the reduced cost of *every* omitted column at once from the
   duals, ``c_ij - u_i - l_i (mu_j + nu_j)``; negative ones are added and the
   LP solved again. When none is negative the duals are feasible for the full
   LP, so the restricted LP's value is the full LP bound ``LB``.
3. **Proof by reduced costs.** For every full solution ``z >= LB + sum rc x``,
   so a column with ``rc_ij > UB - LB`` cannot appear in a solution better than
   the incumbent ``UB``, and a site whose reduced cost exceeds the gap stays
   closed. The MIP is built over the columns with ``rc <= delta``; any
   solution using an omitted column costs at least ``LB + min omitted rc``, so
   the full problem's bound is ``min(restricted MIP bound, LB + min omitted
   rc)``. When ``delta`` reaches ``UB - LB`` the restriction is exact; when the
   column budget forces a smaller ``delta`` the reported gap says so, and
   ``delta`` grows while time remains.
4. **At scale** (more than ``LP_MAX_PAIRS`` client-site pairs, with a time
   limit) the LP does not finish on HiGHS within minutes; the time goes to an
   iterated swap search (random kicks, then restarts from the Lagrangian's site
   sets and more kicks) and the reported bound is the best Lagrangian bound
   found by the subgradient, run after the first search so that its Polyak
   steps aim at a good incumbent; for equal loads the Lagrangian dual equals
   the LP bound (its knapsacks are integral: the cheapest ``Q / l`` clients).
   Given a region per site (``site_regions``, e.g. counties), the rest of the
   time goes to a best-first branch and bound on how many sites each region
   holds, each node bounded by the Lagrangian with its site choice kept within
   those counts: the LP spreads fractional sites over many towns, and whole
   counts per region are what it cannot fake.

**Identical clients.** With equal loads, clients with the same weighted cost
row and eligibility are one row of multiplicity ``d`` (``_Instance.aggregated``):
objective ``d w c``, load ``d l``, and ``x`` a share that may split across sites
(the LP, the MIP's continuous ``x``, fractional knapsacks). This is exact: with
the sites fixed the assignment is a transportation problem with integer
supplies ``d``, so the assignment LPs, whose columns count clients, have an
integral optimal vertex, and the whole clients are handed back to the original
clients at the end. In step 3 a row's column counts by its reduced cost per
client, ``rc / d``: a better solution may send a single client of the row along
it. Pairs, LP columns and MIP columns count rows, not clients.

Everything is built from numpy / scipy.sparse arrays and handed to HiGHS with
``passModel`` / ``addCols`` / ``addRows``; nothing loops over n*m terms in Python.
"""

from __future__ import annotations

import copy
import heapq
import logging
import math
import time
from dataclasses import dataclass, field

import highspy
import numpy as np
from numpy.typing import NDArray
from scipy import sparse

from siting.errors import DataError, ScenarioError
from siting.model.heuristics import greedy, swap_search
from siting.model.milp import new_highs, set_deadline

log = logging.getLogger(__name__)

INF = highspy.kHighsInf
#: Reduced costs below this count as negative (pricing) and above gap + this as excluded.
TOLERANCE = 1e-7
#: Most assignment columns the restricted MIP gets before ``delta`` is cut below the gap.
MAX_MIP_COLUMNS = 120_000
#: Up to this many first LP columns get every VUB row at once; more get them lazily.
EAGER_VUB_COLUMNS = 40_000
#: Above this many client-site pairs (rows x sites, after aggregating identical clients),
#: with a time limit, the LP and MIP are skipped for an iterated swap search and the
#: Lagrangian bound. At 2,800 x 279 HiGHS did not finish the priced LP in 80 s; aggregated
#: to 648 x 279 (181k pairs) it finished after most of a 120 s budget with a bound no
#: better than the Lagrangian's, every site still open to reduced-cost fixing, and no
#: time left for the restricted MIP.
LP_MAX_PAIRS = 100_000
#: Subgradient rounds per node of the regional search (warm-started from the parent).
REGIONAL_ITERATIONS = 30


@dataclass(frozen=True)
class CapacitatedResult:
    """A capacitated p-median solved exactly or to a proven gap.

    Attributes
    ----------
    sites
        Column indices of the open sites, sorted (empty when infeasible).
    assignment
        For each client (row), the column index of its site (-1 when infeasible).
    objective
        Cost of the best solution found (``inf`` when infeasible).
    lower_bound
        A proven lower bound on the optimum of the full problem.
    status
        ``"optimal"``, ``"gap_reached"`` (``mip_rel_gap`` met), ``"time_limit"``
        (best found, gap open) or ``"infeasible"`` (no assignment meets the loads).
    seconds
        Wall time.
    heuristic_objective
        Cost of the heuristic start (``inf`` when it found none).
    lp_bound
        Value of the full LP relaxation (the root bound).
    columns
        Assignment columns in the last restricted MIP (of n*m; rows of identical
        clients count once).
    priced
        Columns the LP pricing added beyond the first k-nearest set.
    exact_restriction
        Whether the restricted MIP kept every column that could improve on the
        incumbent (``delta >= UB - LB``).
    timings
        Seconds per stage.

    """

    sites: tuple[int, ...]
    assignment: NDArray[np.int64]
    objective: float
    lower_bound: float
    status: str
    seconds: float
    heuristic_objective: float
    lp_bound: float
    columns: int
    priced: int
    exact_restriction: bool
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def gap(self) -> float:
        """Relative gap between ``objective`` and ``lower_bound`` (0 when proven optimal)."""
        if not math.isfinite(self.objective):
            return math.inf if self.status != "infeasible" else 0.0
        if self.objective == 0:
            return 0.0
        return max(0.0, (self.objective - self.lower_bound) / abs(self.objective))


def _per_site(value, m: int, name: str, problems: list[str], default: float) -> NDArray:
    if value is None:
        return np.full(m, default)
    array = np.asarray(value, dtype=float)
    if array.ndim == 0:
        array = np.full(m, float(array))
    if array.shape != (m,):
        problems.append(
            f"{name} must be one number or one per candidate site ({m}), got shape {array.shape}"
        )
        return np.full(m, default)
    if np.isnan(array).any() or (array < 0).any():
        problems.append(
            f"{name} has NaN or negative entries at site(s) "
            f"{np.flatnonzero(np.isnan(array) | (array < 0))[:10].tolist()}"
        )
    return array


class _Instance:
    """Validated arrays of one capacitated p-median and the shared helpers."""

    def __init__(
        self,
        costs,
        weights,
        p,
        capacity,
        loads,
        lower_load,
        upper_load,
        fixed,
        forbidden,
        site_cost,
        max_cost=None,
    ) -> None:
        costs = np.asarray(costs, dtype=float)
        problems: list[str] = []
        if costs.ndim != 2 or costs.size == 0:
            raise DataError(
                f"the cost matrix must be 2-D and non-empty, got shape {costs.shape}",
                source="capacitated p-median input",
            )
        n, m = costs.shape
        if not np.isfinite(costs).all():
            problems.append(
                f"the cost matrix has {int((~np.isfinite(costs)).sum())} NaN or infinite entries"
            )
        elif (costs < 0).any():
            problems.append(f"the cost matrix has {int((costs < 0).sum())} negative entries")
        weights = np.ones(n) if weights is None else np.asarray(weights, dtype=float)
        if weights.shape != (n,) or not np.isfinite(weights).all() or (weights < 0).any():
            problems.append(f"weights must be {n} finite non-negative numbers, one per client")
            weights = np.ones(n)
        loads = weights if loads is None else np.asarray(loads, dtype=float)
        if loads.shape != (n,) or not np.isfinite(loads).all() or (loads < 0).any():
            problems.append(f"loads must be {n} finite non-negative numbers, one per client")
            loads = weights
        upper = np.minimum(
            _per_site(capacity, m, "capacity", problems, np.inf),
            _per_site(upper_load, m, "upper_load", problems, np.inf),
        )
        lower = _per_site(lower_load, m, "lower_load", problems, 0.0)
        fixed, forbidden = sorted({int(j) for j in fixed}), sorted({int(j) for j in forbidden})
        outside = [j for j in [*fixed, *forbidden] if not 0 <= j < m]
        if outside:
            problems.append(f"site index(es) {outside} are outside 0..{m - 1}")
        allowed = m - len(forbidden)
        if not isinstance(p, (int, np.integer)) or not 1 <= p <= allowed:
            problems.append(
                f"p must be an integer from 1 to {allowed} (the allowed sites), got {p!r}"
            )
        if len(fixed) > p if isinstance(p, (int, np.integer)) else False:
            problems.append(f"{len(fixed)} required sites exceed p = {p}")
        if set(fixed) & set(forbidden):
            problems.append(
                f"site(s) {sorted(set(fixed) & set(forbidden))} are both required and forbidden"
            )
        site_cost = _per_site(site_cost, m, "site_cost", problems, 0.0)
        if max_cost is not None:
            max_cost = np.asarray(max_cost, dtype=float)
            if max_cost.shape != (n,) or np.isnan(max_cost).any():
                problems.append(f"max_cost must be {n} numbers, one per client")
                max_cost = None
        if (lower > upper).any():
            bad = np.flatnonzero(lower > upper)[:10].tolist()
            problems.append(f"lower_load exceeds the capacity / upper_load at site(s) {bad}")
        if problems:
            raise DataError(problems, source="capacitated p-median input")

        # equal loads: the assignment for integer y is a transportation problem
        # (totally unimodular), so x may be continuous once the load bands are
        # rounded to whole clients
        self.equal_loads = bool(loads.size and np.ptp(loads) == 0 and loads[0] > 0)
        if self.equal_loads:
            unit = float(loads[0])
            finite = np.isfinite(upper)
            upper = upper.copy()
            upper[finite] = np.floor(upper[finite] / unit + 1e-9) * unit
            lower = np.ceil(lower / unit - 1e-9) * unit
        self.n, self.m, self.p = n, m, int(p)
        self.costs, self.weights, self.loads = costs, weights, loads
        self.upper, self.lower = upper, lower
        self.fixed, self.forbidden = fixed, forbidden
        self.site_cost = site_cost
        self.weighted = weights[:, None] * costs  # objective coefficient of x_ij
        self.allowed = np.ones(m, dtype=bool)
        self.allowed[forbidden] = False
        # a client may go to a site only if its load alone fits there (and within max_cost)
        self.eligible = self.allowed[None, :] & (loads[:, None] <= upper[None, :] + 1e-9)
        if max_cost is not None:
            self.eligible &= costs <= max_cost[:, None] + 1e-9
        # rows are clients here; :meth:`aggregated` makes each row a group of identical
        # clients (``group``: each client's row, ``multiplicity``: clients per row)
        self.splittable = self.equal_loads
        self.clients = n
        self.group = np.arange(n)
        self.members = np.arange(n)  # the clients ordered by row
        self.multiplicity = np.ones(n)
        # per client, for costing and checking an assignment of the clients
        self.client_weighted, self.client_eligible, self.client_loads = (
            self.weighted,
            self.eligible,
            loads,
        )
        self._check_capacity()

    def aggregated(self) -> _Instance:
        """The same problem with identical clients as one splittable row each.

        Clients with equal loads, identical weighted cost rows and identical
        eligibility become one row of multiplicity ``d``: objective coefficients
        ``d w c``, load ``d l``, and its ``x`` a share in [0, 1] that may split
        across sites. Exact: with the sites fixed the assignment is a
        transportation problem with integer supplies ``d`` and capacities, so an
        optimal vertex sends whole clients (:meth:`expand` hands them out). The
        Lagrangian knapsacks become fractional (exact for splittable rows).
        Returns ``self`` when the loads differ or no two clients are identical.
        """
        if not self.splittable or self.n != self.clients or self.n < 2:
            return self
        key = np.concatenate(
            [self.weighted, self.eligible.astype(float), self.loads[:, None]], axis=1
        )
        _, first, inverse, counts = np.unique(
            key, axis=0, return_index=True, return_inverse=True, return_counts=True
        )
        if len(first) == self.n:
            return self
        d = counts.astype(float)
        agg = copy.copy(self)
        agg.n = len(first)
        agg.group = np.asarray(inverse).ravel().astype(np.int64)
        agg.members = np.argsort(agg.group, kind="stable")
        agg.multiplicity = d
        agg.costs = self.costs[first]
        agg.weights = self.weights[first] * d
        agg.loads = self.loads[first] * d
        agg.weighted = self.weighted[first] * d[:, None]
        agg.eligible = self.eligible[first]
        agg.equal_loads = False  # rows of different sizes: the knapsacks are fractional
        log.info("capacitated p-median: %d clients aggregated to %d rows", self.n, agg.n)
        return agg

    def expand(self, rows, sites, amounts) -> NDArray[np.int64] | None:
        """Each client's site from amounts of clients sent along (row, site) pairs.

        ``amounts`` counts clients (``multiplicity`` x share); None when they are
        not whole clients or do not place every client exactly once.
        """
        rows, sites = np.asarray(rows), np.asarray(sites)
        amounts = np.asarray(amounts, dtype=float)
        if self.splittable:
            counts = np.round(amounts)
            if np.abs(amounts - counts).max(initial=0) > 1e-5:
                return None
            counts = np.maximum(counts, 0).astype(np.int64)
        else:
            counts = (amounts > 0.5).astype(np.int64)
        placed = np.bincount(rows, weights=counts, minlength=self.n)
        if (placed != self.multiplicity).any():
            return None
        order = np.lexsort((sites, rows))
        assignment = np.empty(self.clients, dtype=np.int64)
        assignment[self.members] = np.repeat(sites[order], counts[order])
        return assignment

    def _check_capacity(self) -> None:
        """Refuse, before solving, what no choice of sites can serve."""
        stranded = np.flatnonzero(~self.eligible.any(axis=1))
        if len(stranded):
            raise ScenarioError(
                f"client(s) {stranded[:10].tolist()} have a load above every allowed site's "
                "capacity (or are beyond max_cost of every site); raise the capacity or split "
                "those clients"
            )
        demand = float(self.loads.sum())
        free = np.flatnonzero(self.allowed & ~np.isin(np.arange(self.m), self.fixed))
        best_free = np.sort(self.upper[free])[::-1][: self.p - len(self.fixed)]
        most = float(self.upper[self.fixed].sum() + best_free.sum())
        if most < demand - 1e-9:
            raise ScenarioError(
                f"capacity: the {self.p} largest allowed capacities hold {most:g} < total "
                f"load {demand:g}; raise the capacity or the number of sites p"
            )
        least = float(self.lower[self.fixed].sum())
        if least > demand + 1e-9:
            raise ScenarioError(
                f"lower_load: the required sites need {least:g} > total load {demand:g}; "
                "lower the minimum loads"
            )

    # -- evaluating a set of open sites ------------------------------------------

    def assign(
        self, sites, *, deadline: float | None = None, exact: bool = True
    ) -> tuple[float, NDArray[np.int64] | None]:
        """Best single-source assignment to the open ``sites`` (a small MILP over n x p).

        Columns count the clients of a row sent to a site (0..multiplicity):
        continuous when splittable (a transportation problem, whose optimal
        vertex is integral), integer otherwise. Returns the total cost (site
        costs included) and the site of each client, or ``(inf, None)`` when no
        assignment meets the loads.
        """
        sites = np.asarray(sorted(sites), dtype=np.int64)
        k = len(sites)
        ok = self.eligible[:, sites]
        ci, ck = np.nonzero(ok)
        cols = len(ci)
        d = self.multiplicity
        rows = np.concatenate([ci, self.n + ck])
        values = np.concatenate([np.ones(cols), self.loads[ci] / d[ci]])
        matrix = sparse.csc_matrix(
            (values, (rows, np.concatenate([np.arange(cols), np.arange(cols)]))),
            shape=(self.n + k, cols),
        )
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = cols, self.n + k
        lp.col_cost_ = self.weighted[ci, sites[ck]] / d[ci]
        lp.col_lower_ = np.zeros(cols)
        lp.col_upper_ = d[ci].astype(float)
        lp.row_lower_ = np.concatenate([d, self.lower[sites]])
        lp.row_upper_ = np.concatenate(
            [d, np.where(np.isfinite(self.upper[sites]), self.upper[sites], INF)]
        )
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = matrix.indptr.astype(np.int32)
        lp.a_matrix_.index_ = matrix.indices.astype(np.int32)
        lp.a_matrix_.value_ = matrix.data
        if not self.splittable:
            lp.integrality_ = [highspy.HighsVarType.kInteger] * cols
        h = new_highs()
        h.passModel(lp)
        h.setOptionValue("mip_rel_gap", 0.0 if exact else 1e-4)
        if deadline is not None:
            h.setOptionValue("time_limit", max(deadline - time.perf_counter(), 0.05))
        h.run()
        if h.getInfo().primal_solution_status != 2:  # no feasible solution
            return math.inf, None
        x = np.asarray(h.getSolution().col_value)
        if self.splittable and np.abs(x - np.round(x)).max(initial=0) > 1e-6:  # not a vertex
            h.changeColsIntegrality(
                cols, np.arange(cols, dtype=np.int32), np.full(cols, highspy.HighsVarType.kInteger)
            )
            h.run()
            x = np.asarray(h.getSolution().col_value)
        assignment = self.expand(ci, sites[ck], x)
        if assignment is None:
            return math.inf, None
        return self.cost_of(sites, assignment), assignment

    def cost_of(self, sites, assignment: NDArray[np.int64]) -> float:
        """Objective of open ``sites`` with ``assignment``."""
        rows = np.arange(self.clients)
        return float(
            self.client_weighted[rows, assignment].sum() + self.site_cost[list(sites)].sum()
        )

    def feasible(self, sites, assignment: NDArray[np.int64]) -> bool:
        """Whether an assignment meets every rule (single source, loads, open sites)."""
        sites = sorted(set(int(s) for s in sites))
        if len(sites) != self.p or not set(self.fixed) <= set(sites):
            return False
        if not self.allowed[sites].all() or not np.isin(assignment, sites).all():
            return False
        if len(assignment) != self.clients:
            return False
        if not self.client_eligible[np.arange(self.clients), assignment].all():
            return False
        load = np.bincount(assignment, weights=self.client_loads, minlength=self.m)[sites]
        scale = 1e-7 * max(1.0, float(self.client_loads.sum()))
        return bool(
            (load <= self.upper[sites] + scale).all() and (load >= self.lower[sites] - scale).all()
        )


# -- heuristic --------------------------------------------------------------------


def _capacity_greedy(inst: _Instance) -> list[int]:
    """Open sites one at a time by the cost of serving, within capacity, the clients they attract.

    Each step scores every candidate j by the weighted cost of its ``Q_j`` worth
    of cheapest not-yet-covered clients (per unit of load), opens the best and
    marks those clients covered; a regret-free, capacity-aware construction.
    Splittable rows (identical clients) may be covered in part.
    """
    order = np.argsort(inst.costs, axis=0, kind="stable")  # rows by cost, per site
    if inst.splittable:
        left = inst.loads.astype(float).copy()  # each row's load not yet covered

        def take(j, limit):
            """Rows, loads taken and their cost, or None when nothing is taken."""
            rows = order[:, j]
            amounts = left[rows]
            amounts = np.clip(limit + 1e-9 - (np.cumsum(amounts) - amounts), 0.0, amounts)
            amount = float(amounts.sum())
            if amount <= 1e-9:
                return None
            cost = float(inst.weighted[rows, j] @ (amounts / inst.loads[rows]))
            return rows, amounts, cost, amount

        def cover(rows, amounts) -> None:
            left[rows] -= amounts

        def uncovered() -> float:
            return float(left.sum())

    else:
        covered = np.zeros(inst.n, dtype=bool)

        def take(j, limit):
            """Whole rows, their loads and cost, or None when nothing is taken."""
            rows = order[:, j][~covered[order[:, j]]]
            rows = rows[np.cumsum(inst.loads[rows]) <= limit + 1e-9]
            if not len(rows):
                return None
            amounts = inst.loads[rows]
            return rows, amounts, float(inst.weighted[rows, j].sum()), float(amounts.sum()) or 1.0

        def cover(rows, amounts) -> None:
            covered[rows] = True

        def uncovered() -> float:
            return float(inst.loads[~covered].sum())

    chosen = list(inst.fixed)
    for j in chosen:
        taken = take(j, inst.upper[j])
        if taken is not None:
            cover(*taken[:2])
    while len(chosen) < inst.p:
        best, best_score, best_taken = -1, math.inf, None
        share = max(1e-9, uncovered() / (inst.p - len(chosen)))
        for j in np.flatnonzero(inst.allowed):
            if j in chosen:
                continue
            taken = take(j, min(inst.upper[j], share))
            if taken is None:
                continue
            score = (taken[2] + inst.site_cost[j]) / taken[3]
            if score < best_score:
                best, best_score, best_taken = int(j), score, taken
        if best < 0:
            break
        chosen.append(best)
        cover(*best_taken[:2])
    if len(chosen) < inst.p:
        rest = [int(j) for j in np.flatnonzero(inst.allowed) if j not in chosen]
        chosen += rest[: inst.p - len(chosen)]
    return sorted(chosen)


def _neighbours(inst: _Instance, sites: list[int], count: int) -> dict[int, list[int]]:
    """For each open site, the ``count`` closed allowed sites whose cost columns are nearest."""
    closed = np.flatnonzero(inst.allowed & ~np.isin(np.arange(inst.m), sites))
    result = {}
    for r in sites:
        if r in inst.fixed or not len(closed):
            result[r] = []
            continue
        # mean absolute difference of the cost columns over clients, weighted
        difference = inst.weights @ np.abs(inst.costs[:, closed] - inst.costs[:, [r]])
        result[r] = closed[np.argsort(difference, kind="stable")[:count]].tolist()
    return result


def capacitated_heuristic(
    inst: _Instance,
    *,
    start: list[int] | None = None,
    deadline: float | None = None,
    neighbours: int = 4,
) -> tuple[float, list[int], NDArray[np.int64] | None]:
    """Incumbent: best of several site sets, each assigned exactly, then swap search.

    Returns ``(cost, sites, assignment)``; ``(inf, [], None)`` when no candidate
    set admits an assignment within the loads.
    """
    work = np.where(inst.eligible, inst.weighted, inst.weighted.max() * (inst.n + 1) + 1)
    work = work + inst.site_cost[None, :] / max(1, inst.n)
    ones = np.ones(inst.n)
    candidates = [
        swap_search(
            work,
            ones,
            greedy(work, ones, inst.p, fixed=inst.fixed),
            fixed=inst.fixed,
            deadline=deadline,
        ),
        _capacity_greedy(inst),
    ]
    if start is not None:
        start = sorted({int(s) for s in start})
        if len(start) == inst.p and set(inst.fixed) <= set(start) and inst.allowed[start].all():
            candidates.append(start)
    best = (math.inf, [], None)
    seen = set()
    for sites in candidates:
        key = tuple(sorted(sites))
        if key in seen:
            continue
        seen.add(key)
        cost, assignment = inst.assign(key, deadline=deadline, exact=False)
        if cost < best[0]:
            best = (cost, list(key), assignment)
    if best[2] is None:
        return best
    return swap_improve(inst, best, deadline=deadline, neighbours=neighbours)


class _SlotAssignment:
    """The best assignment to ``p`` open sites as one LP over ``p`` slots, re-costed in place.

    For equal loads the single-source assignment to fixed sites is a
    transportation problem (totally unimodular): its LP has an integral optimal
    vertex. A column counts the clients of a row sent to a slot (0 to the
    row's multiplicity). Replacing one slot's site changes only that slot's
    column costs and bounds and its load row; HiGHS re-solves from the previous
    basis, several times faster than a model built anew.
    """

    def __init__(self, inst: _Instance, sites) -> None:
        self.inst = inst
        self.sites = [int(j) for j in sites]
        n, k = inst.n, len(self.sites)
        self.k = k
        cols = n * k
        ci, cs = np.repeat(np.arange(n), k), np.tile(np.arange(k), n)
        self.ci, self.cs = ci, cs
        d = inst.multiplicity
        self.unit_cost = inst.weighted / d[:, None]  # cost per client of a row
        matrix = sparse.csc_matrix(
            (
                np.concatenate([np.ones(cols), (inst.loads / d)[ci]]),
                (np.concatenate([ci, n + cs]), np.concatenate([np.arange(cols), np.arange(cols)])),
            ),
            shape=(n + k, cols),
        )
        sites_ = np.asarray(self.sites)
        ok = inst.eligible[ci, sites_[cs]]
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = cols, n + k
        lp.col_cost_ = np.where(ok, self.unit_cost[ci, sites_[cs]], 0.0)
        lp.col_lower_ = np.zeros(cols)
        lp.col_upper_ = np.where(ok, d[ci], 0.0)
        upper = inst.upper[sites_]
        lp.row_lower_ = np.concatenate([d, inst.lower[sites_]])
        lp.row_upper_ = np.concatenate([d, np.where(np.isfinite(upper), upper, INF)])
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = matrix.indptr.astype(np.int32)
        lp.a_matrix_.index_ = matrix.indices.astype(np.int32)
        lp.a_matrix_.value_ = matrix.data
        self.h = new_highs()
        self.h.passModel(lp)

    def move(self, slot: int, site: int) -> None:
        """Put ``site`` in ``slot`` (its columns' costs and bounds, its load row)."""
        inst, n = self.inst, self.inst.n
        index = (np.arange(n) * self.k + slot).astype(np.int32)
        ok = inst.eligible[:, site]
        self.h.changeColsCost(n, index, np.where(ok, self.unit_cost[:, site], 0.0))
        self.h.changeColsBounds(n, index, np.zeros(n), np.where(ok, inst.multiplicity, 0.0))
        upper = inst.upper[site]
        self.h.changeRowBounds(n + slot, inst.lower[site], upper if np.isfinite(upper) else INF)
        self.sites[slot] = int(site)

    def solve(self, deadline: float | None = None) -> float:
        """Cost of the best assignment to the slots' sites (inf when none meets the loads)."""
        if deadline is not None:
            set_deadline(self.h, deadline, least=0.05)
        self.h.run()
        if self.h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            return math.inf
        value = self.h.getInfo().objective_function_value
        return float(value + self.inst.site_cost[self.sites].sum())

    def shares(self) -> NDArray[np.float64]:
        """Share of each row's clients at each slot at the last solve (rows x slots)."""
        x = np.asarray(self.h.getSolution().col_value).reshape(self.inst.n, self.k)
        return x / self.inst.multiplicity[:, None]

    def assignment(self) -> NDArray[np.int64] | None:
        """Each client's site at the last solve; None when the solution is not integral."""
        x = np.asarray(self.h.getSolution().col_value)
        if np.abs(x - np.round(x)).max(initial=0) > 1e-6:
            return None
        return self.inst.expand(self.ci, np.asarray(self.sites, dtype=np.int64)[self.cs], x)

    def client_duals(self) -> NDArray[np.float64]:
        """Duals of the rows' assignment constraints at the last solve (per row, not client)."""
        return np.asarray(self.h.getSolution().row_dual)[: self.inst.n] * self.inst.multiplicity


def swap_improve(
    inst: _Instance,
    incumbent: tuple[float, list[int], NDArray[np.int64] | None],
    *,
    deadline: float | None = None,
    neighbours: int = 4,
    attractive: int = 8,
) -> tuple[float, list[int], NDArray[np.int64] | None]:
    """Swap local search: close an open site, open a closed one, while the cost falls.

    Every trial is a warm-started assignment LP over the open sites
    (:class:`_SlotAssignment`), exact for equal loads (a transportation
    problem) and a relaxation otherwise. The trials are, for each open site,
    its ``neighbours`` nearest closed sites, the ``neighbours`` closed sites
    that would serve its present clients most cheaply, and the ``attractive``
    closed sites whose knapsack value at the assignment duals is lowest (the
    sites that would take the most cost off the clients at the current
    prices); each open site's best improving trial is taken at once. With
    unequal loads the sites found are assigned exactly (a small MILP) and then
    polished by swaps with the nearest neighbours, each an assignment MILP.
    """
    best = incumbent
    if best[2] is None:
        return best
    sites, cost = _slot_search(inst, best[1], deadline, neighbours, attractive)
    if inst.splittable and sites is not None:
        slots = _SlotAssignment(inst, sites)
        cost = slots.solve(deadline)
        assignment = slots.assignment()
        if assignment is None and math.isfinite(cost):  # a non-vertex optimum: assign exactly
            cost, assignment = inst.assign(sites, deadline=deadline)
        if assignment is not None and cost < best[0]:
            best = (cost, sorted(sites), assignment)
        return best
    if sites is not None and sorted(sites) != sorted(best[1]):
        cost, assignment = inst.assign(sites, deadline=deadline, exact=False)
        if assignment is not None and cost < best[0]:
            best = (cost, sorted(sites), assignment)
    improved = True
    while improved:
        improved = False
        near = _neighbours(inst, best[1], neighbours)
        for r in best[1]:
            for j in near[r]:
                if deadline is not None and time.perf_counter() > deadline:
                    return best
                sites = sorted([s for s in best[1] if s != r] + [j])
                cost, assignment = inst.assign(sites, deadline=deadline, exact=False)
                if cost < best[0] - 1e-9 * max(1.0, abs(best[0])):
                    best = (cost, sites, assignment)
                    improved = True
                    break
            if improved:
                break
    return best


def _slot_search(
    inst: _Instance, sites: list[int], deadline: float | None, neighbours: int, attractive: int
) -> tuple[list[int] | None, float]:
    """Swaps judged by the assignment LP (see :func:`swap_improve`); the sites and LP cost."""
    slots = _SlotAssignment(inst, sites)
    cost = slots.solve(deadline)
    if not math.isfinite(cost):
        return None, cost
    while deadline is None or time.perf_counter() < deadline:
        reduced = np.where(inst.eligible, inst.weighted - slots.client_duals()[:, None], np.inf)
        values = _knapsacks(inst, reduced)[0] + inst.site_cost
        closed = np.flatnonzero(inst.allowed & ~np.isin(np.arange(inst.m), slots.sites))
        ranked = closed[np.argsort(values[closed], kind="stable")[:attractive]].tolist()
        near = _neighbours(inst, list(slots.sites), neighbours)
        shares = slots.shares()
        largest = shares.argmax(axis=1)
        improved = False
        for slot, r in enumerate(list(slots.sites)):
            if r in inst.fixed:
                continue
            # the sites that would serve r's own clients most cheaply (Cooper's step)
            if inst.splittable:
                served = shares[:, slot] @ inst.weighted + inst.site_cost
            else:  # each client at its largest share
                served = inst.weighted[largest == slot].sum(axis=0) + inst.site_cost
            served[~inst.allowed | np.isin(np.arange(inst.m), slots.sites)] = np.inf
            medians = np.argsort(served, kind="stable")[:neighbours].tolist()
            move, move_cost = None, cost - 1e-9 * max(1.0, abs(cost))
            for j in dict.fromkeys(medians + ranked + near[r]):
                if deadline is not None and time.perf_counter() > deadline:
                    break
                if j in slots.sites or not inst.allowed[j]:
                    continue
                slots.move(slot, j)
                trial = slots.solve(deadline)
                slots.move(slot, r)
                if trial < move_cost:
                    move, move_cost = j, trial
            if move is not None:  # the best move of this slot, taken at once
                slots.move(slot, move)
                cost = slots.solve(deadline)
                improved = True
        if not improved:
            break
    return list(slots.sites), cost


def perturbed_search(
    inst: _Instance,
    incumbent: tuple[float, list[int], NDArray[np.int64] | None],
    *,
    deadline: float,
    starts: list[list[int]] = (),
    kick: int = 2,
    seed: int = 0,
) -> tuple[float, list[int], NDArray[np.int64] | None]:
    """Iterated swap search until ``deadline``: each round restarts :func:`swap_improve`.

    The restarts are first the given ``starts`` (e.g. the Lagrangian's site
    sets), then the incumbent with ``kick`` of its free sites replaced by random
    allowed ones (seeded, so the same input gives the same answer on an
    unloaded machine); the best solution found is kept.
    """
    best = incumbent
    if best[2] is None:
        return best
    rng = np.random.default_rng(seed)
    queue = [sorted(int(j) for j in start) for start in starts]
    seen = {tuple(best[1])}
    repeats = 0
    while time.perf_counter() < deadline and repeats < 100:  # 100 repeats: little left unseen
        free = [j for j in best[1] if j not in inst.fixed]
        if queue:
            sites = queue.pop(0)
        elif free:
            closed = np.flatnonzero(inst.allowed & ~np.isin(np.arange(inst.m), best[1]))
            k = min(kick, len(free), len(closed))
            if not k:
                break
            out = rng.choice(free, size=k, replace=False).tolist()
            sites = sorted(
                [j for j in best[1] if j not in out] + rng.choice(closed, k, False).tolist()
            )
        else:
            break
        if tuple(sites) in seen or len(sites) != inst.p or not set(inst.fixed) <= set(sites):
            repeats += 1
            continue
        repeats = 0
        seen.add(tuple(sites))
        cost, assignment = inst.assign(sites, deadline=deadline, exact=False)
        if assignment is None:
            continue
        found = swap_improve(inst, (cost, sites, assignment), deadline=deadline)
        if found[0] < best[0] - 1e-9 * max(1.0, abs(best[0])):
            log.info("perturbed search: %.6g -> %.6g", best[0], found[0])
            best = found
    return best


# -- Lagrangian bound: relax the assignment rows, one knapsack per site ----------


def _knapsacks(inst: _Instance, reduced: NDArray[np.float64]) -> tuple[NDArray, NDArray]:
    """Per site j, the cheapest load-feasible set of clients at costs ``reduced[:, j]``.

    Exact for equal loads (the cheapest ``floor(Q / l)``), for splittable rows
    (aggregated identical clients: the fractional knapsack) and for small
    integer loads (dynamic programming over capacity); otherwise the LP knapsack
    (Dantzig's fractional bound), still a valid relaxation. Returns the value per
    site (<= 0) and the chosen amount per client and site (n x m).
    """
    n, m = reduced.shape
    negative = np.minimum(reduced, 0.0)  # inf (ineligible) -> 0: never taken
    negative[~np.isfinite(reduced)] = 0.0
    upper = inst.upper
    if inst.equal_loads:
        count = np.where(np.isfinite(upper), upper / inst.loads[0], n).round().astype(np.int64)
        count = np.clip(count, 0, n)
        taken = np.zeros((n, m))
        if 0 < count.min() == count.max() < n:  # one count: the cheapest by partition
            part = np.argpartition(negative, count[0] - 1, axis=0)[: count[0]]
            ranked = np.take_along_axis(negative, part, axis=0)
            np.put_along_axis(taken, part, ranked < 0, axis=0)
            return ranked.sum(axis=0), taken
        order = np.argsort(negative, axis=0, kind="stable")
        ranked = np.take_along_axis(negative, order, axis=0)
        keep = np.arange(n)[:, None] < count[None, :]
        np.put_along_axis(taken, order, keep & (ranked < 0), axis=0)
        return (ranked * keep).sum(axis=0), taken
    loads = inst.loads
    integral = np.all(loads == np.round(loads)) and np.isfinite(upper).all()
    top = int(upper.max()) if integral else 0
    # splittable rows: the fractional knapsack is exact (a 0-1 one would not be a relaxation)
    if integral and not inst.splittable and n * m * (top + 1) <= 30_000_000:
        capacity = np.floor(upper + 1e-9).astype(np.int64)
        best = np.zeros((m, top + 1))
        take = np.zeros((n, m, top + 1), dtype=bool)
        for i in range(n):
            weight = int(loads[i])
            value = negative[i]
            if weight == 0:
                take[i] = (value < 0)[:, None]
                best += value[:, None]
                continue
            if weight > top:
                continue
            candidate = best[:, : top + 1 - weight] + value[:, None]
            better = candidate < best[:, weight:] - 1e-12
            take[i, :, weight:] = better
            best[:, weight:] = np.where(better, candidate, best[:, weight:])
        sites = np.arange(m)
        room = capacity.copy()
        taken = np.zeros((n, m))
        for i in range(n - 1, -1, -1):
            chosen = take[i, sites, room]
            taken[i] = chosen
            room = room - chosen * int(loads[i])
        return best[sites, capacity], taken
    # fractional knapsack by cost per unit of load
    ratio = np.where(loads[:, None] > 0, negative / np.maximum(loads, 1e-300)[:, None], -np.inf)
    ratio[negative >= 0] = np.inf
    # only the rows of negative value can be taken: sort just the most any site has
    k = int((ratio < np.inf).sum(axis=0).max(initial=0))
    if k == 0:
        return np.zeros(m), np.zeros((n, m))
    if k < n // 2:
        part = np.argpartition(ratio, k - 1, axis=0)[:k]
        inner = np.argsort(np.take_along_axis(ratio, part, axis=0), axis=0, kind="stable")
        order = np.take_along_axis(part, inner, axis=0)
    else:
        order = np.argsort(ratio, axis=0, kind="stable")
    ranked_load = loads[order]
    ranked_value = np.take_along_axis(negative, order, axis=0)
    before = np.cumsum(ranked_load, axis=0) - ranked_load
    room = np.where(np.isfinite(upper), upper, np.inf)[None, :] - before
    share = np.where(
        ranked_load > 0, np.clip(room / np.maximum(ranked_load, 1e-300), 0.0, 1.0), 1.0
    )
    share[ranked_value >= 0] = 0.0
    taken = np.zeros((n, m))
    np.put_along_axis(taken, order, share, axis=0)
    return (share * ranked_value).sum(axis=0), taken


@dataclass
class _Regions:
    """Bounds on how many open sites each region holds: a node of the regional search."""

    label: NDArray[np.int64]  # each site's region, 0..R-1
    lo: NDArray[np.int64]  # per region, the fewest open sites
    hi: NDArray[np.int64]  # per region, the most


def _rank_in_region(label: NDArray[np.int64]) -> NDArray[np.int64]:
    """Each position's rank among the earlier positions of the same label (0, 1, ...)."""
    order = np.argsort(label, kind="stable")
    ranked = label[order]
    first = np.searchsorted(ranked, ranked, side="left")
    rank = np.empty(len(label), dtype=np.int64)
    rank[order] = np.arange(len(label)) - first
    return rank


def _choose(inst: _Instance, values: NDArray, regions: _Regions | None) -> NDArray | None:
    """The ``p`` sites of least summed ``values``: the fixed ones, then the cheapest allowed.

    With ``regions``, each region's count stays within ``[lo, hi]``: greedily, each
    region's cheapest sites up to its ``lo``, then the cheapest of the rest that
    still fit their region's ``hi`` (optimal: the feasible sets are the bases of
    a generalised partition matroid). None when no choice meets the bounds.
    """
    fixed = np.asarray(inst.fixed, dtype=np.int64)
    free = np.flatnonzero(inst.allowed & ~np.isin(np.arange(inst.m), fixed))
    need = inst.p - len(fixed)
    order = free[np.argsort(values[free], kind="stable")]
    if regions is None:
        return np.concatenate([fixed, order[:need]])
    count = np.bincount(regions.label[fixed], minlength=len(regions.lo))
    label = regions.label[order]
    must = _rank_in_region(label) < np.maximum(regions.lo - count, 0)[label]
    count = count + np.bincount(label[must], minlength=len(regions.lo))
    if must.sum() > need or (count < regions.lo).any() or (count > regions.hi).any():
        return None
    rest = order[~must]
    fits = _rank_in_region(label[~must]) < (regions.hi - count)[label[~must]]
    extra = rest[fits][: need - int(must.sum())]
    if len(extra) < need - must.sum():
        return None
    return np.concatenate([fixed, order[must], extra])


@dataclass
class _Dual:
    """What a subgradient run on the Lagrangian dual of the assignment rows found."""

    bound: float  # the best bound (-inf: none; inf: the regions admit no site set)
    values: NDArray | None  # per site, f_j + v_j at the best multipliers
    site_sets: list[list[int]]  # the last distinct site sets at improving bounds, best last
    multipliers: NDArray  # the best multipliers u
    region_counts: NDArray | None  # sites per region, averaged over the last rounds


def _lagrangian(
    inst: _Instance,
    upper: float,
    deadline: float | None,
    iterations: int = 3000,
    patience: int = 30,
    keep: int = 6,
    *,
    u: NDArray | None = None,
    step: float = 2.0,
    regions: _Regions | None = None,
) -> _Dual:
    """Subgradient ascent on the Lagrangian dual of the assignment rows.

    Polyak steps towards ``upper``; the step halves after ``patience`` rounds
    without a better bound. Starts from multipliers ``u`` (the second cheapest
    cost of each row by default) and step ``step``; with ``regions`` the site
    choice keeps each region's count within its bounds (a node of
    :func:`_regional_search`), and the run also averages the regions' counts
    over its last rounds (the branching hint).
    """
    weighted = np.where(inst.eligible, inst.weighted, np.inf)
    if u is None:
        u = np.sort(weighted, axis=1)[:, min(1, inst.m - 1)]
        u = np.where(np.isfinite(u), u, weighted.min(axis=1))
    best_bound, best_values, best_u, site_sets = -math.inf, None, u, []
    stall = 0
    counts: list[NDArray] = []
    for _ in range(iterations):
        if deadline is not None and time.perf_counter() > deadline:
            break
        v, taken = _knapsacks(inst, weighted - u[:, None])
        values = inst.site_cost + v
        chosen = _choose(inst, values, regions)
        if chosen is None:
            return _Dual(math.inf, None, [], u, None)
        if regions is not None:
            counts = [*counts[-49:], np.bincount(regions.label[chosen], minlength=len(regions.lo))]
        bound = float(u.sum() + values[chosen].sum())
        if bound > best_bound + 1e-9 * max(1.0, abs(bound)):
            best_bound, best_values, best_u, stall = bound, values.copy(), u, 0
            sites = sorted(chosen.tolist())
            if sites in site_sets:
                site_sets.remove(sites)
            site_sets = [*site_sets, sites][-keep:]
        else:
            stall += 1
            if stall >= patience:
                step, stall = step / 2, 0
        if step < 1e-4 or (math.isfinite(upper) and upper - best_bound <= 1e-9 * max(1.0, upper)):
            break
        # in clients: a row of d clients is d multipliers moving together, so the step
        # is the one the clients' own subgradient would take
        gradient = inst.multiplicity * (1.0 - taken[:, chosen].sum(axis=1))
        norm = float(gradient @ (gradient / inst.multiplicity))
        if norm < 1e-12:
            break
        target = upper if math.isfinite(upper) else abs(bound) * 1.05 + 1.0
        u = u + step * max(target - bound, 1e-9 * max(1.0, abs(bound))) / norm * gradient
    region_counts = np.mean(counts, axis=0) if counts else None
    return _Dual(best_bound, best_values, site_sets, best_u, region_counts)


def _regional_search(
    inst: _Instance, label: NDArray, root: _Dual, upper: float, deadline: float, iterations: int
) -> tuple[float, int]:
    """Raise the Lagrangian bound by branching on how many sites each region holds.

    Best first: a node bounds each region's count of open sites; its bound is the
    Lagrangian with the site choice kept within those counts (:func:`_choose`),
    warm-started from its parent's multipliers, and never below its parent's.
    The node with the least bound is split on the region whose averaged count
    in its subgradient run is the most fractional (count <= k | count >= k + 1),
    so the children's sets of solutions partition the parent's; a node with
    every count fixed gets a subgradient run twice as long instead, up to 64
    times ``iterations``. Nodes bounded at ``upper`` or more are dropped.
    Returns the least bound of the nodes still open (``upper`` when none is:
    the incumbent is optimal) and the nodes solved.
    """
    label = np.asarray(label, dtype=np.int64)
    size = int(label.max()) + 1
    lo = np.zeros(size, dtype=np.int64)
    hi = np.minimum(np.bincount(label[inst.allowed], minlength=size), inst.p)
    tolerance = 1e-9 * max(1.0, abs(upper))

    def run(parent: _Dual, lo: NDArray, hi: NDArray, rounds: int, patience: int) -> _Dual:
        return _lagrangian(
            inst,
            upper,
            deadline,
            iterations=rounds,
            patience=max(10, patience),
            u=parent.multipliers.copy(),
            step=0.5,
            regions=_Regions(label, lo, hi),
        )

    heap = [(root.bound, 0, lo, hi, root, iterations)]
    leaves: list[float] = []  # nodes with every count fixed, their subgradient run out
    nodes = 0
    while heap and time.perf_counter() < deadline:
        bound, _, lo, hi, dual, effort = heapq.heappop(heap)
        if bound >= upper - tolerance:
            heap.append((bound, 0, lo, hi, dual, effort))
            break
        counts = dual.region_counts
        if counts is None:
            counts = np.zeros(size)
        fraction = np.abs(counts - np.round(counts))
        score = np.where(hi > lo, fraction + 1e-3 * counts, -1.0)
        region = int(np.argmax(score))
        if score[region] < 0:  # nothing to split: a longer subgradient run, up to a limit
            if effort >= 64 * iterations:
                leaves.append(bound)
                continue
            longer = run(dual, lo, hi, 2 * effort, effort // 12)
            nodes += 1
            if max(longer.bound, bound) < upper - tolerance:
                entry = (max(longer.bound, bound), nodes, lo, hi, longer, 2 * effort)
                heapq.heappush(heap, entry)
            continue
        split = math.floor(counts[region]) if fraction[region] > 1e-6 else round(counts[region]) - 1
        split = min(max(split, int(lo[region])), int(hi[region]) - 1)
        below, above = hi.copy(), lo.copy()
        below[region], above[region] = split, split + 1
        for child_lo, child_hi in ((lo, below), (above, hi)):
            if child_lo.sum() > inst.p or child_hi.sum() < inst.p:
                continue
            child = run(dual, child_lo, child_hi, iterations, iterations // 25)
            nodes += 1
            child_bound = max(child.bound, bound)
            log.debug(
                "regional node %d: region %d in [%d, %d], bound %.6g (parent %.6g)",
                nodes,
                region,
                child_lo[region],
                child_hi[region],
                child.bound,
                bound,
            )
            if child_bound < upper - tolerance:
                entry = (child_bound, nodes, child_lo, child_hi, child, iterations)
                heapq.heappush(heap, entry)
    least = min([b for b, *_ in heap] + leaves, default=upper)
    return min(least, upper), nodes


def _site_fixing(inst: _Instance, bound: float, values: NDArray, upper: float):
    """Sites that stay closed / open in every solution better than ``upper``."""
    m = inst.m
    free = np.flatnonzero(inst.allowed & ~np.isin(np.arange(m), inst.fixed))
    need = inst.p - len(inst.fixed)
    order = free[np.argsort(values[free], kind="stable")]
    inside, outside = order[:need], order[need:]
    closed = np.zeros(m, dtype=bool)
    opened = np.zeros(m, dtype=bool)
    slack = upper - bound + 1e-9 * max(1.0, abs(upper))
    if need and len(outside):
        last_in, first_out = values[inside[-1]], values[outside[0]]
        closed[outside] = values[outside] - last_in > slack
        opened[inside] = first_out - values[inside] > slack
    return closed, opened


# -- the LP by column and row generation --------------------------------------


class _Model:
    """The restricted LP / MIP: y (m), then x columns for chosen (client, site) pairs."""

    def __init__(self, inst: _Instance) -> None:
        self.inst = inst
        n, m = inst.n, inst.m
        self.cap_row = np.full(m, -1)
        has_cap = np.isfinite(inst.upper) & inst.allowed
        self.cap_row[has_cap] = n + 1 + np.arange(int(has_cap.sum()))
        has_low = (inst.lower > 0) & inst.allowed
        first_low = n + 1 + int(has_cap.sum())
        self.low_row = np.full(m, -1)
        self.low_row[has_low] = first_low + np.arange(int(has_low.sum()))
        self.n_rows = first_low + int(has_low.sum())
        # VUBs x_ij <= y_j are needed for correctness only where the capacity row
        # does not imply them: zero-load clients and sites without a capacity
        self.needs_vub = (inst.loads[:, None] <= 0) | ~np.isfinite(inst.upper)[None, :]

    def column_matrix(self, ci: NDArray, cj: NDArray) -> sparse.csc_matrix:
        """Constraint coefficients of x columns (ci, cj) over the base rows."""
        inst = self.inst
        k = len(ci)
        col = np.arange(k)
        rows, cols, values = [ci], [col], [np.ones(k)]
        for row_of in (self.cap_row, self.low_row):
            has = row_of[cj] >= 0
            rows.append(row_of[cj[has]])
            cols.append(col[has])
            values.append(inst.loads[ci[has]])
        return sparse.csc_matrix(
            (np.concatenate(values), (np.concatenate(rows), np.concatenate(cols))),
            shape=(self.n_rows, k),
        )

    def base(self, ci: NDArray, cj: NDArray, *, integer: bool, y_upper=None, y_lower=None):
        """A HighsLp with y, the x columns (ci, cj) and the base rows."""
        inst = self.inst
        n, m = inst.n, inst.m
        y_cols = np.arange(m)
        y_rows = [np.full(m, n)]
        y_values = [np.ones(m)]
        for row_of, amount in ((self.cap_row, inst.upper), (self.low_row, inst.lower)):
            has = row_of >= 0
            y_rows.append(row_of[has])
            y_values.append(-amount[has])
        y_cols_all = np.concatenate(
            [y_cols] + [y_cols[row_of >= 0] for row_of in (self.cap_row, self.low_row)]
        )
        y_part = sparse.csc_matrix(
            (np.concatenate(y_values), (np.concatenate(y_rows), y_cols_all)), shape=(self.n_rows, m)
        )
        matrix = sparse.hstack([y_part, self.column_matrix(ci, cj)], format="csc")
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = m + len(ci), self.n_rows
        lp.col_cost_ = np.concatenate([inst.site_cost, inst.weighted[ci, cj]])
        lower = np.zeros(m) if y_lower is None else y_lower
        upper = inst.allowed.astype(float) if y_upper is None else y_upper
        lower = lower.copy()
        lower[inst.fixed] = 1.0
        lp.col_lower_ = np.concatenate([lower, np.zeros(len(ci))])
        lp.col_upper_ = np.concatenate([upper, np.full(len(ci), INF if not integer else 1.0)])
        row_lower = np.full(self.n_rows, -INF)
        row_upper = np.full(self.n_rows, INF)
        row_lower[:n] = row_upper[:n] = 1.0
        row_lower[n] = row_upper[n] = inst.p
        row_upper[self.cap_row[self.cap_row >= 0]] = 0.0
        row_lower[self.low_row[self.low_row >= 0]] = 0.0
        lp.row_lower_, lp.row_upper_ = row_lower, row_upper
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = matrix.indptr.astype(np.int32)
        lp.a_matrix_.index_ = matrix.indices.astype(np.int32)
        lp.a_matrix_.value_ = matrix.data
        if integer:
            x_type = (
                highspy.HighsVarType.kContinuous
                if inst.splittable
                else highspy.HighsVarType.kInteger
            )
            lp.integrality_ = [highspy.HighsVarType.kInteger] * m + [x_type] * len(ci)
        return lp

    @staticmethod
    def add_vubs(h: highspy.Highs, x_cols: NDArray, y_cols: NDArray) -> None:
        """Rows x - y <= 0 for pairs of HiGHS column indices."""
        k = len(x_cols)
        if not k:
            return
        index = np.empty(2 * k, dtype=np.int32)
        value = np.empty(2 * k)
        index[0::2], index[1::2] = x_cols, y_cols
        value[0::2], value[1::2] = 1.0, -1.0
        h.addRows(
            k,
            np.full(k, -INF),
            np.zeros(k),
            2 * k,
            np.arange(0, 2 * k, 2, dtype=np.int32),
            index,
            value,
        )


def _nearest_columns(inst: _Instance, k: int) -> NDArray[np.bool_]:
    """Mask of each client's k cheapest eligible sites."""
    masked = np.where(inst.eligible, inst.weighted, np.inf)
    k = min(k, inst.m)
    part = np.argpartition(masked, k - 1, axis=1)[:, :k]
    chosen = np.zeros_like(inst.eligible)
    np.put_along_axis(chosen, part, True, axis=1)
    return chosen & inst.eligible


def _solve_lp(
    inst: _Instance, model: _Model, included: NDArray[np.bool_], deadline, max_rounds=200
):
    """LP relaxation by pricing columns and separating VUBs.

    Returns ``(status, bound, rc_x, rc_y, y, vub_mask, included, priced)``; ``rc_x``
    is n x m with inf where ineligible.
    ``status`` is ``"optimal"``, ``"infeasible"`` or ``"time_limit"``.
    """
    n, m = inst.n, inst.m
    ci, cj = np.nonzero(included)
    h = new_highs()
    h.passModel(model.base(ci, cj, integer=False))
    position = np.full((n, m), -1, dtype=np.int64)  # HiGHS column of x_ij
    position[ci, cj] = m + np.arange(len(ci))
    vub = np.zeros((n, m), dtype=bool)
    # small models get every VUB at once; large ones only the violated ones, lazily
    required = included if included.sum() <= EAGER_VUB_COLUMNS else included & model.needs_vub
    ri, rj = np.nonzero(required)
    model.add_vubs(h, position[ri, rj], rj)
    vub[ri, rj] = True
    priced = 0
    status = "time_limit"
    for _ in range(max_rounds):
        if deadline is not None:
            if deadline - time.perf_counter() <= 0:
                break
            set_deadline(h, deadline)
        h.run()
        model_status = h.getModelStatus()
        if model_status == highspy.HighsModelStatus.kInfeasible:
            status = "infeasible"
            break
        if model_status != highspy.HighsModelStatus.kOptimal:
            break
        solution = h.getSolution()
        x_all = np.asarray(solution.col_value)
        row_dual = np.asarray(solution.row_dual)
        u = row_dual[:n]
        site_dual = np.zeros(m)
        for row_of in (model.cap_row, model.low_row):
            has = row_of >= 0
            site_dual[has] += row_dual[row_of[has]]
        rc = inst.weighted - u[:, None] - inst.loads[:, None] * site_dual[None, :]
        rc[~inst.eligible] = np.inf
        # 1. VUBs violated by the LP point
        y = x_all[:m]
        x = np.zeros((n, m))
        x[ci, cj] = x_all[m:]
        violated = (x > y[None, :] + 1e-6) & ~vub
        vi, vj = np.nonzero(violated)
        # 2. columns with negative reduced cost (at most 4 per client per round)
        candidate = np.where(included, np.inf, rc)
        negative = candidate < -TOLERANCE * np.maximum(1.0, np.abs(inst.weighted))
        if negative.any():
            keep = min(4, m)
            part = np.argpartition(candidate, keep - 1, axis=1)[:, :keep]
            best = np.zeros_like(negative)
            np.put_along_axis(best, part, True, axis=1)
            negative &= best
        ni, nj = np.nonzero(negative)
        log.debug(
            "LP round: value %.6g, %d columns, %d VUB violations, %d priced, %s, %.2f s",
            h.getInfo().objective_function_value,
            len(ci),
            len(vi),
            len(ni),
            h.modelStatusToString(model_status),
            h.getRunTime(),
        )
        if not len(vi) and not len(ni):
            status = "optimal"
            break
        if len(ni):
            matrix = model.column_matrix(ni, nj)
            h.addCols(
                len(ni),
                inst.weighted[ni, nj],
                np.zeros(len(ni)),
                np.full(len(ni), INF),
                matrix.nnz,
                matrix.indptr[:-1].astype(np.int32),
                matrix.indices.astype(np.int32),
                matrix.data,
            )
            start = h.getNumCol() - len(ni)
            position[ni, nj] = start + np.arange(len(ni))
            included[ni, nj] = True
            ci, cj = np.concatenate([ci, ni]), np.concatenate([cj, nj])
            priced += len(ni)
            need = model.needs_vub[ni, nj]
            model.add_vubs(h, position[ni[need], nj[need]], nj[need])
            vub[ni[need], nj[need]] = True
        if len(vi):
            model.add_vubs(h, position[vi, vj], vj)
            vub[vi, vj] = True
    if status != "optimal":
        return status, None, None, None, None, vub, included, priced
    solution = h.getSolution()
    col_dual = np.asarray(solution.col_dual)
    rc[ci, cj] = col_dual[m:]  # included columns: HiGHS's reduced costs (VUB duals in)
    bound = float(h.getInfo().objective_function_value)
    return (
        status,
        bound,
        rc,
        col_dual[:m],
        np.asarray(solution.col_value)[:m],
        vub,
        included,
        priced,
    )


# -- the public entry ------------------------------------------------------------


def solve_capacitated(
    costs: NDArray[np.float64],
    weights: NDArray[np.float64] | None,
    p: int,
    capacity: float | NDArray[np.float64] | None,
    *,
    loads: NDArray[np.float64] | None = None,
    lower_load: float | NDArray[np.float64] | None = None,
    upper_load: float | NDArray[np.float64] | None = None,
    fixed: list[int] | tuple[int, ...] = (),
    forbidden: list[int] | tuple[int, ...] = (),
    site_cost: float | NDArray[np.float64] | None = None,
    max_cost: NDArray[np.float64] | None = None,
    time_limit_s: float | None = None,
    mip_rel_gap: float = 0.0,
    start: list[int] | None = None,
    max_mip_columns: int = MAX_MIP_COLUMNS,
    threads: int = 1,
    site_regions: NDArray[np.int64] | None = None,
) -> CapacitatedResult:
    """Solve a single-source capacitated p-median exactly, or to a proven gap.

    Minimises ``sum_ij weights_i costs_ij x_ij + sum_j site_cost_j y_j`` over
    ``p`` open sites, each client assigned to exactly one open site, each open
    site's summed client load within ``[lower_load_j, min(capacity_j, upper_load_j)]``.

    Parameters
    ----------
    costs
        n clients x m candidate sites, non-negative and finite (e.g. minutes).
    weights
        Client weights in the objective (1 each when None).
    p
        Number of sites to open.
    capacity
        Most summed load an open site may serve: one number, one per site, or
        None (no capacity).
    loads
        What each client counts against capacity and load bands; ``weights``
        when None. (OR-Library's pmedcap: weights 1, loads = demand.)
    lower_load, upper_load
        Per-site load band of an open site (one number or one per site), e.g.
        a balance band ``(1 -/+ b) * total / p``. A closed site carries no load.
    fixed, forbidden
        Column indices that must be open / stay closed.
    site_cost
        Cost added per open site (one number or one per site).
    max_cost
        Per client, the largest cost of a site it may be assigned to (a hard
        spread); None: any.
    time_limit_s
        Stop after about this many seconds with the best solution and a proven bound.
    mip_rel_gap
        Relative gap at which the MIP may stop (0: prove optimality).
    start
        Column indices of a known site set, tried as a heuristic start.
    max_mip_columns
        Most assignment columns in the restricted MIP; beyond it the column set is
        cut below the proven-safe threshold and the reported bound accounts for it.
    threads
        Threads HiGHS may use in the MIP.
    site_regions
        A region per site (integers from 0, e.g. its county). At scale the bound
        is then raised by branching on how many sites each region holds
        (:func:`_regional_search`); without it the bound is the Lagrangian's.

    Returns
    -------
    CapacitatedResult
        Open sites, assignment, objective, proven lower bound, status and gap.

    Raises
    ------
    DataError
        Malformed input (shapes, NaN, negative costs, p out of range, ...).
    ScenarioError
        Capacities that cannot hold the total load, or a client too big for (or
        beyond ``max_cost`` of) every site.

    """
    started = time.perf_counter()
    inst = _Instance(
        costs,
        weights,
        p,
        capacity,
        loads,
        lower_load,
        upper_load,
        fixed,
        forbidden,
        site_cost,
        max_cost,
    ).aggregated()
    deadline = None if time_limit_s is None else started + time_limit_s
    if site_regions is not None:
        site_regions = np.asarray(site_regions)
        if (
            site_regions.shape != (inst.m,)
            or not np.issubdtype(site_regions.dtype, np.integer)
            or (site_regions < 0).any()
        ):
            raise DataError(
                f"site_regions must be {inst.m} integers >= 0, one region per site",
                source="capacitated p-median input",
            )
        site_regions = site_regions.astype(np.int64)
    timings: dict[str, float] = {}
    n, m = inst.n, inst.m  # n rows: clients, or groups of identical clients

    # 1. heuristic incumbent (a share of the time limit at most)
    heuristic_deadline = None if time_limit_s is None else started + 0.25 * time_limit_s
    upper, best_sites, best_assignment = capacitated_heuristic(
        inst, start=start, deadline=heuristic_deadline
    )
    heuristic_objective = upper
    clock = [started]

    def stage(name: str) -> None:  # the seconds since the last stage, added to ``name``
        now = time.perf_counter()
        timings[name] = timings.get(name, 0.0) + now - clock[0]
        clock[0] = now

    stage("heuristic_s")
    lp_bound: float | None = None
    priced = 0
    # at scale the LP (n*m columns by pricing, n*m VUB rows) does not finish within
    # minutes on HiGHS: with a deadline, the time goes to the incumbent instead, and the
    # bound is the Lagrangian's
    at_scale = deadline is not None and n * m > LP_MAX_PAIRS
    if at_scale and best_assignment is not None:
        # search first: the subgradient's Polyak steps aim at the incumbent, and a
        # near-optimal one gives a better bound sooner than the heuristic's
        upper, best_sites, best_assignment = perturbed_search(
            inst,
            (upper, best_sites, best_assignment),
            deadline=started + (0.3 if site_regions is None else 0.1) * time_limit_s,
        )
        stage("search_s")

    def result(status, sites, assignment, objective, bound, columns=0, exact=False):
        seconds = time.perf_counter() - started
        timings["mip_s"] = seconds - sum(v for key, v in timings.items() if key != "mip_s")
        if assignment is None:
            assignment = np.full(inst.clients, -1, dtype=np.int64)
        log.info(
            "capacitated p-median: %s, objective %.6g, bound %.6g, LP %.6g, %d of %d columns, "
            "%.2f s",
            status,
            objective,
            bound,
            lp_bound if lp_bound is not None else math.nan,
            columns,
            n * m,
            seconds,
        )
        return CapacitatedResult(
            sites=tuple(sorted(int(s) for s in sites)),
            assignment=np.asarray(assignment, dtype=np.int64),
            objective=objective,
            lower_bound=bound,
            status=status,
            seconds=seconds,
            heuristic_objective=heuristic_objective,
            lp_bound=lp_bound if lp_bound is not None else -math.inf,
            columns=columns,
            priced=priced,
            exact_restriction=exact,
            timings=timings,
        )

    # 2. Lagrangian bound (knapsack per site); sites it prices out of any better
    # solution are closed in the LP and MIP below
    lagrangian_deadline = None if time_limit_s is None else started + 0.5 * time_limit_s
    # at scale the bound is the Lagrangian's: more patience, closer to the LP bound (less
    # with regions: the regional search goes on from its multipliers)
    effort = (
        {"iterations": 20_000, "patience": 100 if site_regions is None else 50} if at_scale else {}
    )
    if at_scale:
        lagrangian_deadline = started + 0.65 * time_limit_s
    regions = None
    if site_regions is not None:  # the root also averages the regions' counts (branching)
        size = int(site_regions.max()) + 1
        regions = _Regions(
            site_regions,
            np.zeros(size, dtype=np.int64),
            np.bincount(site_regions, minlength=size),
        )
    root = _lagrangian(inst, upper, lagrangian_deadline, **effort, regions=regions)
    lagrangian_bound, values, site_sets = root.bound, root.values, root.site_sets
    lagrangian_sites = site_sets[-1] if site_sets else []
    if len(lagrangian_sites) == inst.p and tuple(lagrangian_sites) != tuple(best_sites):
        cost, assignment = inst.assign(lagrangian_sites, deadline=lagrangian_deadline)
        if cost < upper - 1e-9 * max(1.0, abs(upper)):
            log.info("Lagrangian sites improve the incumbent: %.6g -> %.6g", upper, cost)
            upper, best_sites, best_assignment = cost, lagrangian_sites, assignment
    stage("lagrangian_s")
    full = inst
    if values is not None and best_assignment is not None:
        closed, opened = _site_fixing(inst, lagrangian_bound, values, upper)
        closed[best_sites] = False
        opened &= np.isin(np.arange(m), best_sites)
        inst = copy.copy(inst)
        inst.allowed = full.allowed & ~closed
        inst.eligible = full.eligible & inst.allowed[None, :]
        inst.fixed = sorted(set(full.fixed) | set(np.flatnonzero(opened).tolist()))
        log.info(
            "capacitated Lagrangian: bound %.6g, heuristic %.6g; %d sites closed, %d fixed open",
            lagrangian_bound,
            upper,
            int(closed.sum()),
            int(opened.sum()),
        )

    if best_assignment is not None and lagrangian_bound >= upper - 1e-6 * max(1.0, abs(upper)):
        timings["lp_s"] = 0.0
        return result("optimal", best_sites, best_assignment, upper, upper)

    if at_scale and best_assignment is not None:
        # the last stage stops a little early, so that the answer is back within the limit
        # (a search move or a node's rounds overrun their deadline by milliseconds)
        finish = deadline - min(0.5, 0.01 * time_limit_s)
        # with regions, the search gets a share and the rest goes to the regional search
        search_deadline = finish
        if regions is not None:
            search_deadline = min(finish, time.perf_counter() + 0.05 * time_limit_s)
        upper, best_sites, best_assignment = perturbed_search(
            inst, (upper, best_sites, best_assignment), deadline=search_deadline, starts=site_sets
        )
        stage("search_s")
        bound = lagrangian_bound
        if regions is not None:
            # never below the root's: every node's bound is at least its parent's
            bound, nodes = _regional_search(
                inst, site_regions, root, upper, finish, REGIONAL_ITERATIONS
            )
            log.info("regional search: bound %.6g after %d nodes", bound, nodes)
            stage("regions_s")
        bound = min(bound, upper)
        proven = upper - bound <= 1e-6 * max(1.0, abs(upper))
        return result(
            "optimal" if proven else "time_limit", best_sites, best_assignment, upper, bound
        )

    # 3. the LP over k nearest columns + the incumbent's, priced to the full LP
    k = max(4, math.ceil(2 * int(inst.allowed.sum()) / inst.p))
    included = _nearest_columns(inst, k)
    if best_assignment is not None:
        included[inst.group, best_assignment] = True
    model = _Model(inst)
    first_columns = int(included.sum())
    lp_status, lp_bound, rc, rc_y, y_lp, vub, included, priced = _solve_lp(
        inst, model, included, deadline
    )
    stage("lp_s")

    if lp_status == "infeasible":
        return result("infeasible", (), None, math.inf, math.inf)
    if lp_status != "optimal":
        trivial = float(np.where(full.eligible, full.weighted, np.inf).min(axis=1).sum())
        trivial = max(trivial, lagrangian_bound)
        if best_assignment is None:
            return result("time_limit", (), None, math.inf, trivial)
        return result("time_limit", best_sites, best_assignment, upper, min(trivial, upper))
    log.info(
        "capacitated LP: bound %.6g, %d first columns + %d priced, %d VUB rows; heuristic %.6g",
        lp_bound,
        first_columns,
        priced,
        int(vub.sum()),
        upper,
    )

    # 4. restricted MIPs over columns with reduced cost <= delta, delta growing to the gap
    scale = 1e-9 * max(1.0, abs(lp_bound))
    # a column's reduced cost per client: a row of d identical clients may send just
    # one of them along it (share 1 / d), which costs rc / d more than the LP bound
    rc = rc / inst.multiplicity[:, None]
    eligible_rc = rc[inst.eligible]
    delta = (upper - lp_bound) if math.isfinite(upper) else float(np.max(eligible_rc))
    if (eligible_rc <= delta + scale).sum() > max_mip_columns:
        delta = float(np.partition(eligible_rc, max_mip_columns - 1)[max_mip_columns - 1])
    bound = lp_bound
    status = "time_limit"
    columns = 0
    exact = False
    tried_delta = -math.inf
    while True:
        gap_now = upper - lp_bound if math.isfinite(upper) else math.inf
        exact = delta >= gap_now - scale
        # sites whose reduced cost exceeds the gap stay closed (or open)
        y_upper = inst.allowed.astype(float)
        y_lower = np.zeros(m)
        if math.isfinite(gap_now):
            at_lower = y_lp < 0.5
            y_upper[at_lower & (rc_y > gap_now + scale)] = 0.0
            y_lower[~at_lower & (-rc_y > gap_now + scale)] = 1.0
            if best_sites:
                y_upper[best_sites] = np.maximum(y_upper[best_sites], 1.0)
                y_lower[[j for j in range(m) if j not in best_sites]] = 0.0
        chosen = (rc <= delta + scale) & inst.eligible & (y_upper[None, :] > 0)
        if best_assignment is not None:
            chosen[inst.group, best_assignment] = True
        excluded = inst.eligible & ~chosen & (y_upper[None, :] > 0)
        outside = float(rc[excluded].min()) if excluded.any() else math.inf
        outside_bound = lp_bound + outside
        ci, cj = np.nonzero(chosen)
        columns = len(ci)
        h = new_highs(threads)
        h.passModel(model.base(ci, cj, integer=True, y_upper=y_upper, y_lower=y_lower))
        position = np.full((n, m), -1, dtype=np.int64)
        position[ci, cj] = m + np.arange(len(ci))
        want = chosen & (vub | model.needs_vub)
        vi, vj = np.nonzero(want)
        model.add_vubs(h, position[vi, vj], vj)
        h.setOptionValue("mip_rel_gap", mip_rel_gap)
        if best_assignment is not None:
            warm = np.zeros(m + len(ci))
            warm[best_sites] = 1.0
            np.add.at(
                warm,
                position[inst.group, best_assignment],
                1.0 / inst.multiplicity[inst.group],
            )
            solution = highspy.HighsSolution()
            solution.col_value = warm.tolist()
            h.setSolution(solution)
        if deadline is not None:
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                break
            set_deadline(h, deadline, mip=True)
        h.run()
        info = h.getInfo()
        model_status = h.getModelStatus()
        if info.primal_solution_status == 2:
            x = np.asarray(h.getSolution().col_value)
            sites = np.flatnonzero(x[:m] > 0.5).tolist()
            amounts = x[m:] * inst.multiplicity[ci]  # clients sent along each column
            assignment = inst.expand(ci, cj, amounts)
            if assignment is None or (
                not inst.splittable and np.abs(x[m:] - np.round(x[m:])).max(initial=0) > 1e-6
            ):
                _, assignment = inst.assign(sites, deadline=deadline)  # a vertex of the same cost
            if assignment is not None and inst.feasible(sites, assignment):
                cost = inst.cost_of(sites, assignment)
                if cost < upper - 1e-9 * max(1.0, abs(upper)):
                    upper, best_sites, best_assignment = cost, sites, assignment
        restricted = float(info.mip_dual_bound) if np.isfinite(info.mip_dual_bound) else lp_bound
        if model_status == highspy.HighsModelStatus.kInfeasible:
            restricted = math.inf
        bound = max(lp_bound, lagrangian_bound, min(restricted, outside_bound))
        tried_delta = delta
        log.info(
            "restricted MIP: delta %.6g (%s), %d columns, status %s, incumbent %.6g, bound %.6g",
            delta,
            "exact" if exact else "cut",
            columns,
            h.modelStatusToString(model_status),
            upper,
            bound,
        )
        if upper - bound <= max(1e-9 * max(1.0, abs(upper)), mip_rel_gap * abs(upper)):
            status = "optimal" if upper - bound <= 1e-6 * max(1.0, abs(upper)) else "gap_reached"
            break
        if model_status == highspy.HighsModelStatus.kOptimal and mip_rel_gap > 0 and exact:
            status = "gap_reached"
            break
        if exact or (deadline is not None and time.perf_counter() >= deadline):
            break
        if (
            model_status != highspy.HighsModelStatus.kOptimal
            and model_status != highspy.HighsModelStatus.kInfeasible
        ):
            break  # out of time inside the MIP
        # the restricted optimum did not beat the omitted columns' bound: widen
        gap_now = upper - lp_bound
        delta = min(gap_now, max(2 * tried_delta, tried_delta + 1e-6 * max(1.0, abs(upper))))
        if (eligible_rc <= delta + scale).sum() > 4 * max_mip_columns:
            delta = float(
                np.partition(eligible_rc, 4 * max_mip_columns - 1)[4 * max_mip_columns - 1]
            )
            if delta <= tried_delta:
                break
    if best_assignment is None:
        if bound == math.inf:
            return result("infeasible", (), None, math.inf, math.inf, columns, exact)
        return result(
            status if status != "optimal" else "time_limit",
            (),
            None,
            math.inf,
            bound,
            columns,
            exact,
        )
    if status == "optimal":
        bound = max(bound, upper - 1e-6 * max(1.0, abs(upper)))
    bound = min(bound, upper)
    return result(status, best_sites, best_assignment, upper, bound, columns, exact)
