"""Maps for reports, drawn with matplotlib.

Every function takes ``ax=None``, draws, and returns ``(fig, ax)``; none calls
``show()``. Coordinates are the atlas's projected CRS (metres), so the scale
bar is true.
"""

from __future__ import annotations

import functools
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import ParamSpec, TypeVar

import geopandas as gpd
import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.markers import MarkerStyle
from matplotlib_scalebar.scalebar import ScaleBar

from siting._io import atomic_path
from siting.atlas import Atlas
from siting.errors import ScenarioError

P = ParamSpec("P")
R = TypeVar("R")

#: Okabe-Ito colours (colour-blind safe), by role.
COLOURS = {
    "office_opened": "#D55E00",
    "office_planned": "#E69F00",
    "organizer": "#555555",
    "county_edge": "#333333",
    "municipality_edge": "#BBBBBB",
    "land": "#F4F1EA",
    "rail": "#6B3F1F",
}


def plain_text(plot: Callable[P, R]) -> Callable[P, R]:
    r"""Draw with every text taken literally: ``$`` in a scenario or town name is a dollar.

    Matplotlib reads text between two dollar signs as mathematics and fails on
    what does not parse (a scenario named ``$\frac{1}{$``); names are data.
    """

    @functools.wraps(plot)
    def drawn(*args: P.args, **kwargs: P.kwargs) -> R:
        with plt.rc_context({"text.parse_math": False}):
            return plot(*args, **kwargs)

    return drawn


def rail_lines(atlas: Atlas) -> gpd.GeoDataFrame | None:
    """The rail segments as lines (intercity flag per segment), or None without rail data."""
    from shapely.geometry import LineString

    from siting.travel.multimodal import rail_network

    network = rail_network(atlas)
    if network is None:
        return None
    points = network.stations.geometry
    intercity = {line.name: line.intercity for line in network.spec.lines}
    segments = network.segments
    return gpd.GeoDataFrame(
        {"line": segments["line"], "intercity": segments["line"].map(intercity)},
        geometry=[
            LineString([points[a], points[b]])
            for a, b in zip(segments["a"], segments["b"], strict=True)
        ],
        crs=atlas.crs,
    )


def draw_rail(atlas: Atlas, ax: Axes, *, scale: float = 1.0) -> bool:
    """Draw the rail network (dashed where only regional trains run); False without data."""
    lines = rail_lines(atlas)
    if lines is None:
        return False
    lines[lines["intercity"]].plot(ax=ax, color=COLOURS["rail"], linewidth=1.1 * scale, zorder=2)
    lines[~lines["intercity"]].plot(
        ax=ax, color=COLOURS["rail"], linewidth=0.9 * scale, linestyle="--", zorder=2
    )
    return True


#: Legend symbols by role, one place for each (matches what the plot functions draw).
SYMBOLS = {
    "office_opened": {"marker": "*", "color": COLOURS["office_opened"], "mec": "black", "ms": 13},
    "office_planned": {"marker": "o", "color": COLOURS["office_planned"], "mec": "black", "ms": 8},
    "office": {"marker": "*", "color": "#BBBBBB", "mec": "black", "ms": 13},
    "required": {"marker": "o", "mfc": "none", "mec": "black", "ms": 14},
    "candidate": {"marker": "o", "mfc": "white", "mec": "#777777", "ms": 5},
    "organizer": {"marker": "o", "color": COLOURS["organizer"], "ms": 3.5},
    "county_edge": {"color": COLOURS["county_edge"], "lw": 0.8},
    "municipality_edge": {"color": COLOURS["municipality_edge"], "lw": 0.8},
}


def symbol(role: str, label: str) -> Line2D:
    """A legend entry for a role of :data:`SYMBOLS`."""
    style = dict(SYMBOLS[role])
    if "marker" in style:
        style["ls"] = ""
    return Line2D([], [], label=label, **style)


def criteria_kinds(atlas: Atlas) -> list[str]:
    """The kinds of site the manifest's criteria read, in declaration order (drawn on maps)."""
    kinds = [k for criterion in atlas.spec.criteria.values() for k in criterion.site_kinds]
    return list(dict.fromkeys(kinds))


