"""Fit rail line speeds to published times; write data/rail/speeds.csv and calibration.csv.

    python scripts/calibrate_rail.py

Deterministic: the same line file gives the same speeds.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from siting._io import atomic_path
from siting.atlas import load_atlas
from siting.travel.rail import calibrate, calibration_table, load_rail

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    """Fit, then write the speeds and the calibration table."""
    atlas = load_atlas()
    lines = ROOT / "data" / "rail" / "lines.yaml"
    start = load_rail(atlas, lines, speeds={})
    speeds = calibrate(start, atlas)
    fitted = load_rail(atlas, lines, speeds=speeds)
    table = calibration_table(fitted, atlas)
    with atomic_path(lines.with_name("speeds.csv")) as tmp:
        pd.DataFrame({"line": list(speeds), "speed_kmh": list(speeds.values())}).to_csv(
            tmp, index=False, lineterminator="\n"
        )
    with atomic_path(lines.with_name("calibration.csv")) as tmp:
        table.to_csv(tmp, index=False, lineterminator="\n")
    print(table.to_string(index=False))
    print(f"largest error {table['error_pct'].abs().max():.2f} %")


if __name__ == "__main__":
    main()
