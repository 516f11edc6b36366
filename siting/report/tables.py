"""Tables of a solved run: offices, assignments, comparisons; CSV writing made safe."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from siting._io import csv_safe
from siting.pipeline import Run


def csv_safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` with :func:`csv_safe` applied to every text cell and index label."""
    frame = frame.copy()
    for column in frame.columns:
        if _is_text(frame[column].dtype):
            frame[column] = frame[column].map(csv_safe)
    if isinstance(frame.index, pd.MultiIndex):
        frame.index = frame.index.map(lambda labels: tuple(csv_safe(v) for v in labels))
    elif _is_text(frame.index.dtype):
        frame.index = frame.index.map(csv_safe)
    return frame


def _is_text(dtype: Any) -> bool:
    return pd.api.types.is_object_dtype(dtype) or isinstance(dtype, pd.StringDtype)


def write_csv(frame: pd.DataFrame, path: str | Path, *, index: bool = True) -> Path:
    """Write ``frame`` as UTF-8 CSV with formula-like text escaped (:func:`csv_safe`).

    Every CSV siting writes goes through here.
    """
    csv_safe_frame(frame).to_csv(path, index=index)
    return Path(path)


def offices_table(run: Run) -> pd.DataFrame:
    """One row per office: where, whom it serves, how far, which criteria it meets."""
    solution, problem = run.solution, run.problem
    table = solution.office_table()
    position = {s: k for k, s in enumerate(problem.site_ids)}
    rows = [position[o] for o in table.index]
    university_limit = solution.settings.university.max_minutes
    county_names = run.atlas.counties["name"]
    table = table.assign(
        county_id=[problem.county_ids[problem.site_county[k]] for k in rows],
        required=[o in solution.settings.required for o in table.index],
        spsm=problem.site_spsm[rows],
        university_minutes=np.round(problem.site_university_minutes[rows], 1),
        university_within_limit=problem.site_university_minutes[rows] <= university_limit,
        rail_intercity=(problem.site_rail[rows] if problem.site_rail is not None else pd.NA),
    )
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
        "spsm",
        "university_minutes",
        "university_within_limit",
        "rail_intercity",
        "counties",
    ]
    return table[columns].round({"mean_minutes": 1, "max_minutes": 1})


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
        "spsm_colocated": int(offices["spsm"].sum()),
        "university_within_limit": int(offices["university_within_limit"].sum()),
        "rail_intercity": (
            int(offices["rail_intercity"].sum())
            if offices["rail_intercity"].notna().all()
            else "unknown"
        ),
        "objective": round(solution.objective, 3),
        "status": solution.status,
        "gap": solution.gap,
    }
