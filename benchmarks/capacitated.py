"""Capacitated p-median benchmark: OR-Library pmedcap1 and Sweden at the real scale.

Prints, per instance: n, m, p, capacity, objective, published value (pmedcap1),
proven bound and gap, the LP bound, assignment columns used, seconds and status,
with the git commit, cores, load and cache state. Targets (issue 14, 2 cores):
pmedcap1 1-20 all proven at the published optima (no time target: each problem
gets ``--pmedcap-limit`` seconds, 900 by default, as a safety cap); Sweden 2,800 x
279, p = 10, capacity 300 per office: gap <= 1 % in 120 s (``--time-limit``).

    python benchmarks/capacitated.py --pmedcap          # problems 1-20
    python benchmarks/capacitated.py --pmedcap 1 2 20 --pmedcap-limit 120
    python benchmarks/capacitated.py --sweden --capacity 300 --p 10 --time-limit 120

Each run holds ``/tmp/siting-heavy.lock``. The Swedish instance is the one
``benchmarks/pmedian.py --sweden`` solves (``benchmarks/_instances.py``): the 290
municipal organizers of the shipped atlas plus 2,510 SYNTHETIC independent
organizers placed at localities with probability proportional to population
(seed 0), every organizer weight 1, x 279 candidate towns, estimated minutes.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import _machine
from _instances import SYNTHETIC_ORGANIZERS, sweden_instance
from _machine import target

from siting.model.capacitated import solve_capacitated
from siting.model.orlib import read_pmedcap

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT.parent / "shared" / "bench" / "orlib"


def header(cache: str) -> None:
    """Commit, cores, load and cache state."""
    print(_machine.header("capacitated p-median (benchmarks/capacitated.py)", cache=cache))


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
    print(f"each problem: time limit {time_limit:g} s")
    proven, longest = 0, 0.0
    total = time.perf_counter()
    for k in problems:
        costs, demand, p, capacity, published = read_pmedcap(
            folder / "pmedcap1" / f"pmedcap1_{k:02d}.txt"
        )
        result = solve_capacitated(costs, None, p, capacity, loads=demand, time_limit_s=time_limit)
        longest = max(longest, result.seconds)
        proven += result.status == "optimal" and abs(result.objective - published) < 1e-6
        n, m = costs.shape
        print(line(f"pmedcap1_{k:02d}", n, m, p, capacity, result, published), flush=True)
    elapsed = time.perf_counter() - total
    print(
        f"{proven} of {len(problems)} proven at the published value; total {elapsed:.1f} s, "
        f"longest {longest:.1f} s"
    )
    print(
        target(
            f"pmedcap1 problems {problems[0]}-{problems[-1]}" if problems else "pmedcap1: none",
            f"{proven} of {len(problems)} proven, {elapsed:.0f} s (longest {longest:.0f} s)",
            f"{len(problems)} of {len(problems)} proven",
            proven == len(problems),
        )
    )


def sweden(args) -> None:
    """The real-scale capacitated instance: the one ``benchmarks/pmedian.py --sweden`` solves."""
    started = time.perf_counter()
    problem = sweden_instance()
    header("n/a (travel minutes computed in process, no matrix cache)")
    n, m = problem.minutes.shape
    print(
        f"Sweden: 290 municipal organizers + {SYNTHETIC_ORGANIZERS} SYNTHETIC independent "
        f"organizers (population-weighted, seed 0), weight 1 each; {m} candidate towns "
        f"(>= 4,000 inhabitants, and the criteria's sites); estimated minutes, built in "
        f"{time.perf_counter() - started:.1f} s"
    )
    print(columns_line())
    for capacity in args.capacity:
        result = solve_capacitated(
            problem.minutes,
            problem.weights,
            args.p,
            capacity,
            time_limit_s=args.time_limit,
            site_regions=problem.site_county,  # the bound branches on offices per county
        )
        print(line("sweden", n, m, args.p, capacity, result), flush=True)
        print(
            f"  heuristic {result.heuristic_objective:.2f}; "
            + ", ".join(f"{k} {v:.1f}" for k, v in result.timings.items())
            + f"; restriction exact: {result.exact_restriction}; priced {result.priced}"
        )
        met = result.gap <= 0.01 and result.seconds <= 120
        print(
            target(
                f"{n:,} x {m}, p = {args.p}, capacity {capacity:g} per office",
                f"gap {result.gap:.2%} in {result.seconds:.1f} s ({result.status})",
                "gap <= 1 % in 120 s",
                met,
            )
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pmedcap", type=int, nargs="*", metavar="K")
    parser.add_argument("--sweden", action="store_true")
    parser.add_argument("--p", type=int, default=10)
    parser.add_argument("--capacity", type=float, nargs="+", default=[300.0])
    parser.add_argument("--time-limit", type=float, default=120.0, help="Sweden, seconds")
    parser.add_argument(
        "--pmedcap-limit", type=float, default=900.0, help="seconds per pmedcap1 problem"
    )
    parser.add_argument("--orlib", type=Path, default=BENCH)
    args = parser.parse_args()
    _machine.hold_lock()
    if args.sweden:
        sweden(args)
    if args.pmedcap is not None or not args.sweden:
        pmedcap(args.orlib, args.pmedcap or list(range(1, 21)), args.pmedcap_limit)


if __name__ == "__main__":
    main()
