"""The roads backend: a national road graph from an OSM extract, as plain numpy arrays.

An analyst downloads an OpenStreetMap extract (``.osm.pbf``, or ``.osm``/``.xml``)
and points ``travel.roads.osm_file`` at it. :func:`read_road_graph` streams it
with pyosmium (node locations kept in libosmium's compact index, only ways of
the drivable classes and ferry routes handed to Python), splits every way at
its junctions into chains of nodes (:class:`RoadGraph`: CSR-like arrays, no
Python object per node) and caches the arrays as ``.npz`` under the travel
cache, keyed by a hash of the file's bytes and the settings
(:func:`load_road_graph`). The Swedish network of a few million nodes then fits
in a few hundred MB.

:func:`road_matrix` snaps each point to its nearest road node and costs the
access leg (straight line at ``access_speed_kmh``, an estimate); a point
farther than ``max_access_km`` from every road is an error naming it. Chains
are cut where points snap, the graph is contracted to junctions and snapped
nodes (unpinned dead ends and pass-through nodes bypassed, exactly), and one
compiled Dijkstra (scipy) runs from each node of the smaller
side (on the reversed graph when that side is the destinations). Pairs with no
path are listed by id and name. A pair is ``road+ferry`` when only a ferry
joins its two ends.

Ferries: OSM ``route=ferry`` ways take their ``duration`` tag (or
:data:`FERRY_SPEED_KMH`); their ends are linked to the nearest road node. When
the extract has none, the atlas's ferry links join the terminal towns.

``road_graph_for_polygon`` (osmnx, needs a network) is kept for small areas;
:func:`road_graph_from_networkx` turns its result into a :class:`RoadGraph`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from array import array
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from typing import ClassVar

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components, dijkstra
from scipy.spatial import cKDTree

from siting.errors import DataError
from siting.travel.matrix import TravelTimeMatrix

log = logging.getLogger(__name__)

#: Bump when the graph arrays or the way they are built change (retires cached graphs).
GRAPH_FORMAT = 1

#: Road classes kept: the network a regional office drives on (no tracks, service
#: roads, paths). Other ``highway`` values are dropped before the graph is built.
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
    "living_street",
)

#: Speeds (km/h) by road class where a way has no usable ``maxspeed``. **Estimates**
#: after Swedish default limits (motorway 110, trunk 90-100, rural roads 70-80,
#: streets 50, living streets walking pace), lowered a little for links and minor roads.
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
    "living_street": 10,
}

#: Implicit ``maxspeed`` values (OSM's country:zone form) in km/h, Swedish defaults.
ZONE_SPEEDS_KMH = {"urban": 50, "rural": 70, "motorway": 110, "living_street": 7}

#: A way (or ferry) with one of these keys set to a value in :data:`NO_ACCESS` is not driven.
ACCESS_KEYS = ("access", "vehicle", "motor_vehicle", "motorcar")
NO_ACCESS = frozenset({"no", "private"})

#: Speed (km/h) of a ferry way without a ``duration`` tag: an **estimate** (car ferries
#: cruise at about 15-28 knots; boarding is not included).
FERRY_SPEED_KMH = 30.0

_NUMBER = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(mph|km/h|kmh)?\s*$")


def parse_maxspeed(value: str | None) -> float | None:
    """A ``maxspeed`` tag in km/h, or None when it is absent or not a speed.

    >>> parse_maxspeed("90"), parse_maxspeed("30 mph"), parse_maxspeed("SE:rural")
    (90.0, 48.28032, 70.0)
    >>> parse_maxspeed("none") is None
    True

    """
    if not value:
        return None
    value = value.split(";")[0].strip()
    match = _NUMBER.match(value)
    if match:
        speed = float(match.group(1)) * (1.609344 if match.group(2) == "mph" else 1.0)
        return speed if speed > 0 else None
    zone = value.split(":")[-1].lower()
    return float(ZONE_SPEEDS_KMH[zone]) if zone in ZONE_SPEEDS_KMH else None


def parse_duration_s(value: str | None) -> float | None:
    """A ferry ``duration`` tag (``HH:MM``, ``HH:MM:SS``, minutes, or ISO ``PT1H30M``) in s.

    >>> parse_duration_s("01:30"), parse_duration_s("2:05:30"), parse_duration_s("45")
    (5400.0, 7530.0, 2700.0)
    >>> parse_duration_s("PT3H10M"), parse_duration_s("soon")
    (11400.0, None)

    """
    if not value:
        return None
    value = value.strip()
    try:
        if ":" in value:
            parts = [float(p) for p in value.split(":")]
            if len(parts) == 2:
                return parts[0] * 3600 + parts[1] * 60
            if len(parts) == 3:
                return parts[0] * 3600 + parts[1] * 60 + parts[2]
            return None
        if value.upper().startswith("PT"):
            match = re.fullmatch(r"PT(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?", value.upper())
            if not match:
                return None
            h, m, s = (float(g or 0) for g in match.groups())
            return h * 3600 + m * 60 + s
        return float(value) * 60
    except ValueError:
        return None


@dataclass(frozen=True, eq=False)
class RoadGraph:
    """A directed road graph as arrays: nodes with coordinates, ways cut into chains.

    Every way is cut at its junctions (nodes shared with another way, and its
    ends) into *chains*. Chain ``c`` runs over the nodes
    ``chain_nodes[chain_ptr[c]:chain_ptr[c + 1]]``; ``chain_seconds`` and
    ``chain_metres`` hold the cumulative time and length from the chain's first
    node. A chain may be driven forward, backward, or both.

    Attributes
    ----------
    node_x, node_y
        Node coordinates in ``crs`` (metres).
    node_osm_id
        The OSM id of each node (negative for nodes not from OSM).
    chain_ptr, chain_nodes, chain_seconds, chain_metres
        The chains, in CSR layout.
    chain_forward, chain_backward, chain_ferry
        Per chain: drivable from first to last node, from last to first, a ferry.
    crs
        The projected CRS of the coordinates.
    source
        Where the graph came from (a file name), for messages.

    """

    node_x: NDArray[np.float64]
    node_y: NDArray[np.float64]
    node_osm_id: NDArray[np.int64]
    chain_ptr: NDArray[np.int64]
    chain_nodes: NDArray[np.int32]
    chain_seconds: NDArray[np.float64]
    chain_metres: NDArray[np.float32]
    chain_forward: NDArray[np.bool_]
    chain_backward: NDArray[np.bool_]
    chain_ferry: NDArray[np.bool_]
    crs: str
    source: str = ""
    _arrays: ClassVar[tuple[str, ...]] = (
        "node_x",
        "node_y",
        "node_osm_id",
        "chain_ptr",
        "chain_nodes",
        "chain_seconds",
        "chain_metres",
        "chain_forward",
        "chain_backward",
        "chain_ferry",
    )

    @property
    def n_nodes(self) -> int:
        """Number of nodes (junctions and shape points)."""
        return len(self.node_x)

    @property
    def n_chains(self) -> int:
        """Number of chains (ways cut at junctions)."""
        return len(self.chain_ptr) - 1

    @cached_property
    def n_junctions(self) -> int:
        """Number of distinct chain ends: the nodes of the contracted graph."""
        return int(self._chain_end_mask.sum())

    @property
    def n_ferries(self) -> int:
        """Number of ferry chains."""
        return int(self.chain_ferry.sum())

    @property
    def nbytes(self) -> int:
        """Bytes held by the arrays."""
        return sum(getattr(self, name).nbytes for name in self._arrays)

    @cached_property
    def _chain_of_position(self) -> NDArray[np.int32]:
        return np.repeat(np.arange(self.n_chains, dtype=np.int32), np.diff(self.chain_ptr)).astype(
            np.int32
        )

    @cached_property
    def _chain_end_mask(self) -> NDArray[np.bool_]:
        mask = np.zeros(self.n_nodes, dtype=bool)
        mask[self.chain_nodes[self.chain_ptr[:-1]]] = True
        mask[self.chain_nodes[self.chain_ptr[1:] - 1]] = True
        return mask

    @cached_property
    def road_nodes(self) -> NDArray[np.int64]:
        """Nodes on a road chain (not only on a ferry): the nodes points snap to."""
        road_positions = ~self.chain_ferry[self._chain_of_position]
        mask = np.zeros(self.n_nodes, dtype=bool)
        mask[self.chain_nodes[road_positions]] = True
        return np.flatnonzero(mask)

    @cached_property
    def _tree(self) -> cKDTree:
        nodes = self.road_nodes
        return cKDTree(np.column_stack([self.node_x[nodes], self.node_y[nodes]]))

    def nearest_road_nodes(
        self, x: NDArray[np.float64], y: NDArray[np.float64]
    ) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
        """The nearest road node of each point and its straight-line distance (m)."""
        if len(self.road_nodes) == 0:
            raise DataError(f"{self.source}: the road graph has no roads")
        distance, position = self._tree.query(np.column_stack([x, y]))
        return self.road_nodes[position], distance

    def save(self, path: str | Path) -> None:
        """Write the arrays to an uncompressed ``.npz`` (fast to read back)."""
        with open(path, "wb") as handle:
            np.savez(
                handle,
                crs=np.array(self.crs),
                source=np.array(self.source),
                **{name: getattr(self, name) for name in self._arrays},
            )

    @classmethod
    def load(cls, path: str | Path) -> RoadGraph:
        """Read a graph written by :meth:`save`."""
        with np.load(path, allow_pickle=False) as data:
            arrays = {name: data[name] for name in data.files if name not in ("crs", "source")}
            return cls(crs=str(data["crs"]), source=str(data["source"]), **arrays)


def road_graph_from_ways(
    way_ptr: NDArray[np.int64],
    node_refs: NDArray[np.int64],
    x: NDArray[np.float64],
    y: NDArray[np.float64],
    *,
    speed_kmh: NDArray[np.float64],
    forward: NDArray[np.bool_],
    backward: NDArray[np.bool_],
    ferry: NDArray[np.bool_] | None = None,
    ferry_seconds: NDArray[np.float64] | None = None,
    crs: str,
    source: str = "",
    access_speed_kmh: float = 30.0,
    max_access_km: float = 5.0,
) -> RoadGraph:
    """Build a :class:`RoadGraph` from ways given as flat arrays (vectorised, no loop per node).

    Parameters
    ----------
    way_ptr
        Way ``w`` covers positions ``way_ptr[w]:way_ptr[w + 1]`` of the flat arrays.
    node_refs
        The node id at each position (shared ids join ways).
    x, y
        The coordinates at each position, in ``crs`` (metres).
    speed_kmh, forward, backward
        Per way: speed and the directions it may be driven.
    ferry, ferry_seconds
        Per way: a ferry route, and its crossing time (NaN: at :data:`FERRY_SPEED_KMH`).
    crs, source
        Kept on the graph.
    access_speed_kmh, max_access_km
        Ferry ends not on a kept road are linked to the nearest road node within
        ``max_access_km`` at this speed (a terminal's access road is often a
        service road, which is not kept).

    """
    way_ptr = np.asarray(way_ptr, dtype=np.int64)
    n_ways = len(way_ptr) - 1
    lengths = np.diff(way_ptr)
    if n_ways == 0 or (lengths < 2).any():
        raise DataError(f"{source}: every way needs at least two nodes")
    ferry = np.zeros(n_ways, dtype=bool) if ferry is None else np.asarray(ferry, dtype=bool)
    if ferry_seconds is None:
        ferry_seconds = np.full(n_ways, np.nan)
    way_of_position = np.repeat(np.arange(n_ways), lengths)
    node_osm_id, node_index = np.unique(node_refs, return_inverse=True)
    node_index = node_index.astype(np.int32)
    node_x = np.empty(len(node_osm_id))
    node_y = np.empty(len(node_osm_id))
    node_x[node_index] = x
    node_y[node_index] = y

    first, last = way_ptr[:-1], way_ptr[1:] - 1
    step_m = np.zeros(len(node_refs))
    step_m[:-1] = np.hypot(np.diff(x), np.diff(y))
    step_m[last] = 0.0  # no step from a way's last node into the next way
    speed = np.where(ferry, FERRY_SPEED_KMH, np.asarray(speed_kmh, dtype=float))
    step_s = step_m / (speed[way_of_position] / 3.6)
    timed = ferry & np.isfinite(ferry_seconds)
    if timed.any():  # a ferry's duration spread along its length
        way_m = np.add.reduceat(step_m, first)
        total = way_m[way_of_position]
        share = np.divide(step_m, total, out=np.zeros_like(step_m), where=total > 0)
        step_s = np.where(timed[way_of_position], share * ferry_seconds[way_of_position], step_s)
    # cumulative time and length from each way's first node
    cum_s = np.concatenate([[0.0], np.cumsum(step_s)[:-1]])
    cum_m = np.concatenate([[0.0], np.cumsum(step_m)[:-1]])
    cum_s -= np.repeat(cum_s[first], lengths)
    cum_m -= np.repeat(cum_m[first], lengths)
    del step_s, step_m

    # junctions: nodes used more than once (by two ways, or twice by one) and way ends
    uses = np.bincount(node_index, minlength=len(node_osm_id))
    stop = uses[node_index] >= 2
    stop[first] = True
    stop[last] = True
    stops = np.flatnonzero(stop)
    same_way = way_of_position[stops[:-1]] == way_of_position[stops[1:]]
    start, end = stops[:-1][same_way], stops[1:][same_way]
    chain_len = end - start + 1
    chain_ptr = np.concatenate([[0], np.cumsum(chain_len)])
    position = np.repeat(start - chain_ptr[:-1], chain_len) + np.arange(chain_ptr[-1])
    chain_way = way_of_position[start]
    chain_nodes = node_index[position]
    chain_seconds = cum_s[position] - np.repeat(cum_s[start], chain_len)
    chain_metres = (cum_m[position] - np.repeat(cum_m[start], chain_len)).astype(np.float32)
    graph = RoadGraph(
        node_x=node_x,
        node_y=node_y,
        node_osm_id=node_osm_id.astype(np.int64),
        chain_ptr=chain_ptr.astype(np.int64),
        chain_nodes=chain_nodes,
        chain_seconds=chain_seconds,
        chain_metres=chain_metres,
        chain_forward=np.asarray(forward, dtype=bool)[chain_way] | ferry[chain_way],
        chain_backward=np.asarray(backward, dtype=bool)[chain_way] | ferry[chain_way],
        chain_ferry=ferry[chain_way],
        crs=crs,
        source=source,
    )
    if graph.n_ferries:
        graph = _link_ferry_ends(graph, access_speed_kmh, max_access_km)
    return graph


def _link_ferry_ends(graph: RoadGraph, access_speed_kmh: float, max_access_km: float) -> RoadGraph:
    """Join ferry ends that no kept road touches to the nearest road node (an access link)."""
    ferry_chains = np.flatnonzero(graph.chain_ferry)
    ends = np.unique(
        np.concatenate(
            [
                graph.chain_nodes[graph.chain_ptr[ferry_chains]],
                graph.chain_nodes[graph.chain_ptr[ferry_chains + 1] - 1],
            ]
        )
    )
    on_road = np.zeros(graph.n_nodes, dtype=bool)
    on_road[graph.road_nodes] = True
    loose = ends[~on_road[ends]]
    if len(loose) == 0 or len(graph.road_nodes) == 0:
        return graph
    nearest, metres = graph.nearest_road_nodes(graph.node_x[loose], graph.node_y[loose])
    near = metres <= max_access_km * 1000
    if (~near).any():
        log.warning(
            "%d ferry ends lie farther than %.1f km from a kept road: not linked",
            int((~near).sum()),
            max_access_km,
        )
    loose, nearest, metres = loose[near], nearest[near], metres[near]
    k = len(loose)
    nodes = np.column_stack([loose, nearest]).ravel().astype(np.int32)
    seconds = np.column_stack([np.zeros(k), metres / (access_speed_kmh / 3.6)]).ravel()
    lengths = np.column_stack([np.zeros(k), metres]).ravel().astype(np.float32)
    log.info("linked %d ferry ends to the road network", k)
    return RoadGraph(
        node_x=graph.node_x,
        node_y=graph.node_y,
        node_osm_id=graph.node_osm_id,
        chain_ptr=np.concatenate([graph.chain_ptr, graph.chain_ptr[-1] + 2 * np.arange(1, k + 1)]),
        chain_nodes=np.concatenate([graph.chain_nodes, nodes]),
        chain_seconds=np.concatenate([graph.chain_seconds, seconds]),
        chain_metres=np.concatenate([graph.chain_metres, lengths]),
        chain_forward=np.concatenate([graph.chain_forward, np.ones(k, dtype=bool)]),
        chain_backward=np.concatenate([graph.chain_backward, np.ones(k, dtype=bool)]),
        chain_ferry=np.concatenate([graph.chain_ferry, np.zeros(k, dtype=bool)]),
        crs=graph.crs,
        source=graph.source,
    )


def _oneway(tags, highway: str) -> tuple[bool, bool]:
    value = tags.get("oneway", "")
    if value in ("yes", "true", "1"):
        return True, False
    if value in ("-1", "reverse"):
        return False, True
    if value == "no":
        return True, True
    implied = highway == "motorway" or tags.get("junction", "") in ("roundabout", "circular")
    return True, not implied


def read_osm_ways(path: str | Path, *, road_classes: tuple[str, ...] = MAIN_ROADS) -> dict:
    """Stream an OSM file (``.osm.pbf``, ``.osm``, ``.xml``) and keep drivable ways and ferries.

    Node locations stay in libosmium's index; only ways whose ``highway`` is a
    kept class, and ``route=ferry`` ways, reach Python. Ways closed to cars
    (``access``, ``vehicle``, ``motor_vehicle`` or ``motorcar`` = ``no`` or
    ``private``) are dropped.

    Returns
    -------
    dict
        Flat arrays for :func:`road_graph_from_ways`: ``way_ptr``, ``node_refs``,
        ``lon``, ``lat``, and per way ``speed_kmh``, ``forward``, ``backward``,
        ``ferry``, ``ferry_seconds``; plus ``dropped``, a count of ways by reason.

    """
    import osmium

    keep = set(road_classes)
    refs, lons, lats = array("q"), array("d"), array("d")
    way_ptr = array("q", [0])
    speed, forward, backward, ferry, ferry_seconds = (
        array("d"),
        array("b"),
        array("b"),
        array("b"),
        array("d"),
    )
    dropped = {"other highway classes": 0, "closed to cars": 0, "too few located nodes": 0}
    processor = (
        osmium.FileProcessor(str(path))
        .with_locations()
        .with_filter(osmium.filter.EntityFilter(osmium.osm.WAY))
        .with_filter(osmium.filter.KeyFilter("highway", "route"))
    )
    for way in processor:
        tags = way.tags
        highway = tags.get("highway", "")
        is_ferry = tags.get("route", "") == "ferry"
        if highway not in keep and not is_ferry:
            dropped["other highway classes"] += 1
            continue
        if any(tags.get(key, "") in NO_ACCESS for key in ACCESS_KEYS):
            dropped["closed to cars"] += 1
            continue
        located = [(n.ref, n.lon, n.lat) for n in way.nodes if n.location.valid()]
        if len(located) < 2:
            dropped["too few located nodes"] += 1
            continue
        for ref, lon, lat in located:
            refs.append(ref)
            lons.append(lon)
            lats.append(lat)
        way_ptr.append(len(refs))
        if is_ferry:
            speed.append(FERRY_SPEED_KMH)
            forward.append(True)
            backward.append(True)
            duration = parse_duration_s(tags.get("duration"))
            ferry_seconds.append(np.nan if duration is None else duration)
        else:
            limit = parse_maxspeed(tags.get("maxspeed"))
            speed.append(limit if limit is not None else DEFAULT_SPEEDS_KMH.get(highway, 50))
            fwd, bwd = _oneway(tags, highway)
            forward.append(fwd)
            backward.append(bwd)
            ferry_seconds.append(np.nan)
        ferry.append(is_ferry)
    return {
        "way_ptr": np.frombuffer(way_ptr, dtype=np.int64),
        "node_refs": np.frombuffer(refs, dtype=np.int64),
        "lon": np.frombuffer(lons, dtype=np.float64),
        "lat": np.frombuffer(lats, dtype=np.float64),
        "speed_kmh": np.frombuffer(speed, dtype=np.float64),
        "forward": np.frombuffer(forward, dtype=np.int8).astype(bool),
        "backward": np.frombuffer(backward, dtype=np.int8).astype(bool),
        "ferry": np.frombuffer(ferry, dtype=np.int8).astype(bool),
        "ferry_seconds": np.frombuffer(ferry_seconds, dtype=np.float64),
        "dropped": dropped,
    }


OSM_SUFFIXES = (".pbf", ".osm", ".xml", ".bz2", ".gz")


def read_road_graph(
    path: str | Path,
    *,
    crs: str = "EPSG:3006",
    access_speed_kmh: float = 30.0,
    max_access_km: float = 5.0,
    road_classes: tuple[str, ...] = MAIN_ROADS,
) -> RoadGraph:
    """A :class:`RoadGraph` from an OSM file (``.osm.pbf``, ``.osm``, ``.xml``), not cached.

    Raises
    ------
    DataError
        The file is missing, unreadable, or has no roads of the kept classes.

    """
    from pyproj import Transformer

    path = Path(path).expanduser()
    if not path.is_file():
        raise DataError(f"OSM file not found: {path}")
    if not path.name.lower().endswith(OSM_SUFFIXES):
        raise DataError(
            f"{path}: not an OSM file name; expected .osm.pbf, .osm or .xml "
            "(e.g. sweden-latest.osm.pbf from an OSM extract provider)"
        )
    try:
        ways = read_osm_ways(path, road_classes=road_classes)
    except RuntimeError as exc:  # libosmium's parse errors
        raise DataError(f"{path}: not a readable OSM file ({exc})") from None
    n_ways = len(ways["way_ptr"]) - 1
    if n_ways == 0 or not (~ways["ferry"]).any():
        raise DataError(
            f"{path}: no roads of the kept classes ({', '.join(road_classes)}); "
            "is it an OSM extract with highway ways?"
        )
    x, y = Transformer.from_crs("EPSG:4326", crs, always_xy=True).transform(
        ways["lon"], ways["lat"]
    )
    graph = road_graph_from_ways(
        ways["way_ptr"],
        ways["node_refs"],
        np.asarray(x),
        np.asarray(y),
        speed_kmh=ways["speed_kmh"],
        forward=ways["forward"],
        backward=ways["backward"],
        ferry=ways["ferry"],
        ferry_seconds=ways["ferry_seconds"],
        crs=crs,
        source=path.name,
        access_speed_kmh=access_speed_kmh,
        max_access_km=max_access_km,
    )
    log.info(
        "road graph from %s: %d ways kept (%d ferries), %s dropped; %d nodes, %d junctions",
        path.name,
        n_ways,
        int(ways["ferry"].sum()),
        ", ".join(f"{v} {k}" for k, v in ways["dropped"].items()),
        graph.n_nodes,
        graph.n_junctions,
    )
    return graph


def road_graph_from_xml(path: str | Path, **kwargs) -> RoadGraph:
    """Kept for compatibility: :func:`read_road_graph` reads OSM XML as well as PBF."""
    return read_road_graph(path, **kwargs)


def graph_key(path: str | Path, *, crs: str, access_speed_kmh: float, max_access_km: float) -> str:
    """The cache key of a road graph: the file's bytes and everything the build depends on."""
    from siting.travel.cache import file_digest

    meta = {
        "format": GRAPH_FORMAT,
        "crs": crs,
        "classes": MAIN_ROADS,
        "speeds": DEFAULT_SPEEDS_KMH,
        "zones": ZONE_SPEEDS_KMH,
        "ferry_kmh": FERRY_SPEED_KMH,
        "access_kmh": access_speed_kmh,
        "max_access_km": max_access_km,
        "file": file_digest(Path(path)),
    }
    return hashlib.sha256(json.dumps(meta, sort_keys=True).encode()).hexdigest()[:32]


