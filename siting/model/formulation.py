"""The siting MILP, composed from small builders over plain arrays.

Demand is grouped into *units*: each county when counties are served whole,
else each organizer. Every builder works on units, so the same builders serve
both cases and any granularity of organizers.

Variables: ``open[j]`` (binary) and ``assign[u, j]`` for eligible pairs
(binary when a unit must be served by one office: whole counties, capacities,
the center objective; continuous otherwise, integral at the optimum anyway).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from siting.config import ModelSettings
from siting.model.milp import Milp
from siting.model.problem import SitingProblem

#: Hard-criterion groups, in the words of the scenario fields (each declared
#: criterion adds its own, ``model.criteria.NAME``).
GROUPS = (
    "model.p",
    "model.required",
    "model.forbidden",
    "model.spread.max_minutes",
    "model.spread.min_separation_minutes",
    "model.county.own_county",
    "model.county.contiguous",
    "model.capacity.dialogues_per_office",
    "model.capacity.balance",
    "model.coverage_minutes",
)


@dataclass(frozen=True)
class Units:
    """Demand grouped for the model: counties (whole) or organizers."""

    members: NDArray[np.int64]  # client -> unit
    weight: NDArray[np.float64]  # (U,)
    weighted_minutes: NDArray[np.float64]  # (U, m): sum of w * minutes
    max_minutes: NDArray[np.float64]  # (U, m): longest member trip
    county: NDArray[np.int64] | None  # unit -> county index when units are counties

    @property
    def count(self) -> int:
        """Number of units."""
        return len(self.weight)


def make_units(problem: SitingProblem, whole_counties: bool) -> Units:
    """Group the clients: one unit per county with organizers, or one per organizer."""
    if not whole_counties:
        n = problem.n_clients
        return Units(
            members=np.arange(n),
            weight=problem.weights.copy(),
            weighted_minutes=problem.weights[:, None] * problem.minutes,
            max_minutes=problem.minutes.copy(),
            county=None,
        )
    counties, members = np.unique(problem.client_county, return_inverse=True)
    k = len(counties)
    weight = np.bincount(members, weights=problem.weights, minlength=k)
    weighted = _sum_by_unit(members, k, problem.weights[:, None] * problem.minutes)
    longest = np.full((k, problem.n_sites), -np.inf)
    np.maximum.at(longest, members, problem.minutes)
    return Units(members, weight, weighted, longest, counties)


@dataclass
class Formulation:
    """A built model and what is needed to read its solution."""

    milp: Milp
    units: Units
    pairs: NDArray[np.int64]  # (P, 2): unit, site of each assign column
    parts: dict[str, NDArray[np.float64]] = field(default_factory=dict)  # objective parts
    groups: tuple[str, ...] = ()  # hard groups in force


def hard_groups(settings: ModelSettings) -> list[str]:
    """The hard-criterion groups a settings object switches on."""
    groups = ["model.p"]
    if settings.required:
        groups.append("model.required")
    if settings.forbidden:
        groups.append("model.forbidden")
    for name, criterion in settings.criteria.items():
        if criterion.mode == "hard":
            groups.append(f"model.criteria.{name}")
    if settings.spread.mode == "hard":
        groups.append("model.spread.max_minutes")
    if settings.spread.min_separation_minutes is not None:
        groups.append("model.spread.min_separation_minutes")
    if settings.county.own_county or settings.county.contiguous:
        groups.append("model.county.own_county")
    if settings.county.contiguous:
        groups.append("model.county.contiguous")
    if settings.capacity.dialogues_per_office is not None:
        groups.append("model.capacity.dialogues_per_office")
    if settings.capacity.balance is not None:
        groups.append("model.capacity.balance")
    if settings.objective == "min_offices":  # everyone within coverage_minutes
        groups.append("model.coverage_minutes")
    return groups


def site_bounds(
    problem: SitingProblem, settings: ModelSettings, groups: set[str]
) -> tuple[NDArray, NDArray]:
    """Lower and upper bounds of ``open`` from required, forbidden and site criteria."""
    m = problem.n_sites
    lower, upper = np.zeros(m), np.ones(m)
    if "model.required" in groups:
        lower[problem.site_index(settings.required, "model.required")] = 1.0
    if "model.forbidden" in groups:
        upper[problem.site_index(settings.forbidden, "model.forbidden")] = 0.0
    for name in settings.criteria:
        if f"model.criteria.{name}" in groups:
            upper[~criterion_met(problem, settings, name)] = 0.0
    return lower, upper


def criterion_met(problem: SitingProblem, settings: ModelSettings, name: str) -> NDArray:
    """Whether each site meets the criterion ``name`` (a yes/no, or within its minutes)."""
    if name in problem.attribute_names:
        return problem.attribute(name)
    return criterion_minutes_beyond(problem, settings, name) <= 0


def criterion_minutes_beyond(
    problem: SitingProblem, settings: ModelSettings, name: str
) -> NDArray[np.float64]:
    """For a nearness criterion: minutes beyond its limit at each site (0 within it)."""
    limit = settings.criteria[name].max_minutes
    return np.maximum(problem.layer_minutes(name) - limit, 0.0)


def separation_conflicts(problem: SitingProblem, settings: ModelSettings) -> NDArray[np.int64]:
    """Pairs (a, b), a < b, of sites closer than ``spread.min_separation_minutes``."""
    limit = settings.spread.min_separation_minutes
    return np.argwhere(np.triu(problem.site_minutes < limit, k=1))


def site_penalties_by_criterion(
    problem: SitingProblem, settings: ModelSettings
) -> dict[str, NDArray[np.float64]]:
    """Each soft criterion's price on each office site (objective units per open office)."""
    prices = {}
    for name, criterion in settings.criteria.items():
        if criterion.mode != "soft":
            continue
        price = criterion.price * ~criterion_met(problem, settings, name)
        if name in problem.layer_names and criterion.price_per_minute:
            price = price + criterion.price_per_minute * criterion_minutes_beyond(
                problem, settings, name
            )
        prices[name] = np.asarray(price, dtype=float)
    return prices


