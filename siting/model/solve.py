"""Solve a SitingProblem under ModelSettings: checks, stages, diagnosis, prices.

- Settings that cannot work are refused before any solve, naming the field.
- Rules on sites alone go to the site-level solvers (:mod:`siting.model.pmedian`,
  :mod:`siting.model.covering`); a capacity or balance band to the capacitated
  p-median (:mod:`siting.model.capacitated`); county rules, and what those
  cannot take, to the compact MILP of :mod:`siting.model.formulation`.
- ``center``, ``coverage`` and ``min_offices`` are solved lexicographically:
  the primary objective, then total minutes with the primary kept at its optimum.
- An infeasible model is diagnosed by a deletion filter over the hard criteria.
"""

from __future__ import annotations

import difflib
import logging
import os
import time
from concurrent.futures import ThreadPoolExecutor

import highspy
import numpy as np
import pandas as pd

from siting.config import ModelSettings, SolverSettings
from siting.errors import InfeasibleError, ScenarioError
from siting.model.capacitated import CapacitatedResult, solve_capacitated
from siting.model.covering import solve_center, solve_coverage, solve_min_offices
from siting.model.formulation import (
    Formulation,
    build,
    hard_groups,
    separation_conflicts,
    site_bounds,
    site_penalties,
    site_penalties_by_criterion,
)
from siting.model.milp import MilpResult, new_highs, pulp_solver_name, solve_milp
from siting.model.pmedian import SolverLimitError, solve_pmedian
from siting.model.problem import SitingProblem
from siting.solution import Solution

log = logging.getLogger(__name__)

#: Seconds each feasibility check of the infeasibility diagnosis may take.
DIAGNOSIS_LIMIT_S = 30.0


def check_settings(problem: SitingProblem, settings: ModelSettings) -> None:
    """Refuse settings that cannot work, before any solve; name every field at fault."""
    problems = []
    m = problem.n_sites
    if settings.p is not None and (settings.p_min is not None or settings.p_max is not None):
        problems.append("model.p: give either p or p_min/p_max, not both")
    if settings.p is not None and settings.p > m:
        problems.append(f"model.p: {settings.p} offices but only {m} candidate sites")
    if (
        settings.p_min is not None
        and settings.p_max is not None
        and settings.p_min > settings.p_max
    ):
        problems.append(f"model.p_min: {settings.p_min} is above model.p_max {settings.p_max}")
    if (
        settings.p is None
        and settings.p_min is None
        and settings.p_max is None
        and (settings.objective in ("median", "center", "coverage"))
    ):
        problems.append(f"model.p: the {settings.objective} objective needs p (or p_min/p_max)")
    if settings.objective in ("coverage", "min_offices") and settings.coverage_minutes is None:
        problems.append(f"model.coverage_minutes: needed by the {settings.objective} objective")
    for name in ("required", "forbidden"):
        ids = getattr(settings, name)
        unknown = [s for s in ids if s not in set(problem.site_ids)]
        if unknown:
            problems.append(f"model.{name}: {', '.join(unknown)} are not candidate sites")
    names = dict(zip(problem.site_ids, problem.site_names or problem.site_ids, strict=False))
    both = sorted(set(settings.required) & set(settings.forbidden))
    if both:
        listed = ", ".join(names.get(s, s) for s in both)
        problems.append(f"model.required and model.forbidden both name {listed}; keep one")
    most = settings.p if settings.p is not None else settings.p_max
    if most is not None and len(set(settings.required)) > most:
        problems.append(
            f"model.required: {len(set(settings.required))} required towns but at most "
            f"{most} offices (model.p); raise p or require fewer"
        )
    known = problem.criterion_names
    for name, criterion in settings.criteria.items():
        if name not in known:
            close = difflib.get_close_matches(name, known, n=1)
            hint = (
                f"did you mean {close[0]!r}?"
                if close
                else (f"declared: {', '.join(known)}" if known else "this problem declares none")
            )
            problems.append(f"model.criteria.{name}: not a criterion of this data; {hint}")
        elif name in problem.layer_names and criterion.max_minutes is None:
            problems.append(f"model.criteria.{name}.max_minutes: needed by a nearness criterion")
    capacity = settings.capacity
    if capacity.dialogues_per_office is not None:
        most = settings.p or settings.p_max or m
        demand = float(problem.weights.sum())
        if capacity.dialogues_per_office * most < demand - 1e-9:
            problems.append(
                f"model.capacity.dialogues_per_office: {most} offices x "
                f"{capacity.dialogues_per_office:g} dialogues < demand {demand:g}; raise the "
                "capacity or the number of offices"
            )
    if capacity.balance is not None and settings.p is None:
        problems.append("model.capacity.balance: needs a fixed model.p")
    if problems:
        raise ScenarioError(
            problems[0]
            if len(problems) == 1
            else f"{len(problems)} problems: " + "; ".join(problems)
        )


