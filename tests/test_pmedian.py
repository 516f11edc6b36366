from __future__ import annotations

import itertools
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from siting import DataError, SitingError, TravelTimeMatrix, pmedian
from siting.model.heuristics import assignment_cost, greedy, swap_search
from siting.model.orlib import read_pmed, read_pmedopt, read_tsplib, tsplib_costs
from siting.model.pmedian import PMedianInfeasibleError, solve_pmedian
from siting.model.points import solve_pmedian_points

BENCH = Path(__file__).resolve().parent / "data" / "bench"  # see its README.md


def brute_force(costs, weights, p, fixed=(), forbidden=()):
    m = costs.shape[1]
    allowed = [j for j in range(m) if j not in forbidden]
    best = (np.inf, None)
    for combo in itertools.combinations(allowed, p):
        if set(fixed) <= set(combo):
            best = min(best, (assignment_cost(costs, weights, combo), combo))
    return best


@pytest.mark.parametrize("seed", range(6))
def test_matches_brute_force_on_random_instances(seed):
    rng = np.random.default_rng(seed)
    n, m, p = 14, 9, 1 + seed % 4
    costs = rng.integers(0, 30, size=(n, m)).astype(float)  # many ties on purpose
    weights = rng.integers(0, 5, size=n).astype(float)
    result = solve_pmedian(costs, p, weights)
    expected, _ = brute_force(costs, weights, p)
    assert result.status == "optimal"
    assert result.objective == pytest.approx(expected)
    assert result.lower_bound == pytest.approx(expected, rel=1e-6)
    assert len(result.sites) == p


def test_required_and_forbidden_sites():
    rng = np.random.default_rng(7)
    costs = rng.uniform(0, 100, size=(20, 8))
    weights = np.ones(20)
    result = solve_pmedian(costs, 3, weights, fixed=[5], forbidden=[0, 1])
    expected, combo = brute_force(costs, weights, 3, fixed=[5], forbidden=[0, 1])
    assert result.objective == pytest.approx(expected)
    assert 5 in result.sites and not {0, 1} & set(result.sites)
    assert result.sites == combo


def test_labelled_entry_point_values():
    costs = pd.DataFrame(
        [[0, 5, 9], [4, 0, 6], [9, 6, 0], [10, 7, 1]],
        index=["a", "b", "c", "d"],
        columns=["A", "B", "C"],
    )
    matrix = TravelTimeMatrix.from_frame(costs)
    one = pmedian(matrix, 1)
    assert one.open_sites == ("C",) and one.objective == 16  # C: 9 + 6 + 0 + 1
    two = pmedian(matrix, 2, pd.Series({"a": 3, "b": 1, "c": 1, "d": 1}))
    assert two.open_sites == ("A", "C")  # a at A (0), b at C (6) or A (4) -> A, c, d at C
    assert two.assignment.to_dict() == {"a": "A", "b": "A", "c": "C", "d": "C"}
    assert two.objective == 0 * 3 + 4 + 0 + 1
    assert two.status == "optimal" and two.gap == 0
    forced = pmedian(matrix, 1, required=["B"])
    assert forced.open_sites == ("B",) and forced.objective == 18


def test_bad_input_is_named():
    costs = np.array([[1.0, np.nan], [2.0, 3.0]])
    with pytest.raises(DataError, match="1 NaN or infinite"):
        solve_pmedian(costs, 1)
    with pytest.raises(DataError, match=r"p must be between 1 and 2 .*got 3"):
        solve_pmedian(np.ones((2, 2)), 3)
    with pytest.raises(DataError, match="negative"):
        solve_pmedian(-np.ones((2, 2)), 1)
    with pytest.raises(DataError, match=r"both required and forbidden"):
        solve_pmedian(np.ones((2, 2)), 1, fixed=[0], forbidden=[0])
    matrix = TravelTimeMatrix.from_frame(pd.DataFrame([[1.0]], index=["a"], columns=["A"]))
    with pytest.raises(DataError, match=r"unknown site id.*Z"):
        pmedian(matrix, 1, required=["Z"])


