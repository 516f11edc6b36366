"""Write a run's files: CSV, GeoPackage, maps, HTML report, summary JSON.

An output folder holds exactly one run (see :mod:`siting._io`): the run is
written whole into a staging folder beside it, then swapped in with one atomic
rename, replacing the previous run whole. A failed or killed run leaves no half
result and does not touch earlier files; a folder holding files that are not a
siting run is refused. Call :func:`check_out_dir` before solving to learn of a
bad folder before the solve rather than after it.
"""

from __future__ import annotations

import json
import logging
import platform
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import geopandas as gpd
import matplotlib.pyplot as plt
import pandas as pd
from shapely.geometry import LineString

from siting._io import check_out_dir, publish_run
from siting.pipeline import Run
from siting.report.background import render_in_background
from siting.report.html import render_report
from siting.report.labels import Labels
from siting.report.maps import figure_bytes, plot_solution
from siting.report.tables import (
    assignments_table,
    counties_table,
    objective_parts,
    offices_table,
    provenance,
    resolved_settings,
    write_csv,
)
from siting.report.why import ForcedTown, forced_references, forced_table
from siting.report.workbook import write_workbook

__all__ = ["check_out_dir", "regions_layers", "summary", "write_outputs"]

log = logging.getLogger(__name__)


def _versions() -> dict[str, str]:
    found = {"python": platform.python_version()}
    for package in ("siting", "highspy", "pulp", "geopandas", "shapely", "numpy", "pandas"):
        try:
            found[package] = version(package)
        except PackageNotFoundError:
            found[package] = "unknown"
    return found


def summary(run: Run, forced: list[ForcedTown] | None = None) -> dict:
    """What ``summary.json`` holds: provenance, resolved settings, results, by name."""
    solution = run.solution
    names = solution.site_names
    return {
        "scenario": run.scenario.name,
        "title": run.scenario.title(),
        "scenario_file": run.scenario.source,
        "overrides": list(run.scenario.overrides),
        "scenario_hash": run.scenario.digest(),
        "provenance": provenance(run),
        "settings": resolved_settings(run),
        "objective": solution.objective,
        "objective_parts": dict(objective_parts(run)),
        "status": solution.status,
        "optimality": Labels("en").optimality(solution.status, solution.gap),
        "gap": solution.gap,
        "solver": solution.solver,
        "offices": [{"office_id": o, "name": names.get(o, o)} for o in solution.offices],
        "kpis": solution.kpis(),
        "criteria_prices": solution.criteria_prices,
        "office_values": [
            {"office_id": o, "name": names.get(o, o), "closed_objective": v}
            for o, v in solution.office_values.items()
        ],
        "reference": _records(forced_table(run, forced)) if forced else [],
        "seconds": {**run.seconds, **{f"solver_{k}": v for k, v in solution.seconds.items()}},
        "travel": run.scenario.travel.model_dump(mode="json"),
        "organizers": {
            "source": run.atlas.organizer_source,
            "count": len(run.atlas.organizers),
            "estimate": bool(run.atlas.estimates),
        },
        "estimates": [
            *run.atlas.estimates,
            *(
                ["travel minutes (estimate backend: straight line x circuity / speed)"]
                if run.scenario.travel.backend == "estimate"
                else []
            ),
            *(
                ["rail: minutes to and from stations and per change of trains (estimates)"]
                if "rail" in run.scenario.travel.modes
                else []
            ),
        ],
        "versions": _versions(),
    }


def regions_layers(run: Run) -> dict[str, gpd.GeoDataFrame]:
    """The GeoPackage layers: counties, organizers, offices, assignment lines.

    The names and rounding of the CSV tables: ``office_id``, ``office_name``,
    ``travel_minutes`` to one decimal.
    """
    atlas = run.atlas
    assignments = assignments_table(run)
    organizers = gpd.GeoDataFrame(
        assignments,
        geometry=atlas.organizers.geometry.reindex(assignments.index),
        crs=atlas.crs,
    )
    counties = atlas.counties[["geometry"]].join(counties_table(run), how="left")
    counties.index.name = "county_id"
    offices_ = offices_table(run)
    offices = gpd.GeoDataFrame(
        offices_, geometry=run.candidates.geometry.reindex(offices_.index), crs=atlas.crs
    )
    points = run.candidates.geometry
    lines = gpd.GeoDataFrame(
        assignments[["organizer_name", "office_name", "travel_minutes", "office_id"]],
        geometry=[
            LineString([o, points[s]])
            for o, s in zip(organizers.geometry, assignments["office_id"], strict=True)
        ],
        crs=atlas.crs,
    )
    return {
        "counties": gpd.GeoDataFrame(counties, geometry="geometry", crs=atlas.crs).reset_index(),
        "organizers": organizers.reset_index(),
        "offices": offices.reset_index(),
        "assignment_lines": lines.reset_index(),
    }


