"""Tables of a solved run: offices, assignments, comparisons."""

from __future__ import annotations

import numpy as np
import pandas as pd

from siting.pipeline import Run


def offices_table(run: Run) -> pd.DataFrame:
    """One row per office: where, whom it serves, how far, which criteria it meets."""
    solution, problem = run.solution, run.problem
    table = solution.office_table()
    position = {s: k for k, s in enumerate(problem.site_ids)}
    rows = [position[o] for o in table.index]
    county_names = run.atlas.counties["name"]
    table = table.assign(
        county_id=[problem.county_ids[problem.site_county[k]] for k in rows],
        required=[o in solution.settings.required for o in table.index],
    )
    criteria = criteria_columns(run, rows)
    table = table.assign(**criteria)
    table["county"] = table["county_id"].map(county_names)
    table.index.name = "site_id"
    northing = run.candidates.geometry.y.reindex(table.index)
    table = table.loc[northing.sort_values(ascending=False).index]  # north to south
    columns = [
        "name",
        "county_id",
        "county",
        "required",
        "organizers",
        "weight",
        "mean_minutes",
        "max_minutes",
        *criteria,
        "counties",
    ]
    return table[columns].round({"mean_minutes": 1, "max_minutes": 1})


def criteria_columns(run: Run, rows: list[int]) -> dict[str, np.ndarray]:
    """For sites at ``rows``: whether each declared criterion is met, and nearness minutes.

    Columns are named after the criteria (``NAME``, and ``NAME_minutes`` for a
    nearness criterion), whatever their mode in the scenario: a report shows
    every criterion the data declares.
    """
    problem, settings = run.problem, run.solution.settings
    columns: dict[str, np.ndarray] = {}
    for name in problem.criterion_names:
        if name in problem.layer_names:
            minutes = problem.layer_minutes(name)[rows]
            declared = run.atlas.spec.criteria.get(name)
            chosen = settings.criteria.get(name)
            limit = (
                chosen.max_minutes
                if chosen is not None and chosen.max_minutes is not None
                else (declared.max_minutes if declared is not None else np.inf)
            )
            columns[name] = minutes <= limit
            columns[f"{name}_minutes"] = np.round(minutes, 1)
        else:
            columns[name] = problem.attribute(name)[rows]
    return columns


def assignments_table(run: Run) -> pd.DataFrame:
    """One row per organizer: its office and travel minutes, and the mode."""
    solution, problem = run.solution, run.problem
    frame = solution.assignment.copy()
    names = dict(zip(problem.client_ids, problem.client_names, strict=False))
    site_position = {s: k for k, s in enumerate(problem.site_ids)}
    frame.insert(0, "organizer_name", [names.get(i, i) for i in frame.index])
    frame["office_name"] = [solution.site_names.get(o, o) for o in frame["office"]]
    if problem.modes is not None:
        rows = np.arange(problem.n_clients)
        cols = np.array([site_position[o] for o in frame["office"]])
        frame["mode"] = problem.modes[rows, cols]
    frame = frame.rename(columns={"minutes": "travel_minutes"})
    frame["travel_minutes"] = frame["travel_minutes"].round(1)
    return frame[
        [
            "organizer_name",
            "county_id",
            "office",
            "office_name",
            "travel_minutes",
            "weight",
            *(["mode"] if "mode" in frame else []),
        ]
    ]


def summary_row(run: Run) -> dict:
    """The comparison figures of one run (one row of ``comparison.csv``)."""
    solution = run.solution
    kpis = solution.kpis()
    offices = offices_table(run)
    return {
        "scenario": run.scenario.name,
        "offices": ";".join(offices["name"]),
        "n_offices": kpis["offices"],
        "mean_minutes": round(kpis["mean_minutes"], 1),
        "median_minutes": round(kpis["median_minutes"], 1),
        "max_minutes": round(kpis["max_minutes"], 1),
        "share_within_2h": round(kpis["share_within_120_min"], 3),
        "share_within_3h": round(kpis["share_within_180_min"], 3),
        "organizers_per_office_min": kpis["organizers_per_office_min"],
        "organizers_per_office_max": kpis["organizers_per_office_max"],
        **{f"{name}_met": int(offices[name].sum()) for name in run.problem.criterion_names},
        "objective": round(solution.objective, 3),
        "status": solution.status,
        "gap": solution.gap,
    }
