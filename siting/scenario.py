"""Scenario files: YAML validated by a schema, every problem reported at once, by field.

A scenario says which data (atlas, organizers, candidates), how travel is
timed, what to optimise under which criteria, which solver, and which outputs.
Defaults live in the settings models (:mod:`siting.config`); a scenario only
states what differs. Town names (``model.required``, ``model.forbidden``) are
resolved against the atlas when the scenario is run.

Dotted overrides change any field before validation: ``model.p=8``,
``travel.estimate.speed_kmh=80``, ``model.criteria.rail.mode=hard``.
"""

from __future__ import annotations

import copy
import difflib
import hashlib
import json
import logging
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    model_validator,
)

from siting._yaml import parse_yaml, read_yaml
from siting.config import ModelSettings, SolverSettings, TravelSettings
from siting.errors import ScenarioError

FORMATS = ("csv", "gpkg", "png", "svg", "pdf", "html", "json", "xlsx")

#: Languages of reports, maps and workbooks (labels in :mod:`siting.report.labels`).
LANGUAGES = ("sv", "en")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)


def _weight_alias(value):
    """``population_estimate`` (GeoNames sums, removed) now means SCB's population."""
    if value == "population_estimate":
        logging.getLogger(__name__).warning(
            "data.organizer_weight: population_estimate is deprecated and now means "
            "population (SCB's official population of each municipality, 31 Dec 2021); "
            "write organizer_weight: population"
        )
        return "population"
    return value


class DataSection(_Section):
    """Which atlas, organizers and candidates.

    Organizers: ``municipal`` (one per municipality, the default), ``estimate``
    (municipal ones plus independent ones spread by population: an estimate,
    labelled so in every output), or real ones from ``organizers_file`` (a
    CSV/Excel sheet) or ``school_register`` (a saved school-unit register).
    """

    manifest: str | None = Field(None, description="Atlas manifest; the shipped Sweden if empty.")
    organizers: Literal["municipal", "estimate"] = "municipal"
    organizers_file: str | None = Field(
        None, description="CSV or Excel sheet of organizers: id, name, coordinates or municipality."
    )
    organizer_weight: Annotated[
        Literal["one", "population", "file"], BeforeValidator(_weight_alias)
    ] = "one"
    school_register: str | None = Field(
        None, description="Folder of a saved school-unit register: real organizers."
    )
    min_population: int | None = Field(
        None, ge=0, description="Candidate towns: municipalities with at least this population."
    )

    @model_validator(mode="after")
    def _one_organizer_source(self) -> DataSection:
        given = [
            name
            for name, used in (
                ("organizers_file", self.organizers_file is not None),
                ("school_register", self.school_register is not None),
                ("organizers: estimate", self.organizers == "estimate"),
            )
            if used
        ]
        if len(given) > 1:
            raise ValueError(f"give one source of organizers, not {' and '.join(given)}")
        if self.organizer_weight == "file" and self.organizers_file is None:
            raise ValueError("organizer_weight file needs organizers_file")
        if self.organizer_weight == "population" and self.organizers != "municipal":
            raise ValueError("organizer_weight population applies to municipal organizers")
        return self


class OutputSection(_Section):
    """Which files ``siting solve`` writes."""

    formats: list[Literal["csv", "gpkg", "png", "svg", "pdf", "html", "json", "xlsx"]] = Field(
        default_factory=lambda: list(FORMATS)
    )
    dpi: int = Field(300, ge=50, le=1200)
    language: Literal["sv", "en"] | None = Field(
        None,
        description="Language of the report, maps and workbook; the manifest's by default.",
    )


#: Overrides that change no result, left out of titles.
_UNNOTED = ("outputs.", "outputs=", "reference=", "question=")


