"""``results.xlsx``: the run's tables in one Excel workbook, because strategists work in Excel.

Sheets ``offices``, ``assignments``, ``counties``, ``kpis`` and ``settings``
(provenance first: scenario file, overrides, siting version, data sources, then
every resolved setting), plus ``reference`` and ``office_values`` when computed.
Headers are in the report's language; numbers stay numbers (Excel shows them
in the reader's own locale), with minutes shown to one decimal.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from siting.pipeline import Run
from siting.report.labels import labels_for
from siting.report.tables import (
    assignments_table,
    counties_table,
    for_people,
    kpi_table,
    offices_table,
    settings_table,
)
from siting.report.why import ForcedTown, forced_table, office_values_table


def workbook_sheets(run: Run, forced: list[ForcedTown] | None = None) -> dict[str, pd.DataFrame]:
    """The sheets of ``results.xlsx``, by sheet name, with headers for people."""
    labels = labels_for(run)
    offices = offices_table(run).reset_index()
    assignments = assignments_table(run).reset_index()
    counties = counties_table(run).reset_index()
    organizer_first = ["organizer_name", "county", "office_name"]
    assignments = assignments[
        organizer_first + [c for c in assignments.columns if c not in organizer_first]
    ]
    counties = counties[["county", *[c for c in counties.columns if c != "county"]]]
    offices = offices[["name", *[c for c in offices.columns if c != "name"]]]
    kpis = kpi_table(run, labels)[["figure", "value"]]
    settings = settings_table(run)
    sheets = {
        "offices": for_people(offices, run, labels),
        "assignments": for_people(assignments, run, labels),
        "counties": for_people(counties, run, labels),
        "kpis": kpis.rename(columns={"figure": labels("figure"), "value": labels("value")}),
        "settings": settings.rename(
            columns={"setting": labels("setting"), "value": labels("value")}
        ),
    }
    if forced:
        sheets["reference"] = for_people(forced_table(run, forced), run, labels)
    if run.solution.office_values:
        sheets["office_values"] = for_people(office_values_table(run), run, labels)
    return sheets


def write_workbook(run: Run, path: str | Path, forced: list[ForcedTown] | None = None) -> Path:
    """Write ``results.xlsx`` (openpyxl): one sheet per table, columns sized, header frozen."""
    from openpyxl.utils import get_column_letter

    path = Path(path)
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        for name, frame in workbook_sheets(run, forced).items():
            frame.to_excel(writer, sheet_name=name, index=False)
            sheet = writer.sheets[name]
            sheet.freeze_panes = "A2"
            for k, column in enumerate(frame.columns, start=1):
                values = frame[column]
                width = max([len(str(column)), *(len(str(v)) for v in values.head(200))])
                sheet.column_dimensions[get_column_letter(k)].width = min(max(width + 2, 8), 60)
                if values.dtype.kind == "f":
                    for cell in sheet[get_column_letter(k)][1:]:
                        cell.number_format = "#,##0.0"
    return path
