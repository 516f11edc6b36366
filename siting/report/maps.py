"""Maps for reports, drawn with matplotlib.

Every function takes ``ax=None``, draws, and returns ``(fig, ax)``; none calls
``show()``. Coordinates are the atlas's projected CRS (metres), so the scale
bar is true.
"""

from __future__ import annotations

import contextlib
import functools
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import ParamSpec, TypeVar

import geopandas as gpd
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backend_bases import FigureCanvasBase
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.markers import MarkerStyle
from matplotlib_scalebar.scalebar import ScaleBar

from siting._io import atomic_path
from siting.atlas import Atlas
from siting.errors import ScenarioError
from siting.report.labels import Labels

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


#: Matplotlib settings of every map and plot: names literal, text as text in SVG.
TEXT_RC = {"text.parse_math": False, "svg.fonttype": "none"}


def plain_text(plot: Callable[P, R]) -> Callable[P, R]:
    r"""Draw with every text taken literally, and render the figure once, when it is saved.

    Matplotlib reads text between two dollar signs as mathematics and fails on
    what does not parse (a scenario named ``$\frac{1}{$``); names are data.

    Text stays text in SVG (``svg.fonttype: none``): a reader can select and
    search town names, and an editor can restyle them.

    geopandas asks the canvas to redraw after every layer it plots
    (``canvas.draw_idle()``), and a non-interactive canvas renders the whole
    figure each time; while a plot function runs those requests are dropped,
    so a map of ten layers is rendered by ``savefig`` alone, not ten times.
    """

    @functools.wraps(plot)
    def drawn(*args: P.args, **kwargs: P.kwargs) -> R:
        with plt.rc_context(TEXT_RC), _no_idle_draws():
            return plot(*args, **kwargs)

    return drawn


@contextlib.contextmanager
def _no_idle_draws() -> Iterator[None]:
    """Drop ``draw_idle`` requests of non-interactive canvases while the block runs."""
    original = FigureCanvasBase.draw_idle
    FigureCanvasBase.draw_idle = lambda self, *args, **kwargs: None
    try:
        yield
    finally:
        FigureCanvasBase.draw_idle = original


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


def rail_legend(labels: Labels | None = None) -> list[Line2D]:
    """Legend entries of :func:`draw_rail`."""
    labels = labels or Labels("en")
    return [
        Line2D([], [], color=COLOURS["rail"], lw=1.1, label=labels("railway_intercity")),
        Line2D([], [], color=COLOURS["rail"], lw=0.9, ls="--", label=labels("railway_regional")),
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
        fig, ax = plt.subplots(figsize=(10.5, 11), layout="constrained")
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
    ax.legend(
        handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8, framealpha=0.9
    )
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
    with atomic_path(path) as tmp, plt.rc_context(TEXT_RC):
        fig.savefig(tmp, dpi=dpi, format=path.suffix.lstrip(".") or "png")
    return path


def figure_bytes(fig: Figure, format: str, *, dpi: int = 300) -> bytes:
    """A figure saved to memory as ``png``, ``svg`` or ``pdf`` (text as text in SVG)."""
    import io

    buffer = io.BytesIO()
    with plt.rc_context(TEXT_RC):
        fig.savefig(buffer, format=format, dpi=dpi)
    return buffer.getvalue()


#: Fills for office regions (Paul Tol's bright, vibrant and muted schemes), the most
#: distinct first. :func:`region_colours` never gives touching regions similar ones.
REGION_COLOURS = [
    "#4477AA",  # blue
    "#EE7733",  # orange
    "#228833",  # green
    "#AA3377",  # purple
    "#CCBB44",  # yellow
    "#66CCEE",  # cyan
    "#CC3311",  # red
    "#332288",  # indigo
    "#009988",  # teal
    "#999933",  # olive
    "#EE99AA",  # pink
]

#: Opacity of region fills on maps (colours are compared as seen: blended on white).
REGION_ALPHA = 0.6

#: The least colour difference (CIE76 Delta E, as seen) between touching regions.
MIN_NEIGHBOUR_DELTA_E = 30.0


def seen_lab(colour: str, alpha: float = REGION_ALPHA) -> np.ndarray:
    """CIE L*a*b* of a fill colour as seen at ``alpha`` on white (sRGB, D65)."""
    rgb = alpha * np.array(to_rgb(colour)) + (1 - alpha)
    linear = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    xyz = (
        np.array(
            [
                [0.4124, 0.3576, 0.1805],
                [0.2126, 0.7152, 0.0722],
                [0.0193, 0.1192, 0.9505],
            ]
        )
        @ linear
    ) / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > 216 / 24389, np.cbrt(xyz), (24389 / 27 * xyz + 16) / 116)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def colour_difference(a: str, b: str) -> float:
    """How different two region fills look (CIE76 Delta E after blending on white)."""
    return float(np.linalg.norm(seen_lab(a) - seen_lab(b)))


