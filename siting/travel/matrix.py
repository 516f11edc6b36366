"""A labelled matrix of travel times (or any costs): rows are origins, columns destinations."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from siting.errors import DataError


@dataclass(frozen=True, eq=False)
class TravelTimeMatrix:
    """Minutes from each origin (row) to each destination (column), labelled by id.

    Nothing relies on positional order: select with :meth:`loc` or convert with
    :meth:`to_frame` / :meth:`to_long`.

    Attributes
    ----------
    origins
        Row ids, unique.
    destinations
        Column ids, unique.
    minutes
        ``len(origins) x len(destinations)`` floats (``inf`` = unreachable).
    mode
        Optional same-shape array of the mode used per pair (e.g. ``"road"``).

    """

    origins: tuple[str, ...]
    destinations: tuple[str, ...]
    minutes: NDArray[np.float64]
    mode: NDArray[np.str_] | None = None

    def __post_init__(self) -> None:
        shape = (len(self.origins), len(self.destinations))
        problems = []
        if self.minutes.shape != shape:
            problems.append(f"minutes has shape {self.minutes.shape}, labels say {shape}")
        for what, ids in (("origin", self.origins), ("destination", self.destinations)):
            seen: set[str] = set()
            duplicated = sorted({i for i in ids if i in seen or seen.add(i)})
            if duplicated:
                problems.append(f"duplicate {what} id(s) {', '.join(duplicated[:10])}")
        if self.mode is not None and self.mode.shape != shape:
            problems.append(f"mode has shape {self.mode.shape}, labels say {shape}")
        if problems:
            raise DataError(problems, source="travel-time matrix")

    @classmethod
    def from_frame(cls, frame: pd.DataFrame) -> TravelTimeMatrix:
        """Build from a DataFrame whose index holds origins and columns destinations."""
        return cls(
            tuple(map(str, frame.index)),
            tuple(map(str, frame.columns)),
            frame.to_numpy(dtype=float),
        )

    @classmethod
    def from_long(
        cls,
        table: pd.DataFrame,
        *,
        origin: str = "origin_id",
        destination: str = "destination_id",
        value: str = "minutes",
    ) -> TravelTimeMatrix:
        """Build from a long table (one row per pair); a missing pair is unreachable."""
        wide = table.pivot(index=origin, columns=destination, values=value)
        matrix = cls.from_frame(wide.sort_index().sort_index(axis=1).fillna(np.inf))
        if "mode" in table:
            modes = table.pivot(index=origin, columns=destination, values="mode")
            modes = modes.reindex(index=list(matrix.origins), columns=list(matrix.destinations))
            return cls(
                matrix.origins,
                matrix.destinations,
                matrix.minutes,
                modes.fillna("").to_numpy(dtype=str),
            )
        return matrix

    def to_frame(self) -> pd.DataFrame:
        """Minutes as a DataFrame (index: origins, columns: destinations)."""
        return pd.DataFrame(self.minutes, index=list(self.origins), columns=list(self.destinations))

    def to_long(self) -> pd.DataFrame:
        """One row per pair: origin_id, destination_id, minutes (and mode if known)."""
        table = pd.DataFrame(
            {
                "origin_id": np.repeat(self.origins, len(self.destinations)),
                "destination_id": np.tile(self.destinations, len(self.origins)),
                "minutes": self.minutes.ravel(),
            }
        )
        if self.mode is not None:
            table["mode"] = self.mode.ravel()
        return table

    def loc(self, origins: list[str], destinations: list[str]) -> TravelTimeMatrix:
        """The sub-matrix of the given ids, in the given order."""
        rows = _positions(self.origins, origins, "origin")
        cols = _positions(self.destinations, destinations, "destination")
        mode = None if self.mode is None else self.mode[np.ix_(rows, cols)]
        return TravelTimeMatrix(
            tuple(origins), tuple(destinations), self.minutes[np.ix_(rows, cols)], mode
        )


def _positions(labels: tuple[str, ...], wanted: list[str], what: str) -> NDArray[np.int64]:
    index = {label: k for k, label in enumerate(labels)}
    missing = [w for w in wanted if w not in index]
    if missing:
        raise DataError(f"unknown {what} id(s) {', '.join(map(str, missing[:10]))}")
    return np.array([index[w] for w in wanted], dtype=np.int64)
