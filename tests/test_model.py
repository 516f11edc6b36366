"""The siting MILP on small hand-checkable instances (no geography)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from siting.config import (
    CapacityRules,
    CostRules,
    CountyRules,
    Criterion,
    ModelSettings,
    SolverSettings,
    SpreadCriterion,
)
from siting.errors import DataError, InfeasibleError, ScenarioError, SitingError
from siting.model.problem import SitingProblem
from siting.model.solve import solve_problem
from siting.travel.matrix import TravelTimeMatrix


def line_problem(weights=(2, 1, 1, 3), partner=(False, False, True, False)):
    """Clients and sites A, B, C, D at positions 0, 1, 10, 12; 10 minutes per unit.

    Counties: X holds positions 0 and 1, Y holds 10 and 12 (adjacent). Criteria
    of a made-up agency: ``partner`` (a co-location: only C has the partner in
    town) and ``hospital`` (nearness: minutes to the nearest hospital).
    """
    position = np.array([0.0, 1.0, 10.0, 12.0])
    minutes = 10 * np.abs(position[:, None] - position[None, :])
    return SitingProblem(
        client_ids=("a", "b", "c", "d"),
        site_ids=("A", "B", "C", "D"),
        county_ids=("X", "Y"),
        weights=np.asarray(weights, dtype=float),
        minutes=minutes,
        client_county=np.array([0, 0, 1, 1]),
        site_county=np.array([0, 0, 1, 1]),
        site_minutes=minutes,
        county_adjacency=np.array([[0, 1]]),
        site_attributes=np.asarray(partner)[:, None],
        attribute_names=("partner",),
        site_layer_minutes=np.array([[0.0], [10.0], [90.0], [110.0]]),
        layer_names=("hospital",),
    )


def test_median():
    solution = solve_problem(line_problem(), ModelSettings(p=2))
    assert solution.offices == ("A", "D")
    assert solution.objective == pytest.approx(1 * 10 + 1 * 20)  # b -> A, c -> D
    assert solution.assignment["office"].to_dict() == {"a": "A", "b": "A", "c": "D", "d": "D"}
    assert solution.status == "optimal" and solution.gap < 1e-6


def test_median_with_required_and_forbidden():
    settings = ModelSettings(p=2, required=["B"], forbidden=["D"])
    solution = solve_problem(line_problem(), settings)
    assert solution.offices == ("B", "C")
    assert solution.objective == pytest.approx(2 * 10 + 3 * 20)


def test_center_then_total_minutes():
    solution = solve_problem(line_problem(), ModelSettings(p=1, objective="center"))
    assert solution.offices == ("C",)  # longest trip 100 (from a), B's would be 110
    assert solution.objective == pytest.approx(100)


def test_coverage_then_total_minutes():
    settings = ModelSettings(p=1, objective="coverage", coverage_minutes=25)
    solution = solve_problem(line_problem(), settings)
    # C and D both cover c and d (weight 4); C has fewer total minutes (350 vs 370)
    assert solution.offices == ("C",)
    assert solution.objective == pytest.approx(4)


def test_min_offices():
    settings = ModelSettings(objective="min_offices", coverage_minutes=15)
    solution = solve_problem(line_problem(), settings)
    assert len(solution.offices) == 3  # {a, b} share one; c and d are 20 min apart
    assert solution.objective == pytest.approx(3)
    assert solution.assignment["minutes"].max() <= 15


def test_cost_objective_picks_the_number_of_offices():
    cheap = ModelSettings(
        objective="cost",
        p_min=1,
        p_max=4,
        cost=CostRules(fixed_cost_sek=5, trips_per_organizer=1, sek_per_trip_minute=1),
    )
    assert len(solve_problem(line_problem(), cheap).offices) == 4  # offices cost less than travel
    dear = cheap.model_copy(update={"cost": cheap.cost.model_copy(update={"fixed_cost_sek": 1e6})})
    solution = solve_problem(line_problem(), dear)
    assert len(solution.offices) == 1
    assert solution.parts["fixed_cost_sek"] == pytest.approx(1e6)


def partner(**fields) -> dict[str, Criterion]:
    return {"partner": Criterion(**fields)}


def test_colocation_hard_and_soft():
    hard = solve_problem(line_problem(), ModelSettings(p=1, criteria=partner(mode="hard")))
    assert hard.offices == ("C",)
    soft = ModelSettings(p=1, criteria=partner(mode="soft", price=1000))
    assert solve_problem(line_problem(), soft).offices == ("C",)
    small = ModelSettings(p=1, criteria=partner(mode="soft", price=1))
    # without the price, D (weighted minutes 2*120+110+20 = 370) vs C (350): C anyway
    assert solve_problem(line_problem(), small).offices == ("C",)
    # a soft price moves an office: at p=2, A+D (travel 30) beats A+C (70), but with 50
    # per office lacking the partner A+D costs 30+100 and A+C 70+50
    assert solve_problem(line_problem(), ModelSettings(p=2)).offices == ("A", "D")
    moved = ModelSettings(p=2, criteria=partner(mode="soft", price=50))
    assert solve_problem(line_problem(), moved).offices == ("A", "C")


def test_nearness_hard_and_soft():
    within = {"hospital": Criterion(mode="hard", max_minutes=15)}
    assert solve_problem(line_problem(), ModelSettings(p=1, criteria=within)).offices == ("B",)
    # soft: 1 per minute beyond 60 (C: 30, D: 50); p=2: A+D 30+50 beats A+C 70+30, B+D 40+50
    soft = {"hospital": Criterion(mode="soft", max_minutes=60, price_per_minute=1)}
    solution = solve_problem(line_problem(), ModelSettings(p=2, criteria=soft))
    assert solution.offices == ("A", "D")  # 30 + 50 = 80 against A+C: 70 + 30 = 100
    assert solution.parts["soft_prices"] == pytest.approx(50)


def test_unknown_criterion_is_named_with_the_declared_ones():
    with pytest.raises(
        ScenarioError,
        match=r"model.criteria.partnr: not a criterion of this "
        r"data; did you mean 'partner'",
    ):
        solve_problem(line_problem(), ModelSettings(p=1, criteria={"partnr": Criterion()}))


def test_county_rules_and_contiguity():
    minutes = np.array([[0, 100], [60, 50], [40, 70], [100, 0]], dtype=float)
    problem = SitingProblem(
        client_ids=("w", "x", "y", "z"),
        site_ids=("SW", "SZ"),
        county_ids=("W", "X", "Y", "Z"),
        weights=np.ones(4),
        minutes=minutes,
        client_county=np.array([0, 1, 2, 3]),
        site_county=np.array([0, 3]),
        site_minutes=np.array([[0.0, 100], [100, 0]]),
        county_adjacency=np.array([[0, 1], [1, 2], [2, 3]]),
    )
    whole = solve_problem(problem, ModelSettings(p=2, county=CountyRules(whole=True)))
    assert whole.objective == pytest.approx(90)  # y to SW, x to SZ: not contiguous
    contiguous = solve_problem(problem, ModelSettings(p=2, county=CountyRules(contiguous=True)))
    assert contiguous.objective == pytest.approx(100)
    assert contiguous.assignment["office"].to_dict() == {"w": "SW", "x": "SW", "y": "SW", "z": "SZ"}
    table = contiguous.office_table()
    assert table.loc["SW", "counties"] == "W,X,Y" and table.loc["SW", "organizers"] == 3


def test_capacity_and_balance():
    # p=2, capacity 4: {a, b} (3) and {c, d} (4) fit
    fits = solve_problem(
        line_problem(), ModelSettings(p=2, capacity=CapacityRules(dialogues_per_office=4))
    )
    assert fits.offices == ("A", "D")
    # balance within +/-10 % of the mean load 3.5: loads must be 3.15..3.85: none fits
    with pytest.raises(InfeasibleError, match=r"model\.capacity\.balance"):
        solve_problem(line_problem(), ModelSettings(p=2, capacity=CapacityRules(balance=0.1)))


def test_capacity_below_demand_is_refused_before_solving():
    with pytest.raises(
        ScenarioError,
        match=r"model.capacity.dialogues_per_office: 2 offices x "
        r"3 dialogues < demand 7",
    ):
        solve_problem(
            line_problem(), ModelSettings(p=2, capacity=CapacityRules(dialogues_per_office=3))
        )


def test_infeasible_criteria_are_diagnosed():
    settings = ModelSettings(p=1, spread=SpreadCriterion(mode="hard", max_minutes=50))
    with pytest.raises(InfeasibleError) as info:
        solve_problem(line_problem(), settings)
    assert set(info.value.conflict) == {"model.p", "model.spread.max_minutes"}
    assert set(info.value.restoring) == {"model.p", "model.spread.max_minutes"}
    assert "model.spread.max_minutes=50" in str(info.value)


def test_unreachable_organizer_is_named():
    settings = ModelSettings(p=1, spread=SpreadCriterion(mode="hard", max_minutes=5))
    with pytest.raises(
        InfeasibleError,
        match=r"beyond model.spread.max_minutes from every "
        r"candidate: a \(10 min\)",
    ):
        solve_problem(line_problem(), settings.model_copy(update={"p": 3, "forbidden": ["A"]}))


def test_bad_settings_name_the_field():
    with pytest.raises(ScenarioError, match=r"model.p: 5 offices but only 4 candidate sites"):
        solve_problem(line_problem(), ModelSettings(p=5))
    with pytest.raises(ScenarioError, match=r"model.required: Z are not candidate sites"):
        solve_problem(line_problem(), ModelSettings(p=1, required=["Z"]))
    with pytest.raises(ScenarioError, match=r"model.coverage_minutes: needed"):
        solve_problem(line_problem(), ModelSettings(p=1, objective="coverage"))
    with pytest.raises(ScenarioError, match=r"model.criteria.rail: not a criterion of this data"):
        solve_problem(line_problem(), ModelSettings(p=1, criteria={"rail": Criterion()}))


def test_bad_problem_arrays_are_named():
    with pytest.raises(DataError, match=r"NaN, infinite or negative for a->A"):
        SitingProblem(
            ("a",),
            ("A",),
            ("X",),
            np.ones(1),
            np.array([[np.nan]]),
            np.zeros(1, int),
            np.zeros(1, int),
            np.zeros((1, 1)),
            np.zeros((0, 2), int),
        )
    with pytest.raises(DataError, match="there are no candidate sites"):
        SitingProblem(
            ("a",),
            (),
            ("X",),
            np.ones(1),
            np.zeros((1, 0)),
            np.zeros(1, int),
            np.zeros(0, int),
            np.zeros((0, 0)),
            np.zeros((0, 2), int),
        )


def test_prices_and_office_values():
    settings = ModelSettings(p=1, criteria=partner(mode="hard"))
    solution = solve_problem(line_problem(), settings, prices=True, office_values=True)
    assert solution.objective == pytest.approx(350)  # C: 2*100 + 90 + 0 + 3*20
    assert solution.criteria_prices == {"model.criteria.partner": pytest.approx(350)}
    assert solution.office_values == {"C": None}  # closing the only partner town: infeasible


def test_same_answer_from_cbc():
    settings = ModelSettings(p=2, county=CountyRules(whole=True))
    highs = solve_problem(line_problem(), settings)
    cbc = solve_problem(line_problem(), settings, SolverSettings(name="cbc"))
    assert cbc.objective == pytest.approx(highs.objective)
    assert cbc.offices == highs.offices


def test_unknown_solver_is_named():
    settings = ModelSettings(p=2, county=CountyRules(whole=True))
    with pytest.raises(
        SitingError,
        match=r"solver.name: 'nosuch' is not available here; "
        r"choose one of: cbc, highs",
    ):
        solve_problem(line_problem(), settings, SolverSettings(name="nosuch"))


def test_swedish_default_problem(sweden):
    from siting.problem_builder import build_problem

    problem = build_problem(sweden)
    planned = [sweden.locality_id(t) for t in ("Luleå", "Härnösand", "Solna", "Malmö")]
    fixed = solve_problem(problem, ModelSettings(p=4, required=planned))
    assert set(fixed.offices) == set(planned)
    optimized = solve_problem(problem, ModelSettings(p=4))
    assert optimized.objective < fixed.objective  # free choice beats the fixed four
    assert fixed.kpis()["organizers"] == 290
    gotland = fixed.assignment.loc["m0980"]
    assert gotland["office"] == sweden.locality_id("Solna")  # by ferry via Nynäshamn


def test_minimum_separation_between_offices():
    problem = line_problem(weights=(1, 5, 5, 1))
    assert solve_problem(problem, ModelSettings(p=2)).offices == ("B", "C")  # 90 min apart
    settings = ModelSettings(p=2, spread=SpreadCriterion(min_separation_minutes=100))
    solution = solve_problem(problem, settings)
    assert solution.offices == ("A", "C")  # 100 min apart: a 0, b 50, c 0, d 20
    assert solution.objective == pytest.approx(70)
    with pytest.raises(InfeasibleError, match=r"model.spread.min_separation_minutes"):
        solve_problem(problem, settings.model_copy(update={"p": 3}))


def test_pure_pmedian_with_cbc_uses_the_milp():
    solution = solve_problem(line_problem(), ModelSettings(p=2), SolverSettings(name="cbc"))
    assert solution.solver == "cbc"
    assert solution.offices == ("A", "D")
    assert solution.objective == pytest.approx(30)


def test_warm_start_never_changes_the_answer():
    problem = line_problem()
    cold = solve_problem(problem, ModelSettings(p=2, county=CountyRules(whole=True)))
    for start in (["A", "D"], ["B", "C"], ["A", "B"], ["A"], ["Z", "A"]):
        warm = solve_problem(
            problem, ModelSettings(p=2, county=CountyRules(whole=True)), start_offices=start
        )
        assert warm.objective == pytest.approx(cold.objective)
        median = solve_problem(problem, ModelSettings(p=2), start_offices=start)
        assert median.offices == ("A", "D")
    forbidden = ModelSettings(p=2, forbidden=["A"])
    assert "A" not in solve_problem(problem, forbidden, start_offices=["A", "D"]).offices


def test_same_input_same_result(sweden):
    from siting.problem_builder import build_problem

    problem = build_problem(sweden)
    assert list(problem.site_ids) == sorted(problem.site_ids)  # sites in id order
    settings = ModelSettings(p=6, county=CountyRules(whole=True))
    first, second = solve_problem(problem, settings), solve_problem(problem, settings)
    assert first.offices == second.offices
    pd.testing.assert_frame_equal(first.assignment, second.assignment)


@pytest.mark.parametrize("k", [1, 2])
def test_capacitated_pmedian_known_values(k):
    """OR-Library pmedcap1 (Osman & Christofides): the capacity builder reaches the optimum.

    The objective there is unweighted while capacity counts demand: weights carry
    the demand and minutes are cost / demand, so weighted minutes equal the cost.
    """
    from pathlib import Path

    from siting.model.orlib import read_pmedcap

    path = Path(__file__).resolve().parent / "data" / "bench" / "orlib" / "pmedcap1"
    path = path / f"pmedcap1_{k:02d}.txt"
    costs, demand, p, capacity, published = read_pmedcap(path)
    ids = tuple(map(str, range(len(demand))))
    minutes = TravelTimeMatrix(ids, ids, costs / demand[:, None])
    problem = SitingProblem.from_matrix(minutes, pd.Series(demand, index=list(ids)))
    settings = ModelSettings(p=p, capacity=CapacityRules(dialogues_per_office=capacity))
    solution = solve_problem(problem, settings, SolverSettings(mip_rel_gap=0))
    assert solution.status == "optimal"
    assert solution.objective == pytest.approx(published)
    load = solution.assignment.groupby("office")["weight"].sum()
    assert (load <= capacity).all()


def test_a_re_solved_lp_keeps_its_deadline():
    """HiGHS holds an LP's time limit against its summed run time: set_deadline allows for it."""
    import time

    import highspy
    from scipy import sparse

    from siting.model.milp import new_highs, set_deadline

    rng = np.random.default_rng(0)
    n = 200
    matrix = sparse.csc_matrix(rng.uniform(0.0, 1.0, (n, n)))
    lp = highspy.HighsLp()
    lp.num_col_ = lp.num_row_ = n
    lp.col_cost_ = -rng.uniform(0.0, 1.0, n)
    lp.col_lower_, lp.col_upper_ = np.zeros(n), np.full(n, highspy.kHighsInf)
    lp.row_lower_, lp.row_upper_ = np.full(n, -highspy.kHighsInf), np.ones(n)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = matrix.indptr.astype(np.int32)
    lp.a_matrix_.index_ = matrix.indices.astype(np.int32)
    lp.a_matrix_.value_ = matrix.data
    h = new_highs()
    h.passModel(lp)
    window = 0.3  # each re-solve takes a few hundredths of a second
    for _ in range(400):  # re-solve until the summed run time passes the window
        h.changeColsCost(n, np.arange(n, dtype=np.int32), -rng.uniform(0.0, 1.0, n))
        set_deadline(h, time.perf_counter() + window)
        h.run()
        assert h.getModelStatus() == highspy.HighsModelStatus.kOptimal
        if h.getRunTime() > 2 * window:
            break
    assert h.getRunTime() > 2 * window
    # the behaviour set_deadline allows for: a limit of the time left stops at once
    h.changeColsCost(n, np.arange(n, dtype=np.int32), -rng.uniform(0.0, 1.0, n))
    h.setOptionValue("time_limit", window)
    h.run()
    assert h.getModelStatus() == highspy.HighsModelStatus.kTimeLimit


