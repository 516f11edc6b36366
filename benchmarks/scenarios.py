"""End to end: ``siting solve`` on every shipped scenario, cold and warm (issue 14).

Runs the real command in a subprocess, prices of the hard criteria included
(``--prices``), all output formats, and times it from start to exit:

- cold: an empty travel-matrix cache (a new ``SITING_CACHE_DIR``);
- warm: the same command again, the matrices now in the cache.

Targets: <= 10 s cold and <= 5 s warm for every shipped scenario.

    python benchmarks/scenarios.py [--no-prices]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _machine import ROOT, header, hold_lock, target

SITING = str(Path(sys.executable).parent / "siting")


def timed(scenario: Path, out: Path, cache: str, prices: bool) -> float:
    env = {**os.environ, "SITING_CACHE_DIR": cache}
    command = [SITING, "solve", str(scenario), "--out", str(out)]
    if prices:
        command.append("--prices")
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{scenario.name} failed:\n{done.stderr}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-prices", action="store_true", help="Solve without --prices.")
    args = parser.parse_args()
    hold_lock()
    prices = not args.no_prices
    print(header("siting solve, every shipped scenario", cache="cold, then warm"))
    print(f"{'scenario':<18} {'cold s':>7} {'warm s':>7}  target <= 10 / <= 5 s")
    worst_cold = worst_warm = 0.0
    for scenario in sorted((ROOT / "scenarios").glob("*.yaml")):
        with tempfile.TemporaryDirectory() as cache, tempfile.TemporaryDirectory() as out:
            cold = timed(scenario, Path(out) / "a", cache, prices)
            warm = timed(scenario, Path(out) / "b", cache, prices)
        worst_cold, worst_warm = max(worst_cold, cold), max(worst_warm, warm)
        print(f"{scenario.stem:<18} {cold:7.1f} {warm:7.1f}")
    verdict = "met" if worst_cold <= 10 and worst_warm <= 5 else "NOT met"
    print(f"worst: {worst_cold:.1f} s cold, {worst_warm:.1f} s warm ({verdict}); prices: {prices}")
    case = f"siting solve, each shipped scenario{', prices included' if prices else ''}"
    print(target(f"{case}, cold", f"worst {worst_cold:.1f} s", "<= 10 s", worst_cold <= 10))
    print(target(f"{case}, warm", f"worst {worst_warm:.1f} s", "<= 5 s", worst_warm <= 5))


if __name__ == "__main__":
    main()
