"""Capacitated p-median benchmark: OR-Library pmedcap1 and Sweden at the real scale.

Prints, per instance: n, m, p, capacity, objective, published value (pmedcap1),
proven bound and gap, the LP bound, assignment columns used, seconds and status,
with the git commit, cores, load and cache state. Targets (issue 14, 2 cores):
pmedcap1 1-20 all proven at the published optima; Sweden 2,800 x 293, p = 10,
capacity 300 per office: gap <= 1 % in 120 s.

    flock /tmp/siting-heavy.lock python benchmarks/capacitated.py --pmedcap
    flock /tmp/siting-heavy.lock python benchmarks/capacitated.py --pmedcap 1 2 20
    flock /tmp/siting-heavy.lock python benchmarks/capacitated.py --sweden
    python benchmarks/capacitated.py --sweden --capacity 300 --p 10 --time-limit 120

The Swedish instance: the 290 municipal organizers of the shipped atlas plus
2,510 SYNTHETIC independent organizers placed at localities with probability
proportional to population (seeded), every organizer weight 1; candidates are
the localities with at least 4,000 inhabitants (293 towns, the scale quoted in
the issue); minutes from the ``estimate`` travel backend through the cache.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from siting.model.capacitated import solve_capacitated
from siting.model.orlib import read_pmedcap

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT.parent / "shared" / "bench" / "orlib"


def header(cache: str) -> None:
    """Commit, cores, load and cache state."""
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    load = ", ".join(f"{v:.2f}" for v in os.getloadavg())
    print(f"commit {commit}; {os.cpu_count()} cores; load {load}; cache {cache}")


def columns_line() -> str:
    return (
        f"{'instance':<16}{'n':>6}{'m':>5}{'p':>4}{'cap':>6}{'objective':>12}{'published':>10}"
        f"{'bound':>12}{'gap':>9}{'LP bound':>12}{'columns':>9}{'seconds':>9}  status"
    )


def line(name, n, m, p, capacity, result, published=None) -> str:
    known = "" if published is None else f"{published:.0f}"
    match = ""
    if published is not None:
        match = "  ok" if abs(result.objective - published) < 1e-6 else "  MISMATCH"
    return (
        f"{name:<16}{n:>6}{m:>5}{p:>4}{capacity:>6g}{result.objective:>12.2f}{known:>10}"
        f"{result.lower_bound:>12.2f}{result.gap:>9.2%}{result.lp_bound:>12.2f}"
        f"{result.columns:>9}{result.seconds:>9.2f}  {result.status}{match}"
    )


def pmedcap(folder: Path, problems: list[int], time_limit: float) -> None:
    """pmedcap1: unweighted cost, demand counted against capacity (loads)."""
    header("n/a (no travel matrices)")
    print(columns_line())
    proven = 0
    total = time.perf_counter()
    for k in problems:
        costs, demand, p, capacity, published = read_pmedcap(
            folder / "pmedcap1" / f"pmedcap1_{k:02d}.txt"
        )
        result = solve_capacitated(costs, None, p, capacity, loads=demand, time_limit_s=time_limit)
        proven += result.status == "optimal" and abs(result.objective - published) < 1e-6
        n, m = costs.shape
        print(line(f"pmedcap1_{k:02d}", n, m, p, capacity, result, published), flush=True)
    print(
        f"{proven} of {len(problems)} proven at the published value; "
        f"total {time.perf_counter() - total:.1f} s"
    )


def sweden_instance(synthetic: int, seed: int, min_population: int):
    """Minutes (organizers x candidates) for the municipal + synthetic organizers."""
    from siting.atlas import load_atlas
    from siting.config import TravelSettings
    from siting.travel.cache import cache_dir, cached_travel_matrix, matrix_key

    atlas = load_atlas(min_population=min_population)
    localities = atlas.localities[atlas.localities["population"] > 0]
    rng = np.random.default_rng(seed)
    share = localities["population"].to_numpy(float)
    picked = rng.choice(len(localities), size=synthetic, p=share / share.sum())
    places = localities.iloc[picked]
    independent = gpd.GeoDataFrame(
        {
            "name": [f"synthetic organizer {k} ({n})" for k, n in enumerate(places["name"])],
            "municipality_id": places["municipality_id"].to_numpy(),
            "county_id": places["county_id"].to_numpy(),
            "weight": 1.0,
            "location_method": "synthetic_population_weighted",
        },
        geometry=places.geometry.to_numpy(),
        crs=atlas.localities.crs,
        index=[f"synthetic-{k:04d}" for k in range(synthetic)],
    )
    organizers = gpd.GeoDataFrame(
        pd.concat([atlas.organizers[independent.columns], independent]),
        crs=atlas.localities.crs,
    )
    organizers.index.name = "organizer_id"
    settings = TravelSettings(backend="estimate")
    path = cache_dir() / f"{matrix_key(atlas, organizers, atlas.candidates, settings)}.parquet"
    cache = "warm" if path.is_file() else "cold"
    started = time.perf_counter()
    matrix = cached_travel_matrix(atlas, organizers, atlas.candidates, settings)
    return matrix, len(atlas.organizers), cache, time.perf_counter() - started


def sweden(args) -> None:
    """The real-scale capacitated instance."""
    matrix, municipal, cache, matrix_s = sweden_instance(
        args.synthetic, args.seed, args.min_population
    )
    header(cache)
    n, m = matrix.minutes.shape
    print(
        f"Sweden: {municipal} municipal organizers + {args.synthetic} SYNTHETIC independent "
        f"organizers (population-weighted, seed {args.seed}), weight 1 each; {m} candidate "
        f"towns (>= {args.min_population} inhabitants); estimate minutes, "
        f"matrix in {matrix_s:.1f} s"
    )
    print(columns_line())
    for capacity in args.capacity:
        result = solve_capacitated(
            matrix.minutes, None, args.p, capacity, time_limit_s=args.time_limit
        )
        print(line("sweden", n, m, args.p, capacity, result), flush=True)
        print(
            f"  heuristic {result.heuristic_objective:.2f}; "
            + ", ".join(f"{k} {v:.1f}" for k, v in result.timings.items())
            + f"; restriction exact: {result.exact_restriction}; priced {result.priced}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pmedcap", type=int, nargs="*", metavar="K")
    parser.add_argument("--sweden", action="store_true")
    parser.add_argument("--p", type=int, default=10)
    parser.add_argument("--capacity", type=float, nargs="+", default=[300.0])
    parser.add_argument("--synthetic", type=int, default=2510)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--min-population", type=int, default=4000)
    parser.add_argument("--time-limit", type=float, default=120.0)
    parser.add_argument("--orlib", type=Path, default=BENCH)
    args = parser.parse_args()
    if args.sweden:
        sweden(args)
    if args.pmedcap is not None or not args.sweden:
        pmedcap(args.orlib, args.pmedcap or list(range(1, 21)), args.time_limit)


if __name__ == "__main__":
    main()
