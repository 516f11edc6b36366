"""A MILP held as arrays (columns, CSR rows), solved by HiGHS or by any PuLP solver.

Builders add blocks of columns and rows with numpy arrays; nothing loops over
n x m terms in Python on the HiGHS path. ``solver="highs"`` (the default) hands
the arrays to highspy; any other name (``"cbc"``, ``"glpk"``, ...) goes through
PuLP, which builds its model from the same arrays.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
import warnings
from dataclasses import dataclass, field
from functools import lru_cache

import highspy
import numpy as np
import pulp
from numpy.typing import NDArray

from siting.errors import SitingError

log = logging.getLogger(__name__)

INF = np.inf


@dataclass
class Milp:
    """Columns and rows of a minimisation MILP, added in blocks.

    Attributes
    ----------
    names
        Block name -> (first column, count), so builders find each other's variables.

    """

    lower: list[NDArray] = field(default_factory=list)
    upper: list[NDArray] = field(default_factory=list)
    cost: list[NDArray] = field(default_factory=list)
    integer: list[NDArray] = field(default_factory=list)
    names: dict[str, tuple[int, int]] = field(default_factory=dict)
    row_lower: list[NDArray] = field(default_factory=list)
    row_upper: list[NDArray] = field(default_factory=list)
    row_index: list[NDArray] = field(default_factory=list)  # per block: row of each nonzero
    col_index: list[NDArray] = field(default_factory=list)
    values: list[NDArray] = field(default_factory=list)
    row_names: list[tuple[str, int, int]] = field(default_factory=list)
    n_cols: int = 0
    n_rows: int = 0
    offset: float = 0.0

    def add_columns(
        self,
        name: str,
        count: int,
        *,
        lower: float | NDArray = 0.0,
        upper: float | NDArray = INF,
        cost: float | NDArray = 0.0,
        integer: bool = False,
    ) -> NDArray[np.int64]:
        """Add a block of columns; return their indices."""
        if name in self.names:
            raise ValueError(f"column block {name!r} exists")
        self.lower.append(np.broadcast_to(np.asarray(lower, float), (count,)).copy())
        self.upper.append(np.broadcast_to(np.asarray(upper, float), (count,)).copy())
        self.cost.append(np.broadcast_to(np.asarray(cost, float), (count,)).copy())
        self.integer.append(np.full(count, integer))
        self.names[name] = (self.n_cols, count)
        self.n_cols += count
        return np.arange(self.n_cols - count, self.n_cols)

    def set_upper(self, columns: NDArray | list[int], value: float) -> None:
        """Set the upper bound of some columns (global indices)."""
        columns = np.asarray(columns, dtype=np.int64)
        for block, (start, count) in enumerate(self.names.values()):
            inside = columns[(columns >= start) & (columns < start + count)]
            self.upper[block][inside - start] = value

    def upper_of(self, column: int) -> float:
        """The upper bound of one column."""
        for block, (start, count) in enumerate(self.names.values()):
            if start <= column < start + count:
                return float(self.upper[block][column - start])
        raise IndexError(column)

    def columns(self, name: str) -> NDArray[np.int64]:
        """Indices of a block of columns."""
        start, count = self.names[name]
        return np.arange(start, start + count)

    def add_rows(
        self,
        name: str,
        rows: NDArray,
        cols: NDArray,
        values: NDArray,
        *,
        lower: float | NDArray = -INF,
        upper: float | NDArray = INF,
        count: int | None = None,
    ) -> None:
        """Add ``count`` rows given as coordinates: ``rows`` are 0-based within the block."""
        rows = np.asarray(rows, dtype=np.int64)
        count = int(rows.max()) + 1 if count is None and len(rows) else (count or 0)
        if count == 0:
            return
        self.row_lower.append(np.broadcast_to(np.asarray(lower, float), (count,)).copy())
        self.row_upper.append(np.broadcast_to(np.asarray(upper, float), (count,)).copy())
        self.row_index.append(rows + self.n_rows)
        self.col_index.append(np.asarray(cols, dtype=np.int64))
        self.values.append(np.asarray(values, dtype=float))
        self.row_names.append((name, self.n_rows, count))
        self.n_rows += count

    def set_cost(self, costs: NDArray[np.float64]) -> None:
        """Replace the whole objective vector."""
        self.cost = [np.asarray(costs, float)]

    def arrays(self):
        """Concatenated column and CSR row arrays."""
        from scipy.sparse import csr_matrix

        cat = np.concatenate
        matrix = csr_matrix(
            (
                cat(self.values) if self.values else np.zeros(0),
                (
                    cat(self.row_index) if self.row_index else np.zeros(0, int),
                    cat(self.col_index) if self.col_index else np.zeros(0, int),
                ),
            ),
            shape=(self.n_rows, self.n_cols),
        )
        matrix.sum_duplicates()
        return (
            cat(self.lower),
            cat(self.upper),
            cat(self.cost),
            cat(self.integer),
            cat(self.row_lower) if self.row_lower else np.zeros(0),
            cat(self.row_upper) if self.row_upper else np.zeros(0),
            matrix,
        )


@dataclass(frozen=True)
class MilpResult:
    """What a solver returned.

    ``status`` is ``"optimal"``, ``"time_limit"`` (a feasible solution, gap
    open), ``"infeasible"`` or ``"error"``; ``x`` is None without a solution.
    """

    status: str
    x: NDArray[np.float64] | None
    objective: float
    bound: float
    seconds: float
    solver: str

    @property
    def gap(self) -> float:
        """Relative gap between objective and bound."""
        if self.x is None:
            return float("inf")
        scale = max(abs(self.objective), 1e-9)
        return max(0.0, (self.objective - self.bound) / scale)


def solve_milp(
    model: Milp,
    *,
    solver: str = "highs",
    time_limit_s: float | None = None,
    mip_rel_gap: float = 1e-6,
    start: NDArray[np.float64] | None = None,
) -> MilpResult:
    """Solve ``model`` with the named solver."""
    started = time.perf_counter()
    if solver.lower() == "highs":
        result = _solve_highs(model, time_limit_s, mip_rel_gap, start)
    else:
        result = _solve_pulp(model, solver, time_limit_s, mip_rel_gap)
    log.info(
        "%s: %d columns, %d rows: %s, objective %.6g, %.2f s",
        solver,
        model.n_cols,
        model.n_rows,
        result[0],
        result[2],
        time.perf_counter() - started,
    )
    return MilpResult(*result, seconds=time.perf_counter() - started, solver=solver)


_banner_shown = False
#: The thread count siting last made HiGHS's global scheduler with (None: not yet).
_scheduler_threads: int | None = None
_scheduler_lock = threading.Lock()

#: HiGHS ``presolve_mode`` for the assignment MILP: 2 is "light" (0 default, 3 full).
PRESOLVE_LIGHT = 2


def set_deadline(
    h: highspy.Highs, deadline: float, *, mip: bool = False, least: float = 0.01
) -> None:
    """Make ``h``'s next ``run()`` stop at ``deadline`` (a ``time.perf_counter()`` time).

    HiGHS (1.16, measured) holds an LP's ``time_limit`` against the object's run
    time summed over every ``run()`` so far, so a re-solved LP (cutting planes,
    pricing, a re-costed assignment) stops at once when that sum passes a limit
    set to the time left; a MIP's limit counts from its own start. The LP's limit
    is therefore its run time so far plus the time left.

    Parameters
    ----------
    h
        The HiGHS object about to run.
    deadline
        When the run must stop, in ``time.perf_counter()`` seconds.
    mip
        Whether the model has integer columns.
    least
        The smallest time given, so a run past the deadline still returns a status.

    """
    left = max(deadline - time.perf_counter(), least)
    h.setOptionValue("time_limit", left if mip else h.getRunTime() + left)


def new_highs(threads: int = 1) -> highspy.Highs:
    """A silent, seeded HiGHS instance (every HiGHS model in siting starts here).

    HiGHS prints its banner on standard output when the first instance of a
    process is made, before any option can silence it: that one construction
    runs with the output file descriptor pointed at the null device, so no
    command, sweep worker or notebook cell shows it.

    HiGHS runs every instance of a process on one global thread scheduler, made
    at the first ``run()`` with that run's ``threads``; a later run asking for
    another count fails with an error status and no solution (an LP as much as a
    MIP). Any HiGHS use outside siting (a reference model, PuLP's in-process
    HiGHS) may have made it, so the scheduler is remade at siting's first
    instance and whenever the count asked for changes. Solves that run at the
    same time (threads of one process) must therefore ask for the same count.
    """
    global _banner_shown, _scheduler_threads
    with _scheduler_lock:
        if _scheduler_threads != threads:
            highspy.Highs.resetGlobalScheduler(True)
            _scheduler_threads = threads
    if _banner_shown:
        h = highspy.Highs()
    else:
        sys.stdout.flush()
        saved = os.dup(1)
        null = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(null, 1)
            h = highspy.Highs()
        finally:
            os.dup2(saved, 1)
            os.close(null)
            os.close(saved)
        _banner_shown = True
    h.setOptionValue("output_flag", False)
    h.setOptionValue("threads", threads)
    h.setOptionValue("random_seed", 0)
    return h


def _solve_highs(model: Milp, time_limit_s, mip_rel_gap, start):
    lower, upper, cost, integer, row_lower, row_upper, matrix = model.arrays()
    h = new_highs()
    h.setOptionValue("mip_rel_gap", mip_rel_gap)
    # Light presolve: HiGHS's full presolve spends over a second on the county models
    # (big-M flow gates) that then solve at the root in 0.1-0.2 s; on the shipped
    # scenarios' 16 solves it took 12.0 s in all against 1.7 s light (same optima).
    h.setOptionValue("presolve_mode", PRESOLVE_LIGHT)
    if time_limit_s is not None:
        h.setOptionValue("time_limit", float(max(time_limit_s, 0.01)))
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = model.n_cols, model.n_rows
    lp.col_cost_, lp.col_lower_, lp.col_upper_ = cost, lower, upper
    lp.row_lower_, lp.row_upper_ = row_lower, row_upper
    lp.offset_ = model.offset
    csc = matrix.tocsc()
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = csc.indptr
    lp.a_matrix_.index_ = csc.indices
    lp.a_matrix_.value_ = csc.data
    if integer.any():
        lp.integrality_ = [
            highspy.HighsVarType.kInteger if flag else highspy.HighsVarType.kContinuous
            for flag in integer
        ]
    h.passModel(lp)
    if start is not None:
        solution = highspy.HighsSolution()
        solution.col_value = list(start)
        h.setSolution(solution)
    h.run()
    status = h.getModelStatus()
    info = h.getInfo()
    has_solution = info.primal_solution_status == 2  # kSolutionStatusFeasible
    x = np.asarray(h.getSolution().col_value) if has_solution else None
    objective = float(info.objective_function_value) if has_solution else float("nan")
    mip = integer.any()
    bound = float(info.mip_dual_bound) if mip else objective
    if status == highspy.HighsModelStatus.kOptimal:
        name = "optimal"
        if not mip or not np.isfinite(bound):
            bound = objective
    elif status in (highspy.HighsModelStatus.kInfeasible,):
        name = "infeasible"
    elif has_solution or status == highspy.HighsModelStatus.kTimeLimit:
        name = "time_limit"
    elif status == highspy.HighsModelStatus.kUnboundedOrInfeasible:
        name = "infeasible"
    else:
        name = "error"
    return name, x, objective, bound


#: Short names for PuLP's solver classes.
SOLVER_ALIASES = {"cbc": "pulp_cbc_cmd", "glpk": "glpk_cmd"}


@lru_cache(maxsize=1)
def _pulp_solvers() -> dict[str, str]:
    return {name.lower(): name for name in pulp.listSolvers(onlyAvailable=True)}


def available_solvers() -> list[str]:
    """Names ``solver.name`` accepts on this machine: highs, cbc, and PuLP's others."""
    names = {"highs"}
    for key in _pulp_solvers():
        short = {v: k for k, v in SOLVER_ALIASES.items()}.get(key, key)
        names.add(short)
    return sorted(names)