def test_highs_run_elsewhere_in_the_process_does_not_break_a_solve():
    """HiGHS's one global thread scheduler is made at its first run, with that run's threads.

    A model run first outside siting with the default thread count (as the tests'
    reference MILPs or PuLP's in-process HiGHS do) made every later siting run,
    which asks for one thread, fail with no solution; run in a fresh process so
    the first HiGHS run is the foreign one.
    """
    import subprocess
    import sys
    import textwrap

    script = textwrap.dedent(
        """
        import highspy
        import numpy as np

        from siting.model.capacitated import solve_capacitated
        from siting.model.milp import new_highs

        def run(h):
            h.setOptionValue("output_flag", False)
            h.addVars(2, np.zeros(2), np.full(2, 3.0))
            h.changeColsCost(2, np.arange(2, dtype=np.int32), np.array([-1.0, -2.0]))
            h.changeColsIntegrality(
                2, np.arange(2, dtype=np.int32), np.full(2, highspy.HighsVarType.kInteger)
            )
            h.addRow(-highspy.kHighsInf, 4.5, 2, np.arange(2, dtype=np.int32), np.ones(2))
            h.run()
            return h.modelStatusToString(h.getModelStatus())

        print(run(highspy.Highs()))  # foreign, default threads: the scheduler is made here
        print(run(new_highs(1)), run(new_highs(2)), run(new_highs(1)))
        rng = np.random.default_rng(0)
        costs = rng.uniform(0, 100, (30, 6)).round()
        result = solve_capacitated(costs, None, 3, 11)
        print(result.status, len(result.sites))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()[-3:]
    assert lines == ["Optimal", "Optimal Optimal Optimal", "optimal 3"], done.stdout