def test_time_limit_returns_best_found_with_gap():
    costs, p = read_pmed(BENCH / "orlib" / "pmed16.txt")
    result = solve_pmedian(costs, p, time_limit_s=0.05)
    assert result.status == "time_limit"
    assert result.objective >= 8162 and result.lower_bound <= 8162
    assert result.gap >= 0


def test_heuristic_is_a_local_optimum():
    rng = np.random.default_rng(3)
    costs = rng.uniform(0, 100, size=(40, 15))
    weights = np.ones(40)
    sites = swap_search(costs, weights, greedy(costs, weights, 4))
    value = assignment_cost(costs, weights, sites)
    for out in sites:
        for into in set(range(15)) - set(sites):
            swapped = [s for s in sites if s != out] + [into]
            assert assignment_cost(costs, weights, swapped) >= value - 1e-9


@pytest.mark.parametrize("k", [1, 2, 3, 4, 5])
def test_orlib_known_optima(k):
    costs, p = read_pmed(BENCH / "orlib" / f"pmed{k}.txt")
    optimum = read_pmedopt(BENCH / "orlib" / "pmedopt.txt")[f"pmed{k}"]
    result = solve_pmedian(costs, p)
    assert result.status == "optimal"
    assert result.objective == optimum


def test_spopt_san_francisco_pmedian():
    matrix, weights = _san_francisco()
    solution = pmedian(matrix, 4, weights)
    mean = solution.objective / weights.sum()
    assert mean == pytest.approx(2982.1268579890657, rel=1e-12)
    assert sorted(solution.open_sites) == ["Store_11", "Store_12", "Store_15", "Store_2"]


def _san_francisco():
    folder = BENCH / "spopt_tests"
    distances = pd.read_csv(
        folder / "SF_network_distance_candidateStore_16_censusTract_205_new.csv"
    )
    demand = pd.read_csv(folder / "SF_demand_205_centroid_uniform_weight.csv")
    table = distances.rename(
        columns={"DestinationName": "origin_id", "name": "destination_id", "distance": "minutes"}
    )
    weights = demand.assign(NAME=demand["NAME"].astype(str)).set_index("NAME")["POP2000"]
    return TravelTimeMatrix.from_long(table), weights.astype(float)


def test_spopt_san_francisco_maximal_covering():
    from siting.config import ModelSettings
    from siting.model.problem import SitingProblem
    from siting.model.solve import solve_problem

    matrix, weights = _san_francisco()
    problem = SitingProblem.from_matrix(matrix, weights)
    settings = ModelSettings(p=4, objective="coverage", coverage_minutes=5000)
    solution = solve_problem(problem, settings)
    assert solution.objective == pytest.approx(875_247)  # covered population
    uncovered = solution.assignment["minutes"] > 5000
    assert int(uncovered.sum()) == 21  # spopt's test: 21 clients uncovered
    assert (~uncovered).mean() * 100 == pytest.approx(89.7561, abs=1e-4)
    # the same p-median through the general model's fast path
    median = solve_problem(problem, ModelSettings(p=4))
    assert median.objective / weights.sum() == pytest.approx(2982.1268579890657, rel=1e-12)


def test_short_time_limit_on_a_large_instance_returns_the_heuristic_with_its_gap():
    # used to raise UnboundLocalError: the deadline passed before the first LP round
    rng = np.random.default_rng(11)
    costs = rng.uniform(0, 1000, size=(1500, 1500))
    started = time.perf_counter()
    result = solve_pmedian(costs, 30, time_limit_s=2)
    elapsed = time.perf_counter() - started
    assert result.status == "time_limit"
    assert len(result.sites) == 30
    assert 0 < result.lower_bound <= result.objective
    assert result.objective == pytest.approx(assignment_cost(costs, np.ones(1500), result.sites))
    assert elapsed < 2 + 6  # a limit, not a benchmark: generous for a loaded machine


