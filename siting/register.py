"""Download Skolverket's school-unit register (Skolenhetsregistret API v2) to a folder.

The download is the only part of siting that needs a network; everything else
reads the saved folder (see :func:`siting.organizers.organizers_from_register`).
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from pathlib import Path

from siting._io import atomic_path
from siting.errors import DataError

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.skolverket.se/skolenhetsregistret"


def _get(url: str, timeout_s: float) -> dict:
    request = urllib.request.Request(url, headers={"Accept": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            return json.load(response)
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise DataError(
            f"could not download {url}: {exc}; check the network or --base-url, or save the "
            "responses by hand into the folder"
        ) from None
    except json.JSONDecodeError as exc:
        raise DataError(f"{url} did not answer with JSON: {exc}") from None


def _save(document: dict, path: Path) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")


def fetch_register(
    folder: str | Path,
    *,
    base_url: str = DEFAULT_BASE_URL,
    timeout_s: float = 30.0,
    limit: int | None = None,
) -> int:
    """Save ``/v2/organizers`` and every ``/v2/school-units/{code}`` into ``folder``.

    Units already saved are skipped, so an interrupted download resumes.

    Parameters
    ----------
    folder
        Where to write ``organizers.json`` and ``school-units/<code>.json``.
    base_url
        The API's base address.
    timeout_s
        Seconds to wait for each answer.
    limit
        Fetch at most this many school units (for a trial run).

    Returns
    -------
    int
        The number of school-unit files in the folder afterwards.

    """
    folder = Path(folder)
    units_dir = folder / "school-units"
    units_dir.mkdir(parents=True, exist_ok=True)
    _save(_get(f"{base_url}/v2/organizers", timeout_s), folder / "organizers.json")
    listing = _get(f"{base_url}/v2/school-units", timeout_s)
    try:
        codes = [str(item["schoolUnitCode"]) for item in listing["data"]["attributes"]]
    except (KeyError, TypeError) as exc:
        raise DataError(f"unexpected /v2/school-units answer (data.attributes[]: {exc})") from None
    codes = codes[:limit] if limit is not None else codes
    for index, code in enumerate(codes, 1):
        target = units_dir / f"{code}.json"
        if not target.exists():
            _save(_get(f"{base_url}/v2/school-units/{code}", timeout_s), target)
        if index % 500 == 0:
            log.info("saved %d of %d school units", index, len(codes))
    return len(list(units_dir.glob("*.json")))
