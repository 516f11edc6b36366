from __future__ import annotations

import itertools

import numpy as np
import pytest

from siting import DataError
from siting.model.covering import solve_center, solve_coverage, solve_min_offices
from siting.model.pmedian import PMedianInfeasibleError


def subsets(m, p_min, p_max, conflicts=(), forbidden=(), fixed=()):
    for k in range(p_min, p_max + 1):
        for combo in itertools.combinations([j for j in range(m) if j not in forbidden], k):
            if set(fixed) <= set(combo) and not any(
                a in combo and b in combo for a, b in conflicts
            ):
                yield list(combo)


def instance(seed, n=12, m=8):
    rng = np.random.default_rng(seed)
    costs = rng.integers(0, 40, size=(n, m)).astype(float)  # ties on purpose
    weights = rng.integers(0, 4, size=n).astype(float)
    return rng, costs, weights


def total(costs, weights, charge, sites):
    return weights @ costs[:, sites].min(axis=1) + charge[sites].sum()


def rules(seed, rng, m):
    """Seed-dependent site rules: charges, conflicts, forbidden and fixed sites."""
    charge = rng.integers(0, 30, m).astype(float) if seed % 2 else np.zeros(m)
    conflicts = [(0, 1), (1, 2), (3, 5)] if seed % 3 else []
    forbidden = [7] if seed % 4 == 1 else []
    fixed = [4] if seed % 5 == 2 else []
    return charge, conflicts, forbidden, fixed


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("seed", range(6))
def test_center_and_its_tie_break_match_enumeration(seed, weighted):
    rng, costs, weights = instance(seed)
    charge, conflicts, forbidden, fixed = rules(seed, rng, 8)
    p = 1 + seed % 3
    trips = weights[:, None] * costs if weighted else costs
    candidates = list(subsets(8, p, p, conflicts, forbidden, fixed))
    best = min(
        (trips[:, s].min(axis=1).max(), total(costs, weights, charge, s)) for s in candidates
    )
    result = solve_center(
        costs,
        p,
        weights,
        weighted=weighted,
        site_cost=charge,
        conflicts=conflicts,
        forbidden=forbidden,
        fixed=fixed,
    )
    assert result.status == "optimal"
    assert result.primary == best[0] and result.primary_bound == best[0]
    assert result.median.objective == pytest.approx(best[1])
    sites = list(result.sites)
    assert trips[:, sites].min(axis=1).max() == best[0]


@pytest.mark.parametrize("seed", range(6))
def test_coverage_and_its_tie_break_match_enumeration(seed):
    rng, costs, weights = instance(seed)
    charge, conflicts, forbidden, fixed = rules(seed, rng, 8)
    radius = float(rng.integers(8, 20))
    p_min, p_max = (2, 2) if seed % 2 else (1, 3)
    covered = lambda s: weights[(costs[:, s] <= radius).any(axis=1)].sum()  # noqa: E731
    best = min(
        (-covered(s), total(costs, weights, charge, s))
        for s in subsets(8, p_min, p_max, conflicts, forbidden, fixed)
    )
    result = solve_coverage(
        costs,
        radius,
        None,
        weights,
        p_min=p_min,
        p_max=p_max,
        site_cost=charge,
        conflicts=conflicts,
        forbidden=forbidden,
        fixed=fixed,
    )
    assert result.status == "optimal"
    assert result.primary == -best[0] and result.primary_bound == pytest.approx(-best[0])
    assert result.median.objective == pytest.approx(best[1])


@pytest.mark.parametrize("seed", range(6))
def test_min_offices_and_its_tie_break_match_enumeration(seed):
    rng, costs, weights = instance(seed)
    charge, conflicts, forbidden, fixed = rules(seed, rng, 8)
    radius = float(rng.integers(18, 30))
    feasible = [
        s
        for s in subsets(8, 1, 8, conflicts, forbidden, fixed)
        if (costs[:, s].min(axis=1) <= radius).all()
    ]
    if not feasible:
        with pytest.raises((PMedianInfeasibleError, DataError)):
            solve_min_offices(costs, radius, weights, conflicts=conflicts, forbidden=forbidden)
        return
    best = min((len(s), total(costs, weights, charge, s)) for s in feasible)
    result = solve_min_offices(
        costs,
        radius,
        weights,
        site_cost=charge,
        conflicts=conflicts,
        forbidden=forbidden,
        fixed=fixed,
    )
    assert result.status == "optimal"
    assert result.primary == best[0] and result.primary_bound == best[0]
    assert result.median.objective == pytest.approx(best[1])
    assert (costs[:, list(result.sites)].min(axis=1) <= radius).all()


def test_by_hand():
    # clients a, b, c on a line at 0, 10, 30; sites at the same points
    xs = np.array([0.0, 10.0, 30.0])
    costs = np.abs(xs[:, None] - xs[None, :])
    weights = np.array([1.0, 1.0, 5.0])
    center = solve_center(costs, 1, weights)
    assert center.sites == (1,) and center.primary == 20  # c is 20 from b; a/c sites: 30
    assert center.median.objective == 10 + 0 + 5 * 20
    weighted = solve_center(costs, 1, weights, weighted=True)
    assert weighted.sites == (2,) and weighted.primary == 30  # a: 1 x 30; at 1: c 5 x 20 = 100
    coverage = solve_coverage(costs, 10, 1, weights)
    assert coverage.sites == (2,) and coverage.primary == 5  # c alone (5) beats a + b (2)
    cover = solve_min_offices(costs, 10, weights)
    assert cover.primary == 2 and cover.sites == (0, 2)  # (1, 2) also 2 sites: a travels 10
    assert cover.median.objective == 10 * 1 + 0


def test_errors_are_named():
    costs = np.array([[0.0, 10.0], [10.0, 0.0], [50.0, 60.0]])
    with pytest.raises(DataError, match="have no candidate site within max_cost: 2"):
        solve_min_offices(costs, 20)
    with pytest.raises(DataError, match="radius must be a finite number"):
        solve_coverage(costs, -1, 1)
    with pytest.raises(DataError, match="p must be a whole number"):
        solve_center(costs, 1.5)
    with pytest.raises(PMedianInfeasibleError) as caught:
        solve_center(costs, 2, fixed=[0, 1], conflicts=[(0, 1)])
    # with two sites and p = 2 both open anyway: only dropping the conflict helps
    assert caught.value.conflict == ["p", "fixed", "conflicts"]
    assert caught.value.restoring == ["conflicts"]


def test_time_limits_return_feasible_sites_with_bounds():
    rng = np.random.default_rng(4)
    xy = rng.uniform(0, 1000, size=(700, 2))
    costs = np.sqrt(((xy[:, None] - xy[None, :200]) ** 2).sum(-1))
    for result in (
        solve_center(costs, 12, time_limit_s=0.2),
        solve_coverage(costs, 120.0, 12, time_limit_s=0.2),
    ):
        assert len(result.sites) == 12
        assert result.status == "time_limit"
    center = solve_center(costs, 12, time_limit_s=0.2)
    assert center.primary_bound <= center.primary
    assert costs[:, list(center.sites)].min(axis=1).max() == center.primary