# --- site rules on the Benders master, each checked against enumeration ---------------


def brute_force_rules(
    costs,
    weights,
    p_min,
    p_max,
    *,
    fixed=(),
    forbidden=(),
    site_cost=None,
    max_cost=None,
    conflicts=(),
    cover_radius=None,
    min_covered_weight=None,
):
    """The best objective (and sites) over every subset meeting the rules; (inf, None) if none."""
    m = costs.shape[1]
    charge = np.zeros(m) if site_cost is None else site_cost
    best = (np.inf, None)
    for k in range(p_min, p_max + 1):
        for combo in itertools.combinations([j for j in range(m) if j not in forbidden], k):
            sites = list(combo)
            if not set(fixed) <= set(sites):
                continue
            if any(a in sites and b in sites for a, b in conflicts):
                continue
            nearest = costs[:, sites].min(axis=1)
            if max_cost is not None and (nearest > max_cost).any():
                continue
            if min_covered_weight is not None:
                covered = (costs[:, sites] <= cover_radius).any(axis=1)
                if weights[covered].sum() < min_covered_weight - 1e-9:
                    continue
            value = weights @ nearest + charge[sites].sum()
            if value < best[0] - 1e-9:
                best = (value, combo)
    return best


def _instance(seed, n=12, m=8):
    rng = np.random.default_rng(seed)
    costs = rng.integers(0, 40, size=(n, m)).astype(float)  # ties on purpose
    weights = rng.integers(0, 4, size=n).astype(float)  # zero weights on purpose
    return rng, costs, weights


RULES = {
    "p_range": lambda rng, m: {"p_min": 2, "p_max": 5},
    "site_cost": lambda rng, m: {"p": 3, "site_cost": rng.integers(0, 40, m).astype(float)},
    "site_cost_free_p": lambda rng, m: {"site_cost": rng.integers(0, 60, m).astype(float)},
    "fixed_forbidden": lambda rng, m: {"p": 3, "fixed": [2], "forbidden": [0, 5]},
    "max_cost": lambda rng, m: {"p": 3, "max_cost": 25.0},
    "max_cost_per_client": lambda rng, m: {
        "p_min": 1,
        "p_max": 4,
        "max_cost": np.where(rng.random(12) < 0.5, 28.0, np.inf),
    },
    "conflicts": lambda rng, m: {"p": 3, "conflicts": [(0, 1), (1, 2), (0, 2), (3, 4), (5, 7)]},
    "covered_weight": lambda rng, m: {"p": 2, "cover_radius": 12.0, "min_covered_weight": 8.0},
    "everything": lambda rng, m: {
        "p_min": 2,
        "p_max": 4,
        "fixed": [6],
        "forbidden": [7],
        "site_cost": rng.integers(0, 30, m).astype(float),
        "max_cost": 30.0,
        "conflicts": [(0, 6), (1, 2)],
    },
}


@pytest.mark.parametrize("rule", sorted(RULES))
@pytest.mark.parametrize("seed", range(4))
def test_each_site_rule_matches_enumeration(rule, seed):
    rng, costs, weights = _instance(seed)
    options = RULES[rule](rng, costs.shape[1])
    p = options.pop("p", None)
    bounds = (p, p) if p is not None else (options.get("p_min", 1), options.get("p_max", 8))
    brute = {k: v for k, v in options.items() if k not in ("p_min", "p_max")}
    expected, combo = brute_force_rules(costs, weights, *bounds, **brute)
    if combo is None:
        with pytest.raises((PMedianInfeasibleError, DataError)):
            solve_pmedian(costs, p, weights, **options)
        return
    result = solve_pmedian(costs, p, weights, **options)
    assert result.status == "optimal"
    assert result.objective == pytest.approx(expected)
    assert result.lower_bound == pytest.approx(expected, rel=1e-6)
    assert result.heuristic_objective >= result.objective - 1e-9
    charge = options.get("site_cost", np.zeros(8))
    assert result.site_charges == pytest.approx(charge[list(result.sites)].sum())
    travel = assignment_cost(costs, weights, result.sites)
    assert result.objective == pytest.approx(travel + result.site_charges)
    assert bounds[0] <= len(result.sites) <= bounds[1]


