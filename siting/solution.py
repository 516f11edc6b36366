"""Solution: open offices, the assignment and the figures a strategist reads."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from siting.config import ModelSettings


@dataclass(frozen=True, eq=False)
class Solution:
    """A solved siting problem: complete and immutable, everything by id.

    Attributes
    ----------
    offices
        Ids of the open sites, sorted.
    assignment
        One row per organizer (index ``organizer_id``): ``office`` (site id),
        ``minutes``, ``weight``, ``county_id``.
    objective
        The value of the optimised objective (after tie-breaking: its primary value).
    parts
        The objective's parts: ``travel_minutes`` (weighted), ``soft_prices``,
        and for ``cost`` ``fixed_cost_sek`` and ``travel_cost_sek``.
    status
        ``"optimal"`` or ``"time_limit"`` (a feasible solution, gap open).
    gap
        Proven relative gap of the primary stage.
    seconds
        Wall time per stage.
    solver
        Solver name.
    settings
        The model settings solved.
    criteria_prices
        Hard criterion -> objective without it (on request; see ``solve_problem``).
    office_values
        Office -> objective with that office closed (on request).
    soft_prices
        Soft criterion name (``spread`` for the spread rule) -> the price paid
        in the objective; they sum to ``parts["soft_prices"]``.

    """

    offices: tuple[str, ...]
    assignment: pd.DataFrame
    objective: float
    parts: dict[str, float]
    status: str
    gap: float
    seconds: dict[str, float]
    solver: str
    settings: ModelSettings
    site_names: dict[str, str] = field(default_factory=dict)
    criteria_prices: dict[str, float | None] = field(default_factory=dict)
    office_values: dict[str, float | None] = field(default_factory=dict)
    soft_prices: dict[str, float] = field(default_factory=dict)

    def office_table(self) -> pd.DataFrame:
        """Per office: organizers, weight, weighted mean and longest minutes."""
        frame = self.assignment.assign(weighted=lambda f: f["minutes"] * f["weight"])
        grouped = frame.groupby("office")
        table = pd.DataFrame(
            {
                "organizers": grouped.size(),
                "weight": grouped["weight"].sum(),
                "mean_minutes": grouped["weighted"].sum()
                / grouped["weight"].sum().where(lambda w: w > 0),
                "max_minutes": grouped["minutes"].max(),
                "counties": grouped["county_id"].agg(lambda c: ",".join(sorted(set(c)))),
            }
        ).reindex(list(self.offices))
        table.insert(0, "name", [self.site_names.get(o, o) for o in table.index])
        table.index.name = "office_id"
        return table

    def office_by(self, groups: str | pd.Series) -> pd.Series:
        """The office serving most organizers of each group (a column or an aligned Series)."""
        keys = self.assignment[groups] if isinstance(groups, str) else groups
        offices = self.assignment["office"]
        frame = pd.DataFrame({"group": keys.reindex(offices.index), "office": offices})
        counts = frame.groupby(["group", "office"], sort=False).size()
        best = counts.groupby(level="group").idxmax()  # ties: the office met first
        index = best.index.rename(keys.name)
        return pd.Series([office for _, office in best], index=index, name="office")

    def kpis(self) -> dict[str, float]:
        """Headline figures: offices, mean/median/max minutes, shares within 2 h and 3 h."""
        minutes = self.assignment["minutes"].to_numpy()
        weight = self.assignment["weight"].to_numpy()
        total = weight.sum()
        per_office = self.assignment.groupby("office").size()
        return {
            "offices": len(self.offices),
            "organizers": len(minutes),
            "mean_minutes": float(minutes @ weight / total) if total else float("nan"),
            "median_minutes": float(np.median(minutes)),
            "max_minutes": float(minutes.max()),
            "share_within_120_min": float((minutes <= 120).mean()),
            "share_within_180_min": float((minutes <= 180).mean()),
            "organizers_per_office_min": int(per_office.min()),
            "organizers_per_office_max": int(per_office.max()),
            "objective": self.objective,
            "gap": self.gap,
        }
