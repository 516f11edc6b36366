from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from siting.cli import app, main

runner = CliRunner()


def test_atlas_summary():
    result = runner.invoke(app, ["atlas"])
    assert result.exit_code == 0, result.output
    assert "Atlas: Sweden (EPSG:3006)" in result.output
    assert "municipalities" in result.output and "290" in result.output
    assert "organizers" in result.output


def test_atlas_map(tmp_path):
    target = tmp_path / "atlas.png"
    result = runner.invoke(app, ["atlas", "--map", str(target)])
    assert result.exit_code == 0, result.output
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp file left


def run_main(argv, capsys, monkeypatch) -> tuple[int, str]:
    """Run the real entry point; return its exit code and what it wrote to stderr."""
    monkeypatch.setattr(sys, "argv", ["siting", *argv])
    with pytest.raises(SystemExit) as info:
        main()
    return info.value.code, capsys.readouterr().err


def test_bad_manifest_is_one_clear_message(capsys, monkeypatch):
    code, err = run_main(["atlas", "--manifest", "missing.yaml"], capsys, monkeypatch)
    assert code == 2
    assert "error: atlas manifest not found: missing.yaml" in err
    assert "Traceback" not in err


def test_python_dash_m_help():
    result = subprocess.run(
        [sys.executable, "-m", "siting", "--help"], capture_output=True, text=True, check=True
    )
    assert "atlas" in result.stdout


def test_fetch_register_without_network_is_a_clear_error(tmp_path, capsys, monkeypatch):
    # port 9 (discard) on loopback: refused at once, never reaches outside this machine
    argv = [
        "data",
        "fetch-register",
        "--out",
        str(tmp_path / "reg"),
        "--base-url",
        "http://127.0.0.1:9",
        "--timeout",
        "2",
    ]
    code, err = run_main(argv, capsys, monkeypatch)
    assert code == 2
    assert "could not download http://127.0.0.1:9/v2/organizers" in err
    assert "Traceback" not in err


SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"


def test_solve_writes_every_output(tmp_path):
    out = tmp_path / "out"
    result = runner.invoke(app, ["solve", str(SCENARIOS / "offices-2022.yaml"), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "Solna" in result.output and "wrote 9 files" in result.output
    assert "proven optimal" in result.output
    assert {p.name for p in out.iterdir()} == {
        ".siting-run.json",
        "offices.csv",
        "results.xlsx",
        "assignments.csv",
        "regions.gpkg",
        "map.png",
        "map.svg",
        "map.pdf",
        "report.html",
        "summary.json",
    }


def test_solve_with_override(tmp_path):
    out = tmp_path / "out"
    args = [
        "solve",
        str(SCENARIOS / "optimized-four.yaml"),
        "--out",
        str(out),
        "--set",
        "model.p=3",
        "--set",
        "outputs.formats=[json]",
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["kpis"]["offices"] == 3
    assert sorted(p.name for p in out.iterdir()) == [".siting-run.json", "summary.json"]


def test_validate_reports_each_file(tmp_path, capsys, monkeypatch):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\nmodel:\n  p: ten\n  requierd: [Solna]\n", encoding="utf-8")
    town = tmp_path / "town.yaml"
    town.write_text("name: town\nmodel:\n  p: 2\n  required: [Goteborg]\n", encoding="utf-8")
    good = SCENARIOS / "offices-2022.yaml"
    code, err = run_main(["validate", str(good), str(bad), str(town)], capsys, monkeypatch)
    assert code == 2
    assert "model.p: Input should be a valid integer" in err
    assert "model.requierd: unknown key; did you mean 'required'?" in err
    assert "unknown town 'Goteborg'; did you mean 'Göteborg'" in err


def test_validate_ok():
    result = runner.invoke(app, ["validate", *map(str, sorted(SCENARIOS.glob("*.yaml")))])
    assert result.exit_code == 0, result.output
    assert result.output.count(": OK") == len(list(SCENARIOS.glob("*.yaml")))


def test_compare_2022_four_and_planned_ten(tmp_path):
    out = tmp_path / "cmp"
    args = [
        "compare",
        str(SCENARIOS / "offices-2022.yaml"),
        str(SCENARIOS / "plan-2022-ten.yaml"),
        "--out",
        str(out),
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out / "comparison.csv")
    assert table["n_offices"].tolist() == [4, 10]
    assert table["mean_minutes"].iloc[1] < table["mean_minutes"].iloc[0]
    assert table["share_within_3h"].iloc[1] > table["share_within_3h"].iloc[0]
    assert (out / "comparison.png").read_bytes()[:4] == b"\x89PNG"
    counties = pd.read_csv(out / "county_changes.csv", dtype=str).set_index("county_id")
    assert counties.loc["05"].tolist()[1:] == ["Solna", "Linköping"]  # Östergötland moves


def test_infeasible_solve_is_one_message(tmp_path, capsys, monkeypatch):
    args = [
        "solve",
        str(SCENARIOS / "offices-2022.yaml"),
        "--out",
        str(tmp_path),
        "--set",
        "model.spread={mode: hard, max_minutes: 100}",
    ]
    code, err = run_main(args, capsys, monkeypatch)
    assert code == 2
    assert "no solution meets the hard criteria" in err and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []
