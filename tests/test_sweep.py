from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from siting.errors import ScenarioError
from siting.scenario import load_scenario
from siting.sweep import choice_frequency, expand_grid, parse_values, robustness, run_id, sweep

SCENARIO = Path(__file__).resolve().parents[1] / "scenarios" / "offices-2022.yaml"
OPTIMIZED = Path(__file__).resolve().parents[1] / "scenarios" / "optimized-four.yaml"


def test_parse_and_expand():
    assert parse_values("3..6") == [3, 4, 5, 6]
    assert parse_values("0.8,1,1.2") == [0.8, 1, 1.2]
    assert parse_values("hard,soft") == ["hard", "soft"]
    grid = expand_grid({"model.p": [3, 4], "model.criteria.spsm.mode": ["hard", "soft"]})
    assert grid == [
        {"model.p": 3, "model.criteria.spsm.mode": "hard"},
        {"model.p": 3, "model.criteria.spsm.mode": "soft"},
        {"model.p": 4, "model.criteria.spsm.mode": "hard"},
        {"model.p": 4, "model.criteria.spsm.mode": "soft"},
    ]
    assert run_id({"a": 1, "b": 2}) == run_id({"b": 2, "a": 1})


def test_sweep_rows_in_grid_order(tmp_path):
    grid = {"model.p": [3, 4, 5]}
    table = sweep(OPTIMIZED, grid, workers=1)
    assert table["model.p"].tolist() == [3, 4, 5]
    assert table["n_offices"].tolist() == [3, 4, 5]
    assert (table["status"] == "optimal").all()
    assert table["mean_minutes"].is_monotonic_decreasing  # more offices, shorter trips
    assert {"objective", "gap", "build_s", "solve_s", "share_within_3h"} <= set(table.columns)


def test_interrupted_sweep_resumes(tmp_path):
    out = tmp_path / "sweep.csv"
    first = sweep(OPTIMIZED, {"model.p": [3, 4]}, out=out, workers=1)
    assert len(pd.read_csv(out)) == 2
    stamp = out.read_text().splitlines()[1]
    full = sweep(OPTIMIZED, {"model.p": [3, 4, 5, 6]}, out=out, workers=2)
    lines = out.read_text().splitlines()
    assert len(lines) == 1 + 4  # only the two new runs were added
    assert lines[1] == stamp  # earlier rows untouched
    assert full["model.p"].tolist() == [3, 4, 5, 6]
    assert full.loc[:1, "objective"].tolist() == first["objective"].tolist()


def test_failed_run_is_a_row_not_a_crash():
    grid = [{"model.p": 4}, {"model.spread": {"mode": "hard", "max_minutes": 100}}]
    table = sweep(SCENARIO, grid, workers=1)
    assert table["status"].tolist()[0] == "optimal"
    assert table["status"].tolist()[1] == "error"
    assert "no solution meets the hard criteria" in table["error"].iloc[1]


def test_bad_override_is_refused_before_running():
    with pytest.raises(ScenarioError, match=r"model.p: Input should be greater than or equal to 1"):
        sweep(SCENARIO, {"model.p": [4, 0]})


def test_robustness_counts_towns():
    frequency = robustness(OPTIMIZED, runs=3, fraction=0.1, workers=1)
    assert frequency.loc[frequency["office"] == "Solna", "share"].item() == 1.0  # required
    assert frequency["chosen"].max() == 3
    again = robustness(OPTIMIZED, runs=3, fraction=0.1, workers=1)
    pd.testing.assert_frame_equal(frequency, again)  # seeded


def test_dask_executor_on_a_local_cluster():
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(n_workers=1, processes=False, dashboard_address=None)
    with cluster, distributed.Client(cluster) as client:
        table = sweep(OPTIMIZED, {"model.p": [3, 4]}, executor="dask", scheduler=client)
    assert table["n_offices"].tolist() == [3, 4]
    local = sweep(OPTIMIZED, {"model.p": [3, 4]}, workers=1)
    assert table["objective"].tolist() == pytest.approx(local["objective"].tolist())


def test_choice_frequency():
    table = pd.DataFrame(
        {"offices": ["A;B", "A;C", None], "status": ["optimal", "optimal", "error"]}
    )
    frequency = choice_frequency(table).set_index("office")
    assert frequency.loc["A", "share"] == 1.0 and frequency.loc["B", "chosen"] == 1


def test_sweep_command_and_plots(tmp_path):
    from typer.testing import CliRunner

    from siting.cli import app

    out = tmp_path / "sw"
    result = CliRunner().invoke(
        app,
        [
            "sweep",
            str(OPTIMIZED),
            "--vary",
            "model.p=3..4",
            "--vary",
            "travel.rail.speed_factor=0.8,1.2",
            "--out",
            str(out),
            "--workers",
            "1",
        ],
    )
    assert result.exit_code == 0, result.output
    assert len(pd.read_csv(out / "sweep.csv")) == 4
    for name in ("tradeoff.png", "tornado.png", "choices.png"):
        assert (out / name).read_bytes()[:4] == b"\x89PNG"


def test_scenario_object_accepted():
    table = sweep(load_scenario(SCENARIO), [{"model.p": 4}], workers=1)
    assert table["n_offices"].tolist() == [4]
