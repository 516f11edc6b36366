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
   reaches 1, found for all clients at once with numpy; the LP's rounding,
   improved by the same local search, may replace the incumbent, and sites whose
   reduced cost lifts the bound above it are closed and leave the model;
3. the master MIP over the generated cuts is solved by HiGHS from the
   incumbent; if its solution under-charges a client, that client's cut at the
   integer point is added and the MIP solved again. When no cut is violated the
   master's optimum is the p-median's optimum.

The model is built from arrays (CSR rows), never from Python loops over n*m terms.

The coordinate path without a dense matrix (TSPLIB ``sw24978``) lives in
:mod:`siting.model.points`: many clients and few open sites call for cuts summed
over client groups and sites priced in by a Lagrangian bound.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field, replace
from numbers import Integral, Real

import highspy
import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy import sparse

from siting.errors import DataError, InfeasibleError, SitingError
from siting.model.heuristics import (
    assignment_cost,
    constrained_greedy,
    constrained_search,
    greedy,
    swap_search,
)
from siting.model.milp import new_highs, set_deadline
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
    timings
        Seconds per phase (heuristic, LP, MIP).
    site_charges
        The open sites' fixed charges included in ``objective``.

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
    site_charges: float = 0.0

    @property
    def gap(self) -> float:
        """Relative gap between ``objective`` and ``lower_bound`` (0 when proven optimal)."""
        if self.objective == 0:
            return 0.0
        return max(0.0, (self.objective - self.lower_bound) / abs(self.objective))


#: Totals above this lose the precision the solver's tolerances need.
MAX_TOTAL = 1e15

#: Local-search moves from the greedy start before the LP (plain p-median): the LP's
#: rounding is then searched to a local optimum. Measured on OR-Library pmed1-40 (sum
#: of solve times, loaded 2-core machine): 50.3 s with a full search first, 39.6 s
#: with 10 moves (pmed34, p = 140: 1.5 s of heuristic -> 0.1 s).
START_MOVES = 10


class SolverLimitError(SitingError, RuntimeError):
    """The time limit passed before any solution meeting the hard rules was found."""


class PMedianInfeasibleError(InfeasibleError):
    """No set of sites meets every hard rule given to :func:`solve_pmedian`.

    Attributes
    ----------
    conflict
        The hard rules in force (``"p"``, ``"fixed"``, ``"forbidden"``,
        ``"max_cost"``, ``"conflicts"``, ``"min_covered_weight"``).
    restoring
        The rules whose removal alone restores feasibility (may be empty).

    """


@dataclass(frozen=True)
class _Rules:
    """Validated site rules, in column indices."""

    p_min: int
    p_max: int
    fixed: list[int]
    forbidden: list[int]
    site_cost: NDArray[np.float64]
    cap: NDArray[np.float64] | None  # per client; inf where uncapped
    conflicts: NDArray[np.int64]  # (k, 2)
    cover_radius: float | None
    min_covered_weight: float | None

    @property
    def pure(self) -> bool:
        return (
            self.p_min == self.p_max
            and not self.site_cost.any()
            and self.cap is None
            and not len(self.conflicts)
            and self.min_covered_weight is None
        )

    def active(self, m: int) -> list[str]:
        """Names of the hard rules in force."""
        names = []
        if self.p_min > 1 or self.p_max < m:
            names.append("p")
        for name, on in (
            ("fixed", self.fixed),
            ("forbidden", self.forbidden),
            ("max_cost", self.cap is not None),
            ("conflicts", len(self.conflicts)),
            ("min_covered_weight", self.min_covered_weight is not None),
        ):
            if on:
                names.append(name)
        return names

    def without(self, name: str, m: int) -> _Rules:
        """The same rules with one of them dropped."""
        changes: dict = {
            "p": {"p_min": 1, "p_max": m},
            "fixed": {"fixed": []},
            "forbidden": {"forbidden": []},
            "max_cost": {"cap": None},
            "conflicts": {"conflicts": np.zeros((0, 2), dtype=np.int64)},
            "min_covered_weight": {"min_covered_weight": None, "cover_radius": None},
        }[name]
        return replace(self, **changes)


class _Cuts:
    """Generates Benders cuts for all clients at once from a dense cost matrix."""

    def __init__(self, costs: NDArray[np.float64]) -> None:
        self.costs = costs
        self.k = costs.shape[0]
        self.floor = costs.min(axis=1)
        self.order = np.argsort(costs, axis=1, kind="stable")
        self.sorted = np.take_along_axis(costs, self.order, axis=1)
        self.rows = np.arange(costs.shape[0])
        self.seen: set[tuple[int, float]] = set()

    def to_sites(self, sites) -> NDArray[np.float64]:
        """Every client's costs to ``sites`` (k x len(sites))."""
        return self.costs[:, list(sites)]

    def levels(self, y: NDArray[np.float64]) -> tuple[NDArray, NDArray]:
        """Most violated level per client at ``y`` and the cut's value there."""
        cumulative = np.cumsum(y[self.order], axis=1)
        first = np.argmax(cumulative >= 1.0 - 1e-9, axis=1)
        level = self.sorted[self.rows, first]
        value = level - np.maximum(level[:, None] - self.costs, 0.0) @ y
        return level, value

    def _fresh(self, clients: NDArray, level: NDArray) -> NDArray[np.int64]:
        """The clients whose cut at ``level`` is not in the model yet (now marked added)."""
        fresh = []
        for i in clients:
            key = (int(i), float(level[i]))
            if key not in self.seen:
                self.seen.add(key)
                fresh.append(int(i))
        return np.array(fresh, dtype=np.int64)

    def _closer(self, clients: NDArray[np.int64], level: NDArray):
        """Pairs (position in clients, site, cost) with cost below the client's level."""
        coefficient = level[clients][:, None] - self.costs[clients]
        owner, cols = np.nonzero(coefficient > 0)
        return owner, cols, self.costs[clients[owner], cols]

    def rows_for(self, clients: NDArray, level: NDArray, n_sites: int):
        """CSR arrays of the new cuts (skipping ones already added)."""
        clients = self._fresh(clients, level)
        if not len(clients):
            return None
        owner, cols, cost = self._closer(clients, level)
        lower = level[clients]
        # row r: the sites closer than its level, then theta_i
        order = np.argsort(owner, kind="stable")
        owner, cols, cost = owner[order], cols[order], cost[order]
        counts = np.bincount(owner, minlength=len(clients)) + 1
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
        indices = np.empty(int(counts.sum()), dtype=np.int64)
        values = np.empty(int(counts.sum()))
        position = np.arange(len(owner)) + owner  # row r's sites, then its theta
        indices[position] = cols
        values[position] = lower[owner] - cost
        last = starts + counts - 1
        indices[last] = n_sites + clients
        values[last] = 1.0
        return lower, starts.astype(np.int32), indices.astype(np.int32), values


