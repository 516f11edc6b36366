"""What every benchmark prints beside its figures: commit, machine, cache state, load."""

from __future__ import annotations

import fcntl
import os
import platform
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: Heavy benchmarks hold this lock, so two never run at once and time each other.
LOCK = Path("/tmp/siting-heavy.lock")
#: Set by a benchmark that holds the lock for the benchmarks it starts.
LOCK_HELD = "SITING_BENCH_LOCK_HELD"
_held = []


def hold_lock() -> None:
    """Wait for the heavy-benchmark lock and hold it until the process exits."""
    if os.environ.get(LOCK_HELD):
        return
    handle = LOCK.open("w")
    fcntl.flock(handle, fcntl.LOCK_EX)
    _held.append(handle)


def commit() -> str:
    """The checked-out commit (with ``+dirty`` when the tree has uncommitted changes)."""
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=ROOT,
            capture_output=True,
            text=True,
        ).stdout.strip()
    except OSError:
        return "unknown"
    return f"{sha}{'+dirty' if dirty else ''}" or "unknown"


def header(what: str, *, cache: str) -> str:
    """One line naming the benchmark, the commit, the machine, the cache state and the load."""
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return (
        f"# {what}\n# commit {commit()} | {os.cpu_count()} cores, {platform.machine()}, "
        f"Python {platform.python_version()} | cache: {cache} | load average (1/5/15 min): {load}"
    )


def target(case: str, measured: str, goal: str, met: bool) -> str:
    """A line ``benchmarks/targets.py`` collects: the case, the figure, the target, met or not.

    Printed by a benchmark beside its own table, so the issue's table of targets
    is assembled from what the benchmarks measured in that very run.
    """
    return f"TARGET | {case} | {measured} | {goal} | {'met' if met else 'NOT met'}"
