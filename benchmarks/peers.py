"""Peer benchmark: siting's exact p-median beside spopt's PMedian (PuLP + CBC), same matrices.

For each instance (OR-Library pmed1-10, seeded random Euclidean 300 x 300 and
600 x 600) both solve the same cost matrix to optimality; the table prints both
objectives, whether they agree, both times and the time ratio spopt / siting.
spopt runs in a child process capped at ``--cap`` seconds, its model build
included (CBC gets the same time limit); past it the row says "> cap" and the
child's process group, CBC with it, is killed. spopt is an optional extra:
``pip install -e ".[bench]"``.

    python benchmarks/peers.py
    python benchmarks/peers.py --instances 1 2 --random 300 --cap 120

It holds ``/tmp/siting-heavy.lock`` while it runs, as every heavy benchmark does.
"""

from __future__ import annotations

import argparse
import contextlib
import multiprocessing
import os
import signal
import tempfile
import time
from pathlib import Path

import _machine
import numpy as np
from _instances import random_instance  # the same random instances as benchmarks/pmedian.py

from siting.model.orlib import read_pmed, read_pmedopt
from siting.model.pmedian import solve_pmedian

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT.parent / "shared" / "bench" / "orlib"


def _spopt_child(costs: np.ndarray, p: int, cap: float, folder: str, queue) -> None:
    os.setpgrp()  # CBC, started by PuLP, joins this group: the parent can stop both
    tempfile.tempdir = folder  # PuLP's model and solution files, removed by the parent
    import pulp
    from spopt.locate import PMedian

    started = time.perf_counter()
    model = PMedian.from_cost_matrix(costs, np.ones(len(costs)), p_facilities=p)
    model = model.solve(pulp.PULP_CBC_CMD(msg=False, timeLimit=cap))
    status = pulp.LpStatus[model.problem.status]
    queue.put((float(pulp.value(model.problem.objective)), status, time.perf_counter() - started))


def run_spopt(costs: np.ndarray, p: int, cap: float) -> tuple[float | None, str, float]:
    """Objective, status and seconds of spopt, or (None, "> cap", cap) past the cap.

    The cap counts spopt's model build as well as CBC's solve. Past it the child's
    whole process group (the child and the CBC it started) is killed, so no solver
    outlives its row, and PuLP's files go with the child's temporary folder.
    """
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    with tempfile.TemporaryDirectory(prefix="siting-peers-") as folder:
        child = context.Process(target=_spopt_child, args=(costs, p, cap, folder, queue))
        started = time.perf_counter()
        child.start()
        child.join(cap + 5)
        alive = child.is_alive()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.pid, signal.SIGKILL)  # CBC too, whether or not the child ended
        child.join()
        elapsed = time.perf_counter() - started
    if alive:
        return None, "> cap", elapsed
    if queue.empty():
        return None, "failed", elapsed
    objective, status, seconds = queue.get()
    if seconds > cap:
        return objective, "> cap", seconds
    return objective, status, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", type=int, nargs="*", default=list(range(1, 11)))
    parser.add_argument("--random", type=int, nargs="*", default=[300, 600])
    parser.add_argument("--p", type=int, default=10, help="p of the random instances")
    parser.add_argument("--cap", type=float, default=300.0, help="seconds allowed to spopt")
    parser.add_argument("--orlib", type=Path, default=BENCH)
    args = parser.parse_args()
    _machine.hold_lock()
    print(
        _machine.header(
            f"siting beside spopt's PMedian (benchmarks/peers.py), spopt cap {args.cap:g} s",
            cache="n/a (matrices built in memory)",
        )
    )
    print(
        f"{'instance':<14}{'n':>5}{'p':>5}{'optimum':>10}{'siting':>12}{'spopt':>12}"
        f"{'agree':>7}{'siting s':>10}{'spopt s':>10}{'ratio':>9}"
    )
    optima = read_pmedopt(args.orlib / "pmedopt.txt")
    instances = [(f"pmed{k}", *read_pmed(args.orlib / f"pmed{k}.txt")) for k in args.instances]
    instances += [(f"random-{n}", random_instance(n, 0), args.p) for n in args.random]
    for name, costs, p in instances:
        ours = solve_pmedian(costs, p)
        theirs, status, seconds = run_spopt(costs, p, args.cap)
        known = optima.get(name, "")
        if theirs is None or status != "Optimal":
            agree, ratio = "-", f"> {seconds / ours.seconds:.0f}x" if theirs is None else "-"
            theirs_text, seconds_text = status, f"> {args.cap:g}" if theirs is None else status
        else:
            agree = "yes" if abs(theirs - ours.objective) <= 1e-6 * max(1, ours.objective) else "NO"
            ratio = f"{seconds / ours.seconds:.1f}x"
            theirs_text, seconds_text = f"{theirs:.2f}", f"{seconds:.2f}"
        print(
            f"{name:<14}{len(costs):>5}{p:>5}{known!s:>10}{ours.objective:>12.2f}"
            f"{theirs_text:>12}{agree:>7}{ours.seconds:>10.2f}{seconds_text:>10}{ratio:>9}",
            flush=True,
        )


if __name__ == "__main__":
    main()