def test_site_charges_by_hand():
    # two clusters: {a, b} near site 0 or 1, {c} near site 2; opening 2 costs 50
    costs = np.array([[0, 1, 30], [1, 0, 30], [30, 30, 0.0]])
    free = solve_pmedian(costs, p_min=1, p_max=3)
    assert free.sites == (0, 1, 2) and free.objective == 0  # nothing charged: open all
    charged = solve_pmedian(costs, p_min=1, p_max=3, site_cost=np.array([0, 5, 50.0]))
    assert charged.sites == (0,) and charged.objective == 0 + 1 + 30  # {0, 1}: 35, {0, 2}: 51
    assert charged.site_charges == 0
    cheap = solve_pmedian(costs, p_min=1, p_max=3, site_cost=np.array([5, 6, 22.0]))
    assert cheap.sites == (0, 2) and cheap.objective == 1 + 5 + 22  # {1, 2}: 29, all: 33
    assert cheap.site_charges == 27


def test_max_cost_and_conflicts_by_hand():
    costs = np.array([[0, 10, 50], [10, 0, 40], [50, 40, 0.0]])
    # p = 1: site 1 is best (10 + 0 + 40 = 50), but max_cost 30 needs site 2 open too
    assert solve_pmedian(costs, 1).sites == (1,)
    two = solve_pmedian(costs, 2, max_cost=30)
    assert two.sites == (0, 2) and two.objective == 10  # (1, 2) also 10: ties to lower ids
    # 1 and 2 cannot both open, nor 0 and 2: with p = 2 only (0, 1) remains, and c is far
    apart = solve_pmedian(costs, 2, conflicts=[(1, 2), (0, 2)])
    assert apart.sites == (0, 1) and apart.objective == 40


def test_a_client_with_no_site_within_max_cost_is_named():
    costs = np.array([[1.0, 2.0], [50.0, 60.0], [3.0, 1.0]])
    with pytest.raises(
        DataError, match=r"1 client\(s\) have no candidate site within max_cost: 1 "
    ):
        solve_pmedian(costs, 1, max_cost=40)


def test_infeasible_rules_are_diagnosed():
    costs = np.array([[0, 10, 50], [10, 0, 40], [50, 40, 0.0]])
    # p = 1 cannot reach both a (needs 0 or 1) and c (needs 2) within 30
    with pytest.raises(PMedianInfeasibleError, match="dropping any one of p, max_cost") as caught:
        solve_pmedian(costs, 1, max_cost=30)
    assert caught.value.conflict == ["p", "max_cost"]
    assert caught.value.restoring == ["p", "max_cost"]
    assert isinstance(caught.value, SitingError)
    # two required sites in conflict
    with pytest.raises(PMedianInfeasibleError) as caught:
        solve_pmedian(costs, 2, fixed=[0, 1], conflicts=[(0, 1)])
    assert caught.value.restoring == ["fixed", "conflicts"]
    # covered weight out of reach
    with pytest.raises(PMedianInfeasibleError, match="min_covered_weight"):
        solve_pmedian(costs, 1, cover_radius=5, min_covered_weight=2)


def test_non_metric_costs_with_a_soft_spread_price():
    # c' = c + price * max(0, c - limit): a modified matrix, not a metric
    rng = np.random.default_rng(5)
    costs = rng.uniform(0, 100, size=(12, 7))
    priced = costs + 10.0 * np.maximum(0.0, costs - 40.0)
    weights = rng.integers(1, 4, 12).astype(float)
    expected, combo = brute_force_rules(priced, weights, 2, 2)
    result = solve_pmedian(priced, 2, weights)
    assert result.objective == pytest.approx(expected) and result.sites == combo