def pulp_solver_name(solver: str) -> str:
    """PuLP's class name for a solver name; a SitingError listing the choices if unknown."""
    key = SOLVER_ALIASES.get(solver.lower(), solver.lower())
    by_name = _pulp_solvers()
    if key not in by_name:
        raise SitingError(
            f"solver.name: {solver!r} is not available here; choose one of: "
            f"{', '.join(available_solvers())}"
        )
    return by_name[key]


def _solve_pulp(model: Milp, solver: str, time_limit_s, mip_rel_gap):
    lower, upper, cost, integer, row_lower, row_upper, matrix = model.arrays()
    solver_class = pulp_solver_name(solver)
    problem = pulp.LpProblem("siting", pulp.LpMinimize)
    variables = [
        problem.add_variable(
            f"c{k}",
            None if np.isinf(lower[k]) else lower[k],
            None if np.isinf(upper[k]) else upper[k],
            cat=pulp.LpInteger if integer[k] else pulp.LpContinuous,
        )
        for k in range(model.n_cols)
    ]
    nonzero = np.flatnonzero(cost)
    problem += pulp.LpAffineExpression([(variables[k], cost[k]) for k in nonzero]) + model.offset
    csr = matrix.tocsr()
    for r in range(model.n_rows):
        start, end = csr.indptr[r], csr.indptr[r + 1]
        expression = pulp.LpAffineExpression(
            [
                (variables[c], v)
                for c, v in zip(csr.indices[start:end], csr.data[start:end], strict=True)
            ]
        )
        if row_lower[r] == row_upper[r]:
            problem += expression == row_lower[r]
        else:
            if np.isfinite(row_lower[r]):
                problem += expression >= row_lower[r]
            if np.isfinite(row_upper[r]):
                problem += expression <= row_upper[r]
    options = {"msg": False}
    if time_limit_s is not None:
        options["timeLimit"] = float(time_limit_s)
    with warnings.catch_warnings():
        # PuLP 3.3 announces that its bundled CBC (PULP_CBC_CMD) leaves in PuLP 4
        warnings.simplefilter("ignore", DeprecationWarning)
        engine = pulp.getSolver(solver_class, **options)
    if hasattr(engine, "optionsDict"):
        engine.optionsDict["gapRel"] = mip_rel_gap
    problem.solve(engine)
    # sol_status 1 = optimal, 2 = feasible (e.g. stopped by the time limit): PuLP can
    # report status "Optimal" after a time limit, so read sol_status.
    if problem.sol_status == pulp.LpSolutionOptimal:
        name = "optimal"
    elif problem.sol_status == pulp.LpSolutionIntegerFeasible:
        name = "time_limit"
    elif problem.status == pulp.LpStatusInfeasible:
        return "infeasible", None, float("nan"), float("nan")
    else:
        return "error", None, float("nan"), float("nan")
    x = np.array([v.value() or 0.0 for v in variables])
    objective = float(cost @ x + model.offset)
    return name, x, objective, objective if name == "optimal" else -np.inf