def _is_integer(value) -> bool:
    return isinstance(value, Integral) and not isinstance(value, bool)


def _columns(values, m: int, what: str, problems: list[str]) -> list[int]:
    """Column indices from a list, each problem named."""
    try:
        items = list(np.asarray(values, dtype=object).ravel()) if values is not None else []
    except (TypeError, ValueError):
        problems.append(f"{what} must be a list of column indices, got {values!r}")
        return []
    bad = [v for v in items if not _is_integer(v) or not 0 <= int(v) < m]
    if bad:
        problems.append(
            f"{what} must hold column indices from 0 to {m - 1}, "
            f"got {', '.join(map(repr, bad[:5]))}"
        )
        return []
    return sorted({int(v) for v in items})


def _float_array(values, shape: tuple[int, ...], what: str, problems: list[str]):
    try:
        array = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        problems.append(f"{what} must be numbers, got {values!r:.60}")
        return None
    if array.shape != shape:
        problems.append(f"{what} must have shape {shape}, got {array.shape}")
        return None
    return array


def _validate(
    costs,
    p,
    weights,
    *,
    p_min,
    p_max,
    fixed,
    forbidden,
    site_cost,
    max_cost,
    conflicts,
    cover_radius,
    min_covered_weight,
    time_limit_s,
    mip_rel_gap,
    threads,
) -> tuple[NDArray[np.float64], NDArray[np.float64], _Rules]:
    """Check every input, collecting all problems into one :class:`DataError`."""
    source = "p-median input"
    try:
        costs = np.asarray(costs, dtype=float)
    except (TypeError, ValueError):
        raise DataError("the cost matrix must be numbers", source=source) from None
    if costs.ndim != 2:
        raise DataError(f"the cost matrix must be 2-D, got {costs.ndim}-D", source=source)
    n, m = costs.shape
    problems: list[str] = []
    if n == 0 or m == 0:
        raise DataError(
            f"the cost matrix is empty ({n} clients x {m} candidate sites)", source=source
        )
    if not np.isfinite(costs).all():
        problems.append(f"the cost matrix has {int((~np.isfinite(costs)).sum())} NaN or infinite")
    elif (costs < 0).any():
        problems.append(f"the cost matrix has {int((costs < 0).sum())} negative entries")
    w = _float_array(np.ones(n) if weights is None else weights, (n,), "weights", problems)
    if w is not None and (not np.isfinite(w).all() or (w < 0).any()):
        problems.append("weights must be one finite non-negative number per client")
        w = None
    if w is not None and np.isfinite(costs).all():
        total = float(w @ costs.max(axis=1))
        if not total < MAX_TOTAL:
            problems.append(f"weighted costs add up to {total:.3g}: scale them below {MAX_TOTAL:g}")
    fixed = _columns(fixed, m, "fixed", problems)
    forbidden = _columns(forbidden, m, "forbidden", problems)
    allowed = m - len(forbidden)
    bounds = {"p": p, "p_min": p_min, "p_max": p_max}
    for name, value in bounds.items():
        if value is not None and not _is_integer(value):
            problems.append(f"{name} must be a whole number of sites, got {value!r}")
            bounds[name] = None
    p, p_min, p_max = bounds["p"], bounds["p_min"], bounds["p_max"]
    if p is not None and (p_min is not None or p_max is not None):
        problems.append("give either p or a range p_min/p_max, not both")
    if p is not None:
        low = high = int(p)
        if not 1 <= p <= allowed:
            problems.append(
                f"p must be between 1 and {allowed} (the allowed candidate sites), got {p}"
            )
    else:
        low = 1 if p_min is None else int(p_min)
        high = allowed if p_max is None else int(p_max)
        if not 1 <= low <= allowed:
            problems.append(f"p_min must be between 1 and {allowed}, got {low}")
        if high < 1:
            problems.append(f"p_max must be at least 1, got {high}")
        if low > high:
            problems.append(f"p_min = {low} exceeds p_max = {high}")
        high = min(high, allowed)
    if len(fixed) > high:
        problems.append(f"{len(fixed)} required sites exceed p = {high}")
    if set(fixed) & set(forbidden):
        both = sorted(set(fixed) & set(forbidden))
        problems.append(f"site(s) {both} are both required and forbidden")
    charge = np.zeros(m)
    if site_cost is not None:
        charge = _float_array(site_cost, (m,), "site_cost", problems)
        if charge is not None and (not np.isfinite(charge).all() or (charge < 0).any()):
            problems.append("site_cost must be one finite non-negative number per site")
        if charge is None or not np.isfinite(charge).all():
            charge = np.zeros(m)
    cap = None
    if max_cost is not None:
        scalar = np.ndim(max_cost) == 0
        cap = _float_array(
            np.full(n, max_cost) if scalar and _is_number(max_cost) else max_cost,
            (n,),
            "max_cost (a number or one per client)",
            problems,
        )
        if cap is not None and (np.isnan(cap).any() or (cap < 0).any()):
            problems.append("max_cost must be non-negative (inf: no limit)")
            cap = None
        if cap is not None and np.isinf(cap).all():
            cap = None
    pairs = np.zeros((0, 2), dtype=np.int64)
    if conflicts is not None and len(conflicts):
        try:
            raw = np.asarray(conflicts)
            ok = raw.ndim == 2 and raw.shape[1] == 2
            ok = ok and all(_is_integer(v) for v in raw.ravel().tolist())
        except (TypeError, ValueError):
            ok = False
        if not ok:
            problems.append("conflicts must be pairs (a, b) of column indices")
        else:
            pairs = raw.astype(np.int64)
            if (pairs < 0).any() or (pairs >= m).any():
                problems.append(f"conflicts must hold column indices from 0 to {m - 1}")
                pairs = np.zeros((0, 2), dtype=np.int64)
            elif (pairs[:, 0] == pairs[:, 1]).any():
                problems.append("a site cannot conflict with itself (pair (a, a) in conflicts)")
                pairs = np.zeros((0, 2), dtype=np.int64)
            else:
                pairs = np.unique(np.sort(pairs, axis=1), axis=0)
    if (cover_radius is None) != (min_covered_weight is None):
        problems.append("cover_radius and min_covered_weight go together")
    elif cover_radius is not None:
        if not _is_number(cover_radius) or not 0 <= cover_radius < np.inf:
            problems.append(f"cover_radius must be a finite number >= 0, got {cover_radius!r}")
        if not _is_number(min_covered_weight) or not np.isfinite(min_covered_weight):
            problems.append(
                f"min_covered_weight must be a finite number, got {min_covered_weight!r}"
            )
    if time_limit_s is not None and (not _is_number(time_limit_s) or not time_limit_s > 0):
        problems.append(f"time_limit_s must be a positive number of seconds, got {time_limit_s!r}")
    if not _is_number(mip_rel_gap) or not 0 <= mip_rel_gap <= 1:
        problems.append(f"mip_rel_gap must be between 0 and 1, got {mip_rel_gap!r}")
    if not _is_integer(threads) or threads < 1:
        problems.append(f"threads must be a positive whole number, got {threads!r}")
    if problems:
        raise DataError(problems, source=source)
    assert w is not None
    if cap is not None:
        eligible = costs <= cap[:, None]
        stranded = np.flatnonzero(~eligible.any(axis=1))
        if len(stranded):
            nearest = costs[stranded].min(axis=1)
            listed = ", ".join(
                f"{i} (nearest site {d:g}, max {c:g})"
                for i, d, c in zip(stranded[:10], nearest[:10], cap[stranded][:10], strict=True)
            )
            raise DataError(
                f"{len(stranded)} client(s) have no candidate site within max_cost: {listed}; "
                "raise max_cost or add sites",
                source=source,
            )
        if (cap >= costs.max(axis=1)).all():
            cap = None
    rules = _Rules(
        p_min=low,
        p_max=high,
        fixed=fixed,
        forbidden=forbidden,
        site_cost=charge,
        cap=cap,
        conflicts=pairs,
        cover_radius=None if cover_radius is None else float(cover_radius),
        min_covered_weight=None if min_covered_weight is None else float(min_covered_weight),
    )
    return costs, w, rules


