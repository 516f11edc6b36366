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
from scipy import sparse


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
        owner = sparse.csr_matrix((np.ones(n), (first, rows)), shape=(p, n))
        extra = np.asarray(owner @ contribution)
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


def _conflict_counts(conflicts, sites: NDArray[np.int64], m: int) -> NDArray[np.int64]:
    """For each column, how many of ``sites`` it conflicts with."""
    if conflicts is None or not len(sites):
        return np.zeros(m, dtype=np.int64)
    return np.asarray(conflicts[sites].sum(axis=0)).ravel().astype(np.int64)


def constrained_greedy(
    weighted: NDArray[np.float64],
    *,
    p_min: int,
    p_max: int,
    none_cost: float | NDArray[np.float64],
    fixed=(),
    forbidden=(),
    site_cost: NDArray[np.float64] | None = None,
    conflicts=None,
) -> list[int]:
    """Open sites one at a time, each the one that lowers the objective most.

    Parameters
    ----------
    weighted
        n x m matrix of weighted costs (weight times cost), ineligible pairs
        priced at ``none_cost``.
    p_min, p_max
        Bounds on the number of sites: at least ``p_min`` are opened, then more
        while one lowers the objective, up to ``p_max``.
    none_cost
        A client's cost while no site serves it (at least its largest entry):
        one number, or one per client.
    fixed, forbidden
        Columns opened first; columns never opened.
    site_cost
        Fixed charge of each column (zeros when omitted).
    conflicts
        m x m symmetric 0/1 matrix (dense or scipy sparse): columns that cannot
        both be open. A column in conflict with an open one is skipped.

    Returns
    -------
    list[int]
        Sorted columns; fewer than ``p_min`` when conflicts leave no column to add.

    """
    n, m = weighted.shape
    charge = np.zeros(m) if site_cost is None else np.asarray(site_cost, dtype=float)
    chosen = list(dict.fromkeys(int(j) for j in fixed))
    nothing = np.broadcast_to(np.asarray(none_cost, dtype=float), (n,))
    nearest = weighted[:, chosen].min(axis=1) if chosen else nothing.copy()
    closed = np.zeros(m, dtype=bool)
    closed[list(forbidden)] = True
    closed[chosen] = True
    blocked = _conflict_counts(conflicts, np.array(chosen, dtype=np.int64), m) > 0
    while len(chosen) < p_max:
        profit = np.maximum(nearest[:, None] - weighted, 0.0).sum(axis=0) - charge
        profit[closed | blocked] = -np.inf
        best = int(np.argmax(profit))
        if not np.isfinite(profit[best]) or (len(chosen) >= p_min and profit[best] <= 0):
            break
        chosen.append(best)
        closed[best] = True
        nearest = np.minimum(nearest, weighted[:, best])
        if conflicts is not None:
            blocked |= _conflict_counts(conflicts, np.array([best]), m) > 0
    return sorted(chosen)


