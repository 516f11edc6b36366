"""Rebuild the shipped fact tables from their sourced inputs.

The inputs are CSV files in which every row carries its source URL, date, a quote
and a status (what was verified, what was inferred). They are kept in
``data/facts/sources/`` so that the repository says where every fact came from;
``--facts DIR`` first copies a newer set of them there (the project keeps its
research in ``../shared/facts``). Two inputs are written by hand here and have no
other home: ``skolverket_offices.csv`` and ``spsm_special_schools.csv``.

Writes

- ``data/facts/sites.csv``: Skolverket's offices, SPSM's 16 office towns (with
  ``office_type``), SPSM's special-school towns (their own kind) and every campus
  town of the 27 institutions with teacher education;
- ``data/population/municipalities.csv``: SCB's population of the 290
  municipalities on 31 December 2021;
- ``data/rail/published_times.csv``: published rail times to calibrate the rail
  lines against, each with its source.

Run::

    python scripts/build_facts.py [--facts ../shared/facts]

Deterministic: the same inputs give byte-identical files.
"""

from __future__ import annotations

import argparse
import re
import shutil
import unicodedata
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ROOT / "data" / "facts" / "sources"
SHARED_FILES = (
    "huvudman_counts.csv",
    "population_kommun_2021.csv",
    "population_national_totals.csv",
    "spsm_offices.csv",
    "spsm_regions.csv",
    "teacher_education_institutions.csv",
    "travel_times.csv",
)
SITE_COLUMNS = [
    "site_id",
    "kind",
    "name",
    "town",
    "office_type",
    "status",
    "verified",
    "source_url",
    "note",
]

#: SPSM's own words for an office, mapped to the three office types of sites.csv.
OFFICE_TYPES = {"head office": "head_office", "regionkontor": "regional_office"}

#: How each published rail time of travel_times.csv is read as minutes. Rows not
#: listed (NOT FOUND, car times, distances) are left out: they give no time.
#: ``fit`` is False where the published time is not the fastest connection the
#: model's network offers (so fitting line speeds to it would be wrong); its
#: error is still reported in calibration.csv.
READINGS = {
    ("Stockholm–Luleå", "12 h 24 min (computed)"): (
        "Stockholm",
        "Luleå",
        744,
        False,
        "a night train by the inland main line; the model's fastest path is by day via Umeå",
    ),
    ("Stockholm–Sundsvall", "about 3 h 30 min"): ("Stockholm", "Sundsvall", 210, True, ""),
    ("Stockholm–Sundsvall", "3 h 40 min (was 2 h 55 min 25 yrs earlier)"): (
        "Stockholm",
        "Sundsvall",
        220,
        True,
        "",
    ),
    ("Sundsvall–Östersund", "about 2 h"): ("Sundsvall", "Östersund", 120, True, ""),
    ("Gävle–Falun", "about 1 h 15 min"): ("Gävle", "Falun", 75, True, ""),
    ("Göteborg–Karlstad", "3–4 h"): (
        "Göteborg",
        "Karlstad",
        210,
        False,
        "midpoint of 3-4 h; an old guidebook's time, slower than the network's route via Laxå",
    ),
    ("Göteborg–Jönköping", "under 2 h (incl. change in Falköping)"): (
        "Göteborg",
        "Jönköping",
        120,
        True,
        "upper bound, read as 2 h",
    ),
    ("Göteborg–Jönköping", "about 2 h"): ("Göteborg", "Jönköping", 120, True, ""),
    ("Umeå–Luleå", "about 4 h"): ("Umeå", "Luleå", 240, True, ""),
    ("Stockholm–Örebro", "1 h 52 min (05:55→07:47); 2 h 02 min (20:13→22:15)"): (
        "Stockholm",
        "Örebro",
        112,
        True,
        "the faster of two departures",
    ),
    ("Stockholm–Karlstad (extra)", "from 2 h 16 min"): ("Stockholm", "Karlstad", 136, True, ""),
}

#: The published fastest times this project started from (its issue 3: SJ and
#: Norrtåg timetables, not re-verified, no URL).
ISSUE_3 = [
    ("Stockholm", "Göteborg", 185, "about 3 h 05"),
    ("Stockholm", "Malmö", 270, "about 4 h 30"),
    ("Göteborg", "Malmö", 148, "2 h 20 - 2 h 35 (midpoint)"),
    ("Stockholm", "Umeå", 390, "about 6 h 30"),
    ("Umeå", "Luleå", 240, "about 4 h"),
]


