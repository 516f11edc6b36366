"""Maps for reports, drawn with matplotlib.

Every function takes ``ax=None``, draws, and returns ``(fig, ax)``; none calls
``show()``. Coordinates are the atlas's projected CRS (metres), so the scale
bar is true.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import matplotlib

matplotlib.use("Agg", force=False)  # no display needed; a caller's backend wins if set

import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib_scalebar.scalebar import ScaleBar

from siting._io import atomic_path
from siting.atlas import Atlas

#: Okabe-Ito colours (colour-blind safe), by role.
COLOURS = {
    "office_opened": "#D55E00",
    "office_planned": "#E69F00",
    "spsm": "#0072B2",
    "university": "#009E73",
    "organizer": "#555555",
    "county_edge": "#333333",
    "municipality_edge": "#BBBBBB",
    "land": "#F4F1EA",
}


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


def plot_atlas(atlas: Atlas, *, ax: Axes | None = None, labels: bool = True) -> tuple[Figure, Axes]:
    """Draw counties, municipality borders, organizers, offices, SPSM sites and universities.

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
    atlas.organizers.plot(ax=ax, color=COLOURS["organizer"], markersize=4, zorder=3)

    spec = atlas.spec.sites
    sites = atlas.sites
    spsm = sites[sites["kind"].isin(spec.spsm_kinds)].drop_duplicates("locality_id")
    universities = sites[sites["kind"].isin(spec.university_kinds)].drop_duplicates("locality_id")
    offices = sites[sites["kind"].isin(spec.office_kinds)]
    opened = offices[offices["status"].str.startswith("opened")]
    planned = offices[~offices.index.isin(opened.index)]
    universities.plot(ax=ax, marker="^", color=COLOURS["university"], markersize=40, zorder=4)
    spsm.plot(
        ax=ax,
        marker="s",
        facecolor="none",
        edgecolor=COLOURS["spsm"],
        markersize=110,
        linewidth=1.4,
        zorder=5,
    )
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

    handles = [
        Line2D(
            [],
            [],
            marker="*",
            ls="",
            color=COLOURS["office_opened"],
            mec="black",
            ms=13,
            label=f"Office opened ({len(opened)})",
        ),
        Line2D(
            [],
            [],
            marker="o",
            ls="",
            color=COLOURS["office_planned"],
            mec="black",
            ms=8,
            label=f"Office planned ({len(planned)})",
        ),
        Line2D(
            [],
            [],
            marker="s",
            ls="",
            mfc="none",
            mec=COLOURS["spsm"],
            ms=10,
            mew=1.4,
            label=f"SPSM town ({len(spsm)})",
        ),
        Line2D(
            [],
            [],
            marker="^",
            ls="",
            color=COLOURS["university"],
            ms=7,
            label=f"University town, teacher education ({len(universities)})",
        ),
        Line2D(
            [],
            [],
            marker="o",
            ls="",
            color=COLOURS["organizer"],
            ms=3,
            label=f"Organizer ({len(atlas.organizers)})",
        ),
        Line2D(
            [],
            [],
            color=COLOURS["county_edge"],
            lw=0.8,
            label=f"{atlas.spec.terms.get('county', 'county').capitalize()} border",
        ),
        Line2D(
            [],
            [],
            color=COLOURS["municipality_edge"],
            lw=0.8,
            label=f"{atlas.spec.terms.get('municipality', 'municipality').capitalize()} border",
        ),
    ]
    ax.legend(handles=handles, loc="upper left", fontsize=8, framealpha=0.9)
    ax.add_artist(ScaleBar(1, units="m", location="lower left", length_fraction=0.25))
    north_arrow(ax, x=0.93, y=0.55)
    ax.set_title(f"{atlas.spec.name}: organizers, offices, SPSM and universities", fontsize=11)
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


def save_figure(fig: Figure, path: str | Path, *, dpi: int = 300) -> Path:
    """Save a figure atomically (format from the suffix: png, svg, pdf)."""
    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=dpi, format=path.suffix.lstrip(".") or "png")
    return path