def check_solver(solver: SolverSettings) -> None:
    """Refuse a solver this machine does not have, listing the ones it has."""
    if solver.name.lower() != "highs":
        pulp_solver_name(solver.name)


def _capacitated(settings: ModelSettings) -> bool:
    """Whether the settings limit each office's load (a capacity or a balance band)."""
    capacity = settings.capacity
    return capacity.dialogues_per_office is not None or capacity.balance is not None


def _on_sites(settings: ModelSettings, solver: SolverSettings) -> bool:
    """Whether the settings run on the site-level solvers (no dense n x m assignment MILP).

    Every rule on sites alone does: the number of offices, required and
    forbidden towns, hard and soft criteria, spread (hard: every organizer
    within a limit; soft: a price per minute beyond it) and minimum separation,
    for the ``median`` and ``cost`` objectives (:mod:`siting.model.pmedian`) and,
    without a spread, for ``center``, ``coverage`` and ``min_offices``
    (:mod:`siting.model.covering`). A capacity or a balance band runs on the
    capacitated p-median (:mod:`siting.model.capacitated`) for ``median`` and
    ``cost`` with a fixed ``p`` and no minimum separation. County rules, a
    capacity beside anything else, and a solver other than HiGHS need the
    assignment model.
    """
    county = settings.county
    if solver.name.lower() != "highs" or county.whole or county.own_county or county.contiguous:
        return False
    if _capacitated(settings):
        return (
            settings.objective in ("median", "cost")
            and settings.p is not None
            and settings.spread.min_separation_minutes is None
        )
    return settings.objective in ("median", "cost") or settings.spread.mode == "off"


def _site_rules(problem: SitingProblem, settings: ModelSettings, groups: set[str]) -> dict:
    """The site-level solvers' arguments for the hard ``groups`` of ``settings``."""
    lower, upper = site_bounds(problem, settings, groups)
    rules: dict = {
        "fixed": np.flatnonzero(lower > 0).tolist(),
        "forbidden": np.flatnonzero(upper == 0).tolist(),
        "conflicts": None,
    }
    if "model.p" in groups:
        if settings.p is not None:
            rules["p"] = settings.p
        else:
            rules["p_min"], rules["p_max"] = settings.p_min, settings.p_max
    if "model.spread.min_separation_minutes" in groups:
        rules["conflicts"] = separation_conflicts(problem, settings)
    return rules


def _sites_feasible(problem: SitingProblem, settings: ModelSettings, groups: set[str]) -> bool:
    """Whether a set of sites meets the hard ``groups`` (a small MIP on the sites alone)."""
    rules = _site_rules(problem, settings, groups)
    m = problem.n_sites
    lower, upper = np.zeros(m), np.ones(m)
    lower[rules["fixed"]], upper[rules["forbidden"]] = 1.0, 0.0
    if (lower > upper).any():
        return False
    rows = []  # (lower, upper, columns)
    p_low = rules.get("p", rules.get("p_min") or 1)
    p_high = rules.get("p", rules.get("p_max") or m)
    rows.append((p_low, p_high, np.arange(m)))
    for a, b in rules["conflicts"] if rules["conflicts"] is not None else []:
        rows.append((-highspy.kHighsInf, 1.0, np.array([a, b])))
    limits = []
    if "model.spread.max_minutes" in groups:
        limits.append(settings.spread.max_minutes)
    if "model.coverage_minutes" in groups and settings.coverage_minutes is not None:
        limits.append(settings.coverage_minutes)
    if limits:
        within = problem.minutes <= min(limits) + 1e-9
        rows += [(1.0, highspy.kHighsInf, np.flatnonzero(row)) for row in within]
    h = new_highs()
    h.addVars(m, lower, upper)
    h.changeColsIntegrality(
        m, np.arange(m, dtype=np.int32), np.full(m, highspy.HighsVarType.kInteger)
    )
    for low, high, columns in rows:
        h.addRow(low, high, len(columns), columns.astype(np.int32), np.ones(len(columns)))
    h.setOptionValue("time_limit", DIAGNOSIS_LIMIT_S)
    h.run()
    return h.getModelStatus() != highspy.HighsModelStatus.kInfeasible


