"""Travel-time benchmarks (issue 3). Prints each figure beside its target.

1. Door-to-door (road + rail) matrix, all shipped localities x all default
   candidates: <= 2 s with the networks warm, <= 0.2 s from the matrix cache.
2. Road matrix on a synthetic grid graph of >= 100,000 nodes, 300 sources x
   1,000 targets: <= 30 s, with the ratio against a loop of networkx
   single-source Dijkstra (timed on a few sources and scaled to 300).

    python benchmarks/travel.py
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd

from siting.atlas import load_atlas
from siting.config import TravelSettings
from siting.travel.cache import cached_travel_matrix
from siting.travel.multimodal import travel_matrix
from siting.travel.roads import road_graph_from_networkx, road_matrix


def door_to_door() -> None:
    atlas = load_atlas()
    settings = TravelSettings(modes=["road", "rail"])
    travel_matrix(atlas, atlas.localities.iloc[:5], atlas.candidates, settings)  # warm networks
    started = time.perf_counter()
    matrix = travel_matrix(atlas, atlas.localities, atlas.candidates, settings)
    warm = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as folder:
        cached_travel_matrix(
            atlas, atlas.localities, atlas.candidates, settings, folder=Path(folder)
        )
        started = time.perf_counter()
        cached_travel_matrix(
            atlas, atlas.localities, atlas.candidates, settings, folder=Path(folder)
        )
        cached = time.perf_counter() - started
    shape = f"{matrix.minutes.shape[0]:,} x {matrix.minutes.shape[1]}"
    print(f"door-to-door {shape}, networks warm: {warm:.3f} s (target <= 2 s)")
    print(f"door-to-door {shape}, from the matrix cache: {cached:.3f} s (target <= 0.2 s)")


def grid_graph(side: int, spacing_m: float = 200.0, seed: int = 0) -> nx.MultiDiGraph:
    """A side x side street grid in EPSG:3006 with seeded speeds (30-110 km/h)."""
    rng = np.random.default_rng(seed)
    graph = nx.MultiDiGraph(crs="EPSG:3006")
    ids = np.arange(side * side).reshape(side, side)
    xs = 500_000 + spacing_m * np.arange(side)
    ys = 6_500_000 + spacing_m * np.arange(side)
    graph.add_nodes_from(
        (int(ids[r, c]), {"x": float(xs[c]), "y": float(ys[r])})
        for r in range(side)
        for c in range(side)
    )
    pairs = np.concatenate(
        [
            np.column_stack([ids[:, :-1].ravel(), ids[:, 1:].ravel()]),
            np.column_stack([ids[:-1, :].ravel(), ids[1:, :].ravel()]),
        ]
    )
    speeds = rng.uniform(30, 110, len(pairs)) / 3.6
    seconds = spacing_m / speeds
    graph.add_edges_from(
        (int(a), int(b), {"travel_time": float(t)})
        for (a, b), t in zip(pairs, seconds, strict=True)
    )
    graph.add_edges_from(
        (int(b), int(a), {"travel_time": float(t)})
        for (a, b), t in zip(pairs, seconds, strict=True)
    )
    return graph


def road() -> None:
    side = 320
    started = time.perf_counter()
    graph = grid_graph(side)
    build = time.perf_counter() - started
    rng = np.random.default_rng(1)
    nodes = np.array(list(graph.nodes))
    frame = pd.DataFrame({n: graph.nodes[n] for n in nodes}).T
    sources = frame.loc[rng.choice(nodes, 300, replace=False)]
    targets = frame.loc[rng.choice(nodes, 1000, replace=False)]
    sources.index = [f"s{n}" for n in sources.index]
    targets.index = [f"t{n}" for n in targets.index]
    road_graph = road_graph_from_networkx(graph, crs="EPSG:3006")
    started = time.perf_counter()
    result = road_matrix(road_graph, sources, targets, crs="EPSG:3006")
    compiled = time.perf_counter() - started
    sample = 3
    started = time.perf_counter()
    for name in sources.index[:sample]:
        nx.single_source_dijkstra_path_length(graph, int(name[1:]), weight="travel_time")
    loop = (time.perf_counter() - started) / sample * len(sources)
    print(
        f"road graph {graph.number_of_nodes():,} nodes, {graph.number_of_edges():,} edges "
        f"(built in {build:.1f} s)"
    )
    print(
        f"road matrix 300 x 1,000: {compiled:.2f} s (target <= 30 s); networkx loop "
        f"(scaled from {sample} sources): {loop:.1f} s; ratio {loop / compiled:.1f}x; "
        f"{len(result.unreachable)} unreachable"
    )


if __name__ == "__main__":
    door_to_door()
    road()
