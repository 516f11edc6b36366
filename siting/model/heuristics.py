"""Fast p-median heuristics: greedy construction and best-improvement swaps.

Vectorised with numpy over the whole cost matrix (n clients x m sites); the
swap step evaluates every (out, in) pair at once with the gain/loss/extra
decomposition of Resende & Werneck (2007), "A fast swap-based local search
procedure for location problems", Ann. Oper. Res. 150:205-230.
"""

from __future__ import annotations

import time

import numpy as np
from numpy.typing import NDArray


def assignment_cost(costs: NDArray[np.float64], weights: NDArray[np.float64], sites) -> float:
    """Weighted cost of serving every client from its nearest site in ``sites``."""
    return float(weights @ costs[:, list(sites)].min(axis=1))


def greedy(
    costs: NDArray[np.float64], weights: NDArray[np.float64], p: int, *, fixed=()
) -> list[int]:
    """Open ``p`` sites one at a time, each the one that lowers the cost most.

    ``fixed`` sites are opened first. Ties go to the lower column index.
    """
    n = costs.shape[0]
    chosen = list(dict.fromkeys(int(j) for j in fixed))
    nearest = costs[:, chosen].min(axis=1) if chosen else np.full(n, np.inf)
    while len(chosen) < p:
        if np.isinf(nearest).any():
            capped = np.where(np.isinf(nearest), costs.max() * 2 + 1, nearest)
        else:
            capped = nearest
        totals = weights @ np.minimum(capped[:, None], costs)
        totals[chosen] = np.inf
        best = int(np.argmin(totals))
        chosen.append(best)
        nearest = np.minimum(nearest, costs[:, best])
    return sorted(chosen)


def swap_search(
    costs: NDArray[np.float64],
    weights: NDArray[np.float64],
    sites: list[int],
    *,
    fixed=(),
    max_iterations: int = 10_000,
    deadline: float | None = None,
) -> list[int]:
    """Best-improvement swap local search from ``sites`` (a local optimum on return).

    ``fixed`` sites are never swapped out. ``deadline`` (a ``time.perf_counter()``
    value) stops the search early with the best sites found so far.
    """
    n, m = costs.shape
    current = np.array(sorted(sites))
    p = len(current)
    if p == m:
        return current.tolist()
    fixed_mask = np.isin(current, list(fixed))
    rows = np.arange(n)
    for _ in range(max_iterations):
        if deadline is not None and time.perf_counter() > deadline:
            break
        sub = costs[:, current]  # n x p
        if p == 1:
            first = np.zeros(n, dtype=int)
            d1 = sub[:, 0]
            d2 = np.full(n, costs.max() * 2 + 1)
        else:
            part = np.argpartition(sub, 1, axis=1)[:, :2]
            a, b = sub[rows, part[:, 0]], sub[rows, part[:, 1]]
            first = np.where(a <= b, part[:, 0], part[:, 1])
            d1, d2 = np.minimum(a, b), np.maximum(a, b)
        gain = weights @ np.maximum(d1[:, None] - costs, 0.0)  # m: adding j alone
        loss = np.bincount(first, weights=weights * (d2 - d1), minlength=p)  # p: removing r
        # extra[r, j]: clients of r that j would serve better than their second site
        contribution = weights[:, None] * np.maximum(
            d2[:, None] - np.maximum(costs, d1[:, None]), 0.0
        )
        extra = np.zeros((p, m))
        np.add.at(extra, first, contribution)
        profit = gain[None, :] - loss[:, None] + extra
        profit[:, current] = -np.inf
        profit[fixed_mask, :] = -np.inf
        r, j = np.unravel_index(int(np.argmax(profit)), profit.shape)
        if profit[r, j] <= 1e-9 * max(1.0, float(weights @ d1)):
            break
        current[r] = j
        order = np.argsort(current)
        current, fixed_mask = current[order], fixed_mask[order]
    return current.tolist()
