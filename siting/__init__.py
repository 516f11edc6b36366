"""siting: office-location optimization across administrative regions.

The public API is listed in ``__all__``; everything else is internal. Names are
imported on first use, so that ``siting --version`` or a scenario's syntax check
does not wait for the geographic libraries.
"""

from __future__ import annotations

import importlib
import logging
from typing import TYPE_CHECKING

__version__ = "0.1.0"

#: Public name -> the module that defines it.
_EXPORTS = {
    "Atlas": "siting.atlas",
    "AtlasSpec": "siting.atlas",
    "default_manifest": "siting.atlas",
    "load_atlas": "siting.atlas",
    "DataError": "siting.errors",
    "ScenarioError": "siting.errors",
    "SitingError": "siting.errors",
    "UnknownNameError": "siting.errors",
    "InfeasibleError": "siting.errors",
    "PMedianSolution": "siting.model.pmedian",
    "pmedian": "siting.model.pmedian",
    "municipal_organizers": "siting.organizers",
    "organizers_from_register": "siting.organizers",
    "TravelTimeMatrix": "siting.travel.matrix",
}

__all__ = [
    "Atlas",
    "AtlasSpec",
    "DataError",
    "InfeasibleError",
    "PMedianSolution",
    "ScenarioError",
    "SitingError",
    "TravelTimeMatrix",
    "UnknownNameError",
    "__version__",
    "default_manifest",
    "load_atlas",
    "municipal_organizers",
    "organizers_from_register",
    "pmedian",
]

if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from siting.atlas import Atlas, AtlasSpec, default_manifest, load_atlas
    from siting.errors import (
        DataError,
        InfeasibleError,
        ScenarioError,
        SitingError,
        UnknownNameError,
    )
    from siting.model.pmedian import PMedianSolution, pmedian
    from siting.organizers import municipal_organizers, organizers_from_register
    from siting.travel.matrix import TravelTimeMatrix


def __getattr__(name: str):
    """Import a public name on first use (PEP 562)."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'siting' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__


logging.getLogger(__name__).addHandler(logging.NullHandler())