def draw_layers(atlas: Atlas, ax: Axes, *, scale: float = 1.0) -> list[Line2D]:
    """Draw every layer the criteria read, in the manifest's symbols; return legend entries.

    Each entry counts towns, as ``siting atlas`` does (one symbol per town).
    """
    handles = []
    for order, kind in enumerate(criteria_kinds(atlas)):
        towns = atlas.layer(kind)
        style = atlas.layer_style(kind)
        size = style.size * scale
        if MarkerStyle(style.marker).is_filled():
            colours = {
                "facecolor": style.colour if style.filled else "none",
                "edgecolor": style.colour,
            }
        else:  # a line marker (+, x, |) has only one colour
            colours = {"color": style.colour}
        towns.plot(
            ax=ax,
            marker=style.marker,
            markersize=size**2,
            linewidth=1.3 * scale,
            zorder=4 + order * 0.1,
            **colours,
        )
        handles.append(
            Line2D(
                [],
                [],
                ls="",
                marker=style.marker,
                ms=size,
                mfc=style.colour if style.filled else "none",
                mec=style.colour,
                mew=1.3,
                label=f"{style.label} ({len(towns)})",
            )
        )
    return handles


def rail_legend() -> list[Line2D]:
    """Legend entries of :func:`draw_rail`."""
    return [
        Line2D([], [], color=COLOURS["rail"], lw=1.1, label="Railway, intercity"),
        Line2D([], [], color=COLOURS["rail"], lw=0.9, ls="--", label="Railway, regional only"),
    ]


def north_arrow(ax: Axes, *, x: float = 0.93, y: float = 0.93) -> None:
    """Draw a north arrow in axes coordinates (the projected CRS has north up)."""
    ax.annotate(
        "N",
        xy=(x, y),
        xytext=(x, y - 0.07),
        xycoords="axes fraction",
        ha="center",
        va="center",
        fontsize=11,
        fontweight="bold",
        arrowprops={"facecolor": "black", "width": 3, "headwidth": 9, "headlength": 9},
    )


@plain_text
def plot_atlas(atlas: Atlas, *, ax: Axes | None = None, labels: bool = True) -> tuple[Figure, Axes]:
    """Draw counties, municipality borders, organizers, offices and the criteria's layers.

    Parameters
    ----------
    atlas
        The atlas to draw.
    ax
        Axes to draw into; a new A4-portrait-width figure when omitted.
    labels
        Write the names of office towns.

    Returns
    -------
    (Figure, Axes)

    """
    if ax is None:
        fig, ax = plt.subplots(figsize=(7.5, 11), layout="constrained")
    else:
        fig = ax.figure
    atlas.municipalities.plot(
        ax=ax, facecolor=COLOURS["land"], edgecolor=COLOURS["municipality_edge"], linewidth=0.3
    )
    atlas.counties.boundary.plot(ax=ax, color=COLOURS["county_edge"], linewidth=0.8)
    has_rail = draw_rail(atlas, ax)
    atlas.organizers.plot(ax=ax, color=COLOURS["organizer"], markersize=4, zorder=3)

    spec = atlas.spec.sites
    sites = atlas.sites
    offices = sites[sites["kind"].isin(spec.office_kinds)]
    opened = offices[offices["status"].str.startswith("opened")]
    planned = offices[~offices.index.isin(opened.index)]
    layer_handles = draw_layers(atlas, ax)
    planned.plot(
        ax=ax,
        marker="o",
        color=COLOURS["office_planned"],
        markersize=55,
        edgecolor="black",
        linewidth=0.6,
        zorder=6,
    )
    opened.plot(
        ax=ax,
        marker="*",
        color=COLOURS["office_opened"],
        markersize=190,
        edgecolor="black",
        linewidth=0.6,
        zorder=7,
    )
    if labels:
        for _, row in offices.iterrows():
            ax.annotate(
                row["town"],
                (row.geometry.x, row.geometry.y),
                xytext=(6, 4),
                textcoords="offset points",
                fontsize=8,
                zorder=8,
                bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.75},
            )

    terms = atlas.spec.terms
    handles = [
        symbol("office_opened", f"Office opened ({len(opened)})"),
        symbol("office_planned", f"Office planned ({len(planned)})"),
        *layer_handles,
        symbol("organizer", f"Organizer ({len(atlas.organizers)})"),
        symbol("county_edge", f"{terms.get('county', 'county').capitalize()} border"),
        symbol(
            "municipality_edge", f"{terms.get('municipality', 'municipality').capitalize()} border"
        ),
    ]
    if has_rail:
        handles += rail_legend()
    ax.legend(handles=handles, loc="upper left", fontsize=8, framealpha=0.9)
    ax.add_artist(ScaleBar(1, units="m", location="lower left", length_fraction=0.25))
    north_arrow(ax, x=0.93, y=0.55)
    ax.set_title(f"{atlas.spec.name}: organizers, offices and the criteria's sites", fontsize=11)
    ax.set_axis_off()
    ax.text(
        1.0,
        0.0,
        textwrap.fill(atlas.spec.attribution, 60),
        transform=ax.transAxes,
        ha="right",
        va="bottom",
        fontsize=6,
        color="#555555",
    )
    return fig, ax