def _slug(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", plain.lower()).strip("-")


def _read(name: str) -> pd.DataFrame:
    return pd.read_csv(SOURCES / name, dtype=str, keep_default_na=False)


def spsm_offices() -> pd.DataFrame:
    """SPSM's office towns (not the special-school-only towns)."""
    table = _read("spsm_offices.csv")
    offices = table[table["evidence_kind"] != "specialskola"]
    rows = []
    for row in offices.itertuples():
        words = f"{row.evidence_kind} {row.office_type}".lower()
        office_type = next((v for k, v in OFFICE_TYPES.items() if k in words), "")
        if not office_type and "lokalkontor" in row.office_type.lower():
            office_type = "local_office"
        rows.append(
            {
                "site_id": f"spsm-{_slug(row.town)}",
                "kind": "spsm_office",
                "name": f"SPSM {row.town}",
                "town": row.town,
                "office_type": office_type,
                "status": "current",
                "verified": "yes" if row.status.startswith("sourced") else "no",
                "source_url": row.source_url,
                "note": f"{row.office_type} ({row.source_date}); {row.status}",
            }
        )
    return pd.DataFrame(rows)


def _campus_towns(text: str) -> list[str]:
    """'Linköping; Norrköping; (also Västervik, Nyköping)' -> [Linköping, Norrköping]."""
    towns = []
    for part in text.split(";"):
        part = part.strip()
        if not part or part.startswith("("):
            continue
        towns.append(re.sub(r"\s*\(.*\)\s*$", "", part).strip())
    return towns


def universities() -> pd.DataFrame:
    """Every campus town of every institution with teacher education."""
    table = _read("teacher_education_institutions.csv")
    rows = []
    for row in table.itertuples():
        institution = re.sub(r"\s*\(.*\)\s*$", "", row.institution).strip()
        towns = _campus_towns(row.campus_towns)
        code = _slug(institution)
        for town in towns:
            confirmed = re.findall(r"\((\w+) CONFIRMED\)", row.status)
            verified = "inferred" not in row.status and (not confirmed or town in confirmed)
            rows.append(
                {
                    "site_id": f"univ-{code}-{_slug(town)}",
                    "kind": "university",
                    "name": institution if len(towns) == 1 else f"{institution} ({town})",
                    "town": town,
                    "office_type": "",
                    "status": "current",
                    "verified": "yes" if verified else "no",
                    "source_url": row.source_url.split(" ; ")[0],
                    "note": f"{row.teacher_programmes_evidenced}; campus towns "
                    f"{row.campus_towns!r}; {row.status}",
                }
            )
    return pd.DataFrame(rows)


def hand_written(name: str, kind: str) -> pd.DataFrame:
    """Rows written by hand in data/facts/sources/, each with its source."""
    table = _read(name)
    return table.assign(kind=kind, office_type="")


def sites() -> pd.DataFrame:
    """The whole sites table, in a fixed order."""
    parts = [
        hand_written("skolverket_offices.csv", "skolverket_office"),
        spsm_offices(),
        hand_written("spsm_special_schools.csv", "spsm_special_school"),
        universities(),
    ]
    table = pd.concat(parts, ignore_index=True)[SITE_COLUMNS]
    duplicated = table["site_id"][table["site_id"].duplicated()]
    if len(duplicated):
        raise SystemExit(f"duplicate site ids: {', '.join(duplicated)}")
    return table


def population() -> pd.DataFrame:
    """SCB's population per municipality (31 Dec 2021), with its source on every row."""
    table = _read("population_kommun_2021.csv")
    frame = pd.DataFrame(
        {
            "municipality_id": table["kommun_code"],
            "name": table["kommun_name"],
            "population": table["population"].astype(int),
            "reference_date": table["reference_date"],
            "source": "SCB, Folkmängd per kommun 31 december 2021 (Statistikdatabasen)",
            "retrieved_from": table["source_url"],
        }
    ).sort_values("municipality_id")
    total = _read("population_national_totals.csv")
    official = int(total.loc[total["reference_date"] == "2021-12-31", "population"].iloc[0])
    if frame["population"].sum() != official:
        raise SystemExit(
            f"municipal populations sum to {frame['population'].sum():,}, not SCB's {official:,}"
        )
    return frame


def published_times() -> pd.DataFrame:
    """Published rail times with their sources (issue 3's five, then travel_times.csv)."""
    rows = [
        {
            "from": a,
            "to": b,
            "minutes": minutes,
            "fit": "yes",
            "source_url": "",
            "source": f"this project's issue 3 (SJ/Norrtåg timetables): {text}",
            "source_date": "",
            "verified": "no",
            "note": "",
        }
        for a, b, minutes, text in ISSUE_3
    ]
    table = _read("travel_times.csv")
    for row in table.itertuples():
        reading = READINGS.get((row.pair, row.value))
        if reading is None or not row.source_url:
            continue
        origin, destination, minutes, fit, note = reading
        rows.append(
            {
                "from": origin,
                "to": destination,
                "minutes": minutes,
                "fit": "yes" if fit else "no",
                "source_url": row.source_url,
                "source": f"{row.value}: {row.quote}",
                "source_date": row.source_date,
                "verified": "yes",
                "note": "; ".join(p for p in (note, row.status) if p),
            }
        )
    return pd.DataFrame(rows)


def main(argv: list[str] | None = None) -> None:
    """Copy newer sourced inputs if given, then write the three derived tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--facts", type=Path, help="folder with newer sourced inputs")
    args = parser.parse_args(argv)
    if args.facts is not None:
        for name in SHARED_FILES:
            shutil.copyfile(args.facts / name, SOURCES / name)
    outputs = {
        ROOT / "data" / "facts" / "sites.csv": sites(),
        ROOT / "data" / "population" / "municipalities.csv": population(),
        ROOT / "data" / "rail" / "published_times.csv": published_times(),
    }
    for path, frame in outputs.items():
        frame.to_csv(path, index=False, lineterminator="\n")
        print(f"wrote {len(frame)} rows to {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
