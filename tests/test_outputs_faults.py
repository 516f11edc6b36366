"""Output folders under faults: a folder holds one run, whole; no traceback on a bad folder.

Each test here failed before run folders were staged beside the folder and swapped in
whole: ``--out`` naming a file crashed after the solve, a second run left the first
run's files beside its own, a failure while moving files mixed old and new, killed
runs left staging folders nothing removed, and CSV cells could carry formulas.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

import siting._io as io_module
from siting._io import MANIFEST, check_out_dir, clean_stale, csv_safe
from siting.errors import OutputError, SitingError
from siting.pipeline import run
from siting.report.compare import changes_table, comparison_table, write_comparison
from siting.report.outputs import write_outputs
from siting.report.tables import write_csv
from siting.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "scenarios" / "offices-2022.yaml"
SITING = Path(sys.executable).with_name("siting")
FAST = ["csv", "json"]


@pytest.fixture(scope="module")
def two_runs():
    """The four offices of 2022, and (a different result) with Göteborg for Malmö."""
    whole = run(load_scenario(SCENARIO, ["outputs.dpi=50"]), prices=False)
    split = run(
        load_scenario(SCENARIO, ["model.required=[Luleå,Härnösand,Solna,Göteborg]"]), prices=False
    )
    return whole, split


def hashes(folder: Path) -> dict[str, str]:
    """Every file's SHA-256, by path relative to ``folder``."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def leftovers(out: Path) -> list[str]:
    """Staging folders beside and inside ``out``."""
    found = [p.name for p in out.parent.iterdir() if p.name.startswith(".siting-")]
    if out.is_dir():
        found += [p.name for p in out.iterdir() if p.name.startswith(".siting-s")]
    return found


def dead_pid() -> int:
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


# -- the folder is checked before solving -----------------------------------------------


def test_out_naming_a_file_is_refused_before_solving(tmp_path, two_runs):
    target = tmp_path / "results.txt"
    target.write_text("mine", encoding="utf-8")
    with pytest.raises(OutputError, match=r"results.txt is a file, not a folder"):
        check_out_dir(target)
    with pytest.raises(OutputError, match=r"is a file, not a folder"):
        write_outputs(two_runs[0], target, FAST)
    with pytest.raises(OutputError, match=r"results.txt is a file, so no folder can be made"):
        check_out_dir(target / "out")
    assert target.read_text(encoding="utf-8") == "mine"
    assert isinstance(OutputError("x"), SitingError) and isinstance(OutputError("x"), OSError)


def test_folder_with_other_files_is_refused_naming_them(tmp_path, two_runs):
    out = tmp_path / "out"
    (out / "notes").mkdir(parents=True)
    (out / "thesis.docx").write_bytes(b"precious")
    (out / "offices.csv").write_text("an old siting output", encoding="utf-8")
    with pytest.raises(
        OutputError, match=r"holds 2 file\(s\) that are not a siting run: notes/, thesis.docx"
    ):
        check_out_dir(out)
    before = hashes(out)
    with pytest.raises(OutputError, match=r"thesis.docx"):
        write_outputs(two_runs[0], out, FAST)
    assert hashes(out) == before and (out / "notes").is_dir()
    assert check_out_dir(tmp_path / "new") == []
    (out / "thesis.docx").unlink()
    (out / "notes").rmdir()
    # a folder of siting's known files (written before manifests) is a previous run
    assert check_out_dir(out) == [out / "offices.csv"]


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/proc/siting-out", r"cannot create output folder /proc/siting-out: "),
        ("/sys/siting-out", r"cannot create output folder /sys/siting-out: "),
        ("/proc", r"output folder /proc holds \d+ file\(s\) that are not a siting run"),
    ],
)
def test_system_folders_get_a_message(path, message):
    with pytest.raises(OutputError, match=message):
        check_out_dir(path)


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_read_only_folder_gets_a_message(tmp_path, two_runs):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        with pytest.raises(OutputError, match=r"cannot create output folder .*Permission denied"):
            write_outputs(two_runs[0], locked / "out", FAST)
    finally:
        locked.chmod(0o755)


# -- one run per folder, replaced whole --------------------------------------------------