def _solve_on_sites(
    problem: SitingProblem,
    settings: ModelSettings,
    solver: SolverSettings,
    start: list[int] | None,
):
    """Solve on the site-level solvers; return offices, assignment, parts, status, gap, objective.

    Raises
    ------
    InfeasibleError
        Diagnosed over the hard criteria, as for the assignment model.
    ScenarioError
        The time limit passed before any solution was found.

    """
    groups = set(hard_groups(settings))
    rules = _site_rules(problem, settings, groups)
    allowed = problem.n_sites - len(rules["forbidden"])
    fewest = rules.get("p") or rules.get("p_min") or 1
    if fewest > allowed or set(rules["fixed"]) & set(rules["forbidden"]):
        raise _infeasible(problem, settings, solver)  # the solvers refuse such input outright
    minutes, weights = problem.minutes, problem.weights
    penalties = site_penalties(problem, settings)  # soft criterion prices per site
    site_cost = penalties
    spread = settings.spread
    spread_price = np.zeros_like(minutes)  # soft spread: a price per minute beyond the limit
    if spread.mode == "soft" and spread.price_per_minute:
        spread_price = spread.price_per_minute * np.maximum(minutes - spread.max_minutes, 0)
    travel_sek = 0.0
    if settings.objective == "cost":
        travel_sek = settings.cost.trips_per_organizer * settings.cost.sek_per_trip_minute
        site_cost = site_cost + settings.cost.fixed_cost_sek
        costs = travel_sek * minutes + spread_price
    else:
        costs = minutes + spread_price
    common = {
        **rules,
        "site_cost": site_cost if site_cost.any() else None,
        "time_limit_s": solver.time_limit_s,
    }
    try:
        if settings.objective in ("median", "cost"):
            if "model.spread.max_minutes" in groups:
                common["max_cost"] = _max_cost(costs, minutes, spread.max_minutes)
                if np.isneginf(common["max_cost"]).any():  # someone beyond every site
                    raise _undiagnosed("an organizer is beyond the spread from every site")
            if _capacitated(settings):
                result = _solve_capacitated(problem, settings, solver, costs, start, common)
            else:
                result = solve_pmedian(
                    costs, weights=weights, mip_rel_gap=solver.mip_rel_gap, start=start, **common
                )
            median, primary = result, result.objective
        elif settings.objective == "center":
            result = solve_center(costs, weights=weights, **common)
            median, primary = result.median, result.primary
        elif settings.objective == "coverage":
            result = solve_coverage(costs, settings.coverage_minutes, weights=weights, **common)
            median, primary = result.median, result.primary
        else:  # min_offices
            common.pop("p", None)
            result = solve_min_offices(costs, settings.coverage_minutes, weights=weights, **common)
            median, primary = result.median, result.primary
    except InfeasibleError:
        raise _infeasible(problem, settings, solver) from None
    except SolverLimitError:
        raise ScenarioError(
            f"solver.time_limit_s: no solution meeting the hard criteria within "
            f"{solver.time_limit_s} s; allow more time"
        ) from None
    offices = list(median.sites)
    site_of_client = np.asarray(median.assignment)
    rows = np.arange(problem.n_clients)
    travel = float(weights @ minutes[rows, site_of_client])
    parts = {"travel_minutes": travel}
    if settings.objective == "cost":
        parts["fixed_cost_sek"] = settings.cost.fixed_cost_sek * len(offices)
        parts["travel_cost_sek"] = travel_sek * travel
    parts["soft_prices"] = float(penalties[offices].sum()) + float(
        weights @ spread_price[rows, site_of_client]
    )
    status = "optimal" if result.status == "gap_reached" else result.status
    gap = (
        median.gap
        if settings.objective in ("median", "cost")
        else (0.0 if result.status == "optimal" else median.gap)
    )
    return offices, site_of_client, parts, status, gap, float(primary)