def site_penalties(problem: SitingProblem, settings: ModelSettings) -> NDArray[np.float64]:
    """Soft prices on each office site (objective units per open office), all criteria summed."""
    price = np.zeros(problem.n_sites)
    for criterion_price in site_penalties_by_criterion(problem, settings).values():
        price += criterion_price
    return price


def build(
    problem: SitingProblem,
    settings: ModelSettings,
    *,
    groups: set[str] | None = None,
    stage: str = "primary",
    primary_cap: float | None = None,
    count_fixed: int | None = None,
) -> Formulation:
    """Build the MILP for ``settings`` with only the hard ``groups`` given (all by default).

    ``stage="primary"`` optimises the objective; ``stage="tiebreak"`` keeps the
    primary value within ``primary_cap`` and minimises total weighted minutes
    plus soft prices; ``stage="feasibility"`` has no objective (diagnosis).
    """
    groups = set(hard_groups(settings)) if groups is None else set(groups)
    county = settings.county
    whole = county.whole or county.own_county or county.contiguous
    single = (
        whole
        or settings.capacity.dialogues_per_office is not None
        or settings.capacity.balance is not None
        or settings.objective == "center"
    )
    units = make_units(problem, whole)
    m, count = problem.n_sites, units.count
    milp = Milp()

    # which unit-site pairs may be used
    eligible = np.ones((count, m), dtype=bool)
    if "model.spread.max_minutes" in groups:
        eligible &= units.max_minutes <= settings.spread.max_minutes + 1e-9
    if "model.coverage_minutes" in groups and settings.coverage_minutes is not None:
        eligible &= units.max_minutes <= settings.coverage_minutes + 1e-9
    pairs = np.argwhere(eligible)
    unit_of, site_of = pairs[:, 0], pairs[:, 1]

    lower, upper = site_bounds(problem, settings, groups)
    open_ = milp.add_columns("open", m, lower=lower, upper=upper, integer=True)
    assign = milp.add_columns("assign", len(pairs), upper=1.0, integer=single)

    # every unit served once; only by an open site
    milp.add_rows("serve", unit_of, assign, np.ones(len(pairs)), lower=1, upper=1, count=count)
    rows = np.arange(len(pairs))
    milp.add_rows(
        "open_before_serving",
        np.concatenate([rows, rows]),
        np.concatenate([assign, open_[site_of]]),
        np.concatenate([np.ones(len(pairs)), -np.ones(len(pairs))]),
        upper=0.0,
        count=len(pairs),
    )

    # number of offices
    if count_fixed is not None:
        p_low = p_high = count_fixed
    elif "model.p" in groups:
        p_low = settings.p if settings.p is not None else (settings.p_min or 1)
        p_high = settings.p if settings.p is not None else (settings.p_max or m)
    else:
        p_low, p_high = 1, m
    milp.add_rows("offices", np.zeros(m), open_, np.ones(m), lower=p_low, upper=p_high, count=1)

    if "model.spread.min_separation_minutes" in groups:
        close = separation_conflicts(problem, settings)
        if len(close):
            k = np.arange(len(close))
            milp.add_rows(
                "separation",
                np.concatenate([k, k]),
                np.concatenate([open_[close[:, 0]], open_[close[:, 1]]]),
                np.ones(2 * len(close)),
                upper=1.0,
                count=len(close),
            )

    if whole and "model.county.own_county" in groups:
        _own_county(milp, problem, units, pairs, open_, assign)
    if whole and "model.county.contiguous" in groups:
        _contiguity(milp, problem, units, pairs, open_, assign)

    load = units.weight[unit_of]
    if "model.capacity.dialogues_per_office" in groups:
        cap = settings.capacity.dialogues_per_office
        milp.add_rows(
            "capacity",
            np.concatenate([site_of, np.arange(m)]),
            np.concatenate([assign, open_]),
            np.concatenate([load, np.full(m, -cap)]),
            upper=0.0,
            count=m,
        )
    if "model.capacity.balance" in groups and settings.p is not None:
        mean = units.weight.sum() / settings.p
        band = settings.capacity.balance
        for name, factor, bounds in (
            ("balance_high", 1 + band, {"upper": 0.0}),
            ("balance_low", 1 - band, {"lower": 0.0}),
        ):
            milp.add_rows(
                name,
                np.concatenate([site_of, np.arange(m)]),
                np.concatenate([assign, open_]),
                np.concatenate([load, np.full(m, -factor * mean)]),
                count=m,
                **bounds,
            )

    # objective parts (per column), combined by stage
    travel = units.weighted_minutes[unit_of, site_of]
    parts = {"travel_minutes": np.concatenate([np.zeros(m), travel])}
    penalties = np.concatenate([site_penalties(problem, settings), np.zeros(len(pairs))])
    if settings.spread.mode == "soft":
        beyond = _weighted_minutes_beyond(problem, units, settings.spread.max_minutes)
        penalties[m:] += settings.spread.price_per_minute * beyond[unit_of, site_of]
    parts["soft_prices"] = penalties
    cost = np.zeros(milp.n_cols)
    if stage == "feasibility":
        pass
    elif settings.objective == "cost":
        rules = settings.cost
        travel_sek = rules.trips_per_organizer * rules.sek_per_trip_minute
        parts["fixed_cost_sek"] = np.concatenate(
            [np.full(m, rules.fixed_cost_sek), np.zeros(len(pairs))]
        )
        parts["travel_cost_sek"] = travel_sek * parts["travel_minutes"]
        cost = parts["fixed_cost_sek"] + parts["travel_cost_sek"] + penalties
    elif stage == "tiebreak" or settings.objective == "median":
        cost = parts["travel_minutes"] + penalties
    elif settings.objective == "center":
        longest = milp.add_columns("longest_minutes", 1, cost=1.0)
        cost = np.concatenate([cost, [1.0]])
        milp.add_rows(
            "longest",
            np.concatenate([unit_of, np.arange(count)]),
            np.concatenate([assign, np.repeat(longest, count)]),
            np.concatenate([units.max_minutes[unit_of, site_of], -np.ones(count)]),
            upper=0.0,
            count=count,
        )
    elif settings.objective == "coverage":
        covered = _covered_weight(problem, units, settings.coverage_minutes)
        cost[assign] = -covered[unit_of, site_of]
    elif settings.objective == "min_offices":
        cost[:m] = 1.0
    if stage == "tiebreak" and primary_cap is not None:
        _cap_primary(milp, problem, settings, units, pairs, open_, assign, primary_cap)
    if len(cost) < milp.n_cols:  # columns added by the stage (e.g. longest_minutes)
        cost = np.concatenate([cost, np.zeros(milp.n_cols - len(cost))])
    milp.set_cost(cost)
    return Formulation(milp, units, pairs, parts, tuple(sorted(groups)))


