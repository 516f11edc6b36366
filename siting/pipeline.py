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
from siting.errors import ScenarioError, UnknownNameError
from siting.model.problem import SitingProblem, build_problem
from siting.model.solve import solve_problem
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


def run(
    scenario: Scenario,
    *,
    prices: bool = True,
    office_values: bool = False,
    start_offices: list[str] | None = None,
) -> Run:
    """Solve a scenario.

    Parameters
    ----------
    scenario
        A validated scenario (see :func:`siting.scenario.load_scenario`).
    prices
        Also compute the price of each hard criterion (one extra solve each).
    office_values
        Also compute the objective with each office closed (one solve each).
    start_offices
        Site ids to start the solver from (a warm start, e.g. a neighbouring run's).

    """
    seconds: dict[str, float] = {}
    started = time.perf_counter()
    atlas = load_scenario_atlas(scenario)
    candidates, required, forbidden = resolve_sites(scenario, atlas)
    seconds["atlas_s"] = time.perf_counter() - started

    started = time.perf_counter()
    problem = build_problem(atlas, travel=scenario.travel, candidates=candidates)
    seconds["travel_s"] = time.perf_counter() - started

    started = time.perf_counter()
    settings = scenario.model.model_copy(update={"required": required, "forbidden": forbidden})
    solution = solve_problem(
        problem,
        settings,
        scenario.solver,
        prices=prices,
        office_values=office_values,
        start_offices=start_offices,
    )
    seconds["solve_s"] = time.perf_counter() - started
    return Run(scenario, atlas, candidates, problem, solution, seconds)
