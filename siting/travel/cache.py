"""A content-addressed cache of travel-time matrices (Parquet), for repeated and swept runs.

The key hashes everything the minutes depend on: siting's version, the travel
settings, the origin and destination ids, coordinates and counties, the atlas's
ferries and the bytes of the rail, GTFS, OSM and calibration files (a missing
one is a DataError naming its scenario field). A matrix is stored only after it was computed
in full (written to a temporary name, then renamed), so failures and partial
results are never cached. The folder is ``$SITING_CACHE_DIR`` or
``~/.cache/siting``; delete it at will.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from siting._io import atomic_path
from siting.atlas import Atlas
from siting.config import TravelSettings
from siting.errors import DataError
from siting.travel.matrix import TravelTimeMatrix
from siting.travel.multimodal import travel_matrix

log = logging.getLogger(__name__)

#: Bump when the way minutes are computed changes, to retire old entries.
FORMAT = 2


def cache_dir() -> Path:
    """The cache folder: ``$SITING_CACHE_DIR`` or ``~/.cache/siting``."""
    return Path(os.environ.get("SITING_CACHE_DIR") or Path.home() / ".cache" / "siting")


def _hash_path(hasher, path: Path) -> None:
    """Add a file's (or a folder's files') names and bytes to the hash."""
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for file in files:
        hasher.update(file.name.encode())
        hasher.update(file_digest(file).encode())


_DIGESTS: dict[tuple[str, int, int], str] = {}


def file_digest(path: Path) -> str:
    """The SHA-256 of a file's bytes, remembered per (path, size, mtime) in this process.

    A national OSM extract is several hundred MB: it is read once per run, not
    once per matrix.
    """
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if key not in _DIGESTS:
        hasher = hashlib.sha256()
        with path.open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                hasher.update(chunk)
        _DIGESTS[key] = hasher.hexdigest()
    return _DIGESTS[key]


def _require(path: str | None, field: str, what: str) -> Path:
    """The path of an input file, or a DataError naming the scenario field."""
    if path is None or not Path(path).expanduser().exists():
        raise DataError(f"{field}: {what} not found: {path}")
    return Path(path).expanduser()


def input_files(settings: TravelSettings) -> list[Path]:
    """The files a matrix depends on beyond the atlas, checked to exist.

    Raises
    ------
    DataError
        A named file is missing; the message names the scenario field.

    """
    files = []
    if "rail" in settings.modes and settings.rail.source == "gtfs":
        files.append(_require(settings.rail.gtfs_feed, "travel.rail.gtfs_feed", "GTFS feed"))
    if settings.backend == "roads":
        files.append(_require(settings.roads.osm_file, "travel.roads.osm_file", "OSM file"))
    if settings.backend == "estimate" and settings.estimate.calibration is not None:
        files.append(
            _require(
                settings.estimate.calibration,
                "travel.estimate.calibration",
                "calibration file",
            )
        )
    return files


def _points_digest(points: gpd.GeoDataFrame, hasher) -> None:
    hasher.update("\x1f".join(map(str, points.index)).encode())
    xy = np.column_stack([points.geometry.x.to_numpy(), points.geometry.y.to_numpy()])
    hasher.update(np.round(xy, 3).tobytes())
    hasher.update("\x1f".join(map(str, points["county_id"])).encode())


def matrix_key(
    atlas: Atlas,
    origins: gpd.GeoDataFrame,
    destinations: gpd.GeoDataFrame,
    settings: TravelSettings,
) -> str:
    """The cache key of a travel matrix."""
    from siting import __version__

    hasher = hashlib.sha256()
    meta = {
        "format": FORMAT,
        "siting": __version__,
        # the perturbation is applied after the cache: it does not change the stored matrix
        "settings": settings.model_dump(mode="json", exclude={"perturbation"}),
        "crs": atlas.crs,
        "ferries": [f.model_dump(mode="json") for f in atlas.spec.ferries],
    }
    hasher.update(json.dumps(meta, sort_keys=True).encode())
    for path in input_files(settings):
        _hash_path(hasher, path)
    if "rail" in settings.modes and settings.rail.source != "gtfs" and atlas.rail_file is not None:
        for path in sorted(atlas.rail_file.parent.glob("*")):
            if path.suffix in (".yaml", ".csv"):
                _hash_path(hasher, path)
    _points_digest(origins, hasher)
    _points_digest(destinations, hasher)
    return hasher.hexdigest()[:32]


def cached_travel_matrix(
    atlas: Atlas,
    origins: gpd.GeoDataFrame,
    destinations: gpd.GeoDataFrame,
    settings: TravelSettings | None = None,
    *,
    folder: Path | None = None,
) -> TravelTimeMatrix:
    """:func:`siting.travel.multimodal.travel_matrix`, read from or added to the cache."""
    settings = settings or TravelSettings()
    folder = folder or cache_dir()
    path = folder / f"{matrix_key(atlas, origins, destinations, settings)}.parquet"
    if path.is_file():
        try:
            return _read(path)
        except Exception as exc:  # a damaged entry is recomputed, not trusted
            log.warning("ignoring unreadable cache entry %s: %s", path.name, exc)
    matrix = travel_matrix(atlas, origins, destinations, settings)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with atomic_path(path) as tmp:
            _write(matrix, tmp)
    except OSError as exc:  # a read-only cache never stops a run
        log.warning("could not write the travel cache in %s: %s", folder, exc)
    return matrix


def _write(matrix: TravelTimeMatrix, path: Path) -> None:
    table = matrix.to_long()
    table.to_parquet(path, index=False)


def _read(path: Path) -> TravelTimeMatrix:
    table = pd.read_parquet(path)
    origins = pd.unique(table["origin_id"])
    destinations = pd.unique(table["destination_id"])
    shape = (len(origins), len(destinations))
    minutes = table["minutes"].to_numpy().reshape(shape)  # written row by row
    mode = table["mode"].to_numpy().reshape(shape).astype(str) if "mode" in table else None
    return TravelTimeMatrix(tuple(origins), tuple(destinations), minutes, mode)