def test_second_run_replaces_the_first_whole(tmp_path, two_runs):
    whole, split = two_runs
    out = tmp_path / "out"
    first = write_outputs(whole, out, ["csv", "json", "png"])
    assert sorted(p.name for p in first) == [
        "assignments.csv",
        "map.png",
        "offices.csv",
        "summary.json",
    ]
    manifest = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    assert manifest["kind"] == "solve" and sorted(manifest["files"]) == sorted(
        p.name for p in first
    )
    replaced = check_out_dir(out)
    assert sorted(p.name for p in replaced) == sorted([MANIFEST, *(p.name for p in first)])
    mode = out.stat().st_mode
    write_outputs(split, out, ["csv"])
    # no map, no summary of the first run beside the second run's tables
    assert sorted(p.name for p in out.iterdir()) == [MANIFEST, "assignments.csv", "offices.csv"]
    assignments = pd.read_csv(out / "assignments.csv", index_col=0)
    expected = split.solution.assignment["office"]
    assert assignments["office_id"].to_dict() == expected.to_dict()
    assert out.stat().st_mode == mode  # the folder keeps ordinary permissions
    assert leftovers(out) == []


def test_new_nested_folder_is_swapped_in_whole(tmp_path, two_runs, monkeypatch):
    out = tmp_path / "a" / "b" / "out"
    monkeypatch.setattr(io_module, "_publish_in_place", None)  # must not be needed
    write_outputs(two_runs[0], out, FAST)
    assert sorted(p.name for p in out.iterdir()) == [
        MANIFEST,
        "assignments.csv",
        "offices.csv",
        "summary.json",
    ]
    assert leftovers(out) == []


def test_user_files_are_never_deleted(tmp_path, two_runs):
    out = tmp_path / "out"
    write_outputs(two_runs[0], out, FAST)
    (out / "my-notes.txt").write_text("keep me", encoding="utf-8")
    with pytest.raises(OutputError, match=r"1 file\(s\) that are not a siting run: my-notes.txt"):
        write_outputs(two_runs[1], out, FAST)
    assert (out / "my-notes.txt").read_text(encoding="utf-8") == "keep me"


def test_failure_while_moving_into_place_keeps_the_previous_run(tmp_path, two_runs, monkeypatch):
    out = tmp_path / "out"
    write_outputs(two_runs[0], out, ["csv", "json"])
    before = hashes(out)

    def full(a, b):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(b))

    monkeypatch.setattr(io_module, "_exchange", full)
    with pytest.raises(OutputError, match=r"No space left on device \(out\); the folder's earlier"):
        write_outputs(two_runs[1], out, ["csv"])
    assert hashes(out) == before
    assert leftovers(out) == []


def test_full_disk_while_writing_keeps_the_previous_run(tmp_path, two_runs, monkeypatch):
    out = tmp_path / "out"
    write_outputs(two_runs[0], out, FAST)
    before = hashes(out)
    real = Path.write_text

    def full(self, *args, **kwargs):
        if self.name == "summary.json":
            real(self, '{"half', encoding="utf-8")
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(self))
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Path, "write_text", full)
    with pytest.raises(OutputError, match=r"No space left on device \(summary.json\)"):
        write_outputs(two_runs[1], out, FAST)
    assert hashes(out) == before
    assert leftovers(out) == []


def test_parent_not_writable_stages_inside_the_folder(tmp_path, two_runs, monkeypatch):
    """Where no folder can be made beside ``out`` (its parent is read-only, a mount point)."""
    out = tmp_path / "out"
    write_outputs(two_runs[0], out, ["csv", "json"])
    real = io_module._new_hidden_folder

    def no_sibling(parent, prefix, name):
        if parent == out.parent:
            raise PermissionError(errno.EACCES, "Permission denied", str(parent))
        return real(parent, prefix, name)

    monkeypatch.setattr(io_module, "_new_hidden_folder", no_sibling)
    write_outputs(two_runs[1], out, ["csv"])
    assert sorted(p.name for p in out.iterdir()) == [MANIFEST, "assignments.csv", "offices.csv"]
    assert json.loads((out / MANIFEST).read_text(encoding="utf-8"))["files"] == [
        "offices.csv",
        "assignments.csv",
    ]


def test_stale_staging_folders_are_removed_by_the_next_run(tmp_path, two_runs):
    out = tmp_path / "out"
    write_outputs(two_runs[0], out, FAST)
    gone = dead_pid()
    stale = tmp_path / f".siting-staging-out-{gone}-0a1b2c3d"
    stale.mkdir()
    (stale / "offices.csv").write_text("half", encoding="utf-8")
    legacy = out / ".siting-staging-k3j2h1"  # inside the folder, as older versions staged
    legacy.mkdir()
    live = tmp_path / f".siting-staging-out-{os.getpid()}-feedbeef"  # a run in progress
    live.mkdir()
    other = tmp_path / f".siting-staging-elsewhere-{gone}-0a1b2c3d"  # another folder's
    other.mkdir()
    assert check_out_dir(out)  # staging folders are not "files that are not siting's"
    write_outputs(two_runs[1], out, FAST)
    assert not stale.exists() and not legacy.exists()
    assert live.exists() and other.exists()