def write_outputs(run: Run, out: str | Path, formats: list[str] | None = None) -> list[Path]:
    """Write the run's files into folder ``out``, replacing the previous run whole.

    Files: ``offices.csv``, ``assignments.csv`` (csv), ``results.xlsx`` (xlsx),
    ``regions.gpkg`` (gpkg), ``map.png``/``map.svg``/``map.pdf``, ``report.html``
    (html), ``summary.json`` (json), and the manifest ``.siting-run.json`` (what
    the run wrote). With a ``reference`` in the scenario, each reference town is
    forced in once (one solve each) for the report.

    Returns
    -------
    list of Path
        The files written.

    Raises
    ------
    siting.errors.OutputError
        ``out`` is a file, holds files that are not a siting run, cannot be
        written, or the disk fills up; the folder is then left as it was.

    """
    formats = list(formats or run.scenario.outputs.formats)
    paths, replaced = publish_run(
        out,
        lambda staging: _write_files(run, staging, formats),
        kind="solve",
        scenarios=[run.scenario.name],
    )
    if replaced:
        log.info("replaced the previous run in %s: %s", out, ", ".join(p.name for p in replaced))
    return paths


def _write_files(run: Run, folder: Path, formats: list[str]) -> list[str]:
    """Write the run's files into ``folder``; return their names.

    The map's vector formats are drawn by a forked child (:mod:`.background`)
    while this process draws the PNG and writes the tables.
    """
    written = []
    forced = forced_references(run) if run.scenario.reference else None
    drawn = {"png", "svg", "pdf", "html"} & set(formats)
    fig = plot_solution(run)[0] if drawn else None
    vectors = [suffix for suffix in ("svg", "pdf") if suffix in formats]
    try:
        with render_in_background(fig, vectors, figure_bytes) as vector_maps:
            if "csv" in formats:
                offices = offices_table(run).reset_index()
                offices = offices[["name", *[c for c in offices.columns if c != "name"]]]
                write_csv(offices, folder / "offices.csv", index=False)
                write_csv(assignments_table(run), folder / "assignments.csv")
                written += ["offices.csv", "assignments.csv"]
            if "xlsx" in formats:
                write_workbook(run, folder / "results.xlsx", forced)
                written.append("results.xlsx")
            if "gpkg" in formats:
                target = folder / "regions.gpkg"
                for layer, frame in regions_layers(run).items():
                    frame.to_file(target, layer=layer, driver="GPKG")
                written.append("regions.gpkg")
            if drawn:
                png = figure_bytes(fig, "png", dpi=run.scenario.outputs.dpi)
                maps = {"png": png} if "png" in formats else {}
                maps |= vector_maps()
                for suffix in ("png", "svg", "pdf"):
                    if suffix in maps:
                        (folder / f"map.{suffix}").write_bytes(maps[suffix])
                        written.append(f"map.{suffix}")
                if "html" in formats:
                    (folder / "report.html").write_text(
                        render_report(run, png, forced=forced), encoding="utf-8"
                    )
                    written.append("report.html")
    finally:
        if fig is not None:
            plt.close(fig)
    if "json" in formats:
        text = json.dumps(summary(run, forced), indent=2, ensure_ascii=False, default=_plain)
        (folder / "summary.json").write_text(text, encoding="utf-8")
        written.append("summary.json")
    return written


def _records(frame: pd.DataFrame) -> list[dict]:
    """Rows as dicts, missing values as None (JSON null, never NaN)."""
    return frame.astype(object).where(frame.notna(), None).to_dict(orient="records")


def _plain(value):
    if hasattr(value, "item"):
        return value.item()
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    raise TypeError(f"cannot write {type(value).__name__} to JSON")
