from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from siting.errors import OutputError, ScenarioError
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


# -- faults: malformed ranges, other sweeps in the same file, torn rows, links, counts ----


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("12..3", r"'12..3': the range runs backwards and holds no value; write 3..12"),
        ("3..x", r"'3..x': a range is two whole numbers LOW..HIGH"),
        ("0.8..1.2", r"a range is two whole numbers"),
        ("..", r"a range is two whole numbers"),
        ("", r"'': no values"),
        (" , ,", r"no values"),
        ("[1,", r"not a list of values"),
    ],
)
def test_malformed_values_are_refused(text, message):
    with pytest.raises(ScenarioError, match=message):
        parse_values(text)


def test_empty_grid_is_refused():
    with pytest.raises(ScenarioError, match=r"model.p has no values"):
        sweep(SCENARIO, {"model.p": []})
    with pytest.raises(ScenarioError, match=r"the grid holds no run"):
        sweep(SCENARIO, [])


def test_another_sweep_into_the_same_file_is_refused(tmp_path):
    out = tmp_path / "sweep.csv"
    first = sweep(SCENARIO, {"travel.rail.speed_factor": [1.0]}, out=out, workers=1)
    assert first.attrs["counts"] == {"runs": 1, "run": 1, "skipped": 0, "failed": 0}
    record = json.loads((tmp_path / "sweep.json").read_text(encoding="utf-8"))
    assert record["scenario_hash"] == load_scenario(SCENARIO).digest()
    assert record["grid"] == {"travel.rail.speed_factor": [1.0]}
    before = out.read_bytes()
    with pytest.raises(
        OutputError,
        match=r"holds a sweep that varied travel.rail.speed_factor; this one varies "
        r"model.county.own_county: use another output \(--out\), or delete sweep.csv and "
        r"sweep.json",
    ):
        sweep(SCENARIO, {"model.county.own_county": [True]}, out=out, workers=1)
    with pytest.raises(OutputError, match=r"holds a sweep of another scenario"):
        sweep(OPTIMIZED, {"travel.rail.speed_factor": [1.0]}, out=out, workers=1)
    assert out.read_bytes() == before
    again = sweep(SCENARIO, {"travel.rail.speed_factor": [1.0]}, out=out, workers=1)
    assert again.attrs["counts"] == {"runs": 1, "run": 0, "skipped": 1, "failed": 0}
    # a record without its table does not stand in the way
    out.rename(tmp_path / "kept.csv")
    fresh = sweep(SCENARIO, {"model.county.own_county": [True]}, out=out, workers=1)
    assert fresh.attrs["counts"] == {"runs": 1, "run": 1, "skipped": 0, "failed": 0}
    (tmp_path / "kept.csv").replace(out)
    # a table written before records existed, with other columns, is refused too
    (tmp_path / "sweep.json").unlink()
    with pytest.raises(OutputError, match=r"holds other columns \(travel.rail.speed_factor"):
        sweep(SCENARIO, {"model.county.own_county": [True]}, out=out, workers=1)