def test_time_limit_with_rules_returns_a_feasible_solution_and_its_gap():
    rng = np.random.default_rng(2)
    costs = rng.uniform(0, 1000, size=(900, 300))
    charge = rng.uniform(0, 3000, 300)
    conflicts = [(j, j + 1) for j in range(0, 298, 2)]
    result = solve_pmedian(
        costs,
        None,
        p_min=10,
        p_max=40,
        site_cost=charge,
        max_cost=450.0,
        conflicts=conflicts,
        forbidden=[5, 6],
        time_limit_s=0.3,
    )
    assert result.status == "time_limit"
    sites = set(result.sites)
    assert 10 <= len(sites) <= 40 and not sites & {5, 6}
    assert not any(a in sites and b in sites for a, b in conflicts)
    assert costs[:, list(sites)].min(axis=1).max() <= 450
    value = assignment_cost(costs, np.ones(900), sites) + charge[list(sites)].sum()
    assert result.objective == pytest.approx(value)
    assert result.objective <= result.heuristic_objective
    assert 0 < result.lower_bound <= result.objective and result.gap > 0


def test_p_must_be_a_whole_number():
    costs = np.ones((3, 3))
    with pytest.raises(DataError, match=r"p must be a whole number of sites, got 1\.5"):
        solve_pmedian(costs, 1.5)
    with pytest.raises(DataError, match="p must be a whole number of sites, got True"):
        solve_pmedian(costs, True)
    with pytest.raises(DataError, match="p_min = 3 exceeds p_max = 2"):
        solve_pmedian(costs, p_min=3, p_max=2)
    with pytest.raises(DataError, match="either p or a range"):
        solve_pmedian(costs, 2, p_min=1)
    matrix = TravelTimeMatrix.from_frame(
        pd.DataFrame(costs, index=list("abc"), columns=list("ABC"))
    )
    with pytest.raises(DataError, match=r"got 1\.5"):
        pmedian(matrix, 1.5)
    assert solve_pmedian(costs, np.int64(2)).status == "optimal"


def test_labelled_entry_point_with_rules():
    costs = pd.DataFrame(
        [[0, 10, 50], [10, 0, 40], [50, 40, 0]],
        index=["a", "b", "c"],
        columns=["A", "B", "C"],
        dtype=float,
    )
    matrix = TravelTimeMatrix.from_frame(costs)
    solution = pmedian(matrix, 2, conflicts=[("B", "C"), ("A", "C")])
    assert solution.open_sites == ("A", "B") and solution.objective == 40
    charged = pmedian(matrix, p_min=1, p_max=3, site_cost=pd.Series({"C": 55.0, "B": 25.0}))
    assert charged.open_sites == ("A",) and charged.objective == 60  # 0 + 10 + 50; {A, C}: 65
    with pytest.raises(DataError, match=r"unknown site id.*Z"):
        pmedian(matrix, 1, conflicts=[("A", "Z")])


# --- property: any input either solves or raises a SitingError ----------------------------

numbers = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True, width=64),
    st.integers(-5, 100),
)
indices = st.integers(-1, 4)
sizes = st.tuples(st.integers(0, 4), st.integers(0, 4))


