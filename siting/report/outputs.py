"""Write a run's files: CSV, GeoPackage, maps, HTML report, summary JSON.

Everything is first written into a staging folder inside the output folder;
only when every file is complete are they moved into place, one atomic rename
each. A failed run leaves no half result and does not touch earlier files.
"""

from __future__ import annotations

import io
import json
import platform
import shutil
import tempfile
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import geopandas as gpd
import matplotlib.pyplot as plt
import pandas as pd
from shapely.geometry import LineString

from siting.pipeline import Run
from siting.report.html import render_report
from siting.report.maps import plot_solution
from siting.report.tables import assignments_table, offices_table


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
    """Write the run's files into ``out``; return their paths.

    Files: ``offices.csv``, ``assignments.csv`` (csv), ``regions.gpkg`` (gpkg),
    ``map.png``/``map.svg``/``map.pdf``, ``report.html`` (html), ``summary.json`` (json).
    """
    formats = list(formats or run.scenario.outputs.formats)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".siting-staging-", dir=out))
    try:
        written = []
        if "csv" in formats:
            offices_table(run).to_csv(staging / "offices.csv")
            assignments_table(run).to_csv(staging / "assignments.csv")
            written += ["offices.csv", "assignments.csv"]
        if "gpkg" in formats:
            target = staging / "regions.gpkg"
            for layer, frame in regions_layers(run).items():
                frame.to_file(target, layer=layer, driver="GPKG")
            written.append("regions.gpkg")
        fig, _ = plot_solution(run)
        png = io.BytesIO()
        fig.savefig(png, format="png", dpi=run.scenario.outputs.dpi)
        for suffix in ("png", "svg", "pdf"):
            if suffix in formats:
                if suffix == "png":
                    (staging / "map.png").write_bytes(png.getvalue())
                else:
                    fig.savefig(staging / f"map.{suffix}", format=suffix)
                written.append(f"map.{suffix}")
        plt.close(fig)
        if "html" in formats:
            (staging / "report.html").write_text(
                render_report(run, png.getvalue()), encoding="utf-8"
            )
            written.append("report.html")
        if "json" in formats:
            text = json.dumps(summary(run), indent=2, ensure_ascii=False, default=_plain)
            (staging / "summary.json").write_text(text, encoding="utf-8")
            written.append("summary.json")
        paths = []
        for name in written:  # every file is complete: move each into place
            (staging / name).replace(out / name)
            paths.append(out / name)
        return paths
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _plain(value):
    if hasattr(value, "item"):
        return value.item()
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    raise TypeError(f"cannot write {type(value).__name__} to JSON")
