"""Run a scenario: atlas -> travel minutes -> SitingProblem -> MILP -> Solution.

Each stage is a function of the previous one's result; :func:`run` chains them
and times each one. Scripts and the CLI call the same function.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from functools import lru_cache

import geopandas as gpd
import pandas as pd

from siting.atlas import Atlas, load_atlas
from siting.config import Criterion, ModelSettings
from siting.errors import ScenarioError, UnknownNameError
from siting.model.problem import SitingProblem
from siting.model.solve import check_settings, check_solver, solve_problem
from siting.problem_builder import build_problem
from siting.scenario import DataSection, Scenario
from siting.solution import Solution

log = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class Run:
    """A solved scenario with everything needed to report it."""

    scenario: Scenario
    atlas: Atlas
    candidates: gpd.GeoDataFrame
    problem: SitingProblem
    solution: Solution
    seconds: dict[str, float] = field(default_factory=dict)


@lru_cache(maxsize=8)
def _atlas(data: DataSection) -> Atlas:
    return load_atlas(
        data.manifest,
        organizers=data.organizers,
        organizers_file=data.organizers_file,
        school_register=data.school_register,
        organizer_weight=data.organizer_weight,
        min_population=data.min_population,
    )


def load_scenario_atlas(scenario: Scenario) -> Atlas:
    """The atlas a scenario asks for (cached per process, per data section)."""
    return _atlas(scenario.data)


def resolve_sites(
    scenario: Scenario, atlas: Atlas
) -> tuple[gpd.GeoDataFrame, list[str], list[str]]:
    """Candidates with every required town included, and required/forbidden as ids.

    Raises
    ------
    ScenarioError
        Unknown or ambiguous town names, by field, with the closest names.

    """
    problems = []
    ids: dict[str, list[str]] = {"required": [], "forbidden": []}
    for name in ids:
        for town in getattr(scenario.model, name):
            try:
                ids[name].append(
                    town if town in atlas.candidates.index else atlas.locality_id(town)
                )
            except UnknownNameError as exc:
                problems.append(f"model.{name}: {exc}")
    if problems:
        raise ScenarioError("; ".join(problems))
    candidates = atlas.candidates
    extra = [i for i in ids["required"] if i not in candidates.index]
    if extra:
        added = atlas.localities.loc[
            extra, ["name", "municipality_id", "county_id", "population", "geometry"]
        ].assign(reasons="required")
        added.index.name = "candidate_id"
        candidates = pd.concat([candidates, added]).sort_index()
        log.info("added required towns to the candidates: %s", ", ".join(extra))
    forbidden = [i for i in ids["forbidden"] if i in candidates.index]
    return candidates, ids["required"], forbidden


def criteria_with_defaults(scenario: Scenario, atlas: Atlas) -> dict[str, Criterion]:
    """The scenario's criteria, with the manifest's default limit where a scenario gives none.

    Unknown names are left for :func:`siting.model.solve.check_settings` to
    report with the declared ones.
    """
    criteria = dict(scenario.model.criteria)
    for name, criterion in criteria.items():
        declared = atlas.spec.criteria.get(name)
        if declared is not None and criterion.max_minutes is None and declared.kind == "near":
            criteria[name] = criterion.model_copy(update={"max_minutes": declared.max_minutes})
    return criteria


@dataclass(frozen=True, eq=False)
class Prepared:
    """A scenario made ready to solve: every check that needs no solver has passed."""

    scenario: Scenario
    atlas: Atlas
    candidates: gpd.GeoDataFrame
    problem: SitingProblem
    settings: ModelSettings
    seconds: dict[str, float] = field(default_factory=dict)


def prepare(scenario: Scenario) -> Prepared:
    """Load the atlas, resolve towns, build the travel minutes and the problem, check settings.

    Everything :func:`run` does before it solves, so that ``siting validate``
    refuses exactly what ``siting solve`` would refuse.

    Raises
    ------
    SitingError
        Unknown towns, unreadable data, settings that cannot work, an unknown solver.

    """
    seconds: dict[str, float] = {}
    started = time.perf_counter()
    check_solver(scenario.solver)
    atlas = load_scenario_atlas(scenario)
    candidates, required, forbidden = resolve_sites(scenario, atlas)
    seconds["atlas_s"] = time.perf_counter() - started

    started = time.perf_counter()
    problem = build_problem(atlas, travel=scenario.travel, candidates=candidates)
    seconds["travel_s"] = time.perf_counter() - started
    settings = scenario.model.model_copy(
        update={
            "required": required,
            "forbidden": forbidden,
            "criteria": criteria_with_defaults(scenario, atlas),
        }
    )
    check_settings(problem, settings)
    return Prepared(scenario, atlas, candidates, problem, settings, seconds)


def run(
    scenario: Scenario,
    *,
    prices: bool = False,
    office_values: bool = False,
    start_offices: list[str] | None = None,
) -> Run:
    """Solve a scenario.

    Parameters
    ----------
    scenario
        A validated scenario (see :func:`siting.scenario.load_scenario`).
    prices
        Also compute the price of each hard criterion: one extra solve each,
        warm-started from the solution (which stays feasible without it).
    office_values
        Also compute the objective with each office closed (one solve each).
    start_offices
        Site ids to start the solver from (a warm start, e.g. a neighbouring run's).

    """
    prepared = prepare(scenario)
    seconds = dict(prepared.seconds)
    started = time.perf_counter()
    solution = solve_problem(
        prepared.problem,
        prepared.settings,
        scenario.solver,
        prices=prices,
        office_values=office_values,
        start_offices=start_offices,
    )
    seconds["solve_s"] = time.perf_counter() - started
    return Run(scenario, prepared.atlas, prepared.candidates, prepared.problem, solution, seconds)
