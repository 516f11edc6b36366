"""The ``siting`` command: a thin shell over the public functions."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from siting.errors import SitingError

app = typer.Typer(
    help="Office-location optimization across administrative regions.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console(soft_wrap=True)
err_console = Console(stderr=True, soft_wrap=True)

ManifestOption = Annotated[
    Path | None,
    typer.Option("--manifest", help="Atlas manifest YAML; the shipped Swedish data by default."),
]


def _print_version(value: bool) -> None:
    if value:
        from siting import __version__

        console.print(f"siting {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Log what each step does.")
    ] = False,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Office-location optimization across administrative regions."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )


@app.command()
def atlas(
    manifest: ManifestOption = None,
    map_path: Annotated[
        Path | None,
        typer.Option("--map", help="Also draw the atlas to this file (.png, .svg or .pdf)."),
    ] = None,
    min_population: Annotated[
        int | None, typer.Option(help="Candidate towns: localities with at least this population.")
    ] = None,
) -> None:
    """Summarize the atlas (counties, municipalities, organizers, candidates, sites)."""
    from siting.atlas import load_atlas

    loaded = load_atlas(manifest, min_population=min_population)
    table = Table(title=f"Atlas: {loaded.spec.name} ({loaded.crs})")
    table.add_column("what")
    table.add_column("count", justify="right")
    for key, value in loaded.summary().items():
        table.add_row(key.replace("_", " "), f"{value:,}")
    console.print(table)
    unverified = loaded.unverified_sites()
    if len(unverified):
        listed = Table(
            title=f"{len(unverified)} fact rows not verified against their source "
            f"({loaded.spec.sites.file}, column verified)"
        )
        for column in ("site", "kind", "town", "note"):
            listed.add_column(column)
        for site_id, row in unverified.iterrows():
            listed.add_row(str(site_id), str(row["kind"]), str(row["town"]), str(row["note"]))
        console.print(listed)
    if map_path is not None:
        import matplotlib.pyplot as plt

        from siting.report.maps import plot_atlas, save_figure

        fig, _ = plot_atlas(loaded)
        save_figure(fig, map_path)
        plt.close(fig)
        console.print(f"map written to {map_path}")


ScenarioArgument = Annotated[Path, typer.Argument(help="A scenario YAML file.")]
SetOption = Annotated[
    list[str] | None,
    typer.Option("--set", help="Override a field: --set model.p=8 (repeatable)."),
]


def _load(scenario_path: Path, overrides: list[str] | None):
    """Read and validate a scenario (quick: no geographic library is imported)."""
    from siting.scenario import load_scenario

    return load_scenario(scenario_path, overrides or [])


def _run(scenario, *, prices: bool = False, office_values: bool = False):
    """Solve one loaded scenario with a progress display."""
    from siting.pipeline import run  # the geographic stack, once the file reads

    with console.status(f"solving {scenario.name} ...", spinner="dots"):
        result = run(scenario, prices=prices, office_values=office_values)
    return result


def _print_solution(result) -> None:
    solution = result.solution
    kpis = solution.kpis()
    from siting.report.labels import Labels

    optimality = Labels("en").optimality(solution.status, solution.gap)
    table = Table(title=f"{result.scenario.title()}: {optimality}")
    for column in ("office", "organizers", "mean min", "max min"):
        table.add_column(column, justify="left" if column == "office" else "right")
    from siting.report.tables import offices_table

    for _, row in offices_table(result).iterrows():
        table.add_row(
            row["name"],
            str(row["organizers"]),
            f"{row['mean_minutes']:.0f}",
            f"{row['max_minutes']:.0f}",
        )
    console.print(table)
    from siting.report.tables import objective_parts, part_label

    parts = ", ".join(
        f"{part_label(result, key, Labels('en')).lower()} {value:,.1f}"
        for key, value in objective_parts(result)[:-1]
    )
    console.print(
        f"mean {kpis['mean_minutes']:.0f} min, max {kpis['max_minutes']:.0f} min, "
        f"{kpis['share_within_180_min']:.0%} within 3 h; objective {solution.objective:,.1f} "
        f"= {parts}"
    )


@app.command()
def solve(
    scenario: ScenarioArgument,
    out: Annotated[Path, typer.Option("--out", help="Folder for the output files.")] = Path("out"),
    overrides: SetOption = None,
    prices: Annotated[
        bool,
        typer.Option(help="Also solve once per hard criterion without it (what it costs)."),
    ] = False,
    office_values: Annotated[
        bool, typer.Option(help="Also solve once per office with it closed (its marginal value).")
    ] = False,
) -> None:
    """Solve a scenario and write offices.csv, assignments.csv, regions.gpkg, maps, report."""
    from siting._io import check_out_dir

    loaded = _load(scenario, overrides)
    _announce_replaced(out, check_out_dir(out))  # a bad --out is refused before the solve
    result = _run(loaded, prices=prices, office_values=office_values)
    from siting.report.outputs import write_outputs

    _print_solution(result)
    with console.status("writing outputs ...", spinner="dots"):
        paths = write_outputs(result, out)
    console.print(f"wrote {len(paths)} files to {out}: {', '.join(p.name for p in paths)}")


@app.command()
def validate(
    scenarios: Annotated[list[Path], typer.Argument(help="Scenario YAML files.")],
    overrides: SetOption = None,
) -> None:
    """Check scenario files: every problem in each, or OK."""
    from siting.scenario import load_scenario

    failed = 0
    for path in scenarios:
        try:
            scenario = load_scenario(path, overrides or [])
            from siting.pipeline import prepare  # the geographic stack, once a file reads

            prepare(scenario)
        except SitingError as exc:
            failed += 1
            message = str(exc) if str(exc).startswith(str(path)) else f"{path}: {exc}"
            err_console.print(message, style="red", highlight=False, markup=False)
        else:
            console.print(f"{path}: OK ({scenario.name})")
    if failed:
        raise SystemExit(2)


@app.command()
def compare(
    scenarios: Annotated[list[Path], typer.Argument(help="Scenario YAML files to compare.")],
    out: Annotated[Path, typer.Option("--out", help="Folder for the comparison.")] = Path(
        "comparison"
    ),
    overrides: SetOption = None,
) -> None:
    """Solve several scenarios; write comparison.csv, maps side by side, and who changes office."""
    from siting._io import check_out_dir

    loaded = [_load(path, overrides) for path in scenarios]
    _announce_replaced(out, check_out_dir(out))
    runs = [_run(scenario) for scenario in loaded]
    from siting.report.compare import comparison_table, write_comparison

    with console.status("writing comparison ...", spinner="dots"):
        paths = write_comparison(runs, out)
    table = Table(title="Comparison")
    import pandas as pd

    frame = comparison_table(runs)  # the CSV's text is escaped for spreadsheets
    prices = [c for c in frame.columns if c.startswith("price_")]
    fixed = ["fixed_cost_sek"] if "fixed_cost_sek" in frame.columns else []
    columns = ["scenario", "offices", "mean min", "max min", "within 3 h", "travel min"]
    columns += [c.replace("_", " ") for c in prices + fixed] + ["objective", "optimality"]
    for column in columns:
        table.add_column(column)
    for _, row in frame.iterrows():
        table.add_row(
            row["scenario"],
            str(row["n_offices"]),
            f"{row['mean_minutes']:.0f}",
            f"{row['max_minutes']:.0f}",
            f"{row['share_within_3h']:.0%}",
            f"{row['travel_minutes']:,.1f}",
            *[f"{row[c]:,.1f}" if pd.notna(row[c]) else "-" for c in prices + fixed],
            f"{row['objective']:,.1f}",
            row["optimality"],
        )
    console.print(table)
    console.print(f"wrote {', '.join(p.name for p in paths)} to {out}")


@app.command("sweep")
def sweep_command(
    scenario: ScenarioArgument,
    vary: Annotated[
        list[str],
        typer.Option("--vary", help="field=values: model.p=3..12 or x=0.8,1,1.2 (repeatable)."),
    ],
    out: Annotated[Path, typer.Option("--out", help="Folder for sweep.csv and plots.")] = Path(
        "sweep"
    ),
    workers: Annotated[int | None, typer.Option(help="Local worker processes.")] = None,
    executor: Annotated[str, typer.Option(help="local or dask.")] = "local",
    scheduler: Annotated[str | None, typer.Option(help="Dask scheduler address.")] = None,
) -> None:
    """Solve a scenario over a grid of overrides; sweep.csv grows row by row and resumes."""
    from siting.errors import OutputError, ScenarioError
    from siting.report.sweep_plots import write_sweep_plots
    from siting.scenario import load_scenario
    from siting.sweep import parse_values
    from siting.sweep import sweep as run_sweep

    grid = {}
    for item in vary:
        if "=" not in item:
            raise typer.BadParameter(f"{item!r}: write field=values", param_hint="--vary")
        field, values = item.split("=", 1)
        try:
            grid[field.strip()] = parse_values(values)
        except ScenarioError as exc:
            raise ScenarioError(f"--vary {field.strip()}: {exc}") from None
    if executor not in ("local", "dask"):
        raise typer.BadParameter("local or dask", param_hint="--executor")
    loaded = load_scenario(scenario)
    if out.exists() and not out.is_dir():
        raise OutputError(f"{out} is a file, not a folder: choose another --out")
    table = run_sweep(
        loaded,
        grid,
        out=out / "sweep.csv",
        executor=executor,
        workers=workers,
        scheduler=scheduler,
        progress=True,
    )
    counts = table.attrs["counts"]
    console.print(
        f"{counts['run']} run, {counts['skipped']} skipped (already done), "
        f"{counts['failed']} failed; {len(table)} rows in {out / 'sweep.csv'}"
    )
    if len(table) > int((table["status"] == "error").sum()):
        from siting.pipeline import load_scenario_atlas

        paths = write_sweep_plots(table, list(grid), load_scenario_atlas(loaded), out)
        console.print(f"plots: {', '.join(p.name for p in paths)}")


def _announce_replaced(out: Path, replaced: list[Path]) -> None:
    if replaced:
        console.print(f"replacing the previous run in {out}: {', '.join(p.name for p in replaced)}")


data_app = typer.Typer(help="Download or rebuild input data.", no_args_is_help=True)
app.add_typer(data_app, name="data")


@data_app.command("fetch-register")
def fetch_register_command(
    out: Annotated[Path, typer.Option("--out", help="Folder to save the register into.")],
    base_url: Annotated[str, typer.Option(help="The API's base address.")] = (
        "https://api.skolverket.se/skolenhetsregistret"
    ),
    limit: Annotated[int | None, typer.Option(help="Fetch at most this many units.")] = None,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for each answer.")] = 30.0,
) -> None:
    """Download Skolverket's school-unit register (needs a network) for offline use."""
    from siting.register import fetch_register

    count = fetch_register(out, base_url=base_url, timeout_s=timeout, limit=limit)
    console.print(f"{count:,} school units saved in {out}")


