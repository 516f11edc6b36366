"""Property-based tests: any input either works or raises a SitingError, never another error."""

from __future__ import annotations

import contextlib

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from siting.config import ModelSettings
from siting.errors import SitingError
from siting.model.problem import SitingProblem
from siting.model.solve import solve_problem
from siting.scenario import apply_overrides, validate_scenario
from siting.travel.matrix import TravelTimeMatrix

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(10**6), 10**6)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=12)
    | st.dates()
)
VALUES = st.recursive(
    SCALARS,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
KEYS = st.sampled_from(
    [
        "name",
        "model",
        "model.p",
        "model.objective",
        "model.criteria.spsm.mode",
        "model.criteria.x.price",
        "model.spread.max_minutes",
        "travel.modes",
        "travel.rail.transfer_min",
        "travel.rail.gtfs_date",
        "solver.time_limit_s",
        "outputs.formats",
        "data.min_population",
        "bogus.key",
    ]
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw=VALUES)
def test_any_raw_scenario_validates_or_says_why(raw):
    with contextlib.suppress(SitingError):
        validate_scenario(raw, "property test")


@settings(max_examples=150, deadline=None)
@given(overrides=st.dictionaries(KEYS, VALUES, max_size=4))
def test_any_overrides_validate_or_say_why(overrides):
    base = {"name": "x", "model": {"p": 3}}
    with contextlib.suppress(SitingError):
        validate_scenario(apply_overrides(base, overrides), "property test")


MINUTES = st.floats(min_value=-5, max_value=1e4) | st.sampled_from([np.nan, np.inf, -np.inf])


@settings(max_examples=60, deadline=None)
@given(
    data=st.data(),
    n=st.integers(1, 6),
    m=st.integers(1, 5),
    p=st.integers(-1, 6),
)
def test_any_matrix_solves_or_says_why(data, n, m, p):
    values = data.draw(st.lists(MINUTES, min_size=n * m, max_size=n * m))
    weights = data.draw(st.lists(MINUTES, min_size=n, max_size=n))
    matrix = TravelTimeMatrix(
        tuple(f"c{i}" for i in range(n)),
        tuple(f"s{j}" for j in range(m)),
        np.array(values, dtype=float).reshape(n, m),
    )
    try:
        problem = SitingProblem.from_matrix(matrix, pd.Series(weights, index=list(matrix.origins)))
        solution = solve_problem(problem, ModelSettings(p=p) if p >= 1 else ModelSettings())
    except SitingError:
        return
    assert len(solution.offices) == p
    assert np.isfinite(solution.objective)