@st.composite
def inputs(draw):
    n, m = draw(sizes)
    costs = draw(st.lists(st.lists(numbers, min_size=m, max_size=m), min_size=n, max_size=n))
    costs = np.array(costs, dtype=float).reshape(n, m)
    weights = draw(st.one_of(st.none(), st.lists(numbers, min_size=0, max_size=5)))
    p = draw(st.one_of(st.none(), st.integers(-1, 5), st.floats(0, 5), st.booleans()))
    options = draw(
        st.fixed_dictionaries(
            {},
            optional={
                "p_min": st.integers(-1, 5),
                "p_max": st.integers(-1, 5),
                "fixed": st.lists(st.integers(-1, 5), max_size=3),
                "forbidden": st.lists(st.integers(-1, 5), max_size=3),
                "site_cost": st.lists(numbers, min_size=0, max_size=4),
                "max_cost": numbers,
                "conflicts": st.lists(
                    st.tuples(st.integers(-1, 4), st.integers(-1, 4)), max_size=3
                ),
                "time_limit_s": st.one_of(numbers, st.none()),
            },
        )
    )
    return costs, p, weights, options


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(inputs())
def test_any_input_solves_or_raises_a_siting_error(case):
    costs, p, weights, options = case
    try:
        result = solve_pmedian(costs, p, weights, **options)
    except SitingError:
        return
    assert result.status in ("optimal", "time_limit")
    assert np.isfinite(result.objective) and result.lower_bound <= result.objective + 1e-9


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(inputs())
def test_labelled_entry_point_solves_or_raises_a_siting_error(case):
    costs, p, _, options = case
    n, m = costs.shape
    try:
        matrix = TravelTimeMatrix(
            tuple(f"c{i}" for i in range(n)), tuple(f"s{j}" for j in range(m)), costs
        )
        pmedian(
            matrix, p, max_cost=options.get("max_cost"), time_limit_s=options.get("time_limit_s")
        )
    except SitingError:
        return


def test_tsplib_reader_and_costs_on_sw24978():
    xy = read_tsplib(BENCH / "sw24978" / "sw24978.tsp")
    assert xy.shape == (24978, 2)
    assert xy[0].tolist() == [55333.3333, 13316.6667]  # line "1 55333.3333 13316.6667"
    # nodes 1 and 2: dy = 66.6666 -> nint 67
    assert tsplib_costs(xy[:1], xy[1:2])[0, 0] == 67


@pytest.mark.parametrize(("n", "p"), [(500, 8), (1000, 3)])
def test_points_path_equals_dense_path_on_sw24978_subsample(n, p):
    xy = read_tsplib(BENCH / "sw24978" / "sw24978.tsp")[:n]
    dense = solve_pmedian(tsplib_costs(xy, xy), p)
    points = solve_pmedian_points(xy, p)
    assert dense.status == points.status == "optimal"
    assert points.objective == dense.objective
    assert points.lower_bound == pytest.approx(dense.objective, rel=1e-9)
    assert points.objective == assignment_cost(tsplib_costs(xy, xy), np.ones(n), points.sites)


def test_points_path_equals_dense_path_on_random_coordinates_with_weights_and_sites():
    rng = np.random.default_rng(11)
    clients = rng.uniform(0, 100, size=(400, 2))
    sites = rng.uniform(0, 100, size=(250, 2))
    weights = rng.integers(0, 4, size=400).astype(float)
    costs = np.sqrt(((clients[:, None] - sites[None]) ** 2).sum(-1))
    dense = solve_pmedian(costs, 7, weights)
    points = solve_pmedian_points(clients, 7, weights, sites=sites, rounded=False)
    assert dense.status == points.status == "optimal"
    assert points.objective == pytest.approx(dense.objective, rel=1e-9)
    assert points.lower_bound == pytest.approx(dense.objective, rel=1e-7)
    if points.sites == dense.sites:
        assert points.assignment.tolist() == dense.assignment.tolist()


def test_points_path_bad_input_is_named():
    with pytest.raises(DataError, match="p must be a whole number between 1 and 3"):
        solve_pmedian_points(np.zeros((3, 2)), 4)
    with pytest.raises(DataError, match=r"clients \(n x 2\)"):
        solve_pmedian_points(np.zeros((3, 3)), 1)
    with pytest.raises(DataError, match="weights"):
        solve_pmedian_points(np.zeros((3, 2)), 1, -np.ones(3))
