"""The exception types users catch.

Every error siting raises on purpose derives from :class:`SitingError`, so a
script can catch one base class. Each concrete class also derives from the
built-in exception it refines, so ``except ValueError`` keeps working.
"""

from __future__ import annotations


class SitingError(Exception):
    """Base class of every error siting raises on purpose."""


class DataError(SitingError, ValueError):
    """Input data (atlas files, tables, registers) are missing or inconsistent.

    Parameters
    ----------
    problems
        Every problem found, one sentence each, naming the file, field or id.
    source
        The file or data set the problems were found in.

    """

    def __init__(self, problems: list[str] | str, *, source: str | None = None) -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        self.source = source
        where = f" in {source}" if source else ""
        if len(self.problems) == 1:
            message = f"{self.problems[0]}" + (f" ({source})" if source else "")
        else:
            listed = "\n".join(f"  - {p}" for p in self.problems)
            message = f"{len(self.problems)} problems{where}:\n{listed}"
        super().__init__(message)


class UnknownNameError(DataError, KeyError):
    """A name (town, county, site) that the atlas does not know.

    The message lists the closest known names.
    """

    def __str__(self) -> str:  # KeyError would quote the message otherwise
        return str(self.args[0])


class ScenarioError(SitingError, ValueError):
    """Settings that cannot work (p larger than the candidates, capacity below demand, ...)."""


class InfeasibleError(SitingError, RuntimeError):
    """No solution satisfies the hard criteria.

    Attributes
    ----------
    conflict
        A minimal set of criteria that cannot hold together.
    restoring
        Criteria whose removal alone restores feasibility.

    """

    def __init__(self, message: str, *, conflict: list[str], restoring: list[str]) -> None:
        super().__init__(message)
        self.conflict = conflict
        self.restoring = restoring


class OutputError(SitingError, OSError):
    """Output files cannot be written where asked.

    The folder is a file, holds files that are not siting's, cannot be written
    (read-only, no permission, a system folder), or the disk is full. Earlier
    results are left as they were.
    """
