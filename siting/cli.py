"""The ``siting`` command: a thin shell over the public functions."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from siting.errors import SitingError

app = typer.Typer(
    help="Office-location optimization across administrative regions.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()
err_console = Console(stderr=True)

ManifestOption = Annotated[
    Path | None,
    typer.Option("--manifest", help="Atlas manifest YAML; the shipped Swedish data by default."),
]


@app.callback()
def _main(
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Log what each step does.")
    ] = False,
) -> None:
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
    if map_path is not None:
        import matplotlib.pyplot as plt

        from siting.report.maps import plot_atlas, save_figure

        fig, _ = plot_atlas(loaded)
        save_figure(fig, map_path)
        plt.close(fig)
        console.print(f"map written to {map_path}")


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


def main() -> None:
    """Entry point: run the app and turn siting's errors into one clear message."""
    try:
        app(standalone_mode=False)
    except SitingError as exc:
        err_console.print(f"[bold red]error:[/] {exc}", highlight=False)
        raise SystemExit(2) from None
    except typer.Abort:
        raise SystemExit(1) from None
    except Exception as exc:  # click usage errors carry their own exit codes
        import click

        if isinstance(exc, click.ClickException):
            exc.show()
            raise SystemExit(exc.exit_code) from None
        raise
