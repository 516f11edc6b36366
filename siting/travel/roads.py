"""The roads backend: an osmnx road graph, snapped points, compiled many-to-many times.

The graph comes from a local OSM XML file (:func:`road_graph_from_xml`, works
offline) or, where a network exists, from OpenStreetMap for a polygon with a
filter on main road classes, cached as GraphML (:func:`road_graph_for_polygon`;
an existing GraphML is read without any network). Speeds and travel times come
from osmnx. Points are snapped to their nearest node (the snapping distance is
kept); many-to-many times are one call of scipy's compiled Dijkstra on a CSR
matrix, not a Python loop of networkx calls. Unreachable pairs are listed by id.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import networkx as nx
import numpy as np
import osmnx as ox
import pandas as pd
from numpy.typing import NDArray
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from siting.errors import DataError
from siting.travel.matrix import TravelTimeMatrix

log = logging.getLogger(__name__)

#: Road classes kept by default: the network a regional office drives on.
MAIN_ROADS = (
    "motorway",
    "motorway_link",
    "trunk",
    "trunk_link",
    "primary",
    "primary_link",
    "secondary",
    "secondary_link",
    "tertiary",
    "tertiary_link",
    "unclassified",
    "residential",
)

#: Speeds (km/h) by road class where a way has no usable maxspeed: an estimate after
#: Swedish default limits (motorway 110, trunk 90-100, others 70-80, streets 50).
DEFAULT_SPEEDS_KMH = {
    "motorway": 110,
    "motorway_link": 70,
    "trunk": 90,
    "trunk_link": 60,
    "primary": 80,
    "primary_link": 50,
    "secondary": 70,
    "secondary_link": 50,
    "tertiary": 60,
    "tertiary_link": 40,
    "unclassified": 50,
    "residential": 40,
}


def _highway(value) -> list[str]:
    return list(value) if isinstance(value, list) else [value]


def prepare_road_graph(
    graph: nx.MultiDiGraph,
    *,
    source: str,
    road_classes: tuple[str, ...] = MAIN_ROADS,
) -> nx.MultiDiGraph:
    """Keep road classes only, then add speeds (km/h) and travel times (s).

    ``graph_from_xml`` keeps every way with nodes (buildings, rivers, ...);
    travel-time steps fail on those, so edges whose ``highway`` tag is not a
    kept road class are removed first, and only then is the graph simplified
    (ways of a different class, limit or direction are not merged).

    Raises
    ------
    DataError
        The source has no roads of the kept classes.

    """
    keep = set(road_classes)
    drop = [
        (u, v, k)
        for u, v, k, data in graph.edges(keys=True, data=True)
        if not keep.intersection(_highway(data.get("highway")))
    ]
    graph = graph.copy()
    graph.remove_edges_from(drop)
    graph.remove_nodes_from([n for n in list(graph.nodes) if graph.degree(n) == 0])
    if graph.number_of_edges() and not graph.graph.get("simplified"):
        # simplify only now, so that ways of different class or limit stay apart
        graph = ox.simplify_graph(graph, edge_attrs_differ=["highway", "maxspeed", "oneway"])
    if graph.number_of_edges() == 0:
        raise DataError(
            f"{source}: no roads of the kept classes ({', '.join(road_classes)}); "
            "is it an OSM extract with highway ways?"
        )
    graph = ox.add_edge_speeds(graph, hwy_speeds=DEFAULT_SPEEDS_KMH, fallback=50)
    graph = ox.add_edge_travel_times(graph)
    log.info(
        "road graph from %s: %d nodes, %d edges (%d non-road edges dropped)",
        source,
        graph.number_of_nodes(),
        graph.number_of_edges(),
        len(drop),
    )
    return graph


def road_graph_from_xml(
    path: str | Path, *, road_classes: tuple[str, ...] = MAIN_ROADS
) -> nx.MultiDiGraph:
    """A road graph from a local OSM XML file (offline)."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"OSM file not found: {path}")
    try:
        graph = ox.graph_from_xml(path, simplify=False, retain_all=True)
    except Exception as exc:  # osmnx raises several types for unreadable files
        raise DataError(f"{path}: not a readable OSM XML file ({exc})") from None
    return prepare_road_graph(graph, source=str(path), road_classes=road_classes)


def road_graph_for_polygon(
    polygon,
    graphml: str | Path,
    *,
    road_classes: tuple[str, ...] = MAIN_ROADS,
    timeout_s: float = 60.0,
) -> nx.MultiDiGraph:
    """A road graph for a lon/lat polygon, read from ``graphml`` or downloaded into it.

    The download (osmnx's Overpass query, with a custom filter on the kept road
    classes) needs a network; an existing ``graphml`` is read offline.
    """
    graphml = Path(graphml)
    if graphml.is_file():
        return ox.load_graphml(graphml)
    ox.settings.requests_timeout = timeout_s
    ox.settings.overpass_rate_limit = False
    custom_filter = f'["highway"~"^({"|".join(road_classes)})$"]'
    try:
        graph = ox.graph_from_polygon(
            polygon, custom_filter=custom_filter, retain_all=True, simplify=False
        )
    except Exception as exc:
        raise DataError(
            f"could not download roads ({exc}); save an OSM extract and use "
            "road_graph_from_xml instead"
        ) from None
    graph = prepare_road_graph(graph, source="Overpass download", road_classes=road_classes)
    graphml.parent.mkdir(parents=True, exist_ok=True)
    ox.save_graphml(graph, graphml)
    return graph