#: File suffixes a map can be saved as.
MAP_FORMATS = (".png", ".svg", ".pdf")


def save_figure(fig: Figure, path: str | Path, *, dpi: int = 300) -> Path:
    """Save a figure atomically (format from the suffix: png, svg, pdf).

    Raises
    ------
    ScenarioError
        A suffix that is not a map format.

    """
    path = Path(path)
    if path.suffix.lower() not in MAP_FORMATS:
        raise ScenarioError(
            f"{path}: a map is written as {', '.join(MAP_FORMATS)}; "
            f"got {path.suffix or 'no suffix'}"
        )
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=dpi, format=path.suffix.lstrip(".") or "png")
    return path


#: Colour-blind-safe fills for office regions: Okabe-Ito (less black), then Paul Tol's muted.
REGION_COLOURS = [
    "#E69F00",
    "#56B4E9",
    "#009E73",
    "#F0E442",
    "#0072B2",
    "#D55E00",
    "#CC79A7",
    "#CC6677",
    "#332288",
    "#DDCC77",
    "#117733",
    "#88CCEE",
    "#882255",
    "#44AA99",
    "#999933",
    "#AA4499",
]


def region_colours(offices: list[str], points: gpd.GeoSeries) -> dict[str, str]:
    """A colour per office, given north to south so neighbours differ (cycles past 16)."""
    ordered = sorted(set(offices), key=lambda o: (-points[o].y, o))
    return {o: REGION_COLOURS[k % len(REGION_COLOURS)] for k, o in enumerate(ordered)}


