"""Exact p-median benchmark: OR-Library pmed1-40 and seeded random Euclidean instances.

Prints, per instance: n, p, objective, known optimum, proven gap and seconds.
Targets (issue 4, on a 2-core machine): every pmed1-40 proven optimal in under
60 s each; random 600 x 600, p = 20 proven optimal in <= 20 s.

    python benchmarks/pmedian.py                      # all of pmed1-40
    python benchmarks/pmedian.py --instances 1 2 38   # some of them
    python benchmarks/pmedian.py --random 600 20 0    # n p seed (repeatable)
    python benchmarks/pmedian.py --pmedcap 1 2 3      # capacitated (Osman & Christofides)
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

from siting.config import CapacityRules, ModelSettings, SolverSettings
from siting.model.orlib import read_pmed, read_pmedcap, read_pmedopt
from siting.model.pmedian import solve_pmedian
from siting.model.problem import SitingProblem
from siting.model.solve import solve_problem
from siting.travel.matrix import TravelTimeMatrix

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT.parent / "shared" / "bench" / "orlib"


def random_instance(n: int, seed: int) -> np.ndarray:
    """n points uniform in the unit square x 1000; Euclidean costs, clients = sites."""
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 1000, size=(n, 2))
    return np.sqrt(((xy[:, None, :] - xy[None, :, :]) ** 2).sum(-1))


def row(name, n, p, result, known=None) -> str:
    known_text = "" if known is None else f"{known:>10}"
    match = (
        "" if known is None else ("  ok" if abs(result.objective - known) < 1e-6 else "  MISMATCH")
    )
    return (
        f"{name:<16}{n:>6}{p:>6}{result.objective:>14.4f}{known_text:>10}"
        f"{result.gap:>10.2e}{result.seconds:>9.2f}  {result.status}{match}"
    )


def capacitated(folder: Path, problems: list[int], time_limit: float) -> None:
    """The capacity builder on pmedcap1: weights = demand, minutes = cost / demand."""
    print(
        f"{'instance':<16}{'n':>6}{'p':>6}{'objective':>14}{'published':>10}{'gap':>10}"
        f"{'seconds':>9}"
    )
    for k in problems:
        costs, demand, p, capacity, published = read_pmedcap(
            folder / "pmedcap1" / f"pmedcap1_{k:02d}.txt"
        )
        ids = tuple(map(str, range(len(demand))))
        minutes = TravelTimeMatrix(ids, ids, costs / demand[:, None])
        problem = SitingProblem.from_matrix(minutes, pd.Series(demand, index=list(ids)))
        settings = ModelSettings(p=p, capacity=CapacityRules(dialogues_per_office=capacity))
        solution = solve_problem(
            problem, settings, SolverSettings(time_limit_s=time_limit, mip_rel_gap=0)
        )
        seconds = sum(solution.seconds.values())
        match = "ok" if abs(solution.objective - published) < 1e-6 else "MISMATCH"
        print(
            f"pmedcap1_{k:02d}{'':<6}{len(demand):>6}{p:>6}{solution.objective:>14.4f}{published:>10.0f}"
            f"{solution.gap:>10.2e}{seconds:>9.2f}  {solution.status}  {match}",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", type=int, nargs="*", default=list(range(1, 41)))
    parser.add_argument("--random", type=int, nargs=3, metavar=("N", "P", "SEED"))
    parser.add_argument("--time-limit", type=float, default=300.0)
    parser.add_argument("--orlib", type=Path, default=BENCH)
    parser.add_argument(
        "--pmedcap",
        type=int,
        nargs="*",
        metavar="K",
        help="solve capacitated problems pmedcap1_K through the general MILP",
    )
    args = parser.parse_args()
    if args.pmedcap is not None:
        capacitated(args.orlib, args.pmedcap or list(range(1, 21)), args.time_limit)
        return
    print(
        f"{'instance':<16}{'n':>6}{'p':>6}{'objective':>14}{'optimum':>10}{'gap':>10}{'seconds':>9}"
    )
    if args.random:
        n, p, seed = args.random
        costs = random_instance(n, seed)
        result = solve_pmedian(costs, p, time_limit_s=args.time_limit)
        print(row(f"random-{n}-{seed}", n, p, result))
        return
    optima = read_pmedopt(args.orlib / "pmedopt.txt")
    total = time.perf_counter()
    worst = 0.0
    for k in args.instances:
        costs, p = read_pmed(args.orlib / f"pmed{k}.txt")
        result = solve_pmedian(costs, p, time_limit_s=args.time_limit)
        worst = max(worst, result.seconds)
        print(row(f"pmed{k}", len(costs), p, result, optima[f"pmed{k}"]), flush=True)
    print(f"total {time.perf_counter() - total:.1f} s; slowest instance {worst:.1f} s")


if __name__ == "__main__":
    main()
