"""The site-level path (Benders p-median, covering models) equals the plain assignment MILP.

Every objective and every criterion that runs on the site-level solvers is solved
twice on small seeded instances: once as dispatched (site level) and once with
the dispatch forced to the n x m assignment MILP; objectives and parts agree.
"""

from __future__ import annotations

import numpy as np
import pytest

import siting.model.solve as solve_module
from siting.config import CostRules, Criterion, ModelSettings, SpreadCriterion
from siting.errors import InfeasibleError
from siting.model.problem import SitingProblem
from siting.model.solve import solve_problem


def instance(seed: int, n: int = 14, m: int = 7) -> SitingProblem:
    rng = np.random.default_rng(seed)
    clients, sites = rng.uniform(0, 100, (n, 2)), rng.uniform(0, 100, (m, 2))
    minutes = np.round(np.linalg.norm(clients[:, None] - sites[None], axis=2), 1)
    between = np.round(np.linalg.norm(sites[:, None] - sites[None], axis=2), 1)
    return SitingProblem(
        client_ids=tuple(f"c{i}" for i in range(n)),
        site_ids=tuple(f"s{j}" for j in range(m)),
        county_ids=("all",),
        weights=rng.integers(1, 5, n).astype(float),
        minutes=minutes,
        client_county=np.zeros(n, dtype=np.int64),
        site_county=np.zeros(m, dtype=np.int64),
        site_minutes=between,
        county_adjacency=np.zeros((0, 2), dtype=np.int64),
        site_attributes=(rng.random((m, 1)) < 0.6),
        attribute_names=("partner",),
        site_layer_minutes=rng.uniform(0, 90, (m, 1)),
        layer_names=("hospital",),
    )


CASES = {
    "median": ModelSettings(p=3),
    "median_p_range": ModelSettings(
        p_min=2, p_max=4, criteria={"partner": Criterion(mode="soft", price=40)}
    ),
    "required_forbidden": ModelSettings(p=3, required=["s1"], forbidden=["s2", "s5"]),
    "hard_criteria": ModelSettings(
        p=2,
        criteria={
            "partner": Criterion(mode="hard"),
            "hospital": Criterion(mode="hard", max_minutes=70),
        },
    ),
    "soft_criteria": ModelSettings(
        p=3,
        criteria={
            "partner": Criterion(mode="soft", price=60),
            "hospital": Criterion(mode="soft", max_minutes=40, price=10, price_per_minute=2),
        },
    ),
    "hard_spread": ModelSettings(p=3, spread=SpreadCriterion(mode="hard", max_minutes=60)),
    "soft_spread": ModelSettings(
        p=2, spread=SpreadCriterion(mode="soft", max_minutes=40, price_per_minute=3)
    ),
    "separation": ModelSettings(p=3, spread=SpreadCriterion(min_separation_minutes=35)),
    "cost": ModelSettings(
        objective="cost",
        p_max=5,
        cost=CostRules(fixed_cost_sek=900, trips_per_organizer=2, sek_per_trip_minute=3),
        criteria={"partner": Criterion(mode="soft", price=100)},
    ),
    "center": ModelSettings(objective="center", p=3),
    "center_criteria": ModelSettings(
        objective="center", p=2, criteria={"partner": Criterion(mode="hard")}
    ),
    "coverage": ModelSettings(objective="coverage", p=2, coverage_minutes=35),
    "min_offices": ModelSettings(objective="min_offices", coverage_minutes=45),
    "min_offices_required": ModelSettings(
        objective="min_offices", coverage_minutes=45, required=["s0"]
    ),
}


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("case", sorted(CASES))
def test_site_path_equals_the_assignment_milp(case, seed, monkeypatch):
    settings = CASES[case]
    problem = instance(seed)
    assert solve_module._on_sites(settings, solve_module.SolverSettings())
    try:
        fast = solve_problem(problem, settings)
    except InfeasibleError as exc:
        monkeypatch.setattr(solve_module, "_on_sites", lambda *_: False)
        with pytest.raises(InfeasibleError):
            solve_problem(problem, settings)
        assert exc.conflict
        return
    assert fast.solver.startswith("highs (site-level")
    monkeypatch.setattr(solve_module, "_on_sites", lambda *_: False)
    plain = solve_problem(problem, settings)
    assert fast.status == plain.status == "optimal"
    assert fast.objective == pytest.approx(plain.objective, rel=1e-6, abs=1e-6)
    for name, value in plain.parts.items():  # the same travel minutes, prices, costs
        assert fast.parts[name] == pytest.approx(value, rel=1e-6, abs=1e-6), name
