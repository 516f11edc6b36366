"""Write the notebooks in notebooks/ from the cells below (outputs are not stored).

    python scripts/make_notebooks.py

The tests execute every notebook top to bottom (tests/test_notebooks.py).
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

ROOT = Path(__file__).resolve().parents[1]
SETUP = """from pathlib import Path
ROOT = Path.cwd().parent if Path.cwd().name == "notebooks" else Path.cwd()
SCENARIOS = ROOT / "scenarios\""""

NOTEBOOKS = {
    "quickstart.ipynb": [
        new_markdown_cell(
            "# Quick start: solve a scenario and map it\n\n"
            "Solve Skolverket's four offices of 2022 on the shipped Swedish data, "
            "read the key figures and draw the map used in reports."
        ),
        new_code_cell(SETUP),
        new_code_cell(
            "from siting.pipeline import run\nfrom siting.scenario import load_scenario\n"
            '\nresult = run(load_scenario(SCENARIOS / "offices-2022.yaml"))\n'
            "result.solution.kpis()"
        ),
        new_markdown_cell("Each office, whom it serves and which criteria it meets:"),
        new_code_cell("from siting.report.tables import offices_table\n\noffices_table(result)"),
        new_code_cell(
            "from siting.report.maps import plot_solution\n\nfig, ax = plot_solution(result)"
        ),
        new_markdown_cell("Change a field without editing the file (a dotted override):"),
        new_code_cell(
            'five = run(load_scenario(SCENARIOS / "optimized-four.yaml", '
            '["model.p=5"]), prices=False)\n'
            "[five.solution.site_names[o] for o in five.solution.offices]"
        ),
    ],
    "comparing-scenarios.ipynb": [
        new_markdown_cell(
            "# Comparing scenarios\n\nThe four offices opened in 2022 against the "
            "ten towns of the February 2022 plan and ten optimized offices."
        ),
        new_code_cell(SETUP),
        new_code_cell(
            "from siting.pipeline import run\nfrom siting.scenario import load_scenario\n"
            "from siting.report.compare import comparison_table, county_changes\n\n"
            'names = ["offices-2022", "plan-2022-ten", "optimized-ten"]\n'
            'runs = [run(load_scenario(SCENARIOS / f"{n}.yaml"), prices=False) '
            "for n in names]\ncomparison_table(runs)"
        ),
        new_markdown_cell("Which counties change office between the scenarios:"),
        new_code_cell("county_changes(runs)"),
        new_code_cell(
            "from siting.report.maps import plot_comparison\n\nfig, axes = plot_comparison(runs)"
        ),
    ],
    "sensitivity.ipynb": [
        new_markdown_cell(
            "# Sensitivity: number of offices, train speeds, robustness\n\n"
            "A small grid so the notebook runs in well under a minute; widen it "
            "for real studies (the sweep resumes when given `out=`)."
        ),
        new_code_cell(SETUP),
        new_code_cell(
            "from siting.sweep import sweep\n\n"
            'grid = {"model.p": [3, 4, 5], '
            '"travel.rail.speed_factor": [0.8, 1.2]}\n'
            'table = sweep(SCENARIOS / "optimized-four.yaml", grid, workers=2)\n'
            'table[["model.p", "travel.rail.speed_factor", "offices", '
            '"mean_minutes", "max_minutes", "objective"]]'
        ),
        new_code_cell(
            "from siting.report.sweep_plots import plot_tornado, plot_tradeoff\n\n"
            "fig, ax = plot_tradeoff(table)\n"
            "fig, ax = plot_tornado(table, list(grid))"
        ),
        new_markdown_cell(
            "Robustness: how often each town is chosen when travel minutes vary "
            "by ±10 % (seeded Monte Carlo)."
        ),
        new_code_cell(
            "from siting.pipeline import load_scenario_atlas\n"
            "from siting.report.sweep_plots import plot_choice_map\n"
            "from siting.scenario import load_scenario\n"
            "from siting.sweep import robustness\n\n"
            'frequency = robustness(SCENARIOS / "optimized-four.yaml", runs=4, '
            "fraction=0.1, workers=2)\n"
            "atlas = load_scenario_atlas(load_scenario(SCENARIOS / "
            '"optimized-four.yaml"))\n'
            "fig, ax = plot_choice_map(atlas, frequency)\nfrequency"
        ),
    ],
}


def main() -> None:
    """Write every notebook."""
    for name, cells in NOTEBOOKS.items():
        notebook = new_notebook(cells=cells)
        notebook.metadata["kernelspec"] = {
            "name": "python3",
            "display_name": "Python 3",
            "language": "python",
        }
        nbformat.write(notebook, ROOT / "notebooks" / name)
        print(f"wrote notebooks/{name}")


if __name__ == "__main__":
    main()