def test_previous_run_moved_aside_is_restored(tmp_path, two_runs):
    """A run killed between the two renames (where no atomic swap exists)."""
    out = tmp_path / "out"
    write_outputs(two_runs[0], out, FAST)
    before = hashes(out)
    aside = tmp_path / f".siting-old-out-{dead_pid()}-0a1b2c3d"
    out.rename(aside)
    assert clean_stale(out) == [aside]
    assert hashes(out) == before


def test_swap_without_renameat2(tmp_path, two_runs, monkeypatch):
    out = tmp_path / "out"
    write_outputs(two_runs[0], out, FAST)
    monkeypatch.setattr(io_module, "_exchange", lambda a, b: False)
    write_outputs(two_runs[1], out, ["csv"])
    assert sorted(p.name for p in out.iterdir()) == [MANIFEST, "assignments.csv", "offices.csv"]
    assert leftovers(out) == []


# -- comparisons ------------------------------------------------------------------------


def test_compare_two_scenarios_of_the_same_name(tmp_path, two_runs):
    whole, split = two_runs
    assert whole.scenario.name == split.scenario.name
    name = whole.scenario.name
    changes = changes_table([whole, split])
    differs = whole.solution.assignment["office"] != split.solution.assignment["office"]
    assert int(differs.sum()) > 0
    assert len(changes) == int(differs.sum())
    # labels are the titles, which name the overrides; equal titles are numbered apart
    first, second = whole.scenario.title(), split.scenario.title()
    assert first == name and second.startswith(f"{name} (modified: model.")
    assert list(changes.columns) == ["organizer_name", "county_id", first, second]
    assert comparison_table([whole, split])["scenario"].tolist() == [first, second]
    assert comparison_table([whole, whole])["scenario"].tolist() == [name, f"{name} (2)"]
    paths = write_comparison([whole, split], tmp_path / "cmp")
    assert sorted(p.name for p in paths) == [
        "changes.csv",
        "comparison.csv",
        "comparison.html",
        "comparison.png",
        "county_changes.csv",
    ]
    assert len(pd.read_csv(tmp_path / "cmp" / "changes.csv")) == int(differs.sum())
    with pytest.raises(OutputError, match=r"is a file, not a folder"):
        write_comparison([whole, split], tmp_path / "cmp" / "changes.csv")


# -- CSV formula injection --------------------------------------------------------------


def test_csv_cells_that_look_like_formulas_are_escaped(tmp_path):
    assert csv_safe("=1+1") == "'=1+1" and csv_safe("@SUM(A1)") == "'@SUM(A1)"
    assert csv_safe("+46") == "'+46" and csv_safe("-2") == "'-2" and csv_safe("\tx") == "'\tx"
    assert csv_safe("Malmö") == "Malmö" and csv_safe(-2) == -2 and csv_safe(None) is None
    frame = pd.DataFrame(
        {"name": ["=cmd|' /C calc'!A0", "Luleå"], "minutes": [-1.5, 2.0]},
        index=pd.Index(["@id", "o2"], name="organizer_id"),
    )
    write_csv(frame, tmp_path / "t.csv")
    assert (tmp_path / "t.csv").read_text(encoding="utf-8").splitlines() == [
        "organizer_id,name,minutes",
        "'@id,'=cmd|' /C calc'!A0,-1.5",
        "o2,Luleå,2.0",
    ]


def test_organizer_names_like_formulas_are_escaped_in_outputs(tmp_path):
    units = tmp_path / "register" / "school-units"
    units.mkdir(parents=True)
    organizers = [
        ("1", 65.58, 22.15, "A", '=HYPERLINK("http://evil.example","x")'),
        ("2", 59.33, 18.06, "B", "+46 Skolan"),
        ("3", 55.60, 13.00, "C", "Huvudman C"),
    ]
    for code, lat, lon, org, name in organizers:
        document = {
            "data": {
                "attributes": {
                    "schoolUnitCode": code,
                    "status": "AKTIV",
                    "organizer": {"organizationNumber": org, "name": name},
                    "addresses": [
                        {
                            "type": "BESOKSADRESS",
                            "geoCoordinates": {"latitude": lat, "longitude": lon},
                        }
                    ],
                }
            }
        }
        (units / f"{code}.json").write_text(json.dumps(document), encoding="utf-8")
    path = tmp_path / "register.yaml"
    path.write_text(
        "name: register\ndata: {school_register: register}\nmodel: {p: 2}\n", encoding="utf-8"
    )
    result = run(load_scenario(path), prices=False)
    write_outputs(result, tmp_path / "out", ["csv"])
    names = pd.read_csv(tmp_path / "out" / "assignments.csv", index_col=0)["organizer_name"]
    assert names.to_dict() == {
        "oA": "'" + '=HYPERLINK("http://evil.example","x")',
        "oB": "'+46 Skolan",
        "oC": "Huvudman C",
    }