def load_road_graph(
    path: str | Path,
    *,
    crs: str = "EPSG:3006",
    access_speed_kmh: float = 30.0,
    max_access_km: float = 5.0,
    folder: Path | None = None,
) -> RoadGraph:
    """A road graph from an OSM file, built once and then read from the graph cache.

    The cache entry (``roads/<key>.npz`` in the travel cache folder) is keyed
    by a hash of the file's bytes and the build settings, so an edited file or
    a changed setting builds anew. Within one process the graph is also kept in
    memory.
    """
    path = Path(path).expanduser()
    if not path.is_file():
        raise DataError(f"OSM file not found: {path}")
    stat = path.stat()
    return _load_road_graph(
        str(path.resolve()),
        stat.st_size,
        stat.st_mtime_ns,
        crs,
        access_speed_kmh,
        max_access_km,
        None if folder is None else str(folder),
    )


@lru_cache(maxsize=2)
def _load_road_graph(
    path: str,
    size: int,
    mtime_ns: int,
    crs: str,
    access_speed_kmh: float,
    max_access_km: float,
    folder: str | None,
) -> RoadGraph:
    from siting._io import atomic_path
    from siting.travel.cache import cache_dir

    del size, mtime_ns  # in the lru key only: a changed file is read again
    key = graph_key(path, crs=crs, access_speed_kmh=access_speed_kmh, max_access_km=max_access_km)
    entry = Path(folder or cache_dir()) / "roads" / f"{key}.npz"
    if entry.is_file():
        try:
            graph = RoadGraph.load(entry)
            log.info("road graph %s read from the cache (%s)", Path(path).name, entry.name)
            return graph
        except Exception as exc:  # a damaged entry is rebuilt, not trusted
            log.warning("ignoring unreadable road graph cache entry %s: %s", entry.name, exc)
    graph = read_road_graph(
        path, crs=crs, access_speed_kmh=access_speed_kmh, max_access_km=max_access_km
    )
    try:
        with atomic_path(entry) as tmp:
            graph.save(tmp)
    except OSError as exc:  # a read-only cache never stops a run
        log.warning("could not write the road graph cache %s: %s", entry, exc)
    return graph


