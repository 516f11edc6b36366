"""Tables of a solved run: offices, assignments, counties, objective parts, settings.

Every CSV siting writes goes through :func:`write_csv`, which escapes text that
a spreadsheet would read as a formula.

One name for each thing in every output: ``office_id`` and ``office_name`` for
an office, ``organizer_id`` and ``organizer_name`` for an organizer, travel in
``*_minutes`` rounded to one decimal (:data:`MINUTES_DECIMALS`). Machine tables
(CSV, GeoPackage) keep these names; :func:`for_people` turns them into headers
in the report's language, with units.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from siting._io import csv_safe
from siting.pipeline import Run
from siting.report.labels import Labels

#: Decimals of every travel-minute figure in every output.
MINUTES_DECIMALS = 1


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
    """One row per office (index ``office_id``), north to south: where, whom it serves, how far.

    Columns: ``name``, ``county``, ``county_id``, ``required``, ``organizers``,
    ``weight``, ``mean_minutes``, ``max_minutes``, then one column per declared
    criterion (and ``NAME_minutes`` for nearness), then ``counties`` served.
    """
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
    northing = run.candidates.geometry.y.reindex(table.index)
    table = table.loc[northing.sort_values(ascending=False).index]  # north to south
    columns = [
        "name",
        "county",
        "county_id",
        "required",
        "organizers",
        "weight",
        "mean_minutes",
        "max_minutes",
        *criteria,
        "counties",
    ]
    table = table[columns].round({"mean_minutes": MINUTES_DECIMALS, "max_minutes": 1})
    table.index.name = "office_id"
    return table


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
            columns[f"{name}_minutes"] = np.round(minutes, MINUTES_DECIMALS)
        else:
            columns[name] = problem.attribute(name)[rows]
    return columns


def criterion_label(run: Run, name: str) -> str:
    """A criterion's label as the manifest declares it (its name if none)."""
    declared = run.atlas.spec.criteria.get(name)
    return (declared.label if declared is not None else "") or name


def assignments_table(run: Run) -> pd.DataFrame:
    """One row per organizer (index ``organizer_id``): its office, travel minutes and mode."""
    solution, problem = run.solution, run.problem
    frame = solution.assignment.copy()
    names = dict(zip(problem.client_ids, problem.client_names, strict=False))
    site_position = {s: k for k, s in enumerate(problem.site_ids)}
    frame.insert(0, "organizer_name", [names.get(i, i) for i in frame.index])
    frame["office_name"] = [solution.site_names.get(o, o) for o in frame["office"]]
    frame["county"] = frame["county_id"].map(run.atlas.counties["name"])
    if problem.modes is not None:
        rows = np.arange(problem.n_clients)
        cols = np.array([site_position[o] for o in frame["office"]])
        frame["mode"] = problem.modes[rows, cols]
    frame = frame.rename(columns={"minutes": "travel_minutes", "office": "office_id"})
    frame["travel_minutes"] = frame["travel_minutes"].round(MINUTES_DECIMALS)
    frame.index.name = "organizer_id"
    return frame[
        [
            "organizer_name",
            "county",
            "office_name",
            "travel_minutes",
            *(["mode"] if "mode" in frame else []),
            "weight",
            "county_id",
            "office_id",
        ]
    ]


def counties_table(run: Run) -> pd.DataFrame:
    """One row per county (index ``county_id``): its office, organizers and their minutes."""
    solution = run.solution
    assignment = solution.assignment
    weighted = assignment["minutes"] * assignment["weight"]
    grouped = assignment.groupby("county_id")
    office = solution.office_by("county_id")
    table = pd.DataFrame(
        {
            "county": run.atlas.counties["name"].reindex(office.index),
            "office_name": office.map(solution.site_names),
            "organizers": grouped.size(),
            "mean_minutes": (
                weighted.groupby(assignment["county_id"]).sum()
                / grouped["weight"].sum().where(lambda w: w > 0)
            ).round(MINUTES_DECIMALS),
            "max_minutes": grouped["minutes"].max().round(MINUTES_DECIMALS),
            "office_id": office,
        }
    )
    table.index.name = "county_id"
    return table.sort_values("county")


