"""Compare runs: one row per scenario, maps side by side, who changes office."""

from __future__ import annotations

import logging
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from siting._io import publish_run
from siting.pipeline import Run
from siting.report.maps import figure_bytes, plot_comparison
from siting.report.tables import summary_row, write_csv

log = logging.getLogger(__name__)


def run_labels(runs: list[Run]) -> list[str]:
    """One label per run, unique: the scenario's title, then ``title (2)``, ``title (3)``...

    Two runs of scenarios with the same name (two files, or one file with
    different ``--set``) get different labels, so no column hides another.
    """
    labels: list[str] = []
    for run in runs:
        name, count = run.scenario.title(), 1
        label = name
        while label in labels:
            count += 1
            label = f"{name} ({count})"
        labels.append(label)
    return labels


def comparison_table(runs: list[Run]) -> pd.DataFrame:
    """One row per run with the figures strategists compare (``scenario``: its label)."""
    rows = [summary_row(run) for run in runs]
    for row, label in zip(rows, run_labels(runs), strict=True):
        row["scenario"] = label
    return pd.DataFrame(rows)


def changes_table(runs: list[Run]) -> pd.DataFrame:
    """Organizers whose office differs from the first run's (office names per scenario).

    Organizers are compared by id; rows are those whose office name is not the
    same in every run.
    """
    columns = {}
    for run, label in zip(runs, run_labels(runs), strict=True):
        names = run.solution.assignment["office"].map(run.solution.site_names)
        columns[label] = names
    frame = pd.DataFrame(columns)
    frame.insert(0, "county_id", runs[0].solution.assignment["county_id"])
    first = runs[0].atlas.organizers["name"]
    frame.insert(0, "organizer_name", first.reindex(frame.index))
    differs = frame.iloc[:, 2:].nunique(axis=1) > 1
    return frame[differs]


def county_changes(runs: list[Run]) -> pd.DataFrame:
    """Per county: the office (most of its organizers') in each run, where they differ."""
    columns = {}
    for run, label in zip(runs, run_labels(runs), strict=True):
        office = run.solution.office_by("county_id")
        columns[label] = office.map(run.solution.site_names)
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

    Like :func:`siting.report.outputs.write_outputs`, the folder holds one run
    and is replaced whole (:func:`siting.report.outputs.check_out_dir` checks it
    before solving); an error leaves it as it was.

    Raises
    ------
    siting.errors.OutputError
        ``out`` is a file, holds files that are not a siting run, cannot be
        written, or the disk fills up.

    """

    def write(folder: Path) -> list[str]:
        write_csv(comparison_table(runs), folder / "comparison.csv", index=False)
        write_csv(changes_table(runs), folder / "changes.csv")
        write_csv(county_changes(runs), folder / "county_changes.csv")
        fig, _ = plot_comparison(runs)
        try:
            (folder / "comparison.png").write_bytes(figure_bytes(fig, "png", dpi=200))
        finally:
            plt.close(fig)
        (folder / "comparison.html").write_text(render_comparison(runs), encoding="utf-8")
        return [
            "comparison.csv",
            "changes.csv",
            "county_changes.csv",
            "comparison.png",
            "comparison.html",
        ]

    paths, replaced = publish_run(
        out, write, kind="compare", scenarios=[run.scenario.name for run in runs]
    )
    if replaced:
        log.info("replaced the previous run in %s: %s", out, ", ".join(p.name for p in replaced))
    return paths