def _solve_capacitated(
    problem: SitingProblem,
    settings: ModelSettings,
    solver: SolverSettings,
    costs: np.ndarray,
    start: list[int] | None,
    common: dict,
) -> CapacitatedResult:
    """The capacitated p-median for a capacity and / or a balance band; loads are the weights.

    Raises
    ------
    InfeasibleError
        No choice of sites and assignment meets the loads (undiagnosed: the caller diagnoses).
    SolverLimitError
        The time limit passed before any solution was found.

    """
    capacity = settings.capacity
    weights = problem.weights
    band = {}
    if capacity.balance is not None:  # every office within +/- balance of the mean load
        mean = float(weights.sum()) / settings.p
        band = {
            "lower_load": (1 - capacity.balance) * mean,
            "upper_load": (1 + capacity.balance) * mean,
        }
    arguments = {key: value for key, value in common.items() if key != "conflicts"}
    try:
        result = solve_capacitated(
            costs,
            weights,
            arguments.pop("p"),
            capacity.dialogues_per_office,
            loads=weights,
            mip_rel_gap=solver.mip_rel_gap,
            start=start,
            site_regions=problem.site_county,  # at scale the bound branches on offices per county
            **band,
            **arguments,
        )
    except ScenarioError as exc:  # the loads cannot fit, whichever sites open
        raise _undiagnosed(str(exc)) from None
    if result.status == "infeasible":
        raise _undiagnosed("no assignment meets the loads")
    if not result.sites:
        raise SolverLimitError("no capacitated solution within the time limit")
    return result


def _undiagnosed(message: str) -> InfeasibleError:
    """An infeasibility found inside a site-level solve; :func:`_solve_on_sites` diagnoses it."""
    return InfeasibleError(message, conflict=[], restoring=[])


def _max_cost(costs: np.ndarray, minutes: np.ndarray, limit: float) -> np.ndarray:
    """Per client, the largest cost of a site within ``limit`` minutes (the spread in cost units).

    Costs rise with minutes for every client (they are minutes, or minutes priced
    beyond a limit, or scaled to money), so a site within the limit in minutes is
    exactly one whose cost is at most this.
    """
    within = np.where(minutes <= limit + 1e-9, costs, -np.inf)
    return within.max(axis=1)


def _solve(
    formulation: Formulation,
    solver: SolverSettings,
    deadline: float | None,
    start: np.ndarray | None = None,
) -> MilpResult:
    remaining = None if deadline is None else max(deadline - time.perf_counter(), 0.01)
    return solve_milp(
        formulation.milp,
        solver=solver.name,
        time_limit_s=remaining,
        mip_rel_gap=solver.mip_rel_gap,
        start=start if solver.name.lower() == "highs" else None,
    )


def _positions(problem: SitingProblem, ids: list[str] | None) -> list[int] | None:
    if not ids:
        return None
    position = {s: k for k, s in enumerate(problem.site_ids)}
    found = [position[i] for i in ids if i in position]
    return found if len(found) == len(ids) else None


def _start_vector(
    formulation: Formulation, problem: SitingProblem, sites: list[int] | None
) -> np.ndarray | None:
    """A MILP start from open sites: each unit to its cheapest eligible open site.

    Columns the start does not determine (flows, the longest trip) stay 0; HiGHS
    checks the vector and ignores it when it is not feasible.
    """
    if sites is None:
        return None
    milp = formulation.milp
    lower, upper, *_ = milp.arrays()
    open_, assign = milp.columns("open"), milp.columns("assign")
    chosen = np.zeros(problem.n_sites, dtype=bool)
    chosen[sites] = True
    if (upper[open_][chosen] < 0.5).any() or (lower[open_][~chosen] > 0.5).any():
        return None
    x = np.zeros(milp.n_cols)
    x[open_[chosen]] = 1.0
    units = formulation.units
    pairs = formulation.pairs
    usable = chosen[pairs[:, 1]]
    cost = np.where(usable, units.weighted_minutes[pairs[:, 0], pairs[:, 1]], np.inf)
    best = pd.Series(cost).groupby(pairs[:, 0]).idxmin()
    if len(best) < units.count or not np.isfinite(cost[best.to_numpy()]).all():
        return None
    x[assign[best.to_numpy()]] = 1.0
    return x