def road_graph_from_networkx(graph, *, crs: str, weight: str = "travel_time") -> RoadGraph:
    """A :class:`RoadGraph` from an osmnx/networkx graph (e.g. :func:`road_graph_for_polygon`).

    Every directed edge becomes a one-way chain of its two nodes; node ``x``,
    ``y`` must be in ``crs`` (project with ``osmnx.project_graph`` first).
    """
    edges = list(graph.edges(data=True))
    if not edges:
        raise DataError("the networkx graph has no edges")
    u = np.array([e[0] for e in edges], dtype=np.int64)
    v = np.array([e[1] for e in edges], dtype=np.int64)
    seconds = np.array([float(e[2][weight]) for e in edges])
    refs = np.column_stack([u, v]).ravel()
    xs = np.array([graph.nodes[n]["x"] for n in refs], dtype=float)
    ys = np.array([graph.nodes[n]["y"] for n in refs], dtype=float)
    metres = np.hypot(xs[1::2] - xs[::2], ys[1::2] - ys[::2])
    speed = np.where(seconds > 0, metres / np.maximum(seconds, 1e-9) * 3.6, 1.0)
    speed = np.where(speed > 0, speed, 1.0)
    return road_graph_from_ways(
        np.arange(0, 2 * len(edges) + 1, 2),
        refs,
        xs,
        ys,
        speed_kmh=speed,
        forward=np.ones(len(edges), dtype=bool),
        backward=np.zeros(len(edges), dtype=bool),
        crs=crs,
        source="networkx graph",
    )


