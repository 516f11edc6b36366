"""The site-level path (Benders p-median, covering models, capacitated p-median) equals the MILP.

Every objective and every criterion that runs on the site-level solvers is solved
twice on small seeded instances: once as dispatched (site level) and once with
the dispatch forced to the n x m assignment MILP; objectives and parts agree.
Capacities and balance bands run on the capacitated p-median; they are checked
the same way, in process and through the real ``siting solve`` command.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import siting.model.solve as solve_module
from siting.config import (
    CapacityRules,
    CostRules,
    Criterion,
    ModelSettings,
    SolverSettings,
    SpreadCriterion,
)
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


# -- capacities and balance bands: the capacitated p-median ---------------------------


def capacity_case(case: str, problem: SitingProblem) -> ModelSettings:
    """Settings for ``case``, with a capacity that binds on ``problem``'s total weight."""
    total = float(problem.weights.sum())
    tight = CapacityRules(dialogues_per_office=math.ceil(0.4 * total))  # p = 3: 1.2 x demand
    return {
        "capacity": ModelSettings(p=3, capacity=tight),
        "balance": ModelSettings(p=3, capacity=CapacityRules(balance=0.25)),
        "capacity_and_balance": ModelSettings(
            p=3, capacity=CapacityRules(dialogues_per_office=math.ceil(0.4 * total), balance=0.3)
        ),
        "capacity_required_forbidden": ModelSettings(
            p=3, required=["s1"], forbidden=["s2", "s5"], capacity=tight
        ),
        "balance_required_forbidden_soft": ModelSettings(
            p=3,
            required=["s0"],
            forbidden=["s4"],
            capacity=CapacityRules(balance=0.3),
            criteria={"partner": Criterion(mode="soft", price=60)},
        ),
        "capacity_hard_criterion_and_spread": ModelSettings(
            p=2,
            capacity=CapacityRules(dialogues_per_office=math.ceil(0.6 * total)),
            criteria={"hospital": Criterion(mode="hard", max_minutes=80)},
            spread=SpreadCriterion(mode="hard", max_minutes=75),
        ),
        "capacity_soft_spread": ModelSettings(
            p=3,
            capacity=tight,
            spread=SpreadCriterion(mode="soft", max_minutes=40, price_per_minute=3),
        ),
        "capacity_cost": ModelSettings(
            objective="cost",
            p=3,
            capacity=tight,
            cost=CostRules(fixed_cost_sek=900, trips_per_organizer=2, sek_per_trip_minute=3),
            criteria={"hospital": Criterion(mode="soft", max_minutes=40, price=500)},
        ),
    }[case]


CAPACITY_CASES = [
    "capacity",
    "balance",
    "capacity_and_balance",
    "capacity_required_forbidden",
    "balance_required_forbidden_soft",
    "capacity_hard_criterion_and_spread",
    "capacity_soft_spread",
    "capacity_cost",
]


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("case", CAPACITY_CASES)
def test_capacity_path_equals_the_assignment_milp(case, seed, monkeypatch):
    problem = instance(seed)
    settings = capacity_case(case, problem)
    assert solve_module._on_sites(settings, SolverSettings())
    try:
        fast = solve_problem(problem, settings)
    except InfeasibleError as exc:
        monkeypatch.setattr(solve_module, "_on_sites", lambda *_: False)
        with pytest.raises(InfeasibleError) as plain:
            solve_problem(problem, settings)
        assert str(exc) == str(plain.value) and exc.conflict
        return
    assert fast.solver.startswith("highs (capacitated p-median")
    monkeypatch.setattr(solve_module, "_on_sites", lambda *_: False)
    plain = solve_problem(problem, settings)
    assert plain.solver == "highs"
    assert fast.status == plain.status == "optimal"
    assert fast.objective == pytest.approx(plain.objective, rel=1e-6, abs=1e-6)
    for name, value in plain.parts.items():
        assert fast.parts[name] == pytest.approx(value, rel=1e-6, abs=1e-6), name
    load = fast.assignment.groupby("office")["weight"].sum()
    assert set(load.index) == set(fast.offices)
    if settings.capacity.dialogues_per_office is not None:
        assert load.max() <= settings.capacity.dialogues_per_office + 1e-9
    if settings.capacity.balance is not None:
        mean = problem.weights.sum() / settings.p
        assert load.min() >= (1 - settings.capacity.balance) * mean - 1e-9
        assert load.max() <= (1 + settings.capacity.balance) * mean + 1e-9
    assert set(settings.required) <= set(fast.offices)
    assert not set(settings.forbidden) & set(fast.offices)