def constrained_search(
    weighted: NDArray[np.float64],
    sites: list[int],
    *,
    p_min: int,
    p_max: int,
    none_cost: float | NDArray[np.float64],
    fixed=(),
    forbidden=(),
    site_cost: NDArray[np.float64] | None = None,
    conflicts=None,
    cover: tuple[NDArray[np.bool_], NDArray[np.float64], float] | None = None,
    max_iterations: int = 10_000,
    deadline: float | None = None,
) -> list[int]:
    """Best-improvement local search with swap, add and drop moves under side constraints.

    The objective is ``sum_i min_{j open} weighted[i, j] + sum_{j open} site_cost[j]``.
    Every move keeps the number of sites within ``[p_min, p_max]``, never closes a
    ``fixed`` column, never opens a ``forbidden`` one, never opens two columns in
    ``conflicts``, and keeps the covered weight at least the ``cover`` bound. A
    start that breaks a constraint is not repaired, except that ineligible pairs
    (priced at ``none_cost``) are left as soon as a move allows it.

    Parameters
    ----------
    weighted
        n x m weighted costs, ineligible pairs priced at ``none_cost``.
    sites
        Start columns.
    p_min, p_max
        Bounds on the number of open sites.
    none_cost
        A client's cost when no open site serves it (one number or one per client).
    fixed, forbidden
        Columns that stay open; columns never opened.
    site_cost
        Fixed charge per column.
    conflicts
        m x m 0/1 matrix of columns that cannot both be open.
    cover
        ``(covers, weights, minimum)``: ``covers`` n x m booleans (client i is
        covered by column j), the clients' weights, and the least covered weight.
    max_iterations
        Moves at most.
    deadline
        A ``time.perf_counter()`` value after which the search stops.

    Returns
    -------
    list[int]
        Sorted columns, a local optimum unless stopped early.

    """
    n, m = weighted.shape
    charge = np.zeros(m) if site_cost is None else np.asarray(site_cost, dtype=float)
    current = np.array(sorted(set(int(j) for j in sites)), dtype=np.int64)
    fixed_set = set(int(j) for j in fixed)
    shut = np.zeros(m, dtype=bool)
    shut[list(forbidden)] = True
    rows = np.arange(n)
    for _ in range(max_iterations):
        if deadline is not None and time.perf_counter() > deadline:
            break
        k = len(current)
        sub = weighted[:, current]
        if k == 1:
            first = np.zeros(n, dtype=np.int64)
            d1 = sub[:, 0]
            d2 = np.broadcast_to(np.asarray(none_cost, dtype=float), (n,))
        else:
            part = np.argpartition(sub, 1, axis=1)[:, :2]
            a, b = sub[rows, part[:, 0]], sub[rows, part[:, 1]]
            first = np.where(a <= b, part[:, 0], part[:, 1])
            d1, d2 = np.minimum(a, b), np.maximum(a, b)
        value = float(d1.sum() + charge[current].sum())
        gain = np.maximum(d1[:, None] - weighted, 0.0).sum(axis=0)
        loss = np.bincount(first, weights=d2 - d1, minlength=k)
        owner = sparse.csr_matrix((np.ones(n), (first, rows)), shape=(k, n))
        extra = owner @ np.maximum(d2[:, None] - np.maximum(weighted, d1[:, None]), 0.0)
        entering = ~shut
        entering[current] = False
        leaving = np.array([int(j) not in fixed_set for j in current])
        swap_ok = entering[None, :] & leaving[:, None]
        add_ok = entering.copy() if k < p_max else np.zeros(m, dtype=bool)
        drop_ok = leaving.copy() if k > p_min else np.zeros(k, dtype=bool)
        if conflicts is not None:
            counts = _conflict_counts(conflicts, current, m)
            pairwise = conflicts[current]
            pairwise = pairwise.toarray() if sparse.issparse(pairwise) else np.asarray(pairwise)
            swap_ok &= (counts[None, :] - pairwise) == 0
            add_ok &= counts == 0
        if cover is not None:
            covers, cover_weights, minimum = cover
            tolerance = 1e-9 * max(1.0, abs(minimum))
            inside = covers[:, current]
            count = inside.sum(axis=1)
            covered = float(cover_weights[count > 0].sum())
            unique = np.flatnonzero(count == 1)
            unique_owner = np.argmax(inside[unique], axis=1)
            lost = np.bincount(unique_owner, weights=cover_weights[unique], minlength=k)
            won = cover_weights[count == 0] @ covers[count == 0]
            regained = sparse.csr_matrix(
                (cover_weights[unique], (unique_owner, np.arange(len(unique)))),
                shape=(k, len(unique)),
            ) @ covers[unique].astype(float)
            swap_ok &= covered - lost[:, None] + won[None, :] + regained >= minimum - tolerance
            drop_ok &= covered - lost >= minimum - tolerance
        swap = np.where(swap_ok, gain[None, :] - loss[:, None] + extra, -np.inf)
        swap += charge[current][:, None] - charge[None, :]
        add = np.where(add_ok, gain - charge, -np.inf)
        drop = np.where(drop_ok, charge[current] - loss, -np.inf)
        r, j = np.unravel_index(int(np.argmax(swap)), swap.shape)
        moves = [(float(swap[r, j]), "swap"), (float(add.max(initial=-np.inf)), "add")]
        moves.append((float(drop.max(initial=-np.inf)), "drop"))
        profit, kind = max(moves, key=lambda move: move[0])
        if not profit > 1e-9 * max(1.0, abs(value)):
            break
        if kind == "swap":
            current[r] = j
        elif kind == "add":
            current = np.append(current, int(np.argmax(add)))
        else:
            current = np.delete(current, int(np.argmax(drop)))
        current = np.sort(current)
    return current.tolist()


def sampled_start(
    block,
    tree,
    weights: NDArray[np.float64],
    p: int,
    m: int,
    *,
    sample: int = 1500,
    neighbours: int = 100,
    seed: int = 0,
    deadline: float | None = None,
) -> list[int]:
    """A p-median heuristic that never holds the full n x m cost matrix.

    Greedy + swap on a weighted sample of clients and sites, then repeated swap
    searches of every client over a candidate set (the open sites, each one's
    ``neighbours`` nearest sites and a random sample) until the candidates no
    longer change the solution.

    Parameters
    ----------
    block
        ``block(rows, cols)`` returns the dense costs of those clients at those sites.
    tree
        A ``scipy.spatial.cKDTree`` over the site coordinates (``tree.data``).
    weights
        Client weights (n).
    p
        Sites to open.
    m
        Number of candidate sites.
    sample, neighbours, seed
        Sample sizes and the random seed.
    deadline
        A ``time.perf_counter()`` value after which the search stops.

    Returns
    -------
    list[int]
        Sorted site indices.

    """
    n = len(weights)
    rng = np.random.default_rng(seed)
    sites = np.sort(rng.choice(m, size=min(m, sample), replace=False))
    positive = np.flatnonzero(weights > 0)
    size = min(len(positive), 2 * sample)
    chance = weights[positive] / weights[positive].sum()
    clients = np.sort(rng.choice(positive, size=size, replace=False, p=chance))
    costs = block(clients, sites)
    local = swap_search(costs, weights[clients], greedy(costs, weights[clients], p))
    current = sites[local]
    value = np.inf
    for _ in range(20):
        if deadline is not None and time.perf_counter() > deadline:
            break
        near = tree.query(tree.data[current], k=min(m, neighbours + 1))[1]
        extra = rng.choice(m, size=min(m, sample // 3), replace=False)
        candidates = np.unique(np.concatenate([current, np.ravel(near), extra]))
        costs = block(np.arange(n), candidates)
        start = np.searchsorted(candidates, current).tolist()
        local = swap_search(costs, weights, start, deadline=deadline)
        found = assignment_cost(costs, weights, local)
        if found >= value - 1e-9 * max(1.0, abs(value)):
            break
        value, current = found, candidates[local]
    return sorted(int(j) for j in current)
