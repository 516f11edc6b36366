from __future__ import annotations

import itertools
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from siting import DataError, TravelTimeMatrix, pmedian
from siting.model.heuristics import assignment_cost, greedy, swap_search
from siting.model.orlib import read_pmed, read_pmedopt
from siting.model.pmedian import solve_pmedian

BENCH = Path(__file__).resolve().parents[2] / "shared" / "bench"
needs_bench = pytest.mark.skipif(not BENCH.is_dir(), reason=f"benchmark data not at {BENCH}")


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
    costs, p = read_pmed(BENCH / "orlib" / "pmed16.txt") if BENCH.is_dir() else (None, None)
    if costs is None:
        pytest.skip("benchmark data missing")
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


@needs_bench
@pytest.mark.parametrize("k", [1, 2, 3, 4, 5])
def test_orlib_known_optima(k):
    costs, p = read_pmed(BENCH / "orlib" / f"pmed{k}.txt")
    optimum = read_pmedopt(BENCH / "orlib" / "pmedopt.txt")[f"pmed{k}"]
    result = solve_pmedian(costs, p)
    assert result.status == "optimal"
    assert result.objective == optimum


@needs_bench
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


@needs_bench
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
