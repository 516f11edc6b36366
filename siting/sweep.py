"""Sensitivity runs: a scenario solved over a grid of dotted overrides.

``sweep(scenario, {"model.p": range(3, 13), "travel.rail.speed_factor": [0.8, 1, 1.2]})``
returns a tidy DataFrame, one row per run: every varied parameter, the KPIs
of ``siting compare``, objective, status, gap and seconds. Runs go to local
processes (:mod:`concurrent.futures`) or to a Dask cluster in chains of
neighbouring grid points, each run warm-started from the previous run's offices;
travel matrices are shared through the on-disk matrix cache, so runs that do not
change them do not recompute them. With ``out``, rows are appended to a CSV as they finish and
runs already in it are skipped: an interrupted sweep resumes.

Monte Carlo robustness is a sweep over ``travel.perturbation.seed`` with a
fixed ``travel.perturbation.fraction`` (see :func:`robustness`).
"""

from __future__ import annotations

import csv
import hashlib
import itertools
import json
import logging
import os
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any

import pandas as pd

from siting.errors import ScenarioError, SitingError
from siting.scenario import Scenario, apply_overrides, load_scenario, validate_scenario

log = logging.getLogger(__name__)

#: Columns of every row besides the varied parameters.
RESULT_COLUMNS = [
    "run_id",
    "offices",
    "n_offices",
    "mean_minutes",
    "median_minutes",
    "max_minutes",
    "share_within_2h",
    "share_within_3h",
    "organizers_per_office_min",
    "organizers_per_office_max",
    "objective",
    "status",
    "gap",
    "build_s",
    "solve_s",
    "error",
]


def parse_values(text: str) -> list[Any]:
    """``"3..12"`` -> 3 to 12; ``"0.8,1,1.2"`` -> a list; values read as YAML scalars."""
    import yaml

    if ".." in text and "," not in text:
        low, high = (int(part) for part in text.split("..", 1))
        return list(range(low, high + 1))
    return [yaml.safe_load(part.strip()) for part in text.split(",") if part.strip()]


