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
from siting.report.maps import COLOURS, north_arrow, plain_text


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


@plain_text
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


@plain_text
def plot_choice_map(
    atlas: Atlas, frequency: pd.DataFrame, *, ax: Axes | None = None, title: str | None = None
) -> tuple[Figure, Axes]:
    """Towns sized and labelled by how often they were chosen (``choice_frequency``)."""
    fig, ax = _axes(ax, size=(7.5, 11))
    atlas.municipalities.plot(
        ax=ax, facecolor=COLOURS["land"], edgecolor=COLOURS["municipality_edge"], linewidth=0.3
    )
    atlas.counties.boundary.plot(ax=ax, color=COLOURS["county_edge"], linewidth=0.8)
    placed = []
    for _, row in frequency.iterrows():
        point = atlas.localities.geometry[atlas.locality_id(row["office"])]
        size = 30 + 600 * row["share"]  # points squared
        ax.scatter(
            point.x, point.y, s=size, color="#D55E00", alpha=0.65, edgecolor="black", zorder=4
        )
        placed.append((point, size, f"{row['office']} {row['share']:.0%}"))
    _label_clear_of_circles(ax, placed)
    north_arrow(ax, x=0.93, y=0.55)
    ax.set_title(title or "How often each town is chosen", fontsize=11)
    ax.set_axis_off()
    return fig, ax


def _label_clear_of_circles(ax: Axes, placed: list) -> None:
    """Label each circle beside it where the label overlaps no circle and no earlier label.

    Tries right, left, above, below, then further out; big circles are labelled first.
    """
    from matplotlib.transforms import Bbox

    fig = ax.figure
    fig.canvas.draw()  # fix the limits: display coordinates are final from here
    renderer = fig.canvas.get_renderer()
    points_px = fig.dpi / 72
    circles = []
    for point, size, _ in placed:
        x, y = ax.transData.transform((point.x, point.y))
        r = np.sqrt(size) / 2 * points_px
        circles.append(Bbox.from_extents(x - r, y - r, x + r, y + r))
    taken: list[Bbox] = []
    for k in sorted(range(len(placed)), key=lambda k: -placed[k][1]):
        point, size, text = placed[k]
        r = np.sqrt(size) / 2 + 3
        options = [((r * f, 0), ha, "center") for f in (1, 2.5) for ha in ("left", "right")] + [
            ((0, r), "center", "bottom"),
            ((0, -r), "center", "top"),
        ]
        label = None
        for (dx, dy), ha, va in options:
            dx = dx if ha != "right" else -dx
            if label is not None:
                label.remove()
            label = ax.annotate(
                text,
                (point.x, point.y),
                xytext=(dx, dy),
                textcoords="offset points",
                ha=ha,
                va=va,
                fontsize=8,
                zorder=5,
                bbox={"boxstyle": "round,pad=0.1", "fc": "white", "ec": "none", "alpha": 0.8},
            )
            box = label.get_window_extent(renderer)
            clear = not any(box.overlaps(c) for j, c in enumerate(circles) if j != k)
            if clear and not any(box.overlaps(t) for t in taken):
                break
        taken.append(label.get_window_extent(renderer))


@plain_text
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
