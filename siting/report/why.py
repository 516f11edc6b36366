"""Why these towns: the criteria each office meets, and what forcing in a reference town costs.

A scenario's ``reference`` lists towns to weigh the answer against (the 2022
plan, say). For each one not already chosen, the engine solves the scenario
again with that town required and the same number of offices; the difference
in objective is what choosing it instead costs.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import pandas as pd

from siting.errors import ScenarioError, SitingError, UnknownNameError
from siting.model.solve import solve_problem
from siting.pipeline import Run
from siting.report.tables import objective_parts, offices_table

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ForcedTown:
    """One reference town and what forcing it in costs.

    Attributes
    ----------
    town
        The town as the scenario names it.
    office_id
        Its candidate id (None when the town is not a candidate).
    status
        ``chosen`` (already an office), ``forced`` (solved with it required),
        ``infeasible`` (no solution with it and the same number of offices), or
        ``not_candidate``.
    objective, travel_minutes
        The objective and its travel part with the town forced in (``forced`` only).
    offices
        The offices' names then (``forced`` only).

    """

    town: str
    office_id: str | None
    status: str
    objective: float | None = None
    travel_minutes: float | None = None
    offices: tuple[str, ...] = ()


def forced_references(run: Run) -> list[ForcedTown]:
    """Solve once per reference town not already chosen, with it required (same p).

    Raises
    ------
    ScenarioError
        A reference town the atlas does not know (with the closest names).

    """
    solution = run.solution
    settings = solution.settings
    found = []
    for town in run.scenario.reference:
        try:
            town_id = town if town in run.candidates.index else run.atlas.locality_id(town)
        except UnknownNameError as exc:
            raise ScenarioError(f"reference: {exc}") from None
        if town_id in solution.offices:
            found.append(ForcedTown(town, town_id, "chosen"))
            continue
        if town_id not in run.problem.site_ids:
            found.append(ForcedTown(town, town_id, "not_candidate"))
            continue
        forced = settings.model_copy(
            update={
                "required": [*settings.required, town_id],
                "forbidden": [f for f in settings.forbidden if f != town_id],
            }
        )
        try:
            other = solve_problem(run.problem, forced, run.scenario.solver)
        except SitingError as exc:
            log.info("reference %s: %s", town, exc)
            found.append(ForcedTown(town, town_id, "infeasible"))
            continue
        found.append(
            ForcedTown(
                town,
                town_id,
                "forced",
                objective=other.objective,
                travel_minutes=other.parts.get("travel_minutes"),
                offices=tuple(other.site_names.get(o, o) for o in other.offices),
            )
        )
    return found


def forced_table(run: Run, forced: list[ForcedTown]) -> pd.DataFrame:
    """The reference towns as a table: objective with each forced in and the extra cost."""
    base = run.solution.objective
    base_travel = dict(objective_parts(run))["travel_minutes"]
    rows = []
    for item in forced:
        rows.append(
            {
                "town": item.town,
                "status": item.status,
                "forced_objective": item.objective,
                "extra_cost": None if item.objective is None else item.objective - base,
                "extra_travel_minutes": None
                if item.travel_minutes is None
                else item.travel_minutes - base_travel,
                "offices_with_it": ";".join(item.offices),
            }
        )
    return pd.DataFrame(
        rows,
        columns=[
            "town",
            "status",
            "forced_objective",
            "extra_cost",
            "extra_travel_minutes",
            "offices_with_it",
        ],
    )


def criteria_met(run: Run) -> pd.DataFrame:
    """Per office (names, north to south): each declared criterion met or not, and minutes."""
    table = offices_table(run)
    columns = ["name"] + [
        c
        for name in run.problem.criterion_names
        for c in (name, f"{name}_minutes")
        if c in table.columns
    ]
    return table[columns]


def office_values_table(run: Run) -> pd.DataFrame:
    """Office values (on request): the objective with each office closed, and the difference."""
    solution = run.solution
    base = solution.objective
    rows = [
        {
            "name": solution.site_names.get(office, office),
            "closed_objective": value,
            "office_value": None if value is None else value - base,
            "office_id": office,
        }
        for office, value in solution.office_values.items()
    ]
    return pd.DataFrame(rows, columns=["name", "closed_objective", "office_value", "office_id"])
