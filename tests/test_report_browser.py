"""The HTML report in a real browser: headless Chromium (Debian's package, installed by .ci/run)."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from siting.pipeline import run
from siting.report.outputs import write_outputs
from siting.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]
BROWSER = next(
    (shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome") if shutil.which(n)),
    None,
)
pytestmark = pytest.mark.skipif(
    BROWSER is None, reason="no Chromium on this machine (apt-get install chromium; .ci/run does)"
)

# flags for a closed network, as root, headless (the machine notes' tested set)
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--enable-logging=stderr",
    "--v=0",
    "--dump-dom",
]


def render(path: Path) -> tuple[str, list[str]]:
    """Load a page; return the DOM after onload and every console message."""
    with tempfile.TemporaryDirectory() as profile:
        result = subprocess.run(
            [BROWSER, *FLAGS, f"--user-data-dir={profile}", path.resolve().as_uri()],
            capture_output=True,
            text=True,
            timeout=120,
        )
    console = [line for line in result.stderr.splitlines() if ":CONSOLE" in line]
    return result.stdout, console


def test_harness_sees_console_errors(tmp_path):
    page = tmp_path / "broken.html"
    page.write_text("<html><body><script>missingFunction();</script></body></html>")
    _, console = render(page)
    assert any("missingFunction is not defined" in line for line in console)


def test_report_renders_with_map_and_values(tmp_path):
    result = run(load_scenario(ROOT / "scenarios" / "offices-2022.yaml"))
    write_outputs(result, tmp_path, ["html"])
    dom, console = render(tmp_path / "report.html")
    assert console == []
    assert 'data-map-shown="yes"' in dom
    kpis = result.solution.kpis()
    assert re.search(r'data-kpi="offices">4<', dom)
    assert f'data-kpi="organizers">{kpis["organizers"]}<' in dom
    assert f'data-kpi="max_minutes">{kpis["max_minutes"]:,.1f}<' in dom
    assert '<span id="status">optimal</span>' in dom
