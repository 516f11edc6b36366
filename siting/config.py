"""Settings with their documented defaults: the one place each default lives.

Scenario files (issue "Scenarios") embed these models; scripts pass them directly.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class _Settings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EstimateSettings(_Settings):
    """The ``estimate`` travel backend: straight line x circuity / speed.

    Both defaults are **estimates**, not measurements: a circuity (road over
    straight-line distance) of 1.2 and an average long-distance car speed of
    90 km/h put Stockholm-Göteborg (397 km apart) at 5 h 18 min and
    Stockholm-Malmö (513 km) at 6 h 50 min, somewhat slower than a car on the
    motorways (about 4 h 45 and 6 h: general knowledge, not checked against a
    route planner). Calibrate them against the roads backend or published travel
    times before relying on absolute minutes.
    """

    circuity: float = Field(1.2, ge=1.0, le=3.0)
    speed_kmh: float = Field(90.0, gt=0, le=200)
    access_min: float = Field(0.0, ge=0, description="Fixed minutes added to every trip.")


class TravelSettings(_Settings):
    """How travel minutes are computed."""

    backend: str = Field("estimate", pattern="^(estimate)$")
    estimate: EstimateSettings = EstimateSettings()
