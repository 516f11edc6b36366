"""The rail backend: passenger services as station sequences, calibrated to published times.

A line is a through service: an ordered list of stations, each a town of the
atlas. An edge between consecutive stations takes ``distance x circuity / line
speed`` plus a dwell at every intermediate stop; changing from one line to
another at a station costs ``change_min`` (the line file's, or the scenario's
``travel.rail.change_min``). Line speeds are fitted (least squares, in log
space, pulled gently towards the default speed) so that published times are met
as well as they can be; the fit is shipped as ``speeds.csv`` and
``calibration.csv`` beside the line file and rebuilt by
``scripts/calibrate_rail.py``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components, shortest_path

from siting._yaml import read_yaml
from siting.atlas import Atlas
from siting.errors import DataError, UnknownNameError
from siting.travel.matrix import TravelTimeMatrix

if TYPE_CHECKING:
    import networkx as nx

log = logging.getLogger(__name__)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class RailLine(_Strict):
    """One line: its name and its stations in order."""

    name: str
    stations: list[str] = Field(min_length=2)
    intercity: bool = True


class CalibrationPair(_Strict):
    """A published time between two stations, with its source.

    ``fit``: whether line speeds are fitted to it (False for a time that is not
    the fastest connection the network offers, e.g. a night train); its error
    is reported either way.
    """

    origin: str = Field(alias="from")
    destination: str = Field(alias="to")
    minutes: float = Field(gt=0)
    source: str
    source_url: str = ""
    verified: bool = False
    fit: bool = True


class RailSpec(_Strict):
    """The line file (``data/rail/lines.yaml``)."""

    circuity: float = Field(1.15, ge=1.0, le=3.0)
    dwell_min: float = Field(2.0, ge=0)
    default_speed_kmh: float = Field(110.0, gt=0, le=350)
    change_min: float = Field(0.0, ge=0, description="Minutes to change trains (an estimate).")
    calibration_file: str | None = Field(
        None, description="CSV of published times beside the line file (from, to, minutes, ...)."
    )
    lines: list[RailLine]
    calibration: list[CalibrationPair] = Field(default_factory=list)


@dataclass(frozen=True, eq=False)
class RailNetwork:
    """Stations, line segments and line speeds.

    Attributes
    ----------
    stations
        Index: locality id; ``name``, ``intercity`` (served by a line marked
        intercity), ``lines``; points in the atlas's CRS.
    segments
        One row per consecutive station pair: ``line``, ``a``, ``b``, ``km``
        (straight line).
    speeds
        Line name -> km/h.
    spec
        The line file.

    """

    stations: gpd.GeoDataFrame
    segments: pd.DataFrame
    speeds: dict[str, float]
    spec: RailSpec

    def segment_minutes(self, speed_factor: float = 1.0) -> np.ndarray:
        """Minutes of each segment, dwell included (``speed_factor`` scales every speed)."""
        speed = self.segments["line"].map(self.speeds).to_numpy() * speed_factor
        run = self.segments["km"].to_numpy() * self.spec.circuity / speed * 60.0
        return run + self.spec.dwell_min

    def matrix(
        self, speed_factor: float = 1.0, *, change_min: float | None = None
    ) -> TravelTimeMatrix:
        """Fastest minutes between every pair of stations, changes of train included.

        Every station is a hub; every stop of a line is a node of its own. Boarding
        and alighting cost half a change each, so a trip pays one ``change_min`` per
        change of line and none at its two ends (scipy's compiled Dijkstra on the
        directed graph).

        Parameters
        ----------
        speed_factor
            Multiplies every line speed.
        change_min
            Minutes for each change of trains; the line file's ``change_min`` if None.

        """
        change = self.spec.change_min if change_min is None else float(change_min)
        ids = list(self.stations.index)
        hub = {s: k for k, s in enumerate(ids)}
        n_stops = len(self.segments) + self.segments["line_index"].nunique()
        weights = self.segment_minutes(speed_factor)
        # stop node of segment r's first station: len(ids) + r + line_index
        first = len(ids) + np.arange(len(self.segments)) + self.segments["line_index"].to_numpy()
        second = first + 1
        a = self.segments["a"].map(hub).to_numpy()
        b = self.segments["b"].map(hub).to_numpy()
        # each stop once (a middle stop ends one segment and starts the next)
        stop_nodes, keep = np.unique(np.concatenate([first, second]), return_index=True)
        stop_hubs = np.concatenate([a, b])[keep]
        rows = np.concatenate([first, second, stop_hubs, stop_nodes])
        cols = np.concatenate([second, first, stop_nodes, stop_hubs])
        half = np.full(len(stop_nodes), change / 2.0)
        data = np.concatenate([weights, weights, half, half])
        size = len(ids) + n_stops
        graph = coo_matrix((data, (rows, cols)), shape=(size, size)).tocsr()
        minutes = shortest_path(graph, method="D", directed=True, indices=np.arange(len(ids)))
        minutes = minutes[:, : len(ids)]
        # n stops on a path give n - 1 dwells: the last edge's dwell is not spent
        minutes = np.where(minutes > 0, minutes - change - self.spec.dwell_min, 0.0)
        np.fill_diagonal(minutes, 0.0)
        return TravelTimeMatrix(
            tuple(ids), tuple(ids), minutes, np.full(minutes.shape, "rail", dtype=str)
        )

    def graph(self, speed_factor: float = 1.0) -> nx.Graph:
        """The network as a networkx graph (edge attribute ``minutes``, ``line``)."""
        import networkx as nx  # a view for scripts; the engine uses the CSR arrays

        graph = nx.Graph()
        for station, row in self.stations.iterrows():
            graph.add_node(station, name=row["name"], intercity=bool(row["intercity"]))
        for (_, seg), minutes in zip(
            self.segments.iterrows(), self.segment_minutes(speed_factor), strict=True
        ):
            if (
                not graph.has_edge(seg["a"], seg["b"])
                or graph[seg["a"]][seg["b"]]["minutes"] > minutes
            ):
                graph.add_edge(seg["a"], seg["b"], minutes=minutes, line=seg["line"])
        return graph


def read_rail_spec(path: str | Path) -> RailSpec:
    """Read and validate a line file; one error lists every problem by field."""
    path = Path(path)
    raw = read_yaml(path, what="rail line file", error=DataError)
    try:
        spec = RailSpec.model_validate(raw)
    except ValidationError as exc:
        problems = [f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()]
        raise DataError(problems, source=str(path)) from None
    if spec.calibration_file is None:
        return spec
    return spec.model_copy(
        update={
            "calibration": [
                *spec.calibration,
                *_published_times(path.parent / spec.calibration_file),
            ]
        }
    )


def _published_times(path: Path) -> list[CalibrationPair]:
    """Calibration pairs from a CSV: from, to, minutes, source[, source_url, verified, fit]."""
    if not path.is_file():
        raise DataError(f"calibration_file: not found: {path}; rebuild it (scripts/build_facts.py)")
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    pairs, problems = [], []
    for k, row in enumerate(table.to_dict("records")):
        try:
            pairs.append(
                CalibrationPair.model_validate(
                    {
                        "from": row.get("from"),
                        "to": row.get("to"),
                        "minutes": row.get("minutes"),
                        "source": row.get("source", ""),
                        "source_url": row.get("source_url", ""),
                        "verified": row.get("verified", "no") == "yes",
                        "fit": row.get("fit", "yes") != "no",
                    }
                )
            )
        except ValidationError as exc:
            problems += [f"row {k + 2}: {e['loc'][0]}: {e['msg']}" for e in exc.errors()]
    if problems:
        raise DataError(problems, source=str(path))
    return pairs


def load_rail(
    atlas: Atlas,
    path: str | Path,
    *,
    speeds: dict[str, float] | None = None,
) -> RailNetwork:
    """Build the rail network of a line file on an atlas.

    Speeds come from ``speeds`` if given, else from ``speeds.csv`` beside the
    line file, else every line runs at the default speed.

    Raises
    ------
    DataError
        Unknown or ambiguous station names (naming the line and the closest
        towns), a network in several pieces (naming the lines of each), an
        unknown calibration station.

    """
    path = Path(path)
    spec = read_rail_spec(path)
    problems: list[str] = []
    resolved: dict[str, str] = {}
    for k, line in enumerate(spec.lines):
        for station in line.stations:
            try:
                resolved[station] = atlas.locality_id(station)
            except UnknownNameError as exc:
                problems.append(f"lines[{k}] ({line.name}): station {exc}")
    for k, pair in enumerate(spec.calibration):
        for field_name, town in (("from", pair.origin), ("to", pair.destination)):
            if town not in resolved:
                problems.append(
                    f"calibration[{k}].{field_name}: {town!r} is not a station of any line"
                )
    if problems:
        raise DataError(problems, source=str(path))

    rows = []
    for index, line in enumerate(spec.lines):
        for a, b in zip(line.stations[:-1], line.stations[1:], strict=True):
            rows.append((line.name, index, resolved[a], resolved[b]))
    segments = pd.DataFrame(rows, columns=["line", "line_index", "a", "b"])
    points = atlas.localities.geometry
    segments["km"] = [
        points[a].distance(points[b]) / 1000.0
        for a, b in zip(segments["a"], segments["b"], strict=True)
    ]

    ids = sorted(set(segments["a"]) | set(segments["b"]))
    intercity_ids = {resolved[s] for line in spec.lines if line.intercity for s in line.stations}
    line_names: dict[str, list[str]] = {}
    for line in spec.lines:
        for s in line.stations:
            line_names.setdefault(resolved[s], []).append(line.name)
    stations = gpd.GeoDataFrame(
        {
            "name": atlas.localities.loc[ids, "name"].to_numpy(),
            "intercity": [i in intercity_ids for i in ids],
            "lines": [";".join(dict.fromkeys(line_names[i])) for i in ids],
        },
        index=pd.Index(ids, name="station_id"),
        geometry=points.loc[ids].to_numpy(),
        crs=atlas.crs,
    )
    position = {s: k for k, s in enumerate(ids)}
    graph = coo_matrix(
        (np.ones(len(segments)), (segments["a"].map(position), segments["b"].map(position))),
        shape=(len(ids), len(ids)),
    )
    count, labels = connected_components(graph, directed=False)
    if count > 1:
        pieces = []
        for label in range(count):
            members = {ids[k] for k in np.flatnonzero(labels == label)}
            lines = sorted(set(segments.loc[segments["a"].isin(members), "line"]))
            pieces.append(" + ".join(lines))
        raise DataError(
            f"the rail network is in {count} pieces: {'; '.join(pieces)}; "
            "connect them with a line that shares a station",
            source=str(path),
        )

    if speeds is None:
        speeds_file = path.with_name("speeds.csv")
        speeds = {}
        if speeds_file.is_file():
            table = pd.read_csv(speeds_file)
            speeds = dict(zip(table["line"], table["speed_kmh"], strict=True))
    full = {line.name: float(speeds.get(line.name, spec.default_speed_kmh)) for line in spec.lines}
    network = RailNetwork(stations, segments, full, spec)
    log.info(
        "rail: %d stations, %d segments on %d lines", len(stations), len(segments), len(spec.lines)
    )
    return network


def calibration_table(network: RailNetwork, atlas: Atlas) -> pd.DataFrame:
    """Published against modelled minutes for every calibration pair (fitted or not)."""
    matrix = network.matrix().to_frame()
    rows = []
    for pair in network.spec.calibration:
        a, b = atlas.locality_id(pair.origin), atlas.locality_id(pair.destination)
        model = float(matrix.at[a, b])
        rows.append(
            {
                "from": pair.origin,
                "to": pair.destination,
                "published_minutes": pair.minutes,
                "model_minutes": round(model, 1),
                "error_minutes": round(model - pair.minutes, 1),
                "error_pct": round(100 * (model - pair.minutes) / pair.minutes, 2),
                "fit": "yes" if pair.fit else "no",
                "source": pair.source,
                "source_url": pair.source_url,
                "verified": "yes" if pair.verified else "no",
            }
        )
    return pd.DataFrame(rows)


def calibrate(network: RailNetwork, atlas: Atlas, *, pull: float = 0.05) -> dict[str, float]:
    """Fit line speeds to the calibration pairs; return line -> km/h.

    Least squares on relative errors, in log speed, with a weak pull towards the
    default speed so that lines no pair constrains keep it. Speeds stay within
    40-250 km/h.
    """
    names = list(network.speeds)
    default = np.log(network.spec.default_speed_kmh)
    pairs = [
        (atlas.locality_id(p.origin), atlas.locality_id(p.destination), p.minutes)
        for p in network.spec.calibration
        if p.fit
    ]
    if not pairs:
        return dict(network.speeds)

    def residuals(log_speeds):
        trial = RailNetwork(
            network.stations,
            network.segments,
            dict(zip(names, np.exp(log_speeds), strict=True)),
            network.spec,
        )
        minutes = trial.matrix().to_frame()
        errors = [(minutes.at[a, b] - target) / target for a, b, target in pairs]
        return np.concatenate([errors, pull * (log_speeds - default)])

    start = np.log([network.speeds[n] for n in names])
    # steps of 1e-3 in log speed: finite differences see past the kinks of shortest paths
    from scipy.optimize import least_squares  # calibration only: not on every run

    fit = least_squares(
        residuals, start, bounds=(np.log(40), np.log(250)), method="trf", diff_step=1e-3
    )
    return {name: round(float(np.exp(v)), 2) for name, v in zip(names, fit.x, strict=True)}