def _is_number(value) -> bool:
    return isinstance(value, Real) and not isinstance(value, bool) and not np.isnan(value)


def _cliques(pairs: NDArray[np.int64], m: int) -> list[list[int]]:
    """A greedy clique cover of the conflict graph's edges (rows sum y <= 1)."""
    neighbours: list[set[int]] = [set() for _ in range(m)]
    for a, b in pairs.tolist():
        neighbours[a].add(b)
        neighbours[b].add(a)
    covered: set[tuple[int, int]] = set()
    cliques = []
    for a, b in pairs.tolist():
        if (a, b) in covered:
            continue
        clique = [a, b]
        for c in sorted(neighbours[a] & neighbours[b], key=lambda v: -len(neighbours[v])):
            if all(c in neighbours[v] for v in clique):
                clique.append(c)
        for u in clique:
            for v in clique:
                if u < v:
                    covered.add((u, v))
        cliques.append(sorted(clique))
    return cliques


def _csr(mask: NDArray[np.bool_]) -> tuple[NDArray, NDArray]:
    """Row starts and column indices of a boolean matrix's true entries."""
    rows, cols = np.nonzero(mask)
    starts = np.searchsorted(rows, np.arange(mask.shape[0]))
    return starts.astype(np.int32), cols.astype(np.int32)


def _cover_clients(costs, weights, rules: _Rules) -> tuple[NDArray, NDArray[np.bool_]]:
    """Clients that count for the covered weight, and their covering sites."""
    covers = costs <= rules.cover_radius
    clients = np.flatnonzero((weights > 0) & covers.any(axis=1))
    return clients, covers[clients]


