"""The roads backend at national scale (issue 11), on a synthetic road graph.

No road network ships with siting, so the national case is measured on a
synthetic network the size of Sweden's drivable OSM roads: a jittered grid of
junctions in Sweden's bounding box (EPSG:3006) with ~15 % of links missing
(dead ends, T-junctions), each link drawn as a wiggly chain of shape nodes, and
ways running over up to ten links, as OSM's do; ~3 % one-way, speeds 50-110.

Prints, beside each target: graph size, the build from way arrays (and, with
``--pbf``, the whole read of a synthetic ``.osm.pbf`` of the same network by
pyosmium), graph cache write and read, a 1,500 x 300 door-to-door matrix from
the cached graph, and the peak memory; then commit, cores, load and cache state.

    flock /tmp/siting-heavy.lock python benchmarks/roads.py [--nodes 3000000] [--pbf]
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from siting.travel.roads import RoadGraph, road_graph_from_ways, road_matrix

#: Sweden's bounding box in EPSG:3006 (metres): x west-east, y south-north.
SWEDEN_3006 = (270_000.0, 6_130_000.0, 920_000.0, 7_680_000.0)


def synthetic_ways(target_nodes: int, *, seed: int = 0, mean_shape_nodes: float = 3.0) -> dict:
    """Ways of a national-size synthetic road network, as flat arrays (see module doc)."""
    rng = np.random.default_rng(seed)
    west, south, east, north = SWEDEN_3006
    # nodes ~ J + 1.7 J mean_shape_nodes: solve for the junction count J
    junctions = target_nodes / (1 + 1.7 * mean_shape_nodes)
    aspect = (north - south) / (east - west)
    cols = int(np.sqrt(junctions / aspect))
    rows = int(junctions / cols)
    spacing = (east - west) / (cols - 1)
    jitter = spacing * 0.15
    jx = west + spacing * np.tile(np.arange(cols), rows) + rng.normal(0, jitter, rows * cols)
    jy = south + spacing * np.repeat(np.arange(rows), cols) + rng.normal(0, jitter, rows * cols)
    ids = np.arange(rows * cols).reshape(rows, cols)
    parts = []
    for a, b, along in (
        (ids[:, :-1], ids[:, 1:], np.tile(np.arange(cols - 1), rows)),  # west-east
        (ids[:-1, :].T, ids[1:, :].T, np.tile(np.arange(rows - 1), cols)),  # south-north
    ):
        a, b = a.ravel(), b.ravel()
        kept = rng.random(len(a)) > 0.15
        # a way starts at the first kept link after a gap, and every ten links
        previous_kept = np.concatenate([[False], kept[:-1]]) & (along != 0)
        starts = kept & (~previous_kept | (along % 10 == 0))
        a, b, along, starts = a[kept], b[kept], along[kept], starts[kept]
        lasts = np.concatenate([starts[1:], [True]])
        parts.append((a, b, starts, lasts))
    a = np.concatenate([p[0] for p in parts])
    b = np.concatenate([p[1] for p in parts])
    starts = np.concatenate([p[2] for p in parts])
    lasts = np.concatenate([p[3] for p in parts])
    links = len(a)
    shapes = 1 + rng.poisson(mean_shape_nodes - 1, links)
    # per link: junction a, its shape nodes, and junction b when the way ends there
    portion = 1 + shapes + lasts
    total = int(portion.sum())
    link_of = np.repeat(np.arange(links), portion)
    offset = np.arange(total) - np.repeat(np.cumsum(portion) - portion, portion)
    is_a = offset == 0
    is_b = lasts[link_of] & (offset == portion[link_of] - 1)
    is_shape = ~is_a & ~is_b
    first_shape_id = rows * cols + np.cumsum(shapes) - shapes
    refs = np.where(is_a, a[link_of], b[link_of]).astype(np.int64)
    refs[is_shape] = first_shape_id[link_of[is_shape]] + offset[is_shape] - 1
    t = np.where(is_shape, offset / (shapes[link_of] + 1), np.where(is_a, 0.0, 1.0))
    ax, ay, bx, by = jx[a][link_of], jy[a][link_of], jx[b][link_of], jy[b][link_of]
    wiggle = np.where(is_shape, rng.normal(0, spacing * 0.08, total), 0.0)
    length = np.hypot(bx - ax, by - ay)
    x = ax + t * (bx - ax) - wiggle * (by - ay) / length
    y = ay + t * (by - ay) + wiggle * (bx - ax) / length
    way_starts = np.flatnonzero(starts[link_of] & is_a)
    way_ptr = np.concatenate([way_starts, [total]]).astype(np.int64)
    n_ways = len(way_ptr) - 1
    road_class_speed = rng.choice([110, 90, 80, 70, 50], n_ways, p=[0.03, 0.07, 0.2, 0.4, 0.3])
    oneway = rng.random(n_ways) < 0.03
    return {
        "way_ptr": way_ptr,
        "node_refs": refs,
        "x": x,
        "y": y,
        "speed_kmh": road_class_speed.astype(float),
        "forward": np.ones(n_ways, dtype=bool),
        "backward": ~oneway,
    }


def write_pbf(ways: dict, path: Path) -> None:
    """The synthetic network as an .osm.pbf (lon/lat), written by pyosmium."""
    import osmium
    from pyproj import Transformer

    lon, lat = Transformer.from_crs("EPSG:3006", "EPSG:4326", always_xy=True).transform(
        ways["x"], ways["y"]
    )
    refs = ways["node_refs"]
    ids, first = np.unique(refs, return_index=True)
    writer = osmium.SimpleWriter(str(path))
    node = osmium.osm.mutable.Node
    for i, k in zip(ids.tolist(), first.tolist(), strict=True):
        writer.add_node(node(id=i + 1, location=(lon[k], lat[k])))
    way = osmium.osm.mutable.Way
    ptr = ways["way_ptr"]
    for w in range(len(ptr) - 1):
        tags = {"highway": "primary", "maxspeed": str(int(ways["speed_kmh"][w]))}
        if not ways["backward"][w]:
            tags["oneway"] = "yes"
        writer.add_way(way(id=w + 1, nodes=(refs[ptr[w] : ptr[w + 1]] + 1).tolist(), tags=tags))
    writer.close()


def peak_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=3_000_000)
    parser.add_argument("--origins", type=int, default=1_500)
    parser.add_argument("--destinations", type=int, default=300)
    parser.add_argument("--pbf", action="store_true", help="also time reading a synthetic PBF")
    args = parser.parse_args()

    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    ).stdout.strip()
    print(
        f"commit {commit}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.2f} "
        f"{os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f} at start"
    )
    started = time.perf_counter()
    ways = synthetic_ways(args.nodes)
    made = time.perf_counter() - started
    refs = ways["node_refs"]
    print(
        f"synthetic network: {len(ways['way_ptr']) - 1:,} ways, {len(refs):,} way nodes "
        f"(made in {made:.1f} s)"
    )
    with tempfile.TemporaryDirectory(prefix="siting-roads-bench-") as folder:
        folder = Path(folder)
        if args.pbf:
            from siting.travel.roads import read_road_graph

            pbf = folder / "synthetic.osm.pbf"
            started = time.perf_counter()
            write_pbf(ways, pbf)
            print(
                f"synthetic PBF {pbf.stat().st_size / 2**20:.0f} MB written in "
                f"{time.perf_counter() - started:.1f} s"
            )
            started = time.perf_counter()
            from_pbf = read_road_graph(pbf)
            print(
                f"read + build from the PBF (pyosmium): {time.perf_counter() - started:.1f} s "
                f"(target <= 600 s), {from_pbf.n_nodes:,} nodes"
            )
            del from_pbf
        started = time.perf_counter()
        graph = road_graph_from_ways(
            ways["way_ptr"],
            refs,
            ways["x"],
            ways["y"],
            speed_kmh=ways["speed_kmh"],
            forward=ways["forward"],
            backward=ways["backward"],
            crs="EPSG:3006",
            source="synthetic",
        )
        build = time.perf_counter() - started
        degree = 2 * (len(graph.chain_nodes) - graph.n_chains) / graph.n_nodes
        print(
            f"graph: {graph.n_nodes:,} nodes (mean degree {degree:.2f}), {graph.n_chains:,} "
            f"chains, {graph.n_junctions:,} junctions, {graph.nbytes / 2**20:.0f} MiB of arrays"
        )
        print(f"graph build from way arrays: {build:.1f} s (target <= 600 s)")
        del ways
        entry = folder / "graph.npz"
        started = time.perf_counter()
        graph.save(entry)
        write = time.perf_counter() - started
        del graph
        started = time.perf_counter()
        graph = RoadGraph.load(entry)
        read = time.perf_counter() - started
        print(
            f"graph cache: write {write:.1f} s, read {read:.1f} s (cold process cache), "
            f"{entry.stat().st_size / 2**20:.0f} MiB .npz"
        )

        rng = np.random.default_rng(1)
        west, south, east, north = SWEDEN_3006

        def points(n: int, prefix: str) -> pd.DataFrame:
            return pd.DataFrame(
                {"x": rng.uniform(west, east, n), "y": rng.uniform(south, north, n)},
                index=[f"{prefix}{k}" for k in range(n)],
            )

        origins, destinations = points(args.origins, "o"), points(args.destinations, "d")
        started = time.perf_counter()
        result = road_matrix(graph, origins, destinations)
        matrix_s = time.perf_counter() - started
        minutes = result.matrix.minutes
        print(
            f"door-to-door matrix {args.origins:,} x {args.destinations} from the cached graph: "
            f"{matrix_s:.1f} s (target <= 60 s); {result.graph_nodes:,} contracted nodes, "
            f"{len(result.unreachable):,} unreachable, median {np.median(minutes):.0f} min, "
            f"max snap {result.origin_snap_m.max():.0f} m"
        )
    print(f"peak memory (maxrss): {peak_gib():.2f} GiB (target <= 8 GiB)")
    print(
        f"commit {commit}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.2f} at end; "
        "cache state: graph cache cold (built, written, read back in this run)"
    )


if __name__ == "__main__":
    main()
