"""Compare runs: one row per scenario, maps side by side, who changes office."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from siting.pipeline import Run
from siting.report.maps import plot_comparison
from siting.report.tables import summary_row


def comparison_table(runs: list[Run]) -> pd.DataFrame:
    """One row per run with the figures strategists compare."""
    return pd.DataFrame([summary_row(run) for run in runs])


def changes_table(runs: list[Run]) -> pd.DataFrame:
    """Organizers whose office differs from the first run's (office names per scenario).

    Organizers are compared by id; rows are those whose office name is not the
    same in every run.
    """
    columns = {}
    for run in runs:
        names = run.solution.assignment["office"].map(run.solution.site_names)
        columns[run.scenario.name] = names
    frame = pd.DataFrame(columns)
    frame.insert(0, "county_id", runs[0].solution.assignment["county_id"])
    first = runs[0].atlas.organizers["name"]
    frame.insert(0, "organizer_name", first.reindex(frame.index))
    differs = frame.iloc[:, 2:].nunique(axis=1) > 1
    return frame[differs]


def county_changes(runs: list[Run]) -> pd.DataFrame:
    """Per county: the office (most of its organizers') in each run, where they differ."""
    columns = {}
    for run in runs:
        office = run.solution.office_by("county_id")
        columns[run.scenario.name] = office.map(run.solution.site_names)
    frame = pd.DataFrame(columns)
    frame.insert(0, "county", runs[0].atlas.counties["name"].reindex(frame.index))
    return frame[frame.iloc[:, 1:].nunique(axis=1) > 1]


def write_comparison(runs: list[Run], out: str | Path) -> list[Path]:
    """Write comparison.csv, comparison.png, changes.csv and county_changes.csv atomically."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".siting-staging-", dir=out))
    try:
        comparison_table(runs).to_csv(staging / "comparison.csv", index=False)
        changes_table(runs).to_csv(staging / "changes.csv")
        county_changes(runs).to_csv(staging / "county_changes.csv")
        fig, _ = plot_comparison(runs)
        fig.savefig(staging / "comparison.png", dpi=200)
        plt.close(fig)
        names = ["comparison.csv", "changes.csv", "county_changes.csv", "comparison.png"]
        for name in names:
            (staging / name).replace(out / name)
        return [out / name for name in names]
    finally:
        shutil.rmtree(staging, ignore_errors=True)