def _add_site_rows(h: highspy.Highs, costs, weights, rules: _Rules, z_start: int) -> int:
    """Add the rows on y (count, covering, conflicts, covered weight); return z columns added.

    The y columns are 0..m-1; z columns (one per client that counts for the
    covered weight) are appended at ``z_start``.
    """
    m = costs.shape[1]
    h.addRow(rules.p_min, rules.p_max, m, np.arange(m, dtype=np.int32), np.ones(m))
    if rules.cap is not None:
        eligible = costs <= rules.cap[:, None]
        needed = eligible[~eligible.all(axis=1)]
        needed = np.unique(needed, axis=0)
        starts, cols = _csr(needed)
        h.addRows(
            len(needed),
            np.ones(len(needed)),
            np.full(len(needed), INF),
            len(cols),
            starts,
            cols,
            np.ones(len(cols)),
        )
    if len(rules.conflicts):
        cliques = _cliques(rules.conflicts, m)
        lengths = np.array([len(c) for c in cliques])
        starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int32)
        cols = np.concatenate(cliques).astype(np.int32)
        h.addRows(
            len(cliques),
            np.full(len(cliques), -INF),
            np.ones(len(cliques)),
            len(cols),
            starts,
            cols,
            np.ones(len(cols)),
        )
    if rules.min_covered_weight is None:
        return 0
    clients, covers = _cover_clients(costs, weights, rules)
    q = len(clients)
    h.addVars(q, np.zeros(q), np.ones(q))
    z = np.arange(z_start, z_start + q, dtype=np.int32)
    # z_i - sum_{j covers i} y_j <= 0
    rows, cols = np.nonzero(covers)
    rows = np.concatenate([np.arange(q), rows])
    order = np.argsort(rows, kind="stable")
    indices = np.concatenate([z, cols.astype(np.int32)])[order]
    values = np.concatenate([np.ones(q), -np.ones(len(cols))])[order]
    row_starts = np.searchsorted(rows[order], np.arange(q)).astype(np.int32)
    h.addRows(q, np.full(q, -INF), np.zeros(q), len(indices), row_starts, indices, values)
    minimum = rules.min_covered_weight - 1e-9 * max(1.0, abs(rules.min_covered_weight))
    h.addRow(minimum, INF, q, z, weights[clients])
    return q


def _new_feasibility(costs, weights, rules: _Rules, threads: int) -> highspy.Highs:
    m = costs.shape[1]
    h = new_highs(threads)
    lower, upper = np.zeros(m), np.ones(m)
    upper[rules.forbidden] = 0.0
    lower[rules.fixed] = 1.0
    h.addVars(m, lower, upper)
    h.changeColsIntegrality(
        m, np.arange(m, dtype=np.int32), np.full(m, highspy.HighsVarType.kInteger)
    )
    _add_site_rows(h, costs, weights, rules, m)
    return h


def _feasible_sites(
    costs, weights, rules: _Rules, threads: int, time_limit_s: float | None
) -> list[int] | None:
    """Sites meeting every hard rule (any objective), or None when none exist.

    Raises :class:`SolverLimitError` when the limit passes before either is known.
    """
    m = costs.shape[1]
    h = _new_feasibility(costs, weights, rules, threads)
    h.setOptionValue("mip_rel_gap", 1.0)  # any feasible point will do
    if time_limit_s is not None:
        h.setOptionValue("time_limit", max(time_limit_s, 0.01))
    h.run()
    status = h.getModelStatus()
    if status == highspy.HighsModelStatus.kInfeasible:
        return None
    if h.getInfo().primal_solution_status == 2:  # a feasible point
        y = np.asarray(h.getSolution().col_value)[:m]
        return np.flatnonzero(y > 0.5).tolist()
    raise SolverLimitError(
        f"no feasible set of sites found within the time limit ({time_limit_s} s): "
        f"HiGHS status {h.modelStatusToString(status)}; raise time_limit_s"
    )


def _diagnose(costs, weights, rules: _Rules, threads: int) -> PMedianInfeasibleError:
    """Which hard rules conflict, and which one's removal alone restores feasibility."""
    m = costs.shape[1]
    active = rules.active(m)
    restoring = []
    for name in active:
        try:
            if _feasible_sites(costs, weights, rules.without(name, m), threads, 30.0) is not None:
                restoring.append(name)
        except SolverLimitError:
            continue
    settings = []
    if "p" in active:
        settings.append(
            f"p = {rules.p_min}"
            if rules.p_min == rules.p_max
            else f"p in [{rules.p_min}, {rules.p_max}]"
        )
    if rules.fixed:
        settings.append(f"fixed sites {rules.fixed[:10]}")
    if rules.forbidden:
        settings.append(f"{len(rules.forbidden)} forbidden sites")
    if rules.cap is not None:
        settings.append(f"max_cost up to {float(np.max(rules.cap[np.isfinite(rules.cap)])):g}")
    if len(rules.conflicts):
        settings.append(f"{len(rules.conflicts)} conflicting site pairs")
    if rules.min_covered_weight is not None:
        settings.append(
            f"covered weight >= {rules.min_covered_weight:g} within {rules.cover_radius:g}"
        )
    fix = (
        f"dropping any one of {', '.join(restoring)} restores feasibility"
        if restoring
        else "no single rule's removal restores feasibility"
    )
    return PMedianInfeasibleError(
        f"no set of sites meets every hard rule ({'; '.join(settings)}): {fix}",
        conflict=active,
        restoring=restoring,
    )


def _breaks(costs, weights, rules: _Rules, sites) -> list[str]:
    """The hard rules that ``sites`` break (empty when feasible)."""
    sites = sorted(set(int(j) for j in sites))
    broken = []
    if not rules.p_min <= len(sites) <= rules.p_max:
        broken.append("p")
    if not set(rules.fixed) <= set(sites):
        broken.append("fixed")
    if set(rules.forbidden) & set(sites):
        broken.append("forbidden")
    if not sites:
        return broken
    if rules.cap is not None and (costs[:, sites].min(axis=1) > rules.cap).any():
        broken.append("max_cost")
    if len(rules.conflicts):
        is_open = np.zeros(costs.shape[1], dtype=bool)
        is_open[sites] = True
        if (is_open[rules.conflicts[:, 0]] & is_open[rules.conflicts[:, 1]]).any():
            broken.append("conflicts")
    if rules.min_covered_weight is not None:
        covered = (costs[:, sites] <= rules.cover_radius).any(axis=1)
        tolerance = 1e-9 * max(1.0, abs(rules.min_covered_weight))
        if float(weights[covered].sum()) < rules.min_covered_weight - tolerance:
            broken.append("min_covered_weight")
    return broken