def road_graph_for_polygon(
    polygon,
    graphml: str | Path,
    *,
    road_classes: tuple[str, ...] = MAIN_ROADS,
    timeout_s: float = 60.0,
):
    """An osmnx road graph for a lon/lat polygon, read from ``graphml`` or downloaded into it.

    The download (osmnx's Overpass query, with a custom filter on the kept road
    classes) needs a network; an existing ``graphml`` is read offline. Convert
    the result with :func:`road_graph_from_networkx` (after projecting it).
    """
    import osmnx as ox

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
            f"could not download roads ({exc}); save an OSM extract and use read_road_graph instead"
        ) from None
    graph = ox.add_edge_speeds(graph, hwy_speeds=DEFAULT_SPEEDS_KMH, fallback=50)
    graph = ox.add_edge_travel_times(graph)
    graphml.parent.mkdir(parents=True, exist_ok=True)
    ox.save_graphml(graph, graphml)
    return graph


@dataclass(frozen=True)
class FerryLink:
    """An extra ferry edge between two points (the atlas's links, when the extract has none).

    ``minutes`` is the crossing plus boarding; the ends are snapped to the
    nearest road nodes like any point.
    """

    name: str
    a_xy: tuple[float, float]
    b_xy: tuple[float, float]
    minutes: float