@functools.lru_cache(maxsize=4)
def municipality_neighbours(atlas: Atlas) -> tuple[tuple[str, str], ...]:
    """Pairs of municipality ids whose polygons touch (within 500 m: the polygons are coarse)."""
    polygons = atlas.municipalities[["geometry"]].reset_index(names="a")
    grown = polygons.assign(geometry=polygons.buffer(500)).rename(columns={"a": "b"})
    pairs = gpd.sjoin(polygons, grown, predicate="intersects")
    pairs = pairs[pairs["a"] < pairs["b"]]
    return tuple(zip(pairs["a"], pairs["b"], strict=True))


def served_municipalities(run) -> pd.Series:
    """Municipality id -> the office serving most of its organizers."""
    organizers = run.atlas.organizers.loc[run.solution.assignment.index]
    return run.solution.office_by(organizers["municipality_id"])


def region_graph(runs: list) -> dict[str, set[str]]:
    """Office -> the offices whose regions touch its region in any of the runs."""
    touching: dict[str, set[str]] = {}
    for run in runs:
        served = served_municipalities(run)
        for office in run.solution.offices:
            touching.setdefault(office, set())
        for a, b in municipality_neighbours(run.atlas):
            office_a, office_b = served.get(a), served.get(b)
            if office_a is not None and office_b is not None and office_a != office_b:
                touching.setdefault(office_a, set()).add(office_b)
                touching.setdefault(office_b, set()).add(office_a)
    return touching


def region_colours(runs: list) -> dict[str, str]:
    """A colour per office such that touching regions never look alike (graph colouring).

    The regions of all ``runs`` are coloured together, so an office keeps its
    colour across side-by-side maps. Offices are taken the most connected
    first (then north to south), greedily: each takes the least used colour of
    :data:`REGION_COLOURS` that differs from every touching region's by at
    least :data:`MIN_NEIGHBOUR_DELTA_E`, so regions get distinct colours while
    the palette lasts and neighbours never share a similar one.
    """
    graph = region_graph(runs)
    points = pd.concat([run.candidates.geometry for run in runs])
    points = points[~points.index.duplicated()]
    order = sorted(graph, key=lambda o: (-len(graph[o]), -points[o].y, o))
    chosen: dict[str, str] = {}
    used = dict.fromkeys(REGION_COLOURS, 0)
    for office in order:
        near = [chosen[n] for n in sorted(graph[office]) if n in chosen]

        def distance(colour: str, near: list[str] = near) -> float:
            return min((colour_difference(colour, n) for n in near), default=np.inf)

        fitting = [c for c in REGION_COLOURS if distance(c) >= MIN_NEIGHBOUR_DELTA_E]
        if fitting:
            colour = min(fitting, key=lambda c: (used[c], REGION_COLOURS.index(c)))
        else:  # more neighbours than distinct colours: the most different one
            colour = max(REGION_COLOURS, key=distance)
        chosen[office] = colour
        used[colour] += 1
    return chosen


