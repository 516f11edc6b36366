"""Criteria are data: a made-up agency's manifest declares its own, solved by the real command.

``tests/agency/`` holds a manifest on the shipped Swedish polygons and places
with two criteria of kinds the Swedish data does not use the same way: offices
co-located with three partner headquarters, and a hospital within some minutes.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
AGENCY = ROOT / "tests" / "agency"
SITING = str(Path(sys.executable).parent / "siting")


def solve(scenario: Path, out: Path) -> tuple[pd.DataFrame, dict]:
    done = subprocess.run(
        [SITING, "solve", str(scenario), "--out", str(out), "--set", "outputs.formats=[csv,json]"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    return pd.read_csv(out / "offices.csv"), json.loads((out / "summary.json").read_text())


def test_colocation_puts_the_offices_at_the_three_partner_towns(tmp_path):
    # p = 3 and a hard co-location with exactly three partner towns: the offices can only
    # be those three; Umeå and Örebro have a hospital in town, Lund one in Malmö
    # (16.5 km: 13.2 minutes at the estimate's 1.2 x 16.5 km / 90 km/h), within 45.
    offices, summary = solve(AGENCY / "three-partners.yaml", tmp_path / "out")
    assert sorted(offices["name"]) == ["Lund", "Umeå", "Örebro"]
    assert offices["partner"].all() and offices["hospital"].all()
    minutes = offices.set_index("name")["hospital_minutes"]
    assert minutes["Umeå"] == 0 and minutes["Örebro"] == 0
    assert 10 < minutes["Lund"] < 16
    assert summary["status"] == "optimal"


def test_nearness_leaves_the_one_town_near_a_hospital(tmp_path):
    # hospitals are in Kiruna, Umeå, Örebro and Malmö; within 10 minutes of one, with the
    # last three forbidden, only Kiruna remains (Lund is 13 minutes from Malmö).
    offices, _ = solve(AGENCY / "near-kiruna.yaml", tmp_path / "out")
    assert list(offices["name"]) == ["Kiruna"]
    assert offices["hospital_minutes"].iloc[0] == 0


def test_the_engine_names_no_agency():
    """Nothing in siting/ names the Swedish criteria or their layers (issue: criteria as data)."""
    words = ("spsm", "universit")
    for path in (ROOT / "siting").rglob("*.py"):
        text = path.read_text(encoding="utf-8").lower()
        found = [w for w in words if w in text]
        assert not found, f"{path.relative_to(ROOT)} names {found}"


def test_a_criterion_over_an_unknown_kind_is_named(tmp_path):
    import shutil

    target = tmp_path / "agency"
    shutil.copytree(AGENCY, target)
    manifest = target / "agency.yaml"
    text = manifest.read_text(encoding="utf-8").replace("near: [hospital]", "near: [hospitl]")
    manifest.write_text(text.replace("../../data/", str(ROOT / "data") + "/"), encoding="utf-8")
    done = subprocess.run(
        [SITING, "validate", str(target / "three-partners.yaml")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert "criteria.hospital: kind hospitl is neither declared under sites.layers" in done.stderr
    assert "Traceback" not in done.stderr