@dataclass(frozen=True, eq=False)
class RoadMatrix:
    """Road minutes with what the snapping and the graph did to them.

    Attributes
    ----------
    matrix
        Door-to-door minutes origin -> destination: access leg, network, access
        leg (``inf`` when unreachable); mode ``road`` or ``road+ferry``.
    origin_snap_m, destination_snap_m
        Distance from each point to the road node it was snapped to.
    unreachable
        One row per pair with no path: ``origin_id``, ``origin_name``,
        ``destination_id``, ``destination_name``.
    graph_nodes
        Nodes of the contracted graph the shortest paths ran on.

    """

    matrix: TravelTimeMatrix
    origin_snap_m: pd.Series
    destination_snap_m: pd.Series
    unreachable: pd.DataFrame
    graph_nodes: int = 0


def _names(frame: pd.DataFrame) -> list[str]:
    if "name" in frame:
        return [str(n) for n in frame["name"]]
    return [str(i) for i in frame.index]


def _far_points_error(
    graph: RoadGraph, frames: list[pd.DataFrame], snaps: list[NDArray], max_access_km: float
) -> DataError | None:
    far: dict[str, tuple[str, float]] = {}
    total = 0
    for frame, snap in zip(frames, snaps, strict=True):
        total += len(frame)
        names = _names(frame)
        for k in np.flatnonzero(snap > max_access_km * 1000):
            far.setdefault(str(frame.index[k]), (names[k], float(snap[k])))
    if not far:
        return None
    listed = sorted(far.items(), key=lambda item: -item[1][1])
    shown = ", ".join(f"{name} ({pid}, {m / 1000:,.0f} km)" for pid, (name, m) in listed[:25])
    more = f" and {len(listed) - 25} more" if len(listed) > 25 else ""
    return DataError(
        f"{len(listed)} point(s) lie farther than {max_access_km:g} km from the nearest road "
        f"of {graph.source or 'the road graph'} (travel.roads.max_access_km): {shown}{more}. "
        "Use an OSM extract that covers every organizer and candidate, or raise "
        "travel.roads.max_access_km."
    )