def _value(costs, weights, rules: _Rules, sites) -> float:
    """Objective of ``sites``: weighted nearest-site cost plus the site charges."""
    return assignment_cost(costs, weights, sites) + float(rules.site_cost[list(sites)].sum())


def _moves(costs, weights, rules: _Rules, deadline: float | None):
    """A greedy start and a local search (sites -> a local optimum) under the hard rules.

    Returns ``(start, search)``: ``start()`` builds the greedy solution, ``search(seed)``
    improves ``seed`` by swaps (and, under side rules, additions and removals) until no
    move improves it. A seed that breaks a rule is not repaired.
    """
    n, m = costs.shape
    if rules.pure:
        p = rules.p_min
        work = costs
        if rules.forbidden:
            work = costs.copy()
            work[:, rules.forbidden] = costs.max() * (n + 1) + 1
        fixed = rules.fixed

        def pure_start() -> list[int]:
            return greedy(work, weights, p, fixed=fixed)

        def pure_search(seed: list[int], max_iterations: int = 10_000) -> list[int]:
            return swap_search(
                work,
                weights,
                sorted(set(seed)),
                fixed=fixed,
                max_iterations=max_iterations,
                deadline=deadline,
            )

        return pure_start, pure_search
    weighted = weights[:, None] * costs
    none_cost = float(weighted.max(axis=1).sum() + rules.site_cost.sum()) * 2 + 1.0
    if rules.cap is not None:
        weighted[costs > rules.cap[:, None]] = none_cost
    conflicts = None
    if len(rules.conflicts):
        a, b = rules.conflicts[:, 0], rules.conflicts[:, 1]
        conflicts = sparse.csr_matrix(
            (np.ones(2 * len(a)), (np.concatenate([a, b]), np.concatenate([b, a]))), shape=(m, m)
        )
    cover = None
    if rules.min_covered_weight is not None:
        cover = (costs <= rules.cover_radius, weights, rules.min_covered_weight)
    common = {
        "p_min": rules.p_min,
        "p_max": rules.p_max,
        "none_cost": none_cost,
        "fixed": rules.fixed,
        "forbidden": rules.forbidden,
        "site_cost": rules.site_cost,
        "conflicts": conflicts,
    }

    def constrained_start() -> list[int]:
        return constrained_greedy(weighted, **common)

    def search(seed: list[int], max_iterations: int = 10_000) -> list[int]:
        keeps_cover = cover is not None and "min_covered_weight" not in _breaks(
            costs, weights, rules, seed
        )
        return constrained_search(
            weighted,
            sorted(set(seed)),
            cover=cover if keeps_cover else None,
            max_iterations=max_iterations,
            deadline=deadline,
            **common,
        )

    return constrained_start, search


def _incumbent(
    costs,
    weights,
    rules: _Rules,
    start,
    threads: int,
    deadline: float | None,
    moves=None,
    max_iterations: int = 10_000,
) -> list[int]:
    """A heuristic solution that meets every hard rule (greedy, then local search).

    ``moves`` is :func:`_moves`'s pair when the caller made it already;
    ``max_iterations`` bounds the moves of each local search.
    """
    first, search = _moves(costs, weights, rules, deadline) if moves is None else moves
    seeds = [first()]
    if start is not None:
        seeds.append(sorted(set(int(j) for j in start)))
    found = [search(seed, max_iterations) for seed in seeds]
    found = [s for s in found if not _breaks(costs, weights, rules, s)]
    if not found:
        remaining = None if deadline is None else max(deadline - time.perf_counter(), 1.0)
        sites = _feasible_sites(costs, weights, rules, threads, remaining)
        if sites is None:
            raise _diagnose(costs, weights, rules, threads)
        found = [search(sites), sites]
        found = [s for s in found if not _breaks(costs, weights, rules, s)]
    return min(found, key=lambda s: _value(costs, weights, rules, s))