def expand_grid(grid: dict[str, Iterable[Any]] | list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every combination of a grid (a dict of value lists), or a given list of overrides."""
    if isinstance(grid, list):
        return [dict(item) for item in grid]
    keys = list(grid)
    return [
        dict(zip(keys, combo, strict=True))
        for combo in itertools.product(*(list(grid[k]) for k in keys))
    ]


def run_id(overrides: dict[str, Any]) -> str:
    """A stable id of one run's overrides."""
    text = json.dumps(overrides, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


#: Runs per chain: neighbours in grid order solved one after another by one worker,
#: each warm-started from the previous run's offices.
CHAIN = 5


def _solve_chain(scenario_json: dict, chain: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Solve neighbouring runs in order, each starting from the previous run's offices."""
    rows, previous = [], None
    for overrides in chain:
        row = _solve_one(scenario_json, overrides, start_offices=previous)
        previous = row.pop("_office_ids", None) or previous
        rows.append(row)
    return rows


def _solve_one(
    scenario_json: dict, overrides: dict[str, Any], start_offices: list[str] | None = None
) -> dict[str, Any]:
    """Solve one run (in a worker); never raises: an error becomes the row's ``error``."""
    from siting.pipeline import run
    from siting.report.tables import summary_row

    row: dict[str, Any] = {**overrides, "run_id": run_id(overrides)}
    try:
        scenario = validate_scenario(
            apply_overrides(scenario_json, overrides), f"sweep run {overrides}"
        )
        result = run(scenario, prices=False, start_offices=start_offices)
    except SitingError as exc:
        row.update({"status": "error", "error": str(exc).splitlines()[0][:300]})
        return row
    summary = summary_row(result)
    summary.pop("scenario")
    row.update(summary)
    # building: atlas, travel minutes, MILP arrays; solving: everything else in the solve stage
    model_build = result.solution.seconds.get("model_build_s", 0.0)
    row["build_s"] = round(result.seconds["atlas_s"] + result.seconds["travel_s"] + model_build, 4)
    row["solve_s"] = round(result.seconds["solve_s"] - model_build, 4)
    row["error"] = ""
    row["_office_ids"] = list(result.solution.offices)
    return row


def _declared_criteria(scenario: Scenario) -> list[str]:
    """The criteria the scenario's manifest declares (one result column each)."""
    from siting.atlas import default_manifest, read_manifest

    spec, _ = read_manifest(scenario.data.manifest or default_manifest())
    return list(spec.criteria)


def _done(out: Path | None) -> set[str]:
    if out is None or not out.is_file():
        return set()
    try:
        table = pd.read_csv(out, usecols=["run_id", "status"], dtype=str, on_bad_lines="skip")
    except (ValueError, pd.errors.EmptyDataError):
        return set()
    return set(table.loc[table["status"] != "error", "run_id"])


class _RowWriter:
    """Appends rows to a CSV, one complete line at a time (flushed and synced)."""

    def __init__(self, path: Path, columns: list[str]) -> None:
        self.path, self.columns = path, columns
        new = not path.is_file() or path.stat().st_size == 0
        path.parent.mkdir(parents=True, exist_ok=True)
        self.handle = path.open("a", encoding="utf-8", newline="")
        self.writer = csv.DictWriter(self.handle, fieldnames=columns, extrasaction="ignore")
        if new:
            self.writer.writeheader()
            self._sync()

    def write(self, row: dict[str, Any]) -> None:
        self.writer.writerow(row)
        self._sync()

    def _sync(self) -> None:
        self.handle.flush()
        os.fsync(self.handle.fileno())

    def close(self) -> None:
        self.handle.close()


def _chains(tasks: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    return [tasks[k : k + CHAIN] for k in range(0, len(tasks), CHAIN)]


def _local(tasks, scenario_json, workers) -> Iterator[dict[str, Any]]:
    if workers <= 1:
        for chain in _chains(tasks):
            yield from _solve_chain(scenario_json, chain)
        return
    with ProcessPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(_solve_chain, scenario_json, c) for c in _chains(tasks)]
        for future in as_completed(futures):
            yield from future.result()


def _dask(tasks, scenario_json, scheduler) -> Iterator[dict[str, Any]]:
    try:
        from distributed import Client
        from distributed import as_completed as dask_completed
    except ImportError:
        raise ScenarioError(
            "executor dask needs the dask extra: pip install 'siting[dask]'"
        ) from None
    client = scheduler if isinstance(scheduler, Client) else Client(scheduler)
    try:
        futures = [
            client.submit(_solve_chain, scenario_json, c, pure=False) for c in _chains(tasks)
        ]
        for future in dask_completed(futures):
            yield from future.result()
    finally:
        if not isinstance(scheduler, Client):
            client.close()


def sweep(
    scenario: Scenario | str | Path,
    grid: dict[str, Iterable[Any]] | list[dict[str, Any]],
    *,
    out: str | Path | None = None,
    executor: str = "local",
    workers: int | None = None,
    scheduler: Any = None,
    progress: bool = False,
) -> pd.DataFrame:
    """Solve a scenario for every combination of overrides; one row per run.

    Parameters
    ----------
    scenario
        A scenario or the path of its file.
    grid
        ``{"field.path": values, ...}`` (every combination) or a list of override dicts.
    out
        A CSV file: rows are appended as runs finish; runs already in it are skipped.
    executor
        ``"local"`` (processes on this machine) or ``"dask"``.
    workers
        Local processes (default: the machine's cores).
    scheduler
        Dask: a scheduler address or a ``distributed.Client``.
    progress
        Show a progress bar (runs done, time left).

    Returns
    -------
    pandas.DataFrame
        Every run of the grid (those read back from ``out`` included), in grid order.

    """
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    scenario_json = scenario.model_dump(mode="json")
    runs = expand_grid(grid)
    for overrides in runs:  # check every override before anything runs
        validate_scenario(apply_overrides(scenario_json, overrides), f"sweep override {overrides}")
    out_path = Path(out) if out is not None else None
    done = _done(out_path)
    todo = [o for o in runs if run_id(o) not in done]
    parameters = list(dict.fromkeys(k for o in runs for k in o))
    columns = parameters + RESULT_COLUMNS
    met = [f"{name}_met" for name in _declared_criteria(scenario)]
    columns[columns.index("objective") : columns.index("objective")] = met
    writer = _RowWriter(out_path, columns) if out_path is not None else None
    workers = workers or os.cpu_count() or 1
    log.info(
        "sweep: %d runs, %d already done, %d to run", len(runs), len(runs) - len(todo), len(todo)
    )
    rows: list[dict[str, Any]] = []
    started = time.perf_counter()
    stream = (
        _dask(todo, scenario_json, scheduler)
        if executor == "dask"
        else _local(todo, scenario_json, workers)
    )
    bar = None
    if progress:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
        )

        bar = Progress(
            TextColumn("sweep"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn()
        )
        bar.start()
        task = bar.add_task("runs", total=len(todo))
    try:
        for row in stream:
            rows.append(row)
            if writer is not None:
                writer.write(row)
            if bar is not None:
                bar.advance(task)
    finally:
        if bar is not None:
            bar.stop()
        if writer is not None:
            writer.close()
    log.info("sweep: %d runs in %.1f s", len(rows), time.perf_counter() - started)
    table = pd.DataFrame(rows, columns=columns)
    if out_path is not None:
        table = pd.read_csv(out_path, on_bad_lines="skip")
        table = table.drop_duplicates("run_id", keep="last")
    order = {run_id(o): k for k, o in enumerate(runs)}
    table = table[table["run_id"].isin(order)]
    return table.sort_values("run_id", key=lambda ids: ids.map(order)).reset_index(drop=True)


def robustness(
    scenario: Scenario | str | Path,
    *,
    runs: int = 20,
    fraction: float = 0.1,
    seed: int = 0,
    **options: Any,
) -> pd.DataFrame:
    """How often each town is chosen when travel minutes vary by +/- ``fraction``.

    Returns one row per town ever chosen: ``office`` (name), ``chosen`` (runs),
    ``share`` of the runs; the runs themselves go through :func:`sweep`.
    """
    grid = [
        {"travel.perturbation.fraction": fraction, "travel.perturbation.seed": seed + k}
        for k in range(runs)
    ]
    table = sweep(scenario, grid, **options)
    return choice_frequency(table)


def choice_frequency(table: pd.DataFrame) -> pd.DataFrame:
    """How often each office town appears across the runs of a sweep table."""
    solved = table[table["status"] != "error"]
    names = solved["offices"].dropna().str.split(";").explode()
    counts = names.value_counts().rename("chosen").rename_axis("office").reset_index()
    counts["share"] = counts["chosen"] / max(len(solved), 1)
    return counts