travel_app = typer.Typer(help="Road networks and travel-time estimates.", no_args_is_help=True)
app.add_typer(travel_app, name="travel")


@travel_app.command("calibrate")
def calibrate_command(
    osm: Annotated[Path, typer.Option("--osm", help="An OSM extract (.osm.pbf, .osm, .xml).")],
    out: Annotated[Path, typer.Option("--out", help="The calibration CSV to write.")],
    manifest: ManifestOption = None,
    towns_per_county: Annotated[int, typer.Option(help="Sampled towns per county.")] = 20,
    destinations: Annotated[int, typer.Option(help="Sampled destination towns.")] = 60,
    min_km: Annotated[float, typer.Option(help="Shortest straight line of a pair used.")] = 10.0,
    seed: Annotated[int, typer.Option(help="Sampling seed.")] = 0,
) -> None:
    """Fit the estimate's circuity and speed per county from routes on a road network.

    Use the result with `travel: {estimate: {calibration: OUT}}` in a scenario.
    """
    from siting.atlas import load_atlas
    from siting.config import RoadSettings
    from siting.travel.calibrate import calibrate_estimate, write_calibration
    from siting.travel.roads import load_road_graph

    loaded = load_atlas(manifest)
    roads = RoadSettings(osm_file=str(osm))
    with console.status(f"reading roads from {osm.name} ...", spinner="dots"):
        graph = load_road_graph(
            osm,
            crs=loaded.crs,
            access_speed_kmh=roads.access_speed_kmh,
            max_access_km=roads.max_access_km,
        )
    with console.status("routing sampled towns ...", spinner="dots"):
        table = calibrate_estimate(
            loaded,
            graph,
            roads=roads,
            towns_per_county=towns_per_county,
            destinations=destinations,
            min_km=min_km,
            seed=seed,
        )
    write_calibration(table, out, source=osm)
    console.print(
        f"{len(table)} counties calibrated from {int(table['pairs'].sum()):,} routes "
        f"(circuity {table['circuity'].min():.2f}-{table['circuity'].max():.2f}, "
        f"{table['speed_kmh'].min():.0f}-{table['speed_kmh'].max():.0f} km/h); wrote {out}"
    )


