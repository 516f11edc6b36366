"""Readers for the OR-Library p-median benchmark files (Beasley 1985)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import shortest_path


def read_pmed(path: str | Path) -> tuple[NDArray[np.float64], int]:
    """Read ``pmedN.txt``: return the all-pairs shortest-path cost matrix and p.

    The file is ``n edges p`` then ``i j cost`` lines (1-based, undirected). As
    OR-Library specifies, a repeated edge takes the cost of its last line.
    """
    tokens = Path(path).read_text().split()
    n, edges, p = (int(v) for v in tokens[:3])
    body = np.array(tokens[3:], dtype=np.int64).reshape(-1, 3)
    if len(body) != edges:
        raise ValueError(f"{path}: header says {edges} edges, file has {len(body)}")
    i, j, cost = body[:, 0] - 1, body[:, 1] - 1, body[:, 2].astype(float)
    last = {}
    for index, (a, b) in enumerate(zip(i, j, strict=True)):
        last[(min(a, b), max(a, b))] = index  # last occurrence wins
    keep = np.array(sorted(last.values()))
    rows = np.concatenate([i[keep], j[keep]])
    cols = np.concatenate([j[keep], i[keep]])
    data = np.concatenate([cost[keep], cost[keep]])
    graph = coo_matrix((data, (rows, cols)), shape=(n, n)).tocsr()
    return shortest_path(graph, method="D", directed=False), p


def read_pmedopt(path: str | Path) -> dict[str, int]:
    """Read OR-Library's ``pmedopt``: instance name -> optimal objective."""
    optima = {}
    for line in Path(path).read_text().splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0].lower().startswith("pmed") and parts[-1].isdigit():
            optima[parts[0].lower()] = int(parts[-1])
    return optima


def read_pmedcap(
    path: str | Path,
) -> tuple[NDArray[np.float64], NDArray[np.float64], int, int, float]:
    """Read one Osman & Christofides capacitated p-median problem (``pmedcap1_NN.txt``).

    Returns the cost matrix (floor of the Euclidean distance, the convention that
    reproduces the published values), the demands, p, the capacity and the
    published value. Every point is both a client and a candidate site.
    """
    lines = Path(path).read_text().split("\n")
    published = float(lines[0].split()[1])
    n, p, capacity = (int(v) for v in lines[1].split())
    rows = np.array([[float(v) for v in line.split()] for line in lines[2 : 2 + n]])
    xy, demand = rows[:, 1:3], rows[:, 3]
    costs = np.floor(np.sqrt(((xy[:, None, :] - xy[None, :, :]) ** 2).sum(-1)))
    return costs, demand, p, capacity, published


def read_tsplib(path: str | Path) -> NDArray[np.float64]:
    """Read the node coordinates of a TSPLIB ``EUC_2D`` file (e.g. ``sw24978.tsp``).

    Returns an ``(n, 2)`` array in file order. Costs between nodes are, by TSPLIB's
    ``EUC_2D`` convention, the Euclidean distance rounded to the nearest integer
    (``nint``; see :func:`tsplib_costs`).
    """
    lines = Path(path).read_text().splitlines()
    marks = [k for k, line in enumerate(lines) if line.strip().startswith("NODE_COORD_SECTION")]
    if not marks:
        raise ValueError(f"{path}: no NODE_COORD_SECTION")
    start = marks[0]
    header = {}
    for line in lines[:start]:
        key, _, value = line.partition(":")
        header[key.strip().upper()] = value.strip()
    if header.get("EDGE_WEIGHT_TYPE") != "EUC_2D":
        raise ValueError(f"{path}: EDGE_WEIGHT_TYPE {header.get('EDGE_WEIGHT_TYPE')!r}, not EUC_2D")
    n = int(header["DIMENSION"])
    body = [line.split() for line in lines[start + 1 : start + 1 + n]]
    if len(body) != n or any(len(parts) != 3 for parts in body):
        raise ValueError(f"{path}: expected {n} lines 'id x y' after NODE_COORD_SECTION")
    return np.array([[float(x), float(y)] for _, x, y in body])


def tsplib_costs(a: NDArray[np.float64], b: NDArray[np.float64]) -> NDArray[np.float64]:
    """TSPLIB ``EUC_2D`` costs between point sets: ``nint`` of the Euclidean distance."""
    diff = a[:, None, :] - b[None, :, :]
    return np.floor(np.sqrt((diff**2).sum(-1)) + 0.5)
