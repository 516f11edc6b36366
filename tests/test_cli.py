from __future__ import annotations

import subprocess
import sys

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
