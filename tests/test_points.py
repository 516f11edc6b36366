"""The coordinate p-median path (siting.model.points) against the dense solver."""

from __future__ import annotations

import numpy as np
import pytest

from siting.model.pmedian import solve_pmedian
from siting.model.points import EuclideanCosts, _Blocks, site_prices, solve_pmedian_points


def _instance(seed: int, n: int = 200):
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 100, size=(n, 2))
    weights = rng.integers(1, 4, size=n).astype(float)
    costs = np.floor(np.sqrt(((xy[:, None] - xy[None]) ** 2).sum(-1)) + 0.5)
    return xy, weights, costs


@pytest.mark.parametrize(
    ("seed", "p", "branches"),
    [(4, 4, False), (4, 12, True), (7, 7, True), (7, 12, False), (4, 1, False)],
)
def test_points_path_equals_dense_path_for_several_p(seed, p, branches):
    # (4, 12) and (7, 7): the Lagrangian bound stays below the optimum, so sites are
    # fixed closed by their price and the master MIP runs over the survivors
    xy, weights, costs = _instance(seed)
    dense = solve_pmedian(costs, p, weights)
    points = solve_pmedian_points(xy, p, weights)
    assert dense.status == points.status == "optimal"
    assert points.objective == dense.objective
    assert points.lower_bound == points.objective
    assert (points.rounds > 0) == branches
    assert points.objective == weights @ costs[:, list(points.sites)].min(axis=1)


def test_site_prices_are_exact_wherever_they_can_matter():
    rng = np.random.default_rng(3)
    xy = rng.uniform(0, 1000, size=(400, 2))
    oracle = EuclideanCosts(xy, xy)
    weights = rng.integers(1, 4, size=400).astype(float)
    clients = np.arange(400)
    # multipliers shaped like an incumbent's distances: prices peak near its 5 sites
    lam = 1.1 * oracle.nearest(rng.choice(400, 5, replace=False))
    true = -(weights[:, None] * np.maximum(lam[:, None] - oracle.block(clients), 0)).sum(axis=0)
    threshold = float(np.quantile(true, 0.03))
    rho, exact = site_prices(oracle, clients, weights, lam, _Blocks.of(xy, size=8), 5, threshold)
    assert np.all(rho <= true + 1e-9)  # a lower bound everywhere
    assert np.allclose(rho[exact], true[exact])
    assert exact[true < threshold].all()  # exact below the threshold
    assert exact.sum() < 200  # and most blocks were bounded, not computed
    assert np.sort(rho)[:5] == pytest.approx(np.sort(true)[:5])


def test_points_path_out_of_time_keeps_a_valid_bound():
    xy, weights, costs = _instance(4)
    result = solve_pmedian_points(xy, 12, weights, time_limit_s=1e-3)
    optimum = solve_pmedian(costs, 12, weights).objective
    assert result.status == "time_limit"
    assert 0 <= result.lower_bound <= optimum <= result.objective  # clients are sites: 0 here
    assert result.objective == weights @ costs[:, list(result.sites)].min(axis=1)
