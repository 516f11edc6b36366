"""The real ``siting`` command, attacked as users and hostile files do.

Every case runs the installed command in a subprocess and asserts the exit code
(2: a usage mistake or input the user can fix; 0: it works), a message naming
the field, file or value, and that no traceback reaches the user. A good output
folder solved first must come through every failing run byte for byte.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SITING = shutil.which("siting", path=str(Path(sys.executable).parent)) or "siting"
CAPTURED: list[str] = []  # every output, for the no-traceback check at the end


def siting(*args: str, cwd: Path | None = None, timeout: float = 120) -> tuple[int, str, str]:
    """Run the command; return exit code, stdout, stderr (and keep them for the final check)."""
    env = {**os.environ, "COLUMNS": "200"}
    env.pop("SITING_DEBUG", None)
    done = subprocess.run(
        [SITING, *args],
        cwd=cwd or ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        stdin=subprocess.DEVNULL,
    )
    CAPTURED.append(done.stdout + done.stderr)
    assert "Traceback" not in done.stdout + done.stderr, done.stdout + done.stderr
    return done.returncode, done.stdout, done.stderr


def digest(folder: Path) -> dict[str, str]:
    """Every file of a folder (recursively, hidden ones included) with its hash."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def good_run(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    """A folder holding one good run, and its hashes."""
    out = tmp_path_factory.mktemp("good") / "out"
    code, _, err = siting(
        "solve", "scenarios/offices-2022.yaml", "--out", str(out), "--set", "outputs.formats=[csv]"
    )
    assert code == 0, err
    return out, digest(out)


# ---- usage mistakes: typer's usage message, exit 2 ---------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "Usage: siting"),
        (("solve",), "Missing argument 'SCENARIO'"),
        (("bogus",), "No such command 'bogus'"),
        (("solve", "scenarios/offices-2022.yaml", "--bogus"), "No such option: --bogus"),
        (("solve", "scenarios/offices-2022.yaml", "--out"), "Option '--out' requires an argument"),
        (("sweep", "scenarios/offices-2022.yaml"), "Missing option '--vary'"),
        (("sweep", "scenarios/offices-2022.yaml", "--vary", "model.p"), "write field=values"),
        (("validate",), "Missing argument 'scenarios'"),
    ],
)
def test_usage_mistakes_print_usage_and_exit_2(args, message):
    code, out, err = siting(*args)
    assert code == 2
    assert message.lower() in (out + err).lower()


def test_version():
    code, out, _ = siting("--version")
    assert code == 0
    from siting import __version__

    assert out.strip() == f"siting {__version__}"


# ---- hostile scenario files: one message naming the file and the fix, exit 2 -------------


def write(path: Path, text: str | bytes) -> Path:
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def billion_laughs() -> str:
    lines = ["name: bomb", 'a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    previous = "a"
    for key in "bcdefghi":
        lines.append(f"{key}: &{key} [" + ", ".join([f"*{previous}"] * 9) + "]")
        previous = key
    return "\n".join(lines) + "\n"


HOSTILE = {
    "alias_bomb": (billion_laughs(), "aliases that repeat large blocks are refused"),
    "duplicate_key": ("name: a\nmodel: {p: 3}\nname: b\n", "the key 'name' is given twice"),
    "binary": (bytes(range(256)) * 4, "a binary file, not a YAML scenario file"),
    "latin1": ("name: Malmö\n".encode("latin-1"), "not UTF-8 text"),
    "not_yaml": ("name: [unclosed\n", "not valid YAML: line"),
    "empty": ("", "the scenario file is empty"),
    "a_list": ("- Luleå\n- Solna\n", "a scenario is a mapping of sections"),
    "p_true": ("name: x\nmodel: {p: true}\n", "model.p: Input should be a valid integer"),
    "p_text": ("name: x\nmodel: {p: ten}\n", "model.p: Input should be a valid integer"),
    "infinite_transfer": (
        "name: x\nmodel: {p: 3}\ntravel: {rail: {transfer_min: .inf}}\n",
        "travel.rail.transfer_min: Input should be a finite number",
    ),
    "infinite_price": (
        "name: x\nmodel: {p: 3, criteria: {spsm: {mode: soft, price: .inf}}}\n",
        "price: Input should be a finite number",
    ),
    "typo_key": ("name: x\nmodle: {p: 3}\n", "modle: unknown key; did you mean 'model'?"),
    "unknown_criterion": (
        "name: x\nmodel: {p: 3, criteria: {spsmm: {mode: hard}}}\n",
        "model.criteria.spsmm: not a criterion of this data; did you mean 'spsm'?",
    ),
    "unknown_town": ("name: x\nmodel: {p: 3, required: [Lulea]}\n", "did you mean 'Luleå'"),
    "clash": (
        "name: x\nmodel: {p: 3, required: [Solna], forbidden: [Solna]}\n",
        "model.required and model.forbidden both name Solna",
    ),
    "too_many_required": (
        "name: x\nmodel: {p: 1, required: [Solna, Malmö]}\n",
        "model.required: 2 required towns but at most 1 offices",
    ),
    "unknown_solver": (
        "name: x\nmodel: {p: 3}\nsolver: {name: gurobi}\n",
        "solver.name: 'gurobi' is not available here; choose one of: cbc, highs",
    ),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_scenarios_get_one_message(case, tmp_path, good_run):
    text, message = HOSTILE[case]
    scenario = write(tmp_path / f"{case}.yaml", text)
    out, before = good_run
    code, _, err = siting("solve", str(scenario), "--out", str(out))
    assert code == 2, err
    assert message in err
    assert str(scenario) in err or "model." in err or "solver." in err
    assert digest(out) == before  # the earlier good run is untouched


def test_validate_refuses_what_solve_refuses(tmp_path):
    scenario = write(tmp_path / "s.yaml", HOSTILE["unknown_solver"][0])
    code, _, err = siting("validate", str(scenario), "scenarios/offices-2022.yaml")
    assert code == 2
    assert f"{scenario}: solver.name: 'gurobi'" in err


def test_oversized_scenario_is_refused_before_reading(tmp_path):
    scenario = tmp_path / "big.yaml"
    with scenario.open("w") as handle:
        handle.write("name: x\nmodel:\n  forbidden:\n")
        handle.writelines(f"    - Town{k}\n" for k in range(200_000))
    code, _, err = siting("validate", str(scenario), timeout=30)
    assert code == 2
    assert "is too large for a scenario file" in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("solve", "no/such/file.yaml"), "scenario file not found: no/such/file.yaml"),
        (("solve", "scenarios"), "scenario file scenarios is not a file"),
        (("atlas", "--map", "atlas.txt"), "a map is written as .png, .svg, .pdf; got .txt"),
        (("solve", "scenarios/offices-2022.yaml", "--set", "model.p"), "write it as field.path"),
        (
            ("solve", "scenarios/offices-2022.yaml", "--set", "model.p.x=3"),
            "model.p is a value",
        ),
    ],
)
def test_other_mistakes_get_a_message(args, message, tmp_path):
    code, _, err = siting(*args, cwd=ROOT)
    assert code == 2
    assert message in err


@pytest.mark.parametrize("values", ["3..x", "12..3"])
def test_malformed_sweep_ranges_are_refused(values, tmp_path):
    code, _, err = siting(
        "sweep",
        "scenarios/offices-2022.yaml",
        "--vary",
        f"model.p={values}",
        "--out",
        str(tmp_path / "sweep"),
    )
    assert code == 2
    assert "--vary model.p:" in err


def test_out_naming_a_file_is_refused_before_the_solve(tmp_path):
    target = tmp_path / "report.txt"
    target.write_text("my notes", encoding="utf-8")
    code, out, err = siting("solve", "scenarios/optimized-ten.yaml", "--out", str(target))
    assert code == 2
    assert str(target) in err
    assert "proven optimal" not in out  # refused before solving
    assert target.read_text(encoding="utf-8") == "my notes"


# ---- what used to crash and must now work ------------------------------------------------


def test_mathtext_in_a_scenario_name_is_drawn_literally(tmp_path):
    scenario = write(tmp_path / "s.yaml", "name: '$\\frac{1}{$ offices'\nmodel: {p: 2}\n")
    code, _, err = siting(
        "solve", str(scenario), "--out", str(tmp_path / "out"), "--set", "outputs.formats=[png]"
    )
    assert code == 0, err
    assert (tmp_path / "out" / "map.png").stat().st_size > 10_000


def test_coverage_with_contiguous_regions_solves(tmp_path):
    scenario = write(
        tmp_path / "s.yaml",
        "name: cover\nmodel: {objective: coverage, p: 4, coverage_minutes: 120,\n"
        "  county: {whole: true, contiguous: true}}\n",
    )
    code, out, err = siting(
        "solve", str(scenario), "--out", str(tmp_path / "out"), "--set", "outputs.formats=[csv]"
    )
    assert code == 0, err
    assert "Running HiGHS" not in out + err  # the solver's banner is silenced


def test_no_traceback_anywhere():
    """Every output this module captured is free of tracebacks (the issue's grep -c)."""
    assert CAPTURED
    assert sum(text.count("Traceback") for text in CAPTURED) == 0