def _xy(frame: pd.DataFrame) -> tuple[NDArray, NDArray]:
    if "geometry" in frame:
        return frame.geometry.x.to_numpy(), frame.geometry.y.to_numpy()
    return frame["x"].to_numpy(dtype=float), frame["y"].to_numpy(dtype=float)


def _contracted(
    graph: RoadGraph, pinned: NDArray[np.int64]
) -> tuple[NDArray[np.int64], NDArray, NDArray, NDArray, NDArray, NDArray]:
    """Edges between junctions and pinned nodes: chains cut at every pinned node.

    Returns the graph-node index of every node (-1 when not in the contracted
    graph) and the edges ``u -> v`` with seconds, metres and a ferry flag.
    """
    keep = graph._chain_end_mask.copy()
    keep[pinned] = True
    stops = np.flatnonzero(keep[graph.chain_nodes])
    chain = graph._chain_of_position
    same = chain[stops[:-1]] == chain[stops[1:]]
    a, b = stops[:-1][same], stops[1:][same]
    c = chain[a]
    u, v = graph.chain_nodes[a], graph.chain_nodes[b]
    seconds = graph.chain_seconds[b] - graph.chain_seconds[a]
    metres = (graph.chain_metres[b] - graph.chain_metres[a]).astype(np.float64)
    fwd, bwd = graph.chain_forward[c], graph.chain_backward[c]
    ferry = graph.chain_ferry[c]
    tail = np.concatenate([u[fwd], v[bwd]])
    head = np.concatenate([v[fwd], u[bwd]])
    seconds = np.concatenate([seconds[fwd], seconds[bwd]])
    metres = np.concatenate([metres[fwd], metres[bwd]])
    ferry = np.concatenate([ferry[fwd], ferry[bwd]])
    loop = tail == head
    tail, head, seconds, metres, ferry = (
        arr[~loop] for arr in (tail, head, seconds, metres, ferry)
    )
    index = np.full(graph.n_nodes, -1, dtype=np.int64)
    used = np.zeros(graph.n_nodes, dtype=bool)
    used[tail] = True
    used[head] = True
    used[pinned] = True
    index[used] = np.arange(int(used.sum()))
    return index, index[tail], index[head], seconds, metres, ferry


def _csr(tail, head, weight, n: int) -> csr_matrix:
    """A CSR matrix keeping the smallest weight of parallel edges (csr_matrix would add them)."""
    order = np.lexsort((weight, head, tail))
    tail, head, weight = tail[order], head[order], weight[order]
    first = np.ones(len(tail), dtype=bool)
    first[1:] = (tail[1:] != tail[:-1]) | (head[1:] != head[:-1])
    # a zero weight would read as "no edge" in some scipy paths: keep it strictly positive
    return csr_matrix((np.maximum(weight[first], 1e-6), (tail[first], head[first])), shape=(n, n))


#: Sources per Dijkstra call (bounds memory at chunk x nodes floats).
DIJKSTRA_CHUNK = 16


def _shortest(
    csr: csr_matrix, sources: NDArray[np.int64], targets: NDArray[np.int64]
) -> NDArray[np.float64]:
    """Shortest-path lengths ``sources x targets``, in chunks of sources."""
    out = np.empty((len(sources), len(targets)))
    for start in range(0, len(sources), DIJKSTRA_CHUNK):
        rows = dijkstra(csr, directed=True, indices=sources[start : start + DIJKSTRA_CHUNK])
        out[start : start + DIJKSTRA_CHUNK] = rows[:, targets]
    return out


