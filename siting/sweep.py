"""Sensitivity runs: a scenario solved over a grid of dotted overrides.

``sweep(scenario, {"model.p": range(3, 13), "travel.rail.speed_factor": [0.8, 1, 1.2]})``
returns a tidy DataFrame, one row per run: every varied parameter, the KPIs
of ``siting compare``, objective, status, gap and seconds. Runs go to local
processes (:mod:`concurrent.futures`) or to a Dask cluster in chains of
neighbouring grid points, each run warm-started from the previous run's offices;
travel matrices are shared through the on-disk matrix cache, so runs that do not
change them do not recompute them. With ``out``, rows are appended to a CSV as they finish and
runs already in it are skipped: an interrupted sweep resumes. A record beside the CSV
(``sweep.json`` beside ``sweep.csv``) names the scenario and the varied fields, so a
sweep of another scenario or other fields is refused rather than appended to
misaligned columns; a row cut short (a full disk, a killed process) is dropped and its
run done again.

Monte Carlo robustness is a sweep over ``travel.perturbation.seed`` with a
fixed ``travel.perturbation.fraction`` (see :func:`robustness`).
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import itertools
import json
import logging
import os
import re
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from pathlib import Path
from typing import Any

import pandas as pd

from siting._io import atomic_path, csv_safe, describe_os_error
from siting._yaml import parse_yaml
from siting.errors import OutputError, ScenarioError, SitingError
from siting.scenario import Scenario, apply_overrides, load_scenario, validate_scenario

log = logging.getLogger(__name__)

_RUN_ID = re.compile(r"[0-9a-f]{12}")

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
    """``"3..12"`` -> 3 to 12; ``"0.8,1,1.2"`` -> a list; values read as YAML scalars.

    Raises
    ------
    siting.errors.ScenarioError
        A range that is not two whole numbers, runs backwards (``12..3``), or
        text with no value.

    """
    text = text.strip()
    if ".." in text and "," not in text:
        low_text, high_text = text.split("..", 1)
        try:
            low, high = int(low_text), int(high_text)
        except ValueError:
            raise ScenarioError(
                f"{text!r}: a range is two whole numbers LOW..HIGH, e.g. 3..12; "
                "list other values with commas, e.g. 0.8,1,1.2"
            ) from None
        if low > high:
            raise ScenarioError(
                f"{text!r}: the range runs backwards and holds no value; write {high}..{low}"
            )
        return list(range(low, high + 1))
    try:  # each value read as an override's value is: strict YAML
        values = [
            parse_yaml(part.strip(), source="value", error=ScenarioError)
            for part in text.split(",")
            if part.strip()
        ]
    except ScenarioError as exc:
        raise ScenarioError(f"{text!r}: not a list of values ({exc})") from None
    if not values:
        raise ScenarioError(f"{text!r}: no values; write a range 3..12 or a list 0.8,1,1.2")
    return values


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


#: Runs per chain: neighbours in grid order solved one after another, each
#: warm-started from the previous run's offices.
CHAIN = 5


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


def _record_path(out: Path) -> Path:
    """The sweep's record beside its table: ``sweep.json`` beside ``sweep.csv``."""
    record = out.with_suffix(".json")
    return record if record != out else out.with_name(out.name + ".sweep.json")


def _check_table_path(out: Path) -> None:
    if out.is_symlink():
        raise OutputError(
            f"{out} is a symbolic link; siting does not write through links: "
            "remove the link or choose another output"
        )
    if out.exists() and not out.is_file():
        raise OutputError(f"{out} is a folder, not a file: choose another output")
    folder = out.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir():
        raise OutputError(f"{out}: {folder} is a file, so nothing can be written inside it")


def _read_record(path: Path) -> dict | None:
    if not path.is_file():
        return None
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) else None


def _check_same_sweep(out: Path, record: dict | None, scenario: Scenario, columns: list[str]):
    """Refuse to append to a table of another scenario or other varied fields."""
    if not out.is_file():
        return  # no table (a record left alone is rewritten)
    fix = (
        f"use another output (--out), or delete {out.name} and {_record_path(out).name} "
        "to start afresh"
    )
    if record is not None:
        if record.get("scenario_hash") != scenario.digest():
            raise OutputError(
                f"{out} holds a sweep of another scenario ({record.get('scenario')!r}, "
                f"hash {record.get('scenario_hash')}; this one: {scenario.name!r}, "
                f"hash {scenario.digest()}): {fix}"
            )
        if record.get("columns") != columns:
            results = {*RESULT_COLUMNS, *(f"{n}_met" for n in _declared_criteria(scenario))}
            theirs = [c for c in record.get("columns") or [] if c not in results]
            ours = [c for c in columns if c not in results]
            raise OutputError(
                f"{out} holds a sweep that varied {', '.join(theirs) or 'nothing'}; this one "
                f"varies {', '.join(ours)}: {fix}"
            )
        return
    header = _header(out)
    if header is not None and header != columns:  # a table written before records existed
        raise OutputError(
            f"{out} holds other columns ({', '.join(header[:6])}...) than this sweep's: {fix}"
        )


