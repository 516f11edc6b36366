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