def solve_pmedian(
    costs: NDArray[np.float64],
    p: int | None = None,
    weights: NDArray[np.float64] | None = None,
    *,
    p_min: int | None = None,
    p_max: int | None = None,
    fixed: list[int] | tuple[int, ...] = (),
    forbidden: list[int] | tuple[int, ...] = (),
    site_cost: NDArray[np.float64] | None = None,
    max_cost: float | NDArray[np.float64] | None = None,
    conflicts: NDArray[np.int64] | list[tuple[int, int]] | None = None,
    cover_radius: float | None = None,
    min_covered_weight: float | None = None,
    time_limit_s: float | None = None,
    mip_rel_gap: float = 0.0,
    threads: int = 1,
    start: list[int] | None = None,
) -> PMedianResult:
    """Solve a p-median with site rules exactly on a dense cost matrix.

    Minimises ``sum_i w_i min_{j open} c_ij + sum_{j open} site_cost_j`` over
    the sets of open sites that meet every hard rule. Every rule is a row on the
    site variables of the Benders master (never an n x m assignment model). The
    cost matrix need not be a metric (e.g. ``c + price * max(0, c - limit)``
    prices a soft spread).

    Parameters
    ----------
    costs
        n clients x m candidate sites, non-negative and finite.
    p
        Number of sites to open; or leave it out and bound it with ``p_min``/``p_max``.
    weights
        Client weights (1 each by default).
    p_min, p_max
        Bounds on the number of open sites (defaults 1 and every allowed site).
    fixed
        Column indices that must be open.
    forbidden
        Column indices that must stay closed.
    site_cost
        Fixed charge per candidate site (m numbers >= 0), added for each open one.
    max_cost
        Pairs costing more are ineligible: every client needs an open site within
        it. A number, or one per client (``inf``: no limit for that client).
    conflicts
        Pairs ``(a, b)`` of columns that cannot both be open (a minimum separation).
    cover_radius, min_covered_weight
        Together: the weight of clients with an open site within ``cover_radius``
        must reach ``min_covered_weight``.
    time_limit_s
        Stop after about this many seconds with the best solution and a bound.
    mip_rel_gap
        Relative gap at which HiGHS may stop (0: prove optimality).
    threads
        Threads HiGHS may use.
    start
        Column indices of a known solution (e.g. a neighbouring run's): the
        search starts from it, after a local search, when it beats the greedy start.

    Returns
    -------
    PMedianResult
        Open sites, assignment, objective, proven lower bound and status.

    Raises
    ------
    DataError
        An input is malformed (named), or a client has no site within ``max_cost``.
    PMedianInfeasibleError
        No set of sites meets the hard rules; ``restoring`` names the rules whose
        removal alone restores feasibility.
    SolverLimitError
        The time limit passed before any set of sites meeting the rules was found.

    """
    started = time.perf_counter()
    costs, weights, rules = _validate(
        costs,
        p,
        weights,
        p_min=p_min,
        p_max=p_max,
        fixed=fixed,
        forbidden=forbidden,
        site_cost=site_cost,
        max_cost=max_cost,
        conflicts=conflicts,
        cover_radius=cover_radius,
        min_covered_weight=min_covered_weight,
        time_limit_s=time_limit_s,
        mip_rel_gap=mip_rel_gap,
        threads=threads,
    )
    deadline = None if time_limit_s is None else started + time_limit_s

    # 1. heuristic incumbent meeting every hard rule
    moves = _moves(costs, weights, rules, deadline)
    # under side rules the LP's rounding may break one and is not searched: search fully
    limit = START_MOVES if rules.pure else 10_000
    incumbent = _incumbent(costs, weights, rules, start, threads, deadline, moves, limit)
    timings: dict[str, float] = {"heuristic_s": time.perf_counter() - started}

    active = np.flatnonzero(weights > 0)
    sub_costs = costs[active]
    if rules.cap is not None:
        # levels above a client's farthest eligible site never bind
        farthest = np.where(costs <= rules.cap[:, None], costs, -np.inf).max(axis=1)
        sub_costs = np.minimum(sub_costs, farthest[active][:, None])
    cover_clients = (
        _cover_clients(costs, weights, rules)[0]
        if rules.min_covered_weight is not None
        else np.zeros(0, dtype=int)
    )

    # integer costs, weights and charges: every objective value is a whole number
    integral = all((a == np.round(a)).all() for a in (costs, weights, rules.site_cost))

    def evaluate(sites) -> float | None:
        if _breaks(costs, weights, rules, sites):
            return None
        return _value(costs, weights, rules, sites)

    def covered(sites) -> NDArray[np.float64]:
        z = costs[np.ix_(cover_clients, list(sites))] <= (rules.cover_radius or 0)
        return z.any(axis=1).astype(float)

    best_sites, upper, lower_bound, status, rounds, cuts, heuristic = _benders(
        _Cuts(sub_costs),
        weights[active],
        rules,
        incumbent,
        evaluate=evaluate,
        site_rows=lambda h, start_column: _add_site_rows(h, costs, weights, rules, start_column),
        covered=covered,
        improve=moves[1],
        granularity=1.0 if integral else 0.0,
        started=started,
        deadline=deadline,
        mip_rel_gap=mip_rel_gap,
        threads=threads,
        timings=timings,
    )
    assignment = np.asarray(best_sites)[np.argmin(costs[:, best_sites], axis=1)]
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
        site_charges=float(rules.site_cost[best_sites].sum()),
    )


