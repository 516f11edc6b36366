"""Plots of sweeps: trade-off curve, how often towns are chosen, tornado chart.

Each takes ``ax=None`` and returns ``(fig, ax)``; none calls ``show()``.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from siting.atlas import Atlas
from siting.report.maps import COLOURS, north_arrow


def _axes(ax: Axes | None, size=(6.5, 4.2)) -> tuple[Figure, Axes]:
    if ax is None:
        return plt.subplots(figsize=size, layout="constrained")
    return ax.figure, ax


def pareto_mask(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Points no other point beats on both x and y (both minimised)."""
    efficient = np.ones(len(x), dtype=bool)
    for k in range(len(x)):
        better = (x <= x[k]) & (y <= y[k]) & ((x < x[k]) | (y < y[k]))
        efficient[k] = not better.any()
    return efficient


def plot_tradeoff(
    table: pd.DataFrame,
    *,
    x: str = "n_offices",
    ys: tuple[str, ...] = ("mean_minutes", "max_minutes"),
    ax: Axes | None = None,
) -> tuple[Figure, Axes]:
    """Offices against travel minutes, every run a point, Pareto-efficient points ringed."""
    fig, ax = _axes(ax)
    solved = table[table["status"] != "error"]
    palette = ["#0072B2", "#D55E00", "#009E73"]
    for colour, column in zip(palette, ys, strict=False):
        xs, values = solved[x].to_numpy(float), solved[column].to_numpy(float)
        ax.scatter(xs, values, color=colour, s=18, alpha=0.6, label=column.replace("_", " "))
        efficient = pareto_mask(xs, values)
        order = np.argsort(xs[efficient])
        ax.plot(xs[efficient][order], values[efficient][order], color=colour, lw=1.2)
        ax.scatter(
            xs[efficient],
            values[efficient],
            facecolor="none",
            edgecolor="black",
            s=60,
            lw=1.0,
            zorder=3,
        )
    ax.scatter([], [], facecolor="none", edgecolor="black", s=60, label="Pareto-efficient")
    ax.set_xlabel(x.replace("_", " "))
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel("travel minutes")
    ax.set_title("Offices against travel time")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return fig, ax


def plot_choice_map(
    atlas: Atlas, frequency: pd.DataFrame, *, ax: Axes | None = None, title: str | None = None
) -> tuple[Figure, Axes]:
    """Towns sized and labelled by how often they were chosen (``choice_frequency``)."""
    fig, ax = _axes(ax, size=(7.5, 11))
    atlas.municipalities.plot(
        ax=ax, facecolor=COLOURS["land"], edgecolor=COLOURS["municipality_edge"], linewidth=0.3
    )
    atlas.counties.boundary.plot(ax=ax, color=COLOURS["county_edge"], linewidth=0.8)
    for _, row in frequency.iterrows():
        point = atlas.localities.geometry[atlas.locality_id(row["office"])]
        ax.scatter(
            point.x,
            point.y,
            s=30 + 600 * row["share"],
            color="#D55E00",
            alpha=0.65,
            edgecolor="black",
            zorder=4,
        )
        ax.annotate(
            f"{row['office']} {row['share']:.0%}",
            (point.x, point.y),
            xytext=(6, 4),
            textcoords="offset points",
            fontsize=8,
            zorder=5,
        )
    north_arrow(ax, x=0.93, y=0.55)
    ax.set_title(title or "How often each town is chosen", fontsize=11)
    ax.set_axis_off()
    return fig, ax


def plot_tornado(
    table: pd.DataFrame,
    parameters: list[str],
    *,
    metric: str = "objective",
    ax: Axes | None = None,
) -> tuple[Figure, Axes]:
    """Which parameter moves ``metric`` most: the range of its mean over each parameter's values."""
    fig, ax = _axes(ax)
    solved = table[table["status"] != "error"]
    centre = solved[metric].median()
    spans = []
    for parameter in parameters:
        means = solved.groupby(parameter)[metric].mean()
        spans.append((parameter, means.min(), means.max()))
    spans.sort(key=lambda s: s[2] - s[1])
    for k, (_, low, high) in enumerate(spans):
        ax.barh(k, high - low, left=low, color="#56B4E9", edgecolor="#0072B2")
        ax.text(high, k, f"  {high - low:,.0f}", va="center", fontsize=8)
    ax.axvline(centre, color="black", lw=0.8, ls="--", label=f"median {metric}")
    ax.margins(x=0.15)
    ax.set_yticks(range(len(spans)), [s[0] for s in spans])
    ax.set_xlabel(metric.replace("_", " "))
    ax.set_title(f"What moves the {metric.replace('_', ' ')} most")
    ax.legend(fontsize=8)
    return fig, ax


def write_sweep_plots(
    table: pd.DataFrame, fields: list[str], atlas: Atlas, out: str | Path, *, dpi: int = 150
) -> list[Path]:
    """Write ``tradeoff.png``, ``tornado.png`` and ``choices.png`` of a sweep into ``out``.

    Each file is written atomically; a link in its place is replaced, never written
    through. A failure to write (a full disk) raises :class:`siting.errors.OutputError`.
    """
    from siting._io import describe_os_error
    from siting.errors import OutputError
    from siting.report.maps import save_figure
    from siting.sweep import choice_frequency

    out = Path(out)
    figures = {
        "tradeoff.png": lambda: plot_tradeoff(table)[0],
        "tornado.png": lambda: plot_tornado(table, fields)[0],
        "choices.png": lambda: plot_choice_map(atlas, choice_frequency(table))[0],
    }
    paths = []
    for name, draw in figures.items():
        fig = draw()
        try:
            paths.append(save_figure(fig, out / name, dpi=dpi))
        except OSError as exc:
            raise OutputError(
                f"cannot write {out / name}: {describe_os_error(exc)}; sweep.csv is complete"
            ) from None
        finally:
            plt.close(fig)
    return paths