def _header(out: Path) -> list[str] | None:
    if not out.is_file():
        return None
    with out.open(encoding="utf-8", errors="replace", newline="") as handle:
        return next(csv.reader(handle), None)


def _complete_rows(out: Path, columns: list[str]) -> list[dict[str, str]]:
    """The complete rows of a sweep table; a torn row is dropped from the file.

    A row is complete when it ends with a line break, has every column and a run
    id. Rows cut short (a full disk, a killed process) are removed by rewriting
    the table without them, so that their runs are done again.
    """
    if not out.is_file():
        return []
    text = out.read_bytes().decode("utf-8", errors="replace")
    records = list(csv.reader(io.StringIO(text)))
    if not records:
        return []
    torn = 0
    if not text.endswith(("\n", "\r")):
        records, torn = records[:-1], 1  # the last line was cut short
    rows = []
    for fields in records[1:]:
        if len(fields) == len(columns) and _RUN_ID.fullmatch(fields[columns.index("run_id")]):
            rows.append(dict(zip(columns, fields, strict=True)))
        else:
            torn += 1
    if torn:
        log.warning("%s: %d row(s) cut short were dropped; their runs are done again", out, torn)
        with atomic_path(out) as tmp, tmp.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=columns)
            writer.writeheader()
            writer.writerows(rows)
    return rows


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
        self.writer.writerow({key: csv_safe(value) for key, value in row.items()})
        self._sync()

    def _sync(self) -> None:
        self.handle.flush()
        os.fsync(self.handle.fileno())

    def close(self) -> None:
        with contextlib.suppress(OSError):  # a failed write was reported; its row is redone
            self.handle.close()


