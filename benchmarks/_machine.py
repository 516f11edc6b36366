"""What every benchmark prints beside its figures: commit, machine, cache state, load."""

from __future__ import annotations

import os
import platform
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


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