def _benders(
    cuts: _Cuts,
    weights: NDArray[np.float64],
    rules: _Rules,
    incumbent: list[int],
    *,
    evaluate,
    site_rows,
    covered,
    started: float,
    deadline: float | None,
    mip_rel_gap: float,
    threads: int,
    timings: dict[str, float],
    granularity: float = 0.0,
    improve=None,
) -> tuple[list[int], float, float, str, int, int, float]:
    """The Benders master loop shared by the dense and the coordinate paths.

    ``cuts`` generates the cuts of the clients with positive weight (``weights``
    are theirs); ``evaluate(sites)`` is the objective of a set of open sites, or
    None when it breaks a hard rule; ``site_rows(h, start)`` adds the rows on the
    site columns and returns the number of extra columns it appended at
    ``start``; ``covered(sites)`` their values for ``sites``. When every objective
    value is a multiple of ``granularity`` (> 0), a bound within it of the incumbent
    proves it optimal. ``improve(sites)``, when given, is a local search: the LP's
    rounding is improved by it before the master, so that reduced-cost fixing and
    the master start from the best incumbent at hand.

    Returns the best sites (sorted), their objective, the proven bound, the status,
    the MIP rounds, the cuts added and the heuristic objective.
    """
    m = len(rules.site_cost)
    k = cuts.k
    upper = evaluate(incumbent)
    assert upper is not None
    heuristic_objective = upper
    h = new_highs(threads)
    lower_cols = np.concatenate([np.zeros(m), cuts.floor])
    upper_cols = np.concatenate([np.ones(m), np.full(k, INF)])
    upper_cols[rules.forbidden] = 0.0
    lower_cols[rules.fixed] = 1.0
    h.addVars(m + k, lower_cols, upper_cols)
    h.changeColsCost(
        m + k, np.arange(m + k, dtype=np.int32), np.concatenate([rules.site_cost, weights])
    )
    q = site_rows(h, m + k)

    # site j's column (-1 once the site leaves the master)
    col_of = np.arange(m)
    theta0 = m  # theta_i is column theta0 + i; covered-weight columns follow them

    def add(clients, level) -> int:
        built = cuts.rows_for(clients, level, m)
        if built is None:
            return 0
        lower, starts, indices, values = built
        # sites to their columns (-1: removed from the master), theta_i to theta0 + i
        site = indices < m
        columns = np.where(site, col_of[np.where(site, indices, 0)], theta0 + indices - m)
        kept = columns >= 0
        if not kept.all():
            row = np.repeat(np.arange(len(lower)), np.diff(np.append(starts, len(indices))))
            starts = np.searchsorted(row[kept], np.arange(len(lower))).astype(np.int32)
            columns, values = columns[kept], values[kept]
        h.addRows(
            len(lower),
            lower,
            np.full(len(lower), INF),
            len(columns),
            starts,
            columns.astype(np.int32),
            values,
        )
        return len(lower)

    def site_values(x: NDArray[np.float64]) -> NDArray[np.float64]:
        """Every site's value in a solution of the master (0 when removed from it)."""
        return np.where(col_of >= 0, x[np.maximum(col_of, 0)], 0.0)

    def columns_at(sites) -> list[float]:
        x = np.zeros(h.getNumCol())
        columns = col_of[list(sites)]
        x[columns[columns >= 0]] = 1.0  # a site removed from the master: an infeasible start
        x[theta0 : theta0 + k] = cuts.to_sites(sites).min(axis=1)
        if q:
            x[theta0 + k : theta0 + k + q] = covered(sites)
        return list(x)

    y_incumbent = np.zeros(m)
    y_incumbent[incumbent] = 1.0
    level, _ = cuts.levels(y_incumbent)
    add(np.arange(k), level)
    if len(incumbent) > 1:  # and at each client's second-nearest incumbent site
        second = np.partition(cuts.to_sites(incumbent), 1, axis=1)[:, 1]
        add(np.arange(k), second)

    # 2. LP relaxation by cutting planes (at least one round: it gives the bound)
    lp_rounds = 0
    y = np.zeros(m)
    reduced = np.zeros(m)
    # an objective known to be a multiple of `granularity` is optimal within it
    slack = 1e-9 * max(1.0, abs(upper)) if not granularity else granularity * (1 - 1e-6)

    def _rounded(y, upper, incumbent, polish=False):
        """The LP's p largest sites (improved by ``improve`` when ``polish``), if better."""
        rounded = np.argsort(-y, kind="stable")[: rules.p_max]
        rounded = sorted(rounded[y[rounded] > 1e-6].tolist())
        if len(rounded) < rules.p_min:
            return upper, incumbent
        candidates = [rounded]
        if polish and improve is not None and set(rounded) != set(incumbent):
            candidates.append(sorted(improve(rounded)))
        for sites in candidates:
            cost = evaluate(sites)
            if cost is not None and cost < upper - 1e-9 * max(1.0, abs(upper)):
                upper, incumbent = cost, sites
        return upper, incumbent

    while True:
        if lp_rounds and deadline is not None and time.perf_counter() > deadline:
            break
        if deadline is not None:
            set_deadline(h, deadline)
        clock = time.perf_counter()
        h.run()
        if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            break  # the LP itself ran out of time: keep the cuts' bound so far
        solution = np.asarray(h.getSolution().col_value)
        y, theta = site_values(solution), solution[theta0 : theta0 + k]
        level, value = cuts.levels(y)
        violated = np.flatnonzero(value - theta > 1e-6 * np.maximum(1.0, np.abs(value)))
        lp_rounds += 1
        log.debug(
            "LP round %d: %.6g in %.1f s (%d rows, %d nonzeros, %d iterations); %d violated",
            lp_rounds,
            h.getInfo().objective_function_value,
            time.perf_counter() - clock,
            h.getNumRow(),
            h.getNumNz(),
            h.getInfo().simplex_iteration_count,
            len(violated),
        )
        if len(violated) and add(violated, level):
            continue
        reduced = np.asarray(h.getSolution().col_dual)[col_of]
        break
    lp_solved = h.getModelStatus() == highspy.HighsModelStatus.kOptimal
    # without a solved LP, the trivial bound: every client at its cheapest site
    lp_bound = (
        float(h.getInfo().objective_function_value)
        if lp_solved
        else float(weights @ cuts.floor + rules.site_cost[rules.fixed].sum())
    )
    if lp_solved:  # the LP's p largest sites, after a local search, may beat the heuristic
        upper, incumbent = _rounded(y, upper, incumbent, polish=True)
    # reduced-cost fixing: a closed site whose reduced cost lifts the LP bound
    # above the incumbent cannot open in any better solution
    closable = np.zeros(0, dtype=np.int64)
    if lp_solved:
        closable = np.flatnonzero(
            (y < 1e-9) & (lp_bound + reduced > upper + 1e-9 * max(1.0, upper))
        )
    closable = np.setdiff1d(closable, rules.fixed)
    if len(closable):
        zeros = np.zeros(len(closable))
        h.changeColsBounds(len(closable), col_of[closable].astype(np.int32), zeros, zeros)
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
    # the sites closed for good leave the master: their coefficients in every cut slow
    # every node (random 2,000 x 2,000, p = 20, 1,769 sites closed: master 29.6 s -> 5.1 s)
    closed = np.union1d(closable, rules.forbidden).astype(np.int64)
    gone = col_of[closed]
    if len(gone):
        gone = np.unique(gone).astype(np.int32)
        h.deleteCols(len(gone), gone)
        col_of[closed] = -1
        alive = col_of >= 0
        col_of[alive] -= np.searchsorted(gone, col_of[alive])
        theta0 -= int(np.searchsorted(gone, theta0))
    integer = col_of[col_of >= 0].astype(np.int32)
    h.changeColsIntegrality(
        len(integer), integer, np.full(len(integer), highspy.HighsVarType.kInteger)
    )
    h.setOptionValue("mip_rel_gap", mip_rel_gap)
    if granularity:
        h.setOptionValue("mip_abs_gap", slack)
    # measured on OR-Library pmed31/pmed36: HiGHS's presolve of the master costs more than
    # it saves (pmed36: 31 s without, 110 s with, on the loaded 2-core machine)
    h.setOptionValue("presolve", "off")
    # measured on the masters of OR-Library pmed22-39 (p = 5, 10: LP gaps near 1 %): strong
    # branching and HiGHS's primal heuristics took most of the time (72 s for six masters
    # with the defaults, 27 s without); the incumbent comes from the local search above
    h.setOptionValue("mip_pscost_minreliable", 0)
    h.setOptionValue("mip_heuristic_effort", 0.0)
    for heuristic in ("rins", "rens", "feasibility_jump", "root_reduced_cost"):
        h.setOptionValue(f"mip_heuristic_run_{heuristic}", False)
    pending: list[tuple[NDArray, NDArray]] = []
    found: list[NDArray] = []

    def violations(x: NDArray) -> tuple[NDArray, NDArray, NDArray]:
        y_int = np.round(site_values(x))
        level, value = cuts.levels(y_int)
        theta = x[theta0 : theta0 + k]
        under = np.flatnonzero(value - theta > 1e-6 * np.maximum(1.0, np.abs(value)))
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
    if lp_solved and upper <= lp_bound + slack:
        status = "optimal"  # the LP bound meets the incumbent: no branching needed
    while status != "optimal":
        remaining = None if deadline is None else deadline - time.perf_counter()
        if remaining is not None and remaining <= 0:
            break
        if deadline is not None:
            set_deadline(h, deadline, mip=True)
        warm = highspy.HighsSolution()
        warm.col_value = columns_at(best_sites)
        h.setSolution(warm)
        pending.clear()
        found.clear()
        h.run()
        rounds += 1
        info = h.getInfo()
        model_status = h.getModelStatus()
        if np.isfinite(info.mip_dual_bound):
            lower_bound = max(lower_bound, float(info.mip_dual_bound))
        final = np.asarray(h.getSolution().col_value)
        if len(final) == h.getNumCol():
            _, under, level = violations(final)
            pending.append((under, level))
            found.append(np.flatnonzero(np.round(site_values(final)) > 0.5))
        for sites in found:
            cost = evaluate(sites) if len(sites) else None
            if cost is not None and cost < upper - 1e-9 * max(1.0, abs(upper)):
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
        if model_status == highspy.HighsModelStatus.kInfeasible and len(closable):
            # reduced-cost fixing left no solution better than the incumbent
            status, lower_bound = "optimal", upper
        if model_status == highspy.HighsModelStatus.kOptimal:
            status = "optimal" if mip_rel_gap == 0 else "gap_reached"
        break
    if granularity and np.isfinite(lower_bound):
        # every objective value is a multiple of it: so is the optimum, above the bound
        lower_bound = np.ceil(lower_bound / granularity - 1e-9) * granularity
    lower_bound = min(lower_bound, upper)
    if status == "optimal":
        lower_bound = min(upper, max(lower_bound, upper - 1e-6 * max(1.0, upper)))
    seconds = time.perf_counter() - started
    timings["mip_s"] = seconds - timings["heuristic_s"] - timings["lp_s"]
    log.info(
        "p-median: %s, objective %.6g, bound %.6g, %d cuts, %d MIP rounds, %.2f s",
        status,
        upper,
        lower_bound,
        len(cuts.seen),
        rounds,
        seconds,
    )
    best = sorted(best_sites)
    return best, upper, lower_bound, status, rounds, len(cuts.seen), heuristic_objective


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
    p: int | None = None,
    weights: pd.Series | None = None,
    *,
    p_min: int | None = None,
    p_max: int | None = None,
    required: list[str] | tuple[str, ...] = (),
    forbidden: list[str] | tuple[str, ...] = (),
    site_cost: pd.Series | None = None,
    max_cost: float | None = None,
    conflicts: list[tuple[str, str]] | tuple[tuple[str, str], ...] = (),
    time_limit_s: float | None = None,
    mip_rel_gap: float = 0.0,
) -> PMedianSolution:
    """Solve a p-median on a labelled cost matrix (clients x candidate sites).

    Parameters
    ----------
    matrix
        Costs (e.g. travel minutes) from each client (row) to each candidate site.
    p
        Number of sites to open; or leave it out and bound it with ``p_min``/``p_max``.
    weights
        Client id -> weight; 1 each when omitted. Must cover every row.
    p_min, p_max
        Bounds on the number of open sites.
    required
        Site ids that must be open.
    forbidden
        Site ids that must stay closed.
    site_cost
        Site id -> fixed charge of opening it (0 for sites not listed).
    max_cost
        Every client needs an open site at most this far.
    conflicts
        Pairs of site ids that cannot both be open.
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
        try:
            w = weights.reindex(list(matrix.origins)).to_numpy(dtype=float)
        except (TypeError, ValueError):
            raise DataError("weights must be numbers, one per client id") from None
    position = {site: k for k, site in enumerate(matrix.destinations)}
    pairs = [tuple(pair) for pair in conflicts]
    if any(len(pair) != 2 for pair in pairs):
        raise DataError("conflicts must be pairs of site ids")
    charged = [] if site_cost is None else list(site_cost.index)
    named = [*required, *forbidden, *charged, *(s for pair in pairs for s in pair)]
    unknown = sorted({str(s) for s in named if s not in position})
    if unknown:
        raise DataError(f"unknown site id(s) {', '.join(unknown)}; they are not matrix columns")
    charges = None
    if site_cost is not None:
        try:
            charges = site_cost.reindex(list(matrix.destinations)).fillna(0.0).to_numpy(float)
        except (TypeError, ValueError):
            raise DataError("site_cost must be numbers, one per site id") from None
    result = solve_pmedian(
        matrix.minutes,
        p,
        w,
        p_min=p_min,
        p_max=p_max,
        fixed=[position[s] for s in required],
        forbidden=[position[s] for s in forbidden],
        site_cost=charges,
        max_cost=max_cost,
        conflicts=[(position[a], position[b]) for a, b in pairs] or None,
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