def feasible(
    problem: SitingProblem, settings: ModelSettings, groups: set[str], solver: SolverSettings
) -> bool:
    """Whether the hard ``groups`` can hold together (no objective)."""
    capacity_groups = {"model.capacity.dialogues_per_office", "model.capacity.balance"}
    if _on_sites(settings, solver) and not groups & capacity_groups:
        return _sites_feasible(problem, settings, groups)
    formulation = build(problem, settings, groups=groups, stage="feasibility")
    limit = min(solver.time_limit_s or DIAGNOSIS_LIMIT_S, DIAGNOSIS_LIMIT_S)
    result = solve_milp(formulation.milp, solver=solver.name, time_limit_s=limit)
    return result.status != "infeasible"  # undecided within the limit counts as feasible


def diagnose(
    problem: SitingProblem, settings: ModelSettings, solver: SolverSettings
) -> tuple[list[str], list[str]]:
    """A minimal conflicting set of hard criteria, and those whose removal alone helps.

    A deletion filter: drop each criterion in turn and keep it dropped when the
    rest stay infeasible; what remains cannot hold together.
    """
    groups = hard_groups(settings)
    restoring = [g for g in groups if feasible(problem, settings, set(groups) - {g}, solver)]
    conflict = list(groups)
    for group in list(conflict):
        trial = set(conflict) - {group}
        if not feasible(problem, settings, trial, solver):
            conflict.remove(group)
    return conflict, restoring


def _describe(group: str, settings: ModelSettings, problem: SitingProblem) -> str:
    names = dict(zip(problem.site_ids, problem.site_names or problem.site_ids, strict=False))
    values = {
        "model.p": f"model.p={settings.p or (settings.p_min, settings.p_max)}",
        "model.spread.max_minutes": f"model.spread.max_minutes={settings.spread.max_minutes:g}",
        "model.coverage_minutes": f"model.coverage_minutes={settings.coverage_minutes}",
        "model.required": f"model.required={[names.get(s, s) for s in settings.required]}",
        "model.forbidden": f"model.forbidden={[names.get(s, s) for s in settings.forbidden]}",
    }
    for name, criterion in settings.criteria.items():
        limit = f", {criterion.max_minutes:g} min" if name in problem.layer_names else ""
        values[f"model.criteria.{name}"] = f"model.criteria.{name} (hard{limit})"
    return values.get(group, group)