@dataclass(frozen=True, eq=False)
class RoadMatrix:
    """Road minutes with what the snapping and the graph did to them.

    Attributes
    ----------
    matrix
        Minutes origin -> destination on the graph (``inf`` when unreachable).
    origin_snap_m, destination_snap_m
        Distance from each point to the node it was snapped to.
    unreachable
        One row per pair with no path: ``origin_id``, ``destination_id``.

    """

    matrix: TravelTimeMatrix
    origin_snap_m: pd.Series
    destination_snap_m: pd.Series
    unreachable: pd.DataFrame


def graph_csr(graph: nx.MultiDiGraph, weight: str = "travel_time") -> tuple[csr_matrix, list]:
    """The graph as a CSR matrix of the fastest parallel edge, and its node order."""
    nodes = list(graph.nodes)
    position = {n: k for k, n in enumerate(nodes)}
    u, v, w = [], [], []
    for a, b, data in graph.edges(data=True):
        u.append(position[a])
        v.append(position[b])
        w.append(float(data[weight]))
    frame = pd.DataFrame({"u": u, "v": v, "w": w}).groupby(["u", "v"], as_index=False)["w"].min()
    matrix = csr_matrix(
        (frame["w"].to_numpy(), (frame["u"], frame["v"])), shape=(len(nodes), len(nodes))
    )
    return matrix, nodes


def road_matrix(
    graph: nx.MultiDiGraph,
    origins: pd.DataFrame,
    destinations: pd.DataFrame,
    *,
    crs: str,
) -> RoadMatrix:
    """Minutes between points over a road graph.

    Parameters
    ----------
    graph
        A graph from :func:`road_graph_from_xml` (any CRS; projected to ``crs`` here).
    origins, destinations
        Indexed by id with ``x`` and ``y`` in ``crs`` (or a point geometry).
    crs
        The projected CRS of the points (the atlas's).

    """
    if graph.graph.get("crs") is None or not _same_crs(graph.graph["crs"], crs):
        graph = ox.project_graph(graph, to_crs=crs)
    o_nodes, o_dist = ox.distance.nearest_nodes(graph, *_xy(origins), return_dist=True)
    d_nodes, d_dist = ox.distance.nearest_nodes(graph, *_xy(destinations), return_dist=True)
    csr, nodes = graph_csr(graph)
    position = {n: k for k, n in enumerate(nodes)}
    o_index = np.array([position[n] for n in np.atleast_1d(o_nodes)])
    d_index = np.array([position[n] for n in np.atleast_1d(d_nodes)])
    sources, inverse = np.unique(o_index, return_inverse=True)
    seconds = dijkstra(csr, directed=True, indices=sources)[:, d_index][inverse]
    minutes = seconds / 60.0
    origin_ids = tuple(map(str, origins.index))
    destination_ids = tuple(map(str, destinations.index))
    missing = np.argwhere(~np.isfinite(minutes))
    unreachable = pd.DataFrame(
        {
            "origin_id": [origin_ids[i] for i, _ in missing],
            "destination_id": [destination_ids[j] for _, j in missing],
        }
    )
    if len(unreachable):
        log.warning(
            "%d origin-destination pairs cannot be reached on the road graph", len(unreachable)
        )
    log.info(
        "road matrix %d x %d over %d nodes, %d unreachable",
        len(origin_ids),
        len(destination_ids),
        len(nodes),
        len(unreachable),
    )
    matrix = TravelTimeMatrix(
        origin_ids, destination_ids, minutes, np.full(minutes.shape, "road", dtype=str)
    )
    return RoadMatrix(
        matrix=matrix,
        origin_snap_m=pd.Series(np.atleast_1d(o_dist), index=list(origin_ids), name="snap_m"),
        destination_snap_m=pd.Series(
            np.atleast_1d(d_dist), index=list(destination_ids), name="snap_m"
        ),
        unreachable=unreachable,
    )


def _same_crs(a, b) -> bool:
    from pyproj import CRS

    return CRS.from_user_input(a).equals(CRS.from_user_input(b))


def _xy(frame: pd.DataFrame) -> tuple[NDArray, NDArray]:
    if "geometry" in frame:
        return frame.geometry.x.to_numpy(), frame.geometry.y.to_numpy()
    return frame["x"].to_numpy(dtype=float), frame["y"].to_numpy(dtype=float)
