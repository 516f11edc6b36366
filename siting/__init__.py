"""siting: office-location optimization across administrative regions.

The public API is listed in ``__all__``; everything else is internal.
"""

from __future__ import annotations

import logging

from siting.atlas import Atlas, AtlasSpec, default_manifest, load_atlas
from siting.errors import DataError, SitingError, UnknownNameError
from siting.model.pmedian import PMedianSolution, pmedian
from siting.organizers import municipal_organizers, organizers_from_register
from siting.travel.matrix import TravelTimeMatrix

__version__ = "0.1.0"

__all__ = [
    "Atlas",
    "AtlasSpec",
    "DataError",
    "PMedianSolution",
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

logging.getLogger(__name__).addHandler(logging.NullHandler())