def solve_problem(
    problem: SitingProblem,
    settings: ModelSettings,
    solver: SolverSettings | None = None,
    *,
    prices: bool = False,
    office_values: bool = False,
    start_offices: list[str] | None = None,
) -> Solution:
    """Solve: open offices and assign every organizer, under the settings' criteria.

    Parameters
    ----------
    problem
        The arrays (see :func:`siting.model.problem.build_problem`).
    settings
        Objective, number of offices, criteria.
    solver
        Solver name, time limit and gap.
    prices
        Also report, for every hard criterion, the objective without it.
    office_values
        Also report, for every open office, the objective with it closed.
    start_offices
        Site ids of a known solution (a neighbouring sweep run's): the solver
        starts from it where it fits the settings; a warm start, never a constraint.

    Raises
    ------
    ScenarioError
        Settings that cannot work (checked before solving).
    InfeasibleError
        No solution meets the hard criteria; the message names a minimal
        conflicting set and the criteria whose removal restores feasibility.

    """
    solver = solver or SolverSettings()
    check_solver(solver)
    check_settings(problem, settings)
    started = time.perf_counter()
    deadline = None if solver.time_limit_s is None else started + solver.time_limit_s
    seconds: dict[str, float] = {}

    if _on_sites(settings, solver):
        started_sites = time.perf_counter()
        offices, site_of_client, parts, status, gap, objective = _solve_on_sites(
            problem, settings, solver, _positions(problem, start_offices)
        )
        seconds["solve_s"] = time.perf_counter() - started_sites
        if _capacitated(settings):
            solver_name = (
                "highs (capacitated p-median: priced assignment columns, Lagrangian bound)"
            )
        else:
            kind = "p-median" if settings.objective in ("median", "cost") else settings.objective
            solver_name = f"highs (site-level {kind}: Benders radius formulation)"
    else:
        built = time.perf_counter()
        formulation = build(problem, settings)
        seconds["model_build_s"] = time.perf_counter() - built
        start = _start_vector(formulation, problem, _positions(problem, start_offices))
        primary = _solve(formulation, solver, deadline, start)
        seconds["primary_s"] = primary.seconds
        if primary.status == "infeasible":
            raise _infeasible(problem, settings, solver)
        if primary.x is None:
            raise ScenarioError(
                f"solver.time_limit_s: no feasible solution within {solver.time_limit_s} s "
                f"({primary.solver} status {primary.status}); allow more time"
            )
        final, status, gap = primary, primary.status, primary.gap
        objective = primary.objective
        if settings.objective in ("center", "coverage", "min_offices"):
            built = time.perf_counter()
            tiebreak = build(
                problem,
                settings,
                stage="tiebreak",
                primary_cap=primary.objective
                if settings.objective != "coverage"
                else -primary.objective,
            )
            seconds["model_build_s"] += time.perf_counter() - built
            second = _solve(tiebreak, solver, deadline)
            seconds["tiebreak_s"] = second.seconds
            if second.x is not None:
                final, formulation = second, tiebreak
            objective = -primary.objective if settings.objective == "coverage" else objective
        offices, site_of_client, parts = _read(formulation, final.x, problem)
        solver_name = solver.name

    frame = pd.DataFrame(
        {
            "office": np.asarray(problem.site_ids)[site_of_client],
            "minutes": problem.minutes[np.arange(problem.n_clients), site_of_client],
            "weight": problem.weights,
            "county_id": np.asarray(problem.county_ids)[problem.client_county],
        },
        index=pd.Index(problem.client_ids, name="organizer_id"),
    )
    solution = Solution(
        offices=tuple(sorted(np.asarray(problem.site_ids)[offices].tolist())),
        assignment=frame,
        objective=float(objective),
        parts=parts,
        status=status,
        gap=float(gap),
        seconds=seconds,
        solver=solver_name,
        settings=settings,
        site_names=dict(zip(problem.site_ids, problem.site_names, strict=False)),
        soft_prices=soft_prices(problem, settings, offices, site_of_client),
    )
    if prices or office_values:
        solution = _with_prices(problem, settings, solver, solution, prices, office_values)
    log.info(
        "solved: %d offices, objective %.6g, %s, gap %.2g", len(offices), objective, status, gap
    )
    return solution


def soft_prices(
    problem: SitingProblem, settings: ModelSettings, offices, site_of_client
) -> dict[str, float]:
    """The soft prices a solution pays, by criterion name (``spread`` for the spread rule).

    They sum to ``parts["soft_prices"]``: each soft criterion's price at every
    open office, and the spread price per weighted minute beyond its limit.
    """
    paid = {
        name: float(price[np.asarray(offices, dtype=int)].sum())
        for name, price in site_penalties_by_criterion(problem, settings).items()
    }
    if settings.spread.mode == "soft":
        minutes = problem.minutes[np.arange(problem.n_clients), site_of_client]
        beyond = np.maximum(minutes - settings.spread.max_minutes, 0.0)
        paid["spread"] = float(settings.spread.price_per_minute * (problem.weights @ beyond))
    return paid


def _read(formulation: Formulation, x, problem: SitingProblem):
    milp = formulation.milp
    open_ = milp.columns("open")
    assign = milp.columns("assign")
    offices = np.flatnonzero(x[open_] > 0.5)
    units = formulation.units
    pairs = formulation.pairs
    values = x[assign]
    # each unit's site: its largest assignment (ties to the lower site index)
    order = np.lexsort((pairs[:, 1], -values, pairs[:, 0]))
    _, first = np.unique(pairs[order, 0], return_index=True)
    best = np.full(units.count, -1)
    best[pairs[order[first], 0]] = pairs[order[first], 1]
    site_of_client = best[units.members]
    parts = {name: float(column @ x[: len(column)]) for name, column in formulation.parts.items()}
    return offices.tolist(), site_of_client, parts