def _sum_by_unit(members: NDArray[np.int64], count: int, values: NDArray) -> NDArray:
    """Per-client rows (n, m) summed into their units' rows (count, m)."""
    total = np.zeros((count, values.shape[1]))
    np.add.at(total, members, values)
    return total


def _weighted_minutes_beyond(problem: SitingProblem, units: Units, limit: float) -> NDArray:
    beyond = problem.weights[:, None] * np.maximum(problem.minutes - limit, 0.0)
    return _sum_by_unit(units.members, units.count, beyond)


def _covered_weight(problem: SitingProblem, units: Units, limit: float | None) -> NDArray:
    if limit is None:
        limit = np.inf
    within = problem.weights[:, None] * (problem.minutes <= limit + 1e-9)
    return _sum_by_unit(units.members, units.count, within)


def _cap_primary(milp, problem, settings, units, pairs, open_, assign, cap) -> None:
    """Keep the primary objective at its optimum while breaking ties."""
    unit_of, site_of = pairs[:, 0], pairs[:, 1]
    if settings.objective == "center":
        ok = units.max_minutes[unit_of, site_of] <= cap + 1e-6
        milp.set_upper(assign[~ok], 0.0)
    elif settings.objective == "coverage":
        covered = _covered_weight(problem, units, settings.coverage_minutes)
        value = covered[unit_of, site_of]
        milp.add_rows(
            "coverage_kept",
            np.zeros(len(pairs)),
            assign,
            value,
            lower=cap - 1e-6 * max(1.0, abs(cap)),
            count=1,
        )
    elif settings.objective == "min_offices":
        milp.add_rows(
            "offices_kept",
            np.zeros(len(open_)),
            open_,
            np.ones(len(open_)),
            upper=round(cap),
            count=1,
        )


