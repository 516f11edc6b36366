"""Sweep benchmark (issue 6): 100 runs on the Swedish default.

p = 3..12 x ten values of travel.rail.speed_factor (0.80..1.25), on
scenarios/optimized-ten.yaml (Skolverket's criteria, counties whole and
contiguous), local processes. Target: <= 2 minutes on this 2-core machine.
Prints runs per minute and the share of time spent building (atlas, travel
minutes, MILP arrays) against solving.

    python benchmarks/sweep.py [--workers N]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np
from _machine import header, hold_lock, target

from siting.sweep import sweep

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=os.cpu_count())
    args = parser.parse_args()
    hold_lock()
    grid = {
        "model.p": list(range(3, 13)),
        "travel.rail.speed_factor": [round(v, 2) for v in np.linspace(0.8, 1.25, 10)],
    }
    print(header(f"sweep of 100 runs on optimized-ten.yaml, {args.workers} workers", cache="cold"))
    with tempfile.TemporaryDirectory() as cache:
        os.environ["SITING_CACHE_DIR"] = cache  # a cold matrix cache: honest timings
        started = time.perf_counter()
        table = sweep(ROOT / "scenarios" / "optimized-ten.yaml", grid, workers=args.workers)
        elapsed = time.perf_counter() - started
    failed = int((table["status"] == "error").sum())
    build, solve = table["build_s"].sum(), table["solve_s"].sum()
    print(
        f"{len(table)} runs ({failed} failed) in {elapsed:.1f} s with {args.workers} workers "
        f"(target <= 120 s): {len(table) / elapsed * 60:.1f} runs per minute"
    )
    print(
        f"time in workers: building {build:.1f} s ({build / (build + solve):.0%}), "
        f"solving {solve:.1f} s ({solve / (build + solve):.0%})"
    )
    print(
        f"statuses: {table['status'].value_counts().to_dict()}; largest gap "
        f"{table['gap'].max():.1e}"
    )
    print(f"load average at the end: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(
        target(
            f"100-run sweep on {args.workers} workers",
            f"{elapsed:.1f} s, {failed} failed",
            "<= 120 s",
            elapsed <= 120 and failed == 0,
        )
    )


if __name__ == "__main__":
    main()