def objective_parts(run: Run) -> list[tuple[str, float]]:
    """The objective's parts, each apart: travel minutes, each soft price, fixed cost, total.

    Keys: ``travel_minutes``; ``price_NAME`` per soft criterion (``price_spread``
    for the spread rule); ``fixed_cost_sek`` and ``travel_cost_sek`` for the
    ``cost`` objective; ``objective`` last.
    """
    solution = run.solution
    parts = [("travel_minutes", solution.parts.get("travel_minutes", 0.0))]
    parts += [(f"price_{name}", value) for name, value in solution.soft_prices.items()]
    if not solution.soft_prices and solution.parts.get("soft_prices"):
        parts.append(("price_soft", solution.parts["soft_prices"]))
    for key in ("fixed_cost_sek", "travel_cost_sek"):
        if key in solution.parts:
            parts.append((key, solution.parts[key]))
    parts.append(("objective", solution.objective))
    return parts


def part_label(run: Run, key: str, labels: Labels) -> str:
    """A human name for a key of :func:`objective_parts`."""
    if key == "travel_minutes":
        return labels("objective_travel_minutes")
    if key == "price_spread":
        return labels("price", label="spread")
    if key.startswith("price_"):
        return labels("price", label=criterion_label(run, key.removeprefix("price_")))
    return labels(key)


def part_explanation(run: Run, key: str, labels: Labels) -> str:
    """One sentence saying what a part of the objective is."""
    settings = run.solution.settings
    if key == "travel_minutes":
        return labels("part_travel")
    if key == "price_spread":
        return labels(
            "part_spread",
            price=labels.number(settings.spread.price_per_minute),
            limit=labels.number(settings.spread.max_minutes, 0),
        )
    if key.startswith("price_"):
        name = key.removeprefix("price_")
        chosen = settings.criteria.get(name)
        price = labels.number(chosen.price, 0) if chosen is not None else "?"
        return labels("part_price", label=criterion_label(run, name), price=price)
    if key == "fixed_cost_sek":
        return labels("part_fixed")
    if key == "travel_cost_sek":
        return labels("part_travel_sek")
    return labels("part_objective")


def gap_percent(gap: float) -> float | None:
    """The proven gap in percent, rounded to four decimals (None when no bound is proven)."""
    if gap is None or not np.isfinite(gap):
        return None
    return round(100 * float(gap), 4)


def summary_row(run: Run) -> dict:
    """The comparison figures of one run (one row of ``comparison.csv``).

    The objective is given with its parts beside it (travel minutes, each soft
    price, fixed cost), so that runs with different prices compare fairly.
    """
    solution = run.solution
    kpis = solution.kpis()
    offices = offices_table(run)
    parts = dict(objective_parts(run))
    objective = parts.pop("objective")
    return {
        "scenario": run.scenario.title(),
        "offices": ";".join(offices["name"]),
        "n_offices": kpis["offices"],
        "mean_minutes": round(kpis["mean_minutes"], MINUTES_DECIMALS),
        "median_minutes": round(kpis["median_minutes"], MINUTES_DECIMALS),
        "max_minutes": round(kpis["max_minutes"], MINUTES_DECIMALS),
        "share_within_2h": round(kpis["share_within_120_min"], 3),
        "share_within_3h": round(kpis["share_within_180_min"], 3),
        "organizers_per_office_min": kpis["organizers_per_office_min"],
        "organizers_per_office_max": kpis["organizers_per_office_max"],
        **{f"{name}_met": int(offices[name].sum()) for name in run.problem.criterion_names},
        **{key: round(value, 1) for key, value in parts.items()},
        "objective": round(objective, 1),
        "status": solution.status,
        "gap": round(float(solution.gap), 6) if np.isfinite(solution.gap) else None,
        "optimality": Labels("en").optimality(solution.status, solution.gap),
    }


