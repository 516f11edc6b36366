"""Settings with their documented defaults: the one place each default lives.

Scenario files (issue "Scenarios") embed these models; scripts pass them directly.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator


class _Settings(BaseModel):
    # strict: YAML's true is not the number 1, nor "3" the number 3; no inf or nan
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)


class EstimateSettings(_Settings):
    """The ``estimate`` travel backend: straight line x circuity / speed.

    Both defaults are **estimates**, not measurements: a circuity (road over
    straight-line distance) of 1.2 and an average long-distance car speed of
    90 km/h put Stockholm-Göteborg (397 km apart) at 5 h 18 min and
    Stockholm-Malmö (513 km) at 6 h 50 min, somewhat slower than a car on the
    motorways (about 4 h 45 and 6 h: general knowledge, not checked against a
    route planner). Calibrate them against the roads backend or published travel
    times before relying on absolute minutes.

    ``calibration``: a CSV written by ``siting travel calibrate`` (columns
    ``county_id``, ``circuity``, ``speed_kmh``) fitted on a real road network;
    a trip then uses the mean pace (circuity / speed) of its two ends' counties,
    and counties missing from the file use ``circuity`` and ``speed_kmh``.
    """

    circuity: float = Field(1.2, ge=1.0, le=3.0)
    speed_kmh: float = Field(90.0, gt=0, le=200)
    access_min: float = Field(
        0.0, ge=0, le=600, description="Fixed minutes added to every trip (at most 10 hours)."
    )
    calibration: str | None = Field(
        None, description="Per-county circuity and speed (CSV from `siting travel calibrate`)."
    )


class RailSettings(_Settings):
    """The rail leg of door-to-door trips.

    ``speed_factor`` multiplies every calibrated line speed (1.2 = 20 % faster
    trains). ``transfer_min`` is added at each end of a rail leg (walking,
    waiting, changing from road to train): an estimate, 15 minutes by default.
    ``change_min`` is the time to change from one train to another (an estimate;
    the rail line file's ``change_min``, 10 minutes for Sweden, when empty).
    """

    speed_factor: float = Field(1.0, gt=0, le=5)
    transfer_min: float = Field(15.0, ge=0)
    change_min: float | None = Field(
        None, ge=0, description="Minutes per change of trains; the rail line file's if empty."
    )
    source: Literal["lines", "gtfs"] = "lines"
    gtfs_feed: str | None = Field(None, description="GTFS folder or .zip (source: gtfs).")
    gtfs_date: dt.date | None = Field(
        None, strict=False, description="Service date (source: gtfs), e.g. 2024-03-12."
    )
    gtfs_window: tuple[str, str] = Field(("06:00:00", "20:00:00"), strict=False)

    @model_validator(mode="after")
    def _gtfs_complete(self) -> RailSettings:
        if self.source == "gtfs" and (self.gtfs_feed is None or self.gtfs_date is None):
            raise ValueError("source gtfs needs gtfs_feed and gtfs_date")
        return self


class RoadSettings(_Settings):
    """The ``roads`` backend: an OSM extract (``.osm.pbf``, ``.osm`` or ``.xml``).

    Each point reaches its nearest road node in a straight line at
    ``access_speed_kmh`` (an **estimate**: 30 km/h, driveways and streets not
    in the kept road classes); a point farther than ``max_access_km`` from
    every road is an error naming it (the extract does not cover it). Road
    classes and default speeds are documented in siting/travel/roads.py.
    """

    osm_file: str | None = None
    access_speed_kmh: float = Field(30.0, gt=0, le=130)
    max_access_km: float = Field(5.0, gt=0, le=100)


class PerturbationSettings(_Settings):
    """Random perturbation of organizer-office minutes, for Monte Carlo robustness.

    Every minute is multiplied by a factor drawn uniformly from
    [1 - fraction, 1 + fraction], independently per pair, from ``seed``.
    """

    fraction: float = Field(0.0, ge=0, lt=1)
    seed: int = Field(0, ge=0)


class TravelSettings(_Settings):
    """How travel minutes are computed.

    ``modes``: ``[road]`` (the road backend alone) or ``[road, rail]`` (the
    better of road alone and road to a station, rail, and road on).
    """

    backend: Literal["estimate", "roads"] = "estimate"
    modes: list[Literal["road", "rail"]] = Field(default_factory=lambda: ["road"])
    estimate: EstimateSettings = EstimateSettings()
    roads: RoadSettings = RoadSettings()
    rail: RailSettings = RailSettings()
    cache: bool = Field(True, description="Reuse matrices from the cache (siting/travel/cache.py).")
    perturbation: PerturbationSettings = PerturbationSettings()

    @model_validator(mode="after")
    def _roads_complete(self) -> TravelSettings:
        if self.backend == "roads" and self.roads.osm_file is None:
            raise ValueError("backend roads needs roads.osm_file")
        return self


def _yaml_off(value):
    """YAML 1.1 reads an unquoted ``off`` as ``false``: take it as the mode ``off``."""
    return "off" if value is False else value


Mode = Annotated[Literal["off", "hard", "soft"], BeforeValidator(_yaml_off)]


class Criterion(_Settings):
    """How a scenario uses one of the manifest's declared criteria (``model.criteria.NAME``).

    The manifest declares what a criterion means (an office only where a site
    of given kinds is in town; a site of given kinds within minutes of the
    office; a yes/no attribute of the town); the scenario switches it:

    - ``off``: ignored (reported only);
    - ``hard``: offices only at towns that meet it;
    - ``soft``: ``price`` (objective units) for each office that does not meet
      it and, for nearness criteria, ``price_per_minute`` for each minute
      beyond ``max_minutes``.

    ``max_minutes`` is the nearness limit (the manifest's default when empty);
    other kinds of criteria ignore it.
    """

    mode: Mode = "off"
    price: float = Field(0.0, ge=0)
    max_minutes: float | None = Field(None, ge=0)
    price_per_minute: float = Field(0.0, ge=0)


class SpreadCriterion(_Settings):
    """Every organizer within ``max_minutes`` of its office; offices apart.

    ``hard``: no organizer beyond ``max_minutes``. ``soft``: ``price_per_minute``
    per weighted minute beyond it. ``min_separation_minutes`` (hard when set):
    no two offices closer than this.
    """

    mode: Mode = "off"
    max_minutes: float = Field(240.0, gt=0)
    price_per_minute: float = Field(0.0, ge=0)
    min_separation_minutes: float | None = Field(None, gt=0)


class CountyRules(_Settings):
    """County (region) rules.

    ``whole``: each county is served whole by one office (organizers inherit
    their county's office). ``own_county``: an office serves the county it lies
    in. ``contiguous``: each office's counties form a connected region over the
    county adjacency graph (islands joined by their ferry links); implies both.
    """

    whole: bool = False
    own_county: bool = False
    contiguous: bool = False


class CapacityRules(_Settings):
    """Dialogues an office can hold per year, and a balance band.

    ``dialogues_per_office``: staff x dialogues per person; organizer weights
    count dialogues. ``balance``: every office's load within +/- this fraction
    of the mean load (needs a fixed p).
    """

    dialogues_per_office: float | None = Field(None, gt=0)
    balance: float | None = Field(None, ge=0, le=1)


class CostRules(_Settings):
    """The ``cost`` objective: yearly SEK.

    ``fixed_cost_sek`` per office and year; travel costs ``trips_per_organizer``
    one-way trips per organizer weight and year at ``sek_per_trip_minute``.
    """

    fixed_cost_sek: float = Field(0.0, ge=0)
    trips_per_organizer: float = Field(2.0, ge=0)
    sek_per_trip_minute: float = Field(0.0, ge=0)


class ModelSettings(_Settings):
    """What to optimise and under which criteria.

    ``objective``:

    - ``median``: least weighted travel minutes (p-median);
    - ``center``: least longest travel time, ties by total minutes;
    - ``coverage``: most weight within ``coverage_minutes``, ties by total minutes;
    - ``min_offices``: fewest offices with everyone within ``coverage_minutes``,
      ties by total minutes;
    - ``cost``: yearly fixed plus travel cost (see ``cost``), p free within bounds.

    ``p`` fixes the number of offices; ``p_min``/``p_max`` bound it instead.
    Soft prices are in objective units (weighted minutes, or SEK for ``cost``);
    for ``center``, ``coverage`` and ``min_offices`` they apply in the tie-break.
    """

    objective: Literal["median", "center", "coverage", "min_offices", "cost"] = "median"
    p: int | None = Field(None, ge=1)
    p_min: int | None = Field(None, ge=1)
    p_max: int | None = Field(None, ge=1)
    coverage_minutes: float | None = Field(None, gt=0)
    required: list[str] = Field(default_factory=list)
    forbidden: list[str] = Field(default_factory=list)
    criteria: dict[str, Criterion] = Field(
        default_factory=dict,
        description="The manifest's declared criteria, by name: model.criteria.NAME.mode.",
    )
    spread: SpreadCriterion = SpreadCriterion()
    county: CountyRules = CountyRules()
    capacity: CapacityRules = CapacityRules()
    cost: CostRules = CostRules()


class SolverSettings(_Settings):
    """Which solver, for how long, to which gap."""

    name: str = "highs"
    time_limit_s: float | None = Field(120.0, gt=0)
    mip_rel_gap: float = Field(1e-6, ge=0, le=1)