@plain_text
def plot_solution(
    run,
    *,
    ax: Axes | None = None,
    title: str | None = None,
    legend: bool = True,
    colours: dict[str, str] | None = None,
    scale: float = 1.0,
    labels: Labels | None = None,
) -> tuple[Figure, Axes]:
    """Draw a solved run: regions coloured by office, offices, facts, organizers.

    Municipalities take the colour of the office serving their organizers (with
    whole counties this colours each county by its office); touching regions
    never share a colour (:func:`region_colours`). Offices are stars (ringed
    when required), unchosen candidates small circles, the criteria's layers in
    the manifest's symbols, organizers dots sized by weight. The legend stands
    beside the country, never over it.

    Parameters
    ----------
    run
        A :class:`siting.pipeline.Run`.
    ax
        Axes to draw into; a new figure (A4 height, with room for the legend) when omitted.
    title
        The title; the scenario's title (its name, and any overrides) by default.
    legend
        Draw the legend, scale bar, north arrow and source line (off for small multiples).
    colours
        Office id -> fill colour, to keep colours equal across several maps.
    scale
        Marker size factor (smaller for small multiples).
    labels
        Words of the legend and footer; the run's language by default.

    Returns
    -------
    (Figure, Axes)

    """
    from matplotlib.patches import Patch

    from siting.report.labels import labels_for

    labels = labels or labels_for(run)
    atlas, solution = run.atlas, run.solution
    if ax is None:
        fig, ax = plt.subplots(figsize=(10.5, 11), layout="constrained")
    else:
        fig = ax.figure
    offices = sorted(solution.offices, key=lambda o: -run.candidates.geometry[o].y)
    colours = colours or region_colours([run])
    served = served_municipalities(run)
    fill = atlas.municipalities.index.map(lambda m: colours.get(served.get(m), "#E6E6E6"))
    atlas.municipalities.plot(
        ax=ax,
        color=list(fill),
        alpha=REGION_ALPHA,
        edgecolor=COLOURS["municipality_edge"],
        linewidth=0.25,
    )
    atlas.counties.boundary.plot(ax=ax, color=COLOURS["county_edge"], linewidth=0.8)
    has_rail = draw_rail(atlas, ax, scale=max(scale, 0.6))

    organizers = atlas.organizers.loc[solution.assignment.index]
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
            symbol("office", labels("office")),
            symbol("required", labels("required_office")),
            symbol("candidate", labels("candidate_not_chosen")),
            *layer_handles,
            symbol("organizer", labels("organizer_size")),
        ]
        if has_rail:
            handles += rail_legend(labels)
        ax.legend(
            handles=handles,
            loc="upper left",
            bbox_to_anchor=(1.0, 1.0),
            fontsize=7.5,
            framealpha=0.9,
            ncols=2 if len(offices) > 14 else 1,
        )
        ax.add_artist(ScaleBar(1, units="m", location="lower left", length_fraction=0.25))
        north_arrow(ax, x=0.93, y=0.55)
        kpis = solution.kpis()
        source = " ".join(
            [
                atlas.spec.attribution,
                labels("map_travel", modes=" + ".join(run.scenario.travel.modes)),
                labels(
                    "map_footer",
                    mean=labels.number(kpis["mean_minutes"], 0),
                    longest=labels.number(kpis["max_minutes"], 0),
                    optimality=labels.optimality(solution.status, solution.gap),
                ),
            ]
        )
        ax.text(
            1.02,
            0.0,
            textwrap.fill(source, 45),
            transform=ax.transAxes,
            ha="left",
            va="bottom",
            fontsize=6,
            color="#555555",
        )
    ax.set_title(title or run.scenario.title(), fontsize=11)
    ax.set_axis_off()
    return fig, ax


@plain_text
def plot_comparison(runs: list, *, columns: int | None = None) -> tuple[Figure, list[Axes]]:
    """Side-by-side maps of several runs, one panel each, one legend of offices below.

    An office has the same colour in every panel; touching regions never share one.
    """
    from matplotlib.patches import Patch

    count = len(runs)
    columns = columns or min(count, 4)
    rows = -(-count // columns)
    fig, axes = plt.subplots(
        rows,
        columns,
        figsize=(3.2 * columns, 5.2 * rows + 1.2),
        layout="constrained",
        squeeze=False,
    )
    flat = list(axes.ravel())
    colours = region_colours(runs)
    for ax, run in zip(flat, runs, strict=False):
        plot_solution(
            run,
            ax=ax,
            title=textwrap.fill(run.scenario.title(), 28),
            legend=False,
            colours=colours,
            scale=0.4,
        )
        ax.title.set_fontsize(9)
    for ax in flat[count:]:
        ax.set_axis_off()
    names: dict[str, str] = {}
    for run in runs:
        names.update({o: run.solution.site_names.get(o, o) for o in run.solution.offices})
    points = pd.concat([run.candidates.geometry for run in runs])
    points = points[~points.index.duplicated()]
    ordered = sorted(names, key=lambda o: -points[o].y)
    handles = [
        Patch(facecolor=colours[o], alpha=0.6, edgecolor="#555555", label=names[o]) for o in ordered
    ]
    fig.legend(
        handles=handles,
        loc="outside lower center",
        ncols=min(len(handles), 6),
        fontsize=7.5,
        frameon=False,
    )
    return fig, flat[:count]