def names_of(run: Run, ids: list[str]) -> list[str]:
    """Town names for site or locality ids (the id itself where no name is known)."""
    localities = run.atlas.localities["name"]
    known = {**localities.to_dict(), **run.solution.site_names}
    return [known.get(i, i) for i in ids]


def resolved_settings(run: Run) -> dict[str, Any]:
    """Every setting solved, defaults included, towns by name (JSON-ready).

    The scenario's sections as validated, with ``model`` as solved (the
    manifest's default limits filled in) and its required and forbidden towns
    named, not given by id.
    """
    scenario = run.scenario
    settings = run.solution.settings
    dumped = scenario.model_dump(mode="json", exclude={"name", "question"})
    model = settings.model_dump(mode="json")
    model["required"] = names_of(run, list(settings.required))
    model["forbidden"] = names_of(run, list(settings.forbidden))
    dumped["model"] = model
    return dumped


def flatten(mapping: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested settings as dotted keys: ``{"model": {"p": 3}}`` -> ``{"model.p": 3}``."""
    flat: dict[str, Any] = {}
    for key, value in mapping.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            flat.update(flatten(value, f"{path}."))
        else:
            flat[path] = value
    return flat


def provenance(run: Run) -> dict[str, Any]:
    """Where the run came from: scenario file, overrides, data sources, siting version."""
    from siting import __version__
    from siting.atlas import default_manifest

    scenario, spec = run.scenario, run.atlas.spec
    return {
        "scenario_name": scenario.name,
        "title": scenario.title(),
        "scenario_file": scenario.source,
        "overrides": list(scenario.overrides),
        "scenario_hash": scenario.digest(),
        "siting_version": __version__,
        "manifest": scenario.data.manifest or str(default_manifest()),
        "atlas": spec.name,
        "data_sources": spec.attribution,
        "sites_file": spec.sites.file,
        "travel_backend": scenario.travel.backend,
        "travel_modes": list(scenario.travel.modes),
    }


def settings_table(run: Run) -> pd.DataFrame:
    """Provenance then every resolved setting, one ``setting``/``value`` row each."""
    rows = {**provenance(run), **flatten(resolved_settings(run))}
    return pd.DataFrame({"setting": list(rows), "value": [_setting_text(v) for v in rows.values()]})


def _setting_text(value: Any) -> str:
    """A setting as text: floats in plain decimals (``0.000001``, never ``1e-06``)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, float):
        return f"{value:.10f}".rstrip("0").rstrip(".") if value == value else "nan"
    return json.dumps(value, ensure_ascii=False)


def kpi_table(run: Run, labels: Labels) -> pd.DataFrame:
    """Key figures as ``figure``/``value`` rows (values as numbers, optimality in words)."""
    solution = run.solution
    rows = []
    for key, value in solution.kpis().items():
        if key == "gap":
            value = labels.optimality(solution.status, solution.gap)
        rows.append({"key": key, "figure": labels(f"kpi_{key}"), "value": value})
    for key, value in objective_parts(run)[:-1]:
        rows.append({"key": key, "figure": part_label(run, key, labels), "value": value})
    return pd.DataFrame(rows)


def for_people(frame: pd.DataFrame, run: Run, labels: Labels) -> pd.DataFrame:
    """A table with headers in the report's language and units (criteria as labelled)."""
    criteria = set(run.problem.criterion_names)
    headers = {}
    for column in [frame.index.name, *frame.columns]:
        if column is None:
            continue
        if column in criteria:
            headers[column] = criterion_label(run, column)
        elif column.endswith("_minutes") and column.removesuffix("_minutes") in criteria:
            name = column.removesuffix("_minutes")
            headers[column] = labels("minutes_to", label=criterion_label(run, name))
        elif column.endswith("_met") and column.removesuffix("_met") in criteria:
            name = column.removesuffix("_met")
            headers[column] = f"{criterion_label(run, name)} ({labels('offices').lower()})"
        elif column.startswith("price_"):
            headers[column] = part_label(run, column, labels)
        else:
            headers[column] = labels(column)
    renamed = frame.rename(columns=headers)
    renamed.index.name = headers.get(frame.index.name, frame.index.name)
    return renamed