def _chains(tasks: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    return [tasks[k : k + CHAIN] for k in range(0, len(tasks), CHAIN)]


def _chained(chains, submit, first_done) -> Iterator[dict[str, Any]]:
    """Run chains of tasks, each task once its predecessor in the chain is done.

    ``submit(overrides, start_offices)`` returns a future; ``first_done(futures)``
    the futures among them that are done. Yields each row as soon as its run ends.
    """
    pending = {submit(chain[0], None): (chain, 0, None) for chain in chains if chain}
    try:
        while pending:
            for future in first_done(list(pending)):
                chain, position, previous = pending.pop(future)
                row = future.result()
                previous = row.pop("_office_ids", None) or previous
                if position + 1 < len(chain):
                    follow = submit(chain[position + 1], previous)
                    pending[follow] = (chain, position + 1, previous)
                yield row
    finally:
        for future in pending:
            future.cancel()


def _local(tasks, scenario_json, workers) -> Iterator[dict[str, Any]]:
    chains = _chains(tasks)
    if workers <= 1:
        for chain in chains:
            previous = None
            for overrides in chain:
                row = _solve_one(scenario_json, overrides, start_offices=previous)
                previous = row.pop("_office_ids", None) or previous
                yield row
        return
    with ProcessPoolExecutor(max_workers=workers) as pool:
        yield from _chained(
            chains,
            lambda overrides, start: pool.submit(_solve_one, scenario_json, overrides, start),
            lambda futures: wait(futures, return_when=FIRST_COMPLETED).done,
        )


#: Seconds to wait for a Dask scheduler to answer.
DASK_CONNECT_TIMEOUT_S = 10.0


def _dask(tasks, scenario_json, scheduler) -> Iterator[dict[str, Any]]:
    try:
        from distributed import Client
        from distributed import wait as dask_wait
    except ImportError:
        raise ScenarioError(
            "executor dask needs the dask extra: pip install 'siting[dask]'"
        ) from None
    if isinstance(scheduler, Client):
        client = scheduler
    else:
        try:
            client = Client(scheduler, timeout=DASK_CONNECT_TIMEOUT_S)
        except (OSError, TimeoutError, ValueError) as exc:
            where = scheduler or "a new local cluster"
            raise ScenarioError(
                f"--scheduler: cannot reach the Dask scheduler at {where} within "
                f"{DASK_CONNECT_TIMEOUT_S:g} s ({type(exc).__name__}: {exc}); check the "
                "address (tcp://HOST:8786) or run with --executor local"
            ) from None
    try:
        yield from _chained(
            _chains(tasks),
            lambda overrides, start: client.submit(
                _solve_one, scenario_json, overrides, start, pure=False
            ),
            lambda futures: dask_wait(futures, return_when="FIRST_COMPLETED").done,
        )
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
    on_row: Callable[[dict[str, Any]], None] | None = None,
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
        Its record (``sweep.json`` beside ``sweep.csv``) names the scenario and the
        varied fields; a different scenario or other varied fields are refused.
    executor
        ``"local"`` (processes on this machine) or ``"dask"``.
    workers
        Local processes (default: the machine's cores).
    scheduler
        Dask: a scheduler address or a ``distributed.Client``.
    progress
        Show a progress bar (runs done, time left), advanced as each run ends.
    on_row
        Called with each run's row as soon as that run ends.

    Returns
    -------
    pandas.DataFrame
        Every run of the grid (those read back from ``out`` included), in grid order.
        ``table.attrs["counts"]`` holds what this call did: ``runs`` (the grid),
        ``run`` (solved now), ``skipped`` (already done in ``out``) and ``failed``
        (solved now with an error).

    Raises
    ------
    siting.errors.ScenarioError
        An override that is not valid, or a grid without runs.
    siting.errors.OutputError
        ``out`` is a link or a folder, holds another sweep, or cannot be written
        (a full disk: the rows written so far are kept and the sweep resumes).

    """
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    scenario_json = scenario.model_dump(mode="json")
    if isinstance(grid, dict):
        empty = [key for key, values in grid.items() if not list(values)]
        if empty:
            raise ScenarioError(f"sweep: {', '.join(empty)} has no values: give at least one")
    runs = expand_grid(grid)
    if not runs:
        raise ScenarioError("sweep: the grid holds no run: vary at least one field")
    for overrides in runs:  # check every override before anything runs
        validate_scenario(apply_overrides(scenario_json, overrides), f"sweep override {overrides}")
    parameters = list(dict.fromkeys(k for o in runs for k in o))
    columns = parameters + RESULT_COLUMNS
    met = [f"{name}_met" for name in _declared_criteria(scenario)]
    columns[columns.index("objective") : columns.index("objective")] = met
    out_path = Path(out) if out is not None else None
    done: set[str] = set()
    writer = None
    if out_path is not None:
        _check_table_path(out_path)
        _check_same_sweep(out_path, _read_record(_record_path(out_path)), scenario, columns)
        try:
            rows_done = _complete_rows(out_path, columns)
            done = {r["run_id"] for r in rows_done if r["status"] != "error"}
            _write_record(out_path, scenario, columns, grid)
            writer = _RowWriter(out_path, columns)
        except OSError as exc:
            raise OutputError(f"cannot write {out_path}: {describe_os_error(exc)}") from None
    todo = [o for o in runs if run_id(o) not in done]
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
            if writer is not None:
                try:
                    writer.write(row)
                except OSError as exc:
                    raise OutputError(
                        f"cannot append to {out_path}: {describe_os_error(exc)}; "
                        f"{len(rows)} run(s) of this call were saved: run the sweep again "
                        "to resume"
                    ) from None
            rows.append(row)
            if bar is not None:
                bar.advance(task)
            if on_row is not None:
                on_row(row)
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
    table = table.sort_values("run_id", key=lambda ids: ids.map(order)).reset_index(drop=True)
    table.attrs["counts"] = {
        "runs": len(runs),
        "run": len(rows),
        "skipped": len(runs) - len(todo),
        "failed": sum(row.get("status") == "error" for row in rows),
    }
    return table


def _write_record(out: Path, scenario: Scenario, columns: list[str], grid: Any) -> None:
    """Write the sweep's record (``sweep.json``): scenario, its hash, columns, grid."""
    record = {
        "what": f"the record of the sweep in {out.name}; siting refuses to append other sweeps",
        "scenario": scenario.name,
        "scenario_hash": scenario.digest(),
        "columns": columns,
        "grid": grid if isinstance(grid, list) else {k: list(v) for k, v in grid.items()},
    }
    with atomic_path(_record_path(out)) as tmp:
        tmp.write_text(json.dumps(record, indent=2, default=str), encoding="utf-8")


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