def _reduce(
    n: int,
    tail: NDArray[np.int64],
    head: NDArray[np.int64],
    seconds: NDArray[np.float64],
    ferry: NDArray[np.bool_],
    pinned: NDArray[np.bool_],
    *,
    max_rounds: int = 40,
) -> tuple[NDArray, NDArray, NDArray, NDArray]:
    """Drop what no shortest path between pinned nodes needs; exact, not a heuristic.

    Unpinned dead ends (one neighbour) lose their edges; unpinned nodes with
    exactly two neighbours are bypassed (``x -> s -> y`` becomes ``x -> y``),
    an independent set of them per round, chosen by seeded random priority.
    Where OSM splits a road into several ways (a new limit, a bridge) the
    node between them is such a pass-through node.
    """
    rng = np.random.default_rng(0)
    for _ in range(max_rounds):
        low, high = np.minimum(tail, head), np.maximum(tail, head)
        pairs = np.unique(low * n + high)
        a, b = pairs // n, pairs % n
        degree = np.bincount(a, minlength=n) + np.bincount(b, minlength=n)
        leaf = (degree == 1) & ~pinned
        passing = (degree == 2) & ~pinned
        priority = np.where(passing, rng.random(n), np.inf)
        lowest = np.full(n, np.inf)
        np.minimum.at(lowest, a, priority[b])
        np.minimum.at(lowest, b, priority[a])
        bypass = passing & (priority < lowest)
        if leaf.sum() + bypass.sum() < max(1, n // 200):
            break
        keep = ~(leaf[tail] | leaf[head])
        tail, head, seconds, ferry = tail[keep], head[keep], seconds[keep], ferry[keep]
        into, out_of = bypass[head], bypass[tail]
        incoming = pd.DataFrame(
            {"x": tail[into], "s": head[into], "w_in": seconds[into], "f_in": ferry[into]}
        )
        outgoing = pd.DataFrame(
            {"s": tail[out_of], "y": head[out_of], "w_out": seconds[out_of], "f_out": ferry[out_of]}
        )
        joined = incoming.merge(outgoing, on="s")
        joined = joined[joined["x"] != joined["y"]]
        rest = ~(into | out_of)
        tail = np.concatenate([tail[rest], joined["x"].to_numpy()])
        head = np.concatenate([head[rest], joined["y"].to_numpy()])
        seconds = np.concatenate([seconds[rest], (joined["w_in"] + joined["w_out"]).to_numpy()])
        ferry = np.concatenate([ferry[rest], (joined["f_in"] | joined["f_out"]).to_numpy()])
    return tail, head, seconds, ferry


def road_matrix(
    graph: RoadGraph,
    origins: pd.DataFrame,
    destinations: pd.DataFrame,
    *,
    crs: str | None = None,
    access_speed_kmh: float = 30.0,
    max_access_km: float = 5.0,
    ferry_links: tuple[FerryLink, ...] = (),
) -> RoadMatrix:
    """Door-to-door road minutes between points over a :class:`RoadGraph`.

    Parameters
    ----------
    graph
        From :func:`load_road_graph` or :func:`road_graph_from_ways`.
    origins, destinations
        Indexed by id with ``x``, ``y`` (or a point geometry) in the graph's
        CRS; a ``name`` column names them in messages.
    crs
        The points' CRS, checked against the graph's when given.
    access_speed_kmh
        Speed of the straight-line leg from a point to its nearest road node
        (both ends): an estimate.
    max_access_km
        Points farther than this from every road are an error.
    ferry_links
        Extra ferry edges (used when the extract has no ferry routes).

    Raises
    ------
    DataError
        Points too far from the network (listed by id and name, farthest first).

    """
    if crs is not None and not _same_crs(graph.crs, crs):
        raise DataError(f"the road graph is in {graph.crs}, the points in {crs}")
    ox_, oy_ = _xy(origins)
    dx_, dy_ = _xy(destinations)
    o_node, o_snap = graph.nearest_road_nodes(ox_, oy_)
    d_node, d_snap = graph.nearest_road_nodes(dx_, dy_)
    error = _far_points_error(graph, [origins, destinations], [o_snap, d_snap], max_access_km)
    if error is not None:
        raise error

    link_nodes = np.empty((0, 2), dtype=np.int64)
    link_minutes = np.empty(0)
    if ferry_links:
        a_xy = np.array([link.a_xy for link in ferry_links])
        b_xy = np.array([link.b_xy for link in ferry_links])
        a_node, a_snap = graph.nearest_road_nodes(a_xy[:, 0], a_xy[:, 1])
        b_node, b_snap = graph.nearest_road_nodes(b_xy[:, 0], b_xy[:, 1])
        ok = (a_snap <= max_access_km * 1000) & (b_snap <= max_access_km * 1000)
        for link in np.array(ferry_links, dtype=object)[~ok]:
            log.warning("ferry link %s: a terminal is off the road graph, not used", link.name)
        access = (a_snap + b_snap) / 1000 / access_speed_kmh * 60
        link_nodes = np.column_stack([a_node, b_node])[ok]
        link_minutes = (np.array([link.minutes for link in ferry_links]) + access)[ok]

    pinned = np.unique(np.concatenate([o_node, d_node, link_nodes.ravel()]))
    index, tail, head, seconds, _, ferry = _contracted(graph, pinned)
    n = int(index.max()) + 1
    if len(link_nodes):
        la, lb = index[link_nodes[:, 0]], index[link_nodes[:, 1]]
        tail = np.concatenate([tail, la, lb])
        head = np.concatenate([head, lb, la])
        seconds = np.concatenate([seconds, link_minutes * 60, link_minutes * 60])
        ferry = np.concatenate([ferry, np.ones(2 * len(la), dtype=bool)])
    is_pinned = np.zeros(n, dtype=bool)
    is_pinned[index[pinned]] = True
    if len(link_nodes):
        is_pinned[index[link_nodes.ravel()]] = True
    tail, head, seconds, ferry = _reduce(n, tail, head, seconds, ferry, is_pinned)
    # renumber the nodes still in use, so every Dijkstra row is as short as it can be
    used = is_pinned.copy()
    used[tail] = True
    used[head] = True
    compact = np.cumsum(used) - 1
    n = int(used.sum())
    tail, head, index = compact[tail], compact[head], np.where(index >= 0, compact[index], -1)
    o_index, d_index = index[o_node], index[d_node]

    if len(np.unique(d_index)) <= len(np.unique(o_index)):  # from the smaller side
        sources, inverse = np.unique(d_index, return_inverse=True)
        reverse = _csr(head, tail, seconds, n)
        network_s = _shortest(reverse, sources, o_index)[inverse].T
    else:
        sources, inverse = np.unique(o_index, return_inverse=True)
        network_s = _shortest(_csr(tail, head, seconds, n), sources, d_index)[inverse]

    access_o = o_snap / 1000 / access_speed_kmh * 60
    access_d = d_snap / 1000 / access_speed_kmh * 60
    minutes = access_o[:, None] + network_s / 60 + access_d[None, :]
    same_node = o_node[:, None] == d_node[None, :]
    if same_node.any():  # both points at one node: the straight line between them
        direct = np.hypot(ox_[:, None] - dx_[None, :], oy_[:, None] - dy_[None, :])
        minutes = np.where(
            same_node, np.minimum(minutes, direct / 1000 / access_speed_kmh * 60), minutes
        )

    road = ~ferry
    _, component = connected_components(
        _csr(tail[road], head[road], seconds[road], n), directed=True, connection="weak"
    )
    by_ferry = (component[o_index][:, None] != component[d_index][None, :]) & np.isfinite(minutes)
    mode = np.where(by_ferry, "road+ferry", "road")

    origin_ids = tuple(map(str, origins.index))
    destination_ids = tuple(map(str, destinations.index))
    o_names, d_names = _names(origins), _names(destinations)
    missing = np.argwhere(~np.isfinite(minutes))
    unreachable = pd.DataFrame(
        {
            "origin_id": [origin_ids[i] for i, _ in missing],
            "origin_name": [o_names[i] for i, _ in missing],
            "destination_id": [destination_ids[j] for _, j in missing],
            "destination_name": [d_names[j] for _, j in missing],
        }
    )
    log.info(
        "road matrix %d x %d over %d graph nodes (%d Dijkstra sources), %d by ferry, "
        "%d unreachable",
        len(origin_ids),
        len(destination_ids),
        n,
        len(sources),
        int(by_ferry.sum()),
        len(unreachable),
    )
    return RoadMatrix(
        matrix=TravelTimeMatrix(origin_ids, destination_ids, minutes, mode),
        origin_snap_m=pd.Series(o_snap, index=list(origin_ids), name="snap_m"),
        destination_snap_m=pd.Series(d_snap, index=list(destination_ids), name="snap_m"),
        unreachable=unreachable,
        graph_nodes=n,
    )


def unreachable_error(unreachable: pd.DataFrame, source: str) -> DataError:
    """An error listing pairs with no road path (first 20), by id and name."""
    shown = ", ".join(
        f"{r.origin_name} ({r.origin_id}) -> {r.destination_name} ({r.destination_id})"
        for r in unreachable.head(20).itertuples()
    )
    more = f" and {len(unreachable) - 20} more" if len(unreachable) > 20 else ""
    return DataError(
        f"{len(unreachable)} origin-destination pair(s) have no road path in {source}: "
        f"{shown}{more}. The extract may be cut or lack ferry routes (travel.roads.osm_file)."
    )


def _same_crs(a, b) -> bool:
    from pyproj import CRS

    return CRS.from_user_input(a).equals(CRS.from_user_input(b))


def route_minutes_and_km(
    graph: RoadGraph,
    origins: pd.DataFrame,
    destinations: pd.DataFrame,
    *,
    access_speed_kmh: float = 30.0,
    max_access_km: float = 5.0,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Minutes and kilometres of the fastest road route of every pair (access legs included).

    Slower than :func:`road_matrix` (paths are walked back to sum their
    lengths): meant for sampled pairs, as in ``siting travel calibrate``.
    Ferries count in minutes, not in kilometres.
    """
    ox_, oy_ = _xy(origins)
    dx_, dy_ = _xy(destinations)
    o_node, o_snap = graph.nearest_road_nodes(ox_, oy_)
    d_node, d_snap = graph.nearest_road_nodes(dx_, dy_)
    error = _far_points_error(graph, [origins, destinations], [o_snap, d_snap], max_access_km)
    if error is not None:
        raise error
    pinned = np.unique(np.concatenate([o_node, d_node]))
    index, tail, head, seconds, metres, ferry = _contracted(graph, pinned)
    n = int(index.max()) + 1
    order = np.lexsort((seconds, head, tail))
    tail, head, seconds, metres = tail[order], head[order], seconds[order], metres[order]
    metres = np.where(ferry[order], 0.0, metres)
    first = np.ones(len(tail), dtype=bool)
    first[1:] = (tail[1:] != tail[:-1]) | (head[1:] != head[:-1])
    tail, head, seconds, metres = tail[first], head[first], seconds[first], metres[first]
    times = csr_matrix((np.maximum(seconds, 1e-6), (tail, head)), shape=(n, n))
    lengths = csr_matrix((metres + 1e-9, (tail, head)), shape=(n, n))
    o_index, d_index = index[o_node], index[d_node]
    network_s = np.empty((len(o_index), len(d_index)))
    network_m = np.zeros((len(o_index), len(d_index)))
    for start in range(0, len(o_index), DIJKSTRA_CHUNK):
        rows = o_index[start : start + DIJKSTRA_CHUNK]
        dist, pred = dijkstra(times, directed=True, indices=rows, return_predecessors=True)
        network_s[start : start + len(rows)] = dist[:, d_index]
        row = np.repeat(np.arange(len(rows)), len(d_index))
        cur = np.tile(d_index, len(rows))
        km = np.zeros(len(cur))
        while True:
            prev = pred[row, cur]
            active = prev >= 0
            if not active.any():
                break
            km[active] += np.asarray(lengths[prev[active], cur[active]]).ravel()
            cur = np.where(active, prev, cur)
        network_m[start : start + len(rows)] = km.reshape(len(rows), len(d_index))
    minutes = (
        o_snap[:, None] / 1000 / access_speed_kmh * 60
        + network_s / 60
        + d_snap[None, :] / 1000 / access_speed_kmh * 60
    )
    km = (o_snap[:, None] + network_m + d_snap[None, :]) / 1000
    return minutes, np.where(np.isfinite(minutes), km, np.inf)
