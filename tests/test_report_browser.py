"""The HTML reports in a real browser: headless Chromium (Debian's package, installed by .ci/run).

The interactive map is driven as a reader drives it: the page under test gets a
small script appended that moves the pointer onto a municipality (the element
the browser finds at that point, as a real pointer would), reads the box that
appears, and unticks a layer; the DOM after that is checked, and a screenshot
is written (``SITING_SCREENSHOT_DIR`` keeps it for a look).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from siting.pipeline import run
from siting.report.compare import write_comparison
from siting.report.labels import Labels
from siting.report.outputs import write_outputs
from siting.report.tables import assignments_table
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
    "--hide-scrollbars",
    "--enable-logging=stderr",
    "--v=0",
]

#: Appended to a report: hover over a municipality by name, untick the railways.
DRIVER = """
<script>
window.addEventListener("load", function () {
  var names = JSON.parse(document.getElementById("siting-map-data").textContent).municipalities;
  var wanted = Object.keys(names).filter(function (k) { return names[k].name === "%s"; })[0];
  var path = document.querySelector('path.muni[data-id="' + wanted + '"]');
  path.scrollIntoView({block: "nearest"});
  var box = path.getBoundingClientRect();
  var x = box.left + box.width / 2, y = box.top + box.height / 2;
  var hit = document.elementFromPoint(x, y);
  hit.dispatchEvent(new MouseEvent("mouseover", {bubbles: true, clientX: x, clientY: y}));
  var tip = document.querySelector(".siting-tip");
  document.body.dataset.hit = hit.getAttribute("data-id");
  document.body.dataset.tipShown = tip.hidden ? "no" : "yes";
  document.body.dataset.tip = tip.textContent;
  var rail = document.querySelector('input[data-layer="railways"]');
  rail.click();
  var group = document.querySelector(".layer-railways");
  document.body.dataset.railways = getComputedStyle(group).display;
  rail.click();
});
</script>
"""


def render(path: Path, *extra: str) -> tuple[str, list[str]]:
    """Load a page; return the DOM after onload and every console message."""
    with tempfile.TemporaryDirectory() as profile:
        result = subprocess.run(
            [BROWSER, *FLAGS, "--dump-dom", *extra, f"--user-data-dir={profile}", path.as_uri()],
            capture_output=True,
            text=True,
            timeout=120,
        )
    console = [line for line in result.stderr.splitlines() if ":CONSOLE" in line]
    return result.stdout, console


def screenshot(page: Path, target: Path, size: str = "1400,2600") -> Path:
    """A PNG of the page as loaded (after its scripts ran)."""
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run(
            [
                BROWSER,
                *FLAGS,
                f"--window-size={size}",
                f"--screenshot={target}",
                f"--user-data-dir={profile}",
                page.as_uri(),
            ],
            capture_output=True,
            timeout=120,
        )
    return target


def driven(report: Path, municipality: str) -> Path:
    """A copy of a report with :data:`DRIVER` appended (hovering over ``municipality``)."""
    page = report.with_name(f"driven-{report.name}")
    page.write_text(
        report.read_text(encoding="utf-8").replace("</body>", DRIVER % municipality + "</body>"),
        encoding="utf-8",
    )
    return page


@pytest.fixture(scope="module")
def solved():
    return run(load_scenario(ROOT / "scenarios" / "offices-2022.yaml"), office_values=True)


@pytest.fixture(scope="module")
def report(solved, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("report")
    write_outputs(solved, folder, ["html"])
    return folder / "report.html"


def test_harness_sees_console_errors(tmp_path):
    page = tmp_path / "broken.html"
    page.write_text("<html><body><script>missingFunction();</script></body></html>")
    _, console = render(page)
    assert any("missingFunction is not defined" in line for line in console)


def test_report_renders_with_map_and_values(solved, report):
    dom, console = render(report)
    assert console == []
    assert 'data-map-shown="yes"' in dom
    kpis = solved.solution.kpis()
    swedish = Labels("sv")  # the shipped manifest declares Swedish
    assert re.search(r'data-kpi="offices">4<', dom)
    assert f'data-kpi="organizers">{kpis["organizers"]}<' in dom
    assert f'data-kpi="max_minutes">{swedish.number(kpis["max_minutes"])}<' in dom
    assert '<html lang="sv">' in dom
    assert 'data-status="optimal">bevisat optimal<' in dom
    text = re.sub(r"data:image/png;base64,[^\"]*", "", dom)
    assert not re.search(r"\de[+-]\d", text)  # no scientific notation anywhere
    before_settings = dom.split('id="settings"')[0]
    visible = re.sub(r"<(script|style)[^>]*>.*?</\1>|<[^>]+>", " ", before_settings, flags=re.S)
    assert "Luleå" in visible and "gn604490" not in visible  # names, not internal ids
    # office values with the sentence saying what they mean, by name
    assert "Varje kontor stängdes i tur och ordning" in dom
    values = dom.split('id="office-values"')[1].split("</table>")[0]
    assert "Luleå" in values and "Malmö" in values


def test_interactive_map_hover_and_layers(solved, report):
    table = assignments_table(solved)
    kiruna = table[table["organizer_name"] == "Kiruna"].iloc[0]
    assert kiruna["office_name"] == "Luleå"  # Norrbotten is Luleå's own county
    page = driven(report, "Kiruna")
    dom, console = render(page)
    assert console == []
    assert 'data-tip-shown="yes"' in dom
    kiruna_id = solved.atlas.organizers.loc[kiruna.name, "municipality_id"]
    assert f'data-hit="{kiruna_id}"' in dom  # the pointer found Kiruna's own path
    tip = re.search(r'data-tip="([^"]*)"', dom).group(1)
    minutes = Labels("sv").number(kiruna["travel_minutes"], 0)
    assert tip.startswith("Kiruna")
    assert f"KirunaLuleå{minutes}" in tip  # organizer, office, minutes, mode in one row
    assert "tåg" in tip or "väg" in tip
    assert 'data-railways="none"' in dom  # unticking hides the layer
    target = Path(os.environ.get("SITING_SCREENSHOT_DIR", page.parent)) / "report-hover.png"
    target.parent.mkdir(parents=True, exist_ok=True)
    assert screenshot(page, target).stat().st_size > 50_000


def test_comparison_page_side_by_side(solved, tmp_path):
    plan = run(load_scenario(ROOT / "scenarios" / "plan-2022-ten.yaml"))
    write_comparison([solved, plan], tmp_path)
    page = driven(tmp_path / "comparison.html", "Linköping")
    dom, console = render(page)
    assert console == []
    assert dom.count('class="siting-map"') == 2
    tip = re.search(r'data-tip="([^"]*)"', dom).group(1)
    # one row per scenario: Linköping goes to Solna with four offices, keeps its own with ten
    assert "LinköpingSolna" in tip and "LinköpingLinköping" in tip
    target = Path(os.environ.get("SITING_SCREENSHOT_DIR", tmp_path)) / "comparison-hover.png"
    target.parent.mkdir(parents=True, exist_ok=True)
    assert screenshot(page, target, "1400,2000").stat().st_size > 50_000