@plain_text
def plot_solution(
    run,
    *,
    ax: Axes | None = None,
    title: str | None = None,
    legend: bool = True,
    colours: dict[str, str] | None = None,
    scale: float = 1.0,
) -> tuple[Figure, Axes]:
    """Draw a solved run: regions coloured by office, offices, facts, organizers.

    Municipalities take the colour of the office serving their organizers (with
    whole counties this colours each county by its office). Offices are stars
    (ringed when required), unchosen candidates small circles,
    the criteria's layers in the manifest's symbols, organizers dots sized by weight.

    Parameters
    ----------
    run
        A :class:`siting.pipeline.Run`.
    ax
        Axes to draw into; a new A4-width figure when omitted.
    title
        The title; the scenario's name by default.
    legend
        Draw the legend, scale bar, north arrow and source line (off for small multiples).
    colours
        Office id -> fill colour, to keep colours equal across several maps.
    scale
        Marker size factor (smaller for small multiples).

    Returns
    -------
    (Figure, Axes)

    """
    from matplotlib.patches import Patch

    atlas, solution = run.atlas, run.solution
    if ax is None:
        fig, ax = plt.subplots(figsize=(7.5, 11), layout="constrained")
    else:
        fig = ax.figure
    offices = sorted(solution.offices, key=lambda o: -run.candidates.geometry[o].y)
    colours = colours or region_colours(offices, run.candidates.geometry)
    organizers = atlas.organizers.loc[solution.assignment.index]
    served = solution.office_by(organizers["municipality_id"])
    fill = atlas.municipalities.index.map(lambda m: colours.get(served.get(m), "#E6E6E6"))
    atlas.municipalities.plot(
        ax=ax, color=list(fill), alpha=0.6, edgecolor=COLOURS["municipality_edge"], linewidth=0.25
    )
    atlas.counties.boundary.plot(ax=ax, color=COLOURS["county_edge"], linewidth=0.8)
    has_rail = draw_rail(atlas, ax, scale=max(scale, 0.6))

    weights = solution.assignment["weight"].to_numpy()
    sizes = scale * (3 + 12 * (weights / weights.max() if weights.max() > 0 else 0))
    organizers.plot(ax=ax, color=COLOURS["organizer"], markersize=sizes, zorder=3)

    layer_handles = draw_layers(atlas, ax, scale=scale)
    candidates = run.candidates
    unchosen = candidates[~candidates.index.isin(offices)]
    unchosen.plot(
        ax=ax,
        marker="o",
        facecolor="white",
        edgecolor="#777777",
        markersize=14 * scale,
        linewidth=0.7,
        zorder=5,
    )
    chosen = candidates.loc[offices]
    chosen.plot(
        ax=ax,
        marker="*",
        color=[colours[o] for o in offices],
        edgecolor="black",
        markersize=260 * scale,
        linewidth=0.8,
        zorder=7,
    )
    required = chosen[chosen.index.isin(solution.settings.required)]
    if len(required):
        required.plot(
            ax=ax,
            marker="o",
            facecolor="none",
            edgecolor="black",
            markersize=520 * scale,
            linewidth=1.2,
            zorder=6,
        )
    for office, row in chosen.iterrows():
        ax.annotate(
            row["name"],
            (row.geometry.x, row.geometry.y),
            xytext=(7, 5),
            textcoords="offset points",
            fontsize=8 * max(scale, 0.75),
            fontweight="bold",
            zorder=8,
            bbox={
                "boxstyle": "round,pad=0.15",
                "fc": "white",
                "ec": colours[office],
                "alpha": 0.85,
            },
        )
    if legend:
        handles = [
            Patch(
                facecolor=colours[o],
                alpha=0.6,
                edgecolor="#555555",
                label=solution.site_names.get(o, o),
            )
            for o in offices
        ]
        handles += [
            symbol("office", "Office"),
            symbol("required", "Required office"),
            symbol("candidate", "Candidate not chosen"),
            *layer_handles,
            symbol("organizer", "Organizer (size: weight)"),
        ]
        if has_rail:
            handles += rail_legend()
        ax.legend(
            handles=handles,
            loc="upper left",
            fontsize=7.5,
            framealpha=0.9,
            ncols=2 if len(offices) > 8 else 1,
        )
        ax.add_artist(ScaleBar(1, units="m", location="lower left", length_fraction=0.25))
        north_arrow(ax, x=0.93, y=0.55)
        kpis = solution.kpis()
        source = (
            f"{atlas.spec.attribution} Travel: {' + '.join(run.scenario.travel.modes)} "
            f"(road minutes estimated). Mean {kpis['mean_minutes']:.0f} min, "
            f"max {kpis['max_minutes']:.0f} min; "
            f"{solution.status}, gap {solution.gap:.1e}."
        )
        ax.text(
            1.0,
            0.0,
            textwrap.fill(source, 60),
            transform=ax.transAxes,
            ha="right",
            va="bottom",
            fontsize=6,
            color="#555555",
        )
    ax.set_title(title or run.scenario.name, fontsize=11)
    ax.set_axis_off()
    return fig, ax


@plain_text
def plot_comparison(runs: list, *, columns: int | None = None) -> tuple[Figure, list[Axes]]:
    """Side-by-side maps of several runs, one panel each."""
    count = len(runs)
    columns = columns or min(count, 4)
    rows = -(-count // columns)
    fig, axes = plt.subplots(
        rows, columns, figsize=(3.2 * columns, 5.2 * rows), layout="constrained", squeeze=False
    )
    flat = list(axes.ravel())
    points = pd.concat([run.candidates.geometry for run in runs])
    points = points[~points.index.duplicated()]
    colours = region_colours([o for run in runs for o in run.solution.offices], points)
    for ax, run in zip(flat, runs, strict=False):
        plot_solution(
            run,
            ax=ax,
            title=textwrap.fill(run.scenario.name, 28),
            legend=False,
            colours=colours,
            scale=0.4,
        )
        ax.title.set_fontsize(9)
    for ax in flat[count:]:
        ax.set_axis_off()
    return fig, flat[:count]
