"""Compare runs: one row per scenario, maps side by side, who changes office."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from siting.pipeline import Run
from siting.report.maps import figure_bytes, plot_comparison
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
        columns[run.scenario.title()] = names
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
        columns[run.scenario.title()] = office.map(run.solution.site_names)
    frame = pd.DataFrame(columns)
    frame.insert(0, "county", runs[0].atlas.counties["name"].reindex(frame.index))
    return frame[frame.iloc[:, 1:].nunique(axis=1) > 1]


def render_comparison(runs: list[Run]) -> str:
    """``comparison.html``: the comparison table and the scenarios' interactive maps side by side.

    Self-contained and offline, in the first run's language; the objective is
    shown with its parts (travel minutes, each soft price, fixed cost) beside it.
    """
    import html

    from siting.report.html import STYLE, html_table
    from siting.report.interactive import interactive_map
    from siting.report.labels import labels_for
    from siting.report.tables import for_people

    labels = labels_for(runs[0])
    dropped = ["status", "gap", "median_minutes", "organizers_per_office_min"]
    table = comparison_table(runs).drop(columns=dropped).set_index("scenario")
    table["offices"] = table["offices"].str.replace(";", ", ")
    for column in ("share_within_2h", "share_within_3h"):
        table[column] = table[column].map(labels.share)
    shown = for_people(table, runs[0], labels)
    e = html.escape
    title = labels("comparison_title")
    return f"""<!DOCTYPE html>
<html lang="{labels.language}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{e(title)}</title><style>{STYLE} body{{max-width:96rem}}</style></head>
<body><h1>{e(title)}</h1>
<p>{e(labels("comparison_intro"))}</p>
<div style="overflow-x:auto">{html_table(shown, labels, index=True, id="comparison")}</div>
{interactive_map(runs, labels)}
</body></html>
"""


def write_comparison(runs: list[Run], out: str | Path) -> list[Path]:
    """Write comparison.csv, comparison.png, comparison.html, changes.csv, county_changes.csv.

    Every file is written to a staging folder first and moved into place when all are done.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".siting-staging-", dir=out))
    try:
        comparison_table(runs).to_csv(staging / "comparison.csv", index=False)
        changes_table(runs).to_csv(staging / "changes.csv")
        county_changes(runs).to_csv(staging / "county_changes.csv")
        fig, _ = plot_comparison(runs)
        (staging / "comparison.png").write_bytes(figure_bytes(fig, "png", dpi=200))
        plt.close(fig)
        (staging / "comparison.html").write_text(render_comparison(runs), encoding="utf-8")
        names = [
            "comparison.csv",
            "changes.csv",
            "county_changes.csv",
            "comparison.png",
            "comparison.html",
        ]
        for name in names:
            (staging / name).replace(out / name)
        return [out / name for name in names]
    finally:
        shutil.rmtree(staging, ignore_errors=True)