# -- the real command -------------------------------------------------------------------


def siting_command(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(SITING), *args], capture_output=True, text=True, timeout=timeout, cwd=ROOT
    )


def test_command_with_out_naming_a_file(tmp_path):
    target = tmp_path / "results.txt"
    target.write_text("mine", encoding="utf-8")
    done = siting_command(
        "solve", str(SCENARIO), "--out", str(target), "--set", "outputs.formats=[csv]"
    )
    assert done.returncode == 2, done.stderr
    assert "is a file, not a folder" in " ".join(done.stderr.split())  # rich wraps lines
    assert "Traceback" not in done.stdout + done.stderr
    assert target.read_text(encoding="utf-8") == "mine"


# -- killed at any moment ---------------------------------------------------------------

WRITER = """
import sys
from siting.pipeline import run
from siting.report.outputs import write_outputs
from siting.scenario import load_scenario

scenario, out, ref_a, ref_b = sys.argv[1:5]
runs = [
    run(load_scenario(scenario), prices=False),
    run(load_scenario(scenario, ["model.required=[Luleå,Härnösand,Solna,Göteborg]"]), prices=False),
]
write_outputs(runs[0], ref_a, ["csv", "json"])
write_outputs(runs[1], ref_b, ["csv", "json"])
write_outputs(runs[0], out, ["csv", "json"])
print("ready", flush=True)
k = 1
while True:
    write_outputs(runs[k % 2], out, ["csv", "json"])
    k += 1
"""


@pytest.mark.parametrize("seed", [1, 2])
def test_killed_while_writing_leaves_one_whole_run(tmp_path, seed):
    """SIGKILL at a seeded moment while runs A and B are written in turn into one folder."""
    out, ref_a, ref_b = tmp_path / "out", tmp_path / "a", tmp_path / "b"
    log = tmp_path / "writer.log"
    with log.open("w") as errors:
        writer = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(SCENARIO), str(out), str(ref_a), str(ref_b)],
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
        )
    try:
        for line in writer.stdout:  # the solver prints its banner first
            if line.strip() == "ready":
                break
        assert writer.poll() is None, log.read_text()
        time.sleep(random.Random(seed).uniform(0.05, 0.6))
    finally:
        writer.send_signal(signal.SIGKILL)
        writer.wait()
        writer.stdout.close()
    found = hashes(out)
    assert found in (hashes(ref_a), hashes(ref_b))
    assert set(json.loads((out / MANIFEST).read_text(encoding="utf-8"))["files"]) == set(found) - {
        MANIFEST
    }
    # the next run removes what the killed one left
    check_out_dir(out)
    clean_stale(out)
    assert leftovers(out) == []


@pytest.mark.parametrize("seed", [7, 8])
def test_killed_command_leaves_the_previous_run(tmp_path, two_runs, seed):
    """``siting solve`` killed while it writes: the previous run stays byte for byte.

    The kill comes a seeded moment after the run's staging folder appears (the
    writing takes about half a second; killed while solving, nothing is written).
    """
    out = tmp_path / "out"
    write_outputs(two_runs[0], out, FAST)
    before = hashes(out)
    command = subprocess.Popen(
        [
            *(str(SITING), "solve", str(SCENARIO), "--out", str(out)),
            *(
                "--set",
                "outputs.formats=[csv,json]",
                "--set",
                "model.required=[Luleå,Härnösand,Solna,Göteborg]",
            ),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        cwd=ROOT,
    )
    staged = False
    try:
        deadline = time.monotonic() + 120
        while command.poll() is None and time.monotonic() < deadline:
            if any(p.name.startswith(".siting-staging-out-") for p in tmp_path.iterdir()):
                staged = True
                time.sleep(random.Random(seed).uniform(0.0, 0.4))
                break
            time.sleep(0.001)
    finally:
        command.send_signal(signal.SIGKILL)
        _, errors = command.communicate()
    assert staged or command.returncode == 0, errors.decode()  # it got as far as writing
    after = hashes(out)
    if after != before:  # killed after the swap: then the new run is there, whole
        listed = json.loads((out / MANIFEST).read_text(encoding="utf-8"))["files"]
        assert (
            set(listed)
            == set(after) - {MANIFEST}
            == {"offices.csv", "assignments.csv", "summary.json"}
        )
        offices = pd.read_csv(out / "assignments.csv", index_col=0)["office_id"]
        assert offices.to_dict() == two_runs[1].solution.assignment["office"].to_dict()
    write_outputs(two_runs[1], out, FAST)
    assert leftovers(out) == []
