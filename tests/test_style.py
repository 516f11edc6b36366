"""The code is ruff clean (the rules are in pyproject.toml)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_ruff_clean():
    folders = [
        p for p in ("siting", "tests", "scripts", "benchmarks", "notebooks") if (ROOT / p).is_dir()
    ]
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--output-format", "concise", *folders],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
