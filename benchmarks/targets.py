"""Every target of issue 14 in one run: each benchmark's own output, then the table.

Runs the benchmarks below one after another, each in its own process (so each
starts cold and its peak memory is its own), echoes what each prints, and ends
with the table of targets assembled from the ``TARGET |`` lines they printed in
this run: the case, the measured figure, the target, met or NOT met. Holds the
heavy-benchmark lock throughout. About 20 minutes on 2 cores.

    python benchmarks/targets.py                 # all of them
    python benchmarks/targets.py --only pmed1-40 scenarios
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from _machine import LOCK_HELD, header, hold_lock

HERE = Path(__file__).resolve().parent

#: name -> the benchmark and its arguments, in the order of the issue's table.
BENCHMARKS = {
    "sweden": ["pmedian.py", "--sweden", "--time-limit", "60"],
    "capacity": ["capacitated.py", "--sweden", "--capacity", "300", "--p", "10"],
    "pmed1-40": ["pmedian.py"],
    "pmedcap1": ["capacitated.py", "--pmedcap"],
    "random": ["pmedian.py", "--random", "2000", "20", "0", "--time-limit", "60"],
    "sw24978": ["pmedian.py", "--sw24978", "10", "--time-limit", "600"],
    "scenarios": ["scenarios.py"],
    "sweep": ["sweep.py"],
}


def run(name: str) -> list[list[str]]:
    """Run one benchmark, echo its output, return its TARGET rows."""
    command = [sys.executable, str(HERE / BENCHMARKS[name][0]), *BENCHMARKS[name][1:]]
    print(f"\n$ python benchmarks/{' '.join(BENCHMARKS[name])}", flush=True)
    rows = []
    with subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, LOCK_HELD: "1"},
    ) as process:
        assert process.stdout is not None
        for line in process.stdout:
            print(line, end="", flush=True)
            if line.startswith("TARGET |"):
                rows.append([part.strip() for part in line.split("|")[1:]])
    if process.returncode != 0:
        rows.append([f"{name}: the benchmark failed", f"exit {process.returncode}", "", "NOT met"])
    elif not rows:
        rows.append([f"{name}: no TARGET line printed", "", "", "NOT met"])
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", choices=list(BENCHMARKS), default=list(BENCHMARKS))
    args = parser.parse_args()
    hold_lock()
    opening = header("issue 14 targets (benchmarks/targets.py)", cache="as each benchmark says")
    print(opening, flush=True)
    table = []
    for name in args.only:
        table += run(name)
    print("\n" + opening)
    widths = [max(len(row[k]) for row in table) for k in range(3)]
    titles = ["case", "measured", "target"]
    print("  ".join(t.ljust(w) for t, w in zip(titles, widths, strict=True)) + "  verdict")
    for row in table:
        print("  ".join(c.ljust(w) for c, w in zip(row[:3], widths, strict=True)) + f"  {row[3]}")
    met = sum(row[3] == "met" for row in table)
    print(f"{met} of {len(table)} targets met")


if __name__ == "__main__":
    main()