def _infeasible(problem, settings, solver) -> InfeasibleError:
    conflict, restoring = diagnose(problem, settings, solver)
    conflict_text = ", ".join(_describe(g, settings, problem) for g in conflict) or "(none found)"
    if restoring:
        restoring_text = "dropping any one of " + ", ".join(restoring) + " restores feasibility"
    else:
        restoring_text = "no single criterion's removal restores feasibility"
    limits = []
    if "model.spread.max_minutes" in conflict:
        limits.append(("model.spread.max_minutes", settings.spread.max_minutes))
    if "model.coverage_minutes" in conflict and settings.coverage_minutes is not None:
        limits.append(("model.coverage_minutes", settings.coverage_minutes))
    detail = ""
    _, allowed = site_bounds(problem, settings, set(hard_groups(settings)))
    for field, limit in limits:
        if not allowed.any():
            break
        nearest = problem.minutes[:, allowed > 0].min(axis=1)
        beyond = np.flatnonzero(nearest > limit)
        if len(beyond):
            names = problem.client_names or problem.client_ids
            listed = ", ".join(f"{names[i]} ({nearest[i]:.0f} min)" for i in beyond[:5])
            detail += f"; beyond {field} from every candidate: {listed}"
    return InfeasibleError(
        f"no solution meets the hard criteria: {conflict_text} cannot hold together; "
        f"{restoring_text}{detail}",
        conflict=conflict,
        restoring=restoring,
    )


def _with_prices(problem, settings, solver, solution, prices, office_values) -> Solution:
    """The solution with the price of each hard criterion and the value of each office.

    Each is one more solve, independent of the others: they run side by side on
    the machine's cores (threads: HiGHS releases the GIL while it solves, and
    every solve has its own HiGHS instance).
    """
    from dataclasses import replace

    jobs: dict[tuple[str, str], tuple[ModelSettings, list[str] | None]] = {}
    if prices:
        for group in hard_groups(settings):
            if group in ("model.p", "model.coverage_minutes"):  # the objective's own terms
                continue
            # the solution stays feasible without the criterion: a warm start
            jobs["price", group] = (_relax(settings, group), list(solution.offices))
    if office_values:
        for office in solution.offices:
            closed = settings.model_copy(
                update={
                    "forbidden": [*settings.forbidden, office],
                    "required": [r for r in settings.required if r != office],
                }
            )
            jobs["value", office] = (closed, None)

    def objective(job: tuple[ModelSettings, list[str] | None]) -> float | None:
        changed, start = job
        try:
            return solve_problem(problem, changed, solver, start_offices=start).objective
        except (InfeasibleError, ScenarioError):
            return None

    workers = max(1, min(len(jobs), os.cpu_count() or 1))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        answers = dict(zip(jobs, pool.map(objective, jobs.values()), strict=True))
    criteria = {key: value for (kind, key), value in answers.items() if kind == "price"}
    values = {key: value for (kind, key), value in answers.items() if kind == "value"}
    return replace(solution, criteria_prices=criteria, office_values=values)


def _relax(settings: ModelSettings, group: str) -> ModelSettings:
    """The settings without one hard criterion group."""
    field = group.removeprefix("model.")
    if field in ("required", "forbidden"):
        return settings.model_copy(update={field: []})
    if field.startswith("criteria."):
        name = field.removeprefix("criteria.")
        criteria = dict(settings.criteria)
        criteria[name] = criteria[name].model_copy(update={"mode": "off"})
        return settings.model_copy(update={"criteria": criteria})
    if field == "spread.max_minutes":
        return settings.model_copy(
            update={"spread": settings.spread.model_copy(update={"mode": "off"})}
        )
    if field == "spread.min_separation_minutes":
        return settings.model_copy(
            update={"spread": settings.spread.model_copy(update={"min_separation_minutes": None})}
        )
    if field in ("county.own_county", "county.contiguous"):
        key = field.split(".")[1]
        update = {key: False}
        if key == "own_county":
            update["contiguous"] = False
        return settings.model_copy(update={"county": settings.county.model_copy(update=update)})
    if field.startswith("capacity."):
        key = field.split(".")[1]
        return settings.model_copy(
            update={"capacity": settings.capacity.model_copy(update={key: None})}
        )
    return settings