def main() -> None:
    """Entry point: run the app; turn every error into one clear message, never a traceback.

    Exit codes: 0 success; 2 a usage mistake (typer's usage message) or input the
    user can fix (a :class:`~siting.errors.SitingError`, with what would fix it);
    1 a fault the user cannot fix (a bug: one line, with ``SITING_DEBUG=1`` for
    the traceback); 130 interrupted.
    """
    import os

    import matplotlib

    matplotlib.use("Agg")  # the command only writes files: no display needed
    try:
        app(prog_name="siting")  # standalone: typer prints usage errors and exits 2
    except SitingError as exc:
        err_console.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False)
        raise SystemExit(2) from None
    except KeyboardInterrupt:
        err_console.print("interrupted")
        raise SystemExit(130) from None
    except MemoryError:
        err_console.print("[bold red]error:[/] out of memory", highlight=False)
        raise SystemExit(1) from None
    except OSError as exc:
        err_console.print(f"[bold red]error:[/] {escape(_os_message(exc))}", highlight=False)
        raise SystemExit(2 if exc.filename else 1) from None
    except Exception as exc:
        if os.environ.get("SITING_DEBUG"):
            raise
        err_console.print(
            f"[bold red]internal error:[/] {type(exc).__name__}: {escape(str(exc))}. "
            "This is a bug in siting; run again with SITING_DEBUG=1 to see the traceback, "
            "and report it.",
            highlight=False,
        )
        raise SystemExit(1) from None


def _os_message(exc: OSError) -> str:
    """One line for an operating-system error: what failed, on which file, and why."""
    import errno

    reason = exc.strerror or str(exc)
    hints = {
        errno.ENOSPC: "free some disk space or write elsewhere with --out",
        errno.EACCES: "choose a folder you may write to",
        errno.EROFS: "the file system is read-only: choose another folder",
        errno.EPERM: "choose a folder you may write to",
    }
    hint = hints.get(exc.errno or 0, "")
    where = f"{exc.filename}: " if exc.filename else ""
    return f"{where}{reason}" + (f" ({hint})" if hint else "")
