"""Write a run's files: CSV, GeoPackage, maps, HTML report, summary JSON.

An output folder holds exactly one run (see :mod:`siting._io`): the run is
written whole into a staging folder beside it, then swapped in with one atomic
rename, replacing the previous run whole. A failed or killed run leaves no half
result and does not touch earlier files; a folder holding files that are not a
siting run is refused. Call :func:`check_out_dir` before solving to learn of a
bad folder before the solve rather than after it.
"""

from __future__ import annotations

import io
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
from siting.report.html import render_report
from siting.report.maps import plot_solution
from siting.report.tables import assignments_table, offices_table, write_csv

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


def summary(run: Run) -> dict:
    """What ``summary.json`` holds."""
    solution = run.solution
    return {
        "scenario": run.scenario.name,
        "scenario_hash": run.scenario.digest(),
        "objective": solution.objective,
        "objective_parts": solution.parts,
        "status": solution.status,
        "gap": solution.gap,
        "solver": solution.solver,
        "offices": [
            {"site_id": o, "name": solution.site_names.get(o, o)} for o in solution.offices
        ],
        "kpis": solution.kpis(),
        "criteria_prices": solution.criteria_prices,
        "office_values": solution.office_values,
        "seconds": {**run.seconds, **{f"solver_{k}": v for k, v in solution.seconds.items()}},
        "travel": run.scenario.travel.model_dump(mode="json"),
        "estimates": ["travel minutes (estimate backend)"]
        if run.scenario.travel.backend == "estimate"
        else [],
        "versions": _versions(),
    }


def regions_layers(run: Run) -> dict[str, gpd.GeoDataFrame]:
    """The GeoPackage layers: counties, organizers, offices, assignment lines."""
    atlas, solution = run.atlas, run.solution
    assignment = solution.assignment
    organizers = atlas.organizers.loc[assignment.index, ["name", "county_id", "geometry"]].join(
        assignment[["office", "minutes", "weight"]]
    )
    counties = atlas.counties[["name", "geometry"]].copy()
    counties["office"] = solution.office_by("county_id")
    counties["offices"] = assignment.groupby("county_id")["office"].agg(
        lambda s: ",".join(sorted(set(s)))
    )
    counties["office_name"] = counties["office"].map(solution.site_names)
    offices = run.candidates.loc[list(solution.offices), ["geometry"]].join(offices_table(run))
    points = run.candidates.geometry
    lines = gpd.GeoDataFrame(
        assignment[["office", "minutes"]],
        geometry=[
            LineString([o, points[s]])
            for o, s in zip(organizers.geometry, assignment["office"], strict=True)
        ],
        crs=atlas.crs,
    )
    return {
        "counties": counties.reset_index(),
        "organizers": organizers.reset_index(),
        "offices": gpd.GeoDataFrame(offices, geometry="geometry", crs=atlas.crs).reset_index(),
        "assignment_lines": lines.reset_index(),
    }


def write_outputs(run: Run, out: str | Path, formats: list[str] | None = None) -> list[Path]:
    """Write the run's files into folder ``out``, replacing the previous run whole.

    Files: ``offices.csv``, ``assignments.csv`` (csv), ``regions.gpkg`` (gpkg),
    ``map.png``/``map.svg``/``map.pdf``, ``report.html`` (html), ``summary.json``
    (json), and the manifest ``.siting-run.json`` (what the run wrote).

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
    """Write the run's files into ``folder``; return their names."""
    written = []
    if "csv" in formats:
        write_csv(offices_table(run), folder / "offices.csv")
        write_csv(assignments_table(run), folder / "assignments.csv")
        written += ["offices.csv", "assignments.csv"]
    if "gpkg" in formats:
        target = folder / "regions.gpkg"
        for layer, frame in regions_layers(run).items():
            frame.to_file(target, layer=layer, driver="GPKG")
        written.append("regions.gpkg")
    if not {"png", "svg", "pdf", "html"} & set(formats):
        return _write_json(run, folder, formats, written)
    fig, _ = plot_solution(run)
    try:
        png = io.BytesIO()
        fig.savefig(png, format="png", dpi=run.scenario.outputs.dpi)
        for suffix in ("png", "svg", "pdf"):
            if suffix in formats:
                if suffix == "png":
                    (folder / "map.png").write_bytes(png.getvalue())
                else:
                    fig.savefig(folder / f"map.{suffix}", format=suffix)
                written.append(f"map.{suffix}")
    finally:
        plt.close(fig)
    if "html" in formats:
        (folder / "report.html").write_text(render_report(run, png.getvalue()), encoding="utf-8")
        written.append("report.html")
    return _write_json(run, folder, formats, written)


def _write_json(run: Run, folder: Path, formats: list[str], written: list[str]) -> list[str]:
    if "json" in formats:
        text = json.dumps(summary(run), indent=2, ensure_ascii=False, default=_plain)
        (folder / "summary.json").write_text(text, encoding="utf-8")
        written.append("summary.json")
    return written


def _plain(value):
    if hasattr(value, "item"):
        return value.item()
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    raise TypeError(f"cannot write {type(value).__name__} to JSON")