@pytest.mark.parametrize(
    ("weights", "capacity", "conflict"),
    [
        # 3 x 5 = 15 dialogues fit the demand 15 only by packing 5 + 5 + 5: the 4s cannot
        ([4, 4, 4, 3], CapacityRules(dialogues_per_office=5), "model.capacity"),
        # loads 3, 3, 3, 3, 3 over 3 offices: 5 each (balance 0) cannot be met
        ([3, 3, 3, 3, 3], CapacityRules(balance=0.0), "model.capacity.balance"),
        # one organizer carries more than an office holds
        ([9, 1, 1, 1, 1], CapacityRules(dialogues_per_office=8), "model.capacity"),
    ],
)
def test_infeasible_loads_are_diagnosed_as_on_the_assignment_milp(
    weights, capacity, conflict, monkeypatch
):
    base = instance(4, n=len(weights), m=5)
    problem = SitingProblem(**{**base.__dict__, "weights": np.asarray(weights, dtype=float)})
    settings = ModelSettings(p=3, capacity=capacity, required=["s0"])
    assert solve_module._on_sites(settings, SolverSettings())
    with pytest.raises(InfeasibleError, match=conflict) as fast:
        solve_problem(problem, settings)
    monkeypatch.setattr(solve_module, "_on_sites", lambda *_: False)
    with pytest.raises(InfeasibleError) as plain:
        solve_problem(problem, settings)
    assert str(fast.value) == str(plain.value)
    assert fast.value.conflict == plain.value.conflict
    assert fast.value.restoring == plain.value.restoring


def test_what_the_capacitated_path_cannot_take_stays_on_the_assignment_milp():
    capacity = CapacityRules(dialogues_per_office=20)
    assert solve_module._on_sites(ModelSettings(p=3, capacity=capacity), SolverSettings())
    for settings in (
        ModelSettings(p_min=2, p_max=4, capacity=capacity),  # a range of p
        ModelSettings(p=3, capacity=capacity, spread=SpreadCriterion(min_separation_minutes=30)),
        ModelSettings(objective="center", p=3, capacity=capacity),
    ):
        assert not solve_module._on_sites(settings, SolverSettings())
    assert not solve_module._on_sites(
        ModelSettings(p=3, capacity=capacity), SolverSettings(name="cbc")
    )


def test_capacity_through_the_real_command_equals_the_assignment_milp(tmp_path):
    """``siting solve`` with a capacity: HiGHS (capacitated path) and CBC (assignment MILP)."""
    root = Path(__file__).resolve().parents[1]
    siting = str(Path(sys.executable).parent / "siting")
    summaries = {}
    for name in ("highs", "cbc"):
        out = tmp_path / name
        done = subprocess.run(
            [
                siting,
                "solve",
                str(root / "tests" / "agency" / "three-partners.yaml"),
                "--out",
                str(out),
                "--set",
                "model.criteria.partner.mode=off",
                "--set",
                "model.capacity.dialogues_per_office=110",  # 290 organizers, 3 offices
                "--set",
                f"solver.name={name}",
                "--set",
                "outputs.formats=[json]",
            ],
            capture_output=True,
            text=True,
            timeout=300,
            stdin=subprocess.DEVNULL,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        assert "Traceback" not in done.stdout + done.stderr
        summaries[name] = json.loads((out / "summary.json").read_text())
    fast, plain = summaries["highs"], summaries["cbc"]
    assert fast["solver"].startswith("highs (capacitated p-median")
    assert plain["solver"] == "cbc"
    assert fast["status"] == plain["status"] == "optimal"
    assert fast["objective"] == pytest.approx(plain["objective"], rel=1e-6)
    assert fast["objective"] == pytest.approx(39907.05, abs=0.01)  # above 34,372 uncapacitated
    assert fast["organizers"]["count"] == 290


@pytest.mark.parametrize("seed", [1, 2])
def test_balance_with_equal_weights_equals_the_assignment_milp(seed, monkeypatch):
    """Equal loads: the band is rounded to whole organizers and x is continuous (TU)."""
    base = instance(seed, n=13)
    problem = SitingProblem(**{**base.__dict__, "weights": np.ones(13)})
    settings = ModelSettings(p=3, capacity=CapacityRules(balance=0.2), forbidden=["s3"])
    fast = solve_problem(problem, settings)  # loads within 13 / 3 x (0.8, 1.2): 4 or 5 each
    assert fast.solver.startswith("highs (capacitated p-median")
    assert sorted(fast.assignment.groupby("office").size()) == [4, 4, 5]
    monkeypatch.setattr(solve_module, "_on_sites", lambda *_: False)
    plain = solve_problem(problem, settings)
    assert fast.status == plain.status == "optimal"
    assert fast.objective == pytest.approx(plain.objective, rel=1e-6, abs=1e-6)