def _own_county(milp, problem, units, pairs, open_, assign) -> None:
    """An open office serves the county it lies in: assign[county(j), j] >= open[j]."""
    unit_of_county = {c: u for u, c in enumerate(units.county)}
    column = {(u, j): assign[k] for k, (u, j) in enumerate(pairs)}
    rows, cols, values = [], [], []
    r = 0
    for j in range(problem.n_sites):
        u = unit_of_county.get(problem.site_county[j])
        if u is None:  # a county without organizers: nothing to serve there
            continue
        if (u, j) not in column:
            milp.set_upper([open_[j]], 0.0)  # cannot serve its own county: cannot open
            continue
        rows += [r, r]
        cols += [column[(u, j)], open_[j]]
        values += [1.0, -1.0]
        r += 1
    milp.add_rows("own_county", rows, cols, values, lower=0.0, count=r)


def _contiguity(milp, problem, units, pairs, open_, assign) -> None:
    """Each office's counties are connected: a single-commodity flow to the office's county.

    With contiguity each office serves its own county (``_own_county`` holds), so
    a county hosts at most one office and a region is named by its home county.
    For each home county h, every county u in h's region (served by any site of
    h) sends one unit of flow along adjacency arcs, through counties of the same
    region, to h. One commodity per home county, not per site: the same model
    with fewer flow columns.
    """
    unit_of_county = {c: u for u, c in enumerate(units.county)}
    column = {(u, j): assign[k] for k, (u, j) in enumerate(pairs)}
    arcs = [
        (unit_of_county[a], unit_of_county[b])
        for a, b in problem.county_adjacency
        if a in unit_of_county and b in unit_of_county
    ]
    arcs = arcs + [(b, a) for a, b in arcs]
    big = units.count
    sites_of_home: dict[int, list[int]] = {}
    for j in range(problem.n_sites):
        home = unit_of_county.get(problem.site_county[j])
        if home is not None and milp.upper_of(open_[j]) > 0.0:
            sites_of_home.setdefault(home, []).append(j)
    for home, sites in sites_of_home.items():
        # region membership of unit u: the sum of its assign columns to the home's sites
        member = {
            u: [column[(u, j)] for j in sites if (u, j) in column] for u in range(units.count)
        }
        member = {u: cols for u, cols in member.items() if cols}
        usable = [(a, b) for a, b in arcs if a in member and b in member]
        if not usable:
            for u, cols in member.items():
                if u != home:
                    milp.set_upper(cols, 0.0)
            continue
        flow = milp.add_columns(f"flow_{home}", len(usable), upper=big)
        index = {u: r for r, u in enumerate(member)}
        rows, cols, values = [], [], []
        for k, (a, b) in enumerate(usable):
            # conservation: out - in = membership of u, for u != home
            if a != home:
                rows.append(index[a])
                cols.append(flow[k])
                values.append(1.0)
            if b != home:
                rows.append(index[b])
                cols.append(flow[k])
                values.append(-1.0)
        for u, assigned in member.items():
            if u != home:
                rows += [index[u]] * len(assigned)
                cols += assigned
                values += [-1.0] * len(assigned)
        zeros = np.zeros(len(member))
        milp.add_rows(
            f"flow_balance_{home}", rows, cols, values, lower=zeros, upper=zeros, count=len(member)
        )
        # flow only between counties of the region: flow(a->b) <= big * membership of a and b
        for end, name in ((1, "flow_gate"), (0, "flow_source_gate")):
            rows, cols, values = [], [], []
            for k, arc in enumerate(usable):
                gate = member[arc[end]]
                rows += [k] * (1 + len(gate))
                cols += [flow[k], *gate]
                values += [1.0, *([-float(big)] * len(gate))]
            milp.add_rows(f"{name}_{home}", rows, cols, values, upper=0.0, count=len(usable))