class Scenario(_Section):
    """A scenario file."""

    name: str
    question: str = ""
    data: DataSection = DataSection()
    travel: TravelSettings = TravelSettings()
    model: ModelSettings = ModelSettings()
    solver: SolverSettings = SolverSettings()
    outputs: OutputSection = OutputSection()
    reference: list[str] = Field(
        default_factory=list,
        description="Towns to compare against (a plan, say): the report prices forcing each in.",
    )
    _source: str | None = PrivateAttr(None)
    _overrides: tuple[str, ...] = PrivateAttr(())

    @property
    def source(self) -> str | None:
        """The file the scenario was read from (None when built in code)."""
        return self._source

    @property
    def overrides(self) -> tuple[str, ...]:
        """The overrides applied to the file, as ``field=value`` texts in the order given."""
        return self._overrides

    def with_provenance(self, source: str | None, overrides: tuple[str, ...]) -> Scenario:
        """A copy that records where it came from (its file and the overrides applied)."""
        copy_ = self.model_copy()
        copy_._source = source
        copy_._overrides = tuple(overrides)
        return copy_

    def title(self) -> str:
        """The name, with every override of the result noted: ``"... (modified: model.p=3)"``.

        Overrides of what is written (``outputs.*``), the reference towns and
        the question change no result and are not noted (provenance lists them).
        """
        changed = [o for o in self.overrides if not o.startswith(_UNNOTED)]
        if not changed:
            return self.name
        return f"{self.name} (modified: {', '.join(changed)})"

    def digest(self) -> str:
        """A short hash of everything that defines the scenario's result."""
        payload = self.model_dump(mode="json", exclude={"outputs", "question", "reference"})
        text = json.dumps(payload, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def _parse_value(text: str) -> Any:
    """A value written after ``=`` in an override, read as YAML (``8``, ``[a, b]``, ``off``)."""
    try:
        return parse_yaml(text, source="override", error=ScenarioError)
    except ScenarioError:
        return text


def apply_overrides(raw: dict, overrides: list[str] | dict[str, Any]) -> dict:
    """Set dotted fields (``"model.p=8"`` or ``{"model.p": 8}``) in a raw scenario dict."""
    items = (
        overrides.items()
        if isinstance(overrides, dict)
        else [_split_override(text) for text in overrides]
    )
    result = copy.deepcopy(raw)  # YAML values (dates, say) are not all JSON
    for path, value in items:
        keys = path.split(".")
        if not path or any(not key for key in keys):
            raise ScenarioError(f"override {path!r}: write it as field.path=value, e.g. model.p=8")
        node = result
        for depth, key in enumerate(keys[:-1]):
            child = node.get(key)
            if child is None:
                child = {}
                node[key] = child
            elif not isinstance(child, dict):
                where = ".".join(keys[: depth + 1])
                raise ScenarioError(
                    f"override {path}: {where} is a value ({child!r}), not a section"
                )
            node = child
        node[keys[-1]] = value
    return result


def _split_override(text: str) -> tuple[str, Any]:
    if "=" not in text:
        raise ScenarioError(f"override {text!r}: write it as field.path=value, e.g. model.p=8")
    path, value = text.split("=", 1)
    return path.strip(), _parse_value(value.strip())


def _allowed_keys(location: tuple) -> list[str]:
    """Field names allowed at a location of the schema (for suggestions)."""
    model: type[BaseModel] = Scenario
    for part in location[:-1]:
        field = model.model_fields.get(str(part))
        if field is None or not isinstance(field.annotation, type):
            return []
        annotation = field.annotation
        if not issubclass(annotation, BaseModel):
            return []
        model = annotation
    return list(model.model_fields)


def _message(error: dict) -> str:
    location = tuple(error["loc"])
    path = ".".join(str(p) for p in location) or "(top level)"
    if error["type"] == "extra_forbidden":
        allowed = _allowed_keys(location)
        close = difflib.get_close_matches(str(location[-1]), allowed, n=1)
        if not close and location[:1] == ("model",) and len(location) == 2:
            return (
                f"{path}: unknown key; criteria declared by the data's manifest are set "
                f"under model.criteria: write model.criteria.{location[1]}"
            )
        hint = f"; did you mean {close[0]!r}?" if close else f"; allowed: {', '.join(allowed)}"
        return f"{path}: unknown key{hint}"
    value = error.get("input")
    shown = "" if isinstance(value, dict) else f", got {_short(repr(value))}"
    return f"{path}: {error['msg']}{shown}"


def _short(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else f"{text[: limit - 15]}... ({len(text):,} chars)"


def validate_scenario(raw: Any, source: str = "scenario") -> Scenario:
    """Validate a raw scenario mapping; raise one ScenarioError listing every problem."""
    if not isinstance(raw, dict):
        raise ScenarioError(
            f"{source}: a scenario is a mapping of sections, got {type(raw).__name__}"
        )
    try:
        return Scenario.model_validate(raw)
    except ValidationError as exc:
        problems = [_message(e) for e in exc.errors()]
        listed = "\n".join(f"  - {p}" for p in problems)
        raise ScenarioError(f"{len(problems)} problem(s) in {source}:\n{listed}") from None


def load_scenario(
    path: str | Path, overrides: list[str] | dict[str, Any] | None = None
) -> Scenario:
    """Read a scenario YAML file, apply dotted overrides, validate.

    Raises
    ------
    ScenarioError
        A missing or unreadable file, or every problem in it, by field path.

    """
    path = Path(path)
    raw = read_yaml(path, what="scenario file", error=ScenarioError)
    if raw is None:
        raise ScenarioError(f"{path}: the scenario file is empty; it needs at least a name")
    if not isinstance(raw, dict):
        raise ScenarioError(
            f"{path}: a scenario is a mapping of sections (name:, data:, model:, ...), "
            f"got a {type(raw).__name__}"
        )
    if overrides:
        raw = apply_overrides(raw, overrides)
    scenario = validate_scenario(raw, str(path))
    return _resolve_paths(scenario, path.parent).with_provenance(
        str(path), override_texts(overrides)
    )


#: Fields that name files: relative to the scenario file's folder (``~`` expanded).
PATH_FIELDS = (
    "data.manifest",
    "data.school_register",
    "data.organizers_file",
    "travel.roads.osm_file",
    "travel.rail.gtfs_feed",
    "travel.estimate.calibration",
)


def _resolve_paths(scenario: Scenario, folder: Path) -> Scenario:
    """The scenario with every relative file path made absolute against ``folder``."""
    raw = scenario.model_dump(mode="python")
    changed = False
    for dotted in PATH_FIELDS:
        *parents, leaf = dotted.split(".")
        node = raw
        for key in parents:
            node = node.get(key) or {}
        value = node.get(leaf) if isinstance(node, dict) else None
        if not value:
            continue
        target = Path(value).expanduser()
        if not target.is_absolute():
            target = (folder / target).resolve()
        if str(target) != value:
            node[leaf], changed = str(target), True
    return Scenario.model_validate(raw) if changed else scenario


def override_texts(overrides: list[str] | dict[str, Any] | None) -> tuple[str, ...]:
    """Overrides as ``field=value`` texts (as typed, or written from a mapping)."""
    if not overrides:
        return ()
    if isinstance(overrides, dict):
        return tuple(f"{path}={_text(value)}" for path, value in overrides.items())
    return tuple(str(text).strip() for text in overrides)


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, default=str)