def test_torn_row_is_redone_and_counts_are_true(tmp_path, monkeypatch):
    """A full disk cuts the last row short: it is not counted done, and is run again."""
    import errno
    import os

    import siting.sweep as sweep_module

    out = tmp_path / "sweep.csv"
    grid = {"travel.rail.speed_factor": [0.8, 1.0, 1.2]}
    real_write = sweep_module._RowWriter.write
    written = []

    def full_disk(self, row):
        if len(written) == 2:  # the third row: half a line, then the disk is full
            line = ",".join(str(row.get(c, "")) for c in self.columns)
            self.handle.write(line[: len(line) // 2])
            self.handle.flush()
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        written.append(row)
        real_write(self, row)

    monkeypatch.setattr(sweep_module._RowWriter, "write", full_disk)
    with pytest.raises(
        OutputError,
        match=r"cannot append to .*sweep.csv: No space left on device; 2 run\(s\) of this call "
        r"were saved: run the sweep again to resume",
    ):
        sweep(SCENARIO, grid, out=out, workers=1)
    monkeypatch.undo()
    assert not out.read_text(encoding="utf-8").endswith("\n")  # the torn row
    table = sweep(SCENARIO, grid, out=out, workers=1)
    assert table.attrs["counts"] == {"runs": 3, "run": 1, "skipped": 2, "failed": 0}
    assert table["travel.rail.speed_factor"].tolist() == [0.8, 1.0, 1.2]
    assert (table["status"] == "optimal").all() and table["objective"].notna().all()
    lines = out.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 4 and all(line.count(",") == lines[0].count(",") for line in lines)
    # a torn row in the middle (a killed process, then more rows appended) is redone too
    rows = out.read_text(encoding="utf-8").splitlines(keepends=True)
    rows[2] = rows[2][:20] + "\n"
    out.write_text("".join(rows), encoding="utf-8")
    table = sweep(SCENARIO, grid, out=out, workers=1)
    assert table.attrs["counts"] == {"runs": 3, "run": 1, "skipped": 2, "failed": 0}
    assert len(table) == 3 and len(out.read_text(encoding="utf-8").splitlines()) == 4


def test_sweep_table_behind_a_link_is_refused(tmp_path):
    target = tmp_path / "elsewhere.csv"
    target.write_text("precious\n", encoding="utf-8")
    link = tmp_path / "sweep.csv"
    link.symlink_to(target)
    with pytest.raises(OutputError, match=r"sweep.csv is a symbolic link; siting does not write"):
        sweep(SCENARIO, [{"model.p": 4}], out=link, workers=1)
    assert target.read_text(encoding="utf-8") == "precious\n"


def test_each_run_is_reported_as_it_ends(monkeypatch):
    """Rows arrive one run at a time, not five at a time (a chain)."""
    import siting.sweep as sweep_module

    events = []
    real_solve = sweep_module._solve_one

    def solve(scenario_json, overrides, start_offices=None):
        events.append(("solve", overrides["travel.rail.speed_factor"], start_offices))
        return real_solve(scenario_json, overrides, start_offices)

    monkeypatch.setattr(sweep_module, "_solve_one", solve)
    table = sweep(
        SCENARIO,
        {"travel.rail.speed_factor": [0.8, 1.2]},
        workers=1,
        on_row=lambda row: events.append(("row", row["travel.rail.speed_factor"], None)),
    )
    offices = sorted(table["offices"].iloc[0].split(";"))
    assert [e[:2] for e in events] == [("solve", 0.8), ("row", 0.8), ("solve", 1.2), ("row", 1.2)]
    assert events[0][2] is None
    assert sorted(events[2][2]) != [] and len(events[2][2]) == 4  # warm start: previous offices
    assert offices == ["Härnösand", "Luleå", "Malmö", "Solna"]


def test_sweep_command_refuses_bad_input_without_traceback(tmp_path):
    import subprocess
    import sys

    siting = Path(sys.executable).with_name("siting")

    def command(*args):
        return subprocess.run(
            [str(siting), "sweep", str(SCENARIO), *args], capture_output=True, text=True
        )

    backwards = command("--vary", "model.p=12..3", "--out", str(tmp_path / "a"))
    assert backwards.returncode == 2
    assert "the range runs backwards" in " ".join(backwards.stderr.split())
    sweep(
        SCENARIO, {"travel.rail.speed_factor": [1.0]}, out=tmp_path / "b" / "sweep.csv", workers=1
    )
    other = command("--vary", "model.county.own_county=true", "--out", str(tmp_path / "b"))
    assert other.returncode == 2
    assert "holds a sweep that varied travel.rail.speed_factor" in " ".join(other.stderr.split())
    for done in (backwards, other):
        assert "Traceback" not in done.stdout + done.stderr
    assert not (tmp_path / "a").exists() or not list((tmp_path / "a").iterdir())


def test_sweep_plots_replace_links_never_write_through(tmp_path, sweden):
    from siting.report.sweep_plots import write_sweep_plots

    table = sweep(SCENARIO, {"travel.rail.speed_factor": [0.8, 1.2]}, workers=1)
    target = tmp_path / "precious.png"
    target.write_bytes(b"not a plot")
    (tmp_path / "tradeoff.png").symlink_to(target)
    paths = write_sweep_plots(table, ["travel.rail.speed_factor"], sweden, tmp_path, dpi=50)
    assert [p.name for p in paths] == ["tradeoff.png", "tornado.png", "choices.png"]
    assert target.read_bytes() == b"not a plot"
    assert not (tmp_path / "tradeoff.png").is_symlink()
    assert (tmp_path / "tradeoff.png").read_bytes()[:4] == b"\x89PNG"


def test_an_unreachable_dask_scheduler_is_a_message(tmp_path, monkeypatch):
    import siting.sweep as sweep_module
    from siting.errors import ScenarioError

    monkeypatch.setattr(sweep_module, "DASK_CONNECT_TIMEOUT_S", 1.0)
    with pytest.raises(
        ScenarioError, match=r"cannot reach the Dask scheduler at tcp://127.0.0.1:9"
    ):
        sweep_module.sweep(
            SCENARIO,
            {"model.p": [4]},
            executor="dask",
            scheduler="tcp://127.0.0.1:9",
        )
