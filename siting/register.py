"""Download Skolverket's school-unit register (Skolenhetsregistret API v2) to a folder.

The download is the only part of siting that needs a network; everything else
reads the saved folder (see :func:`siting.organizers.organizers_from_register`).
"""

from __future__ import annotations

import json
import logging
import re
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
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DataError(f"{url} did not answer with JSON: {exc}") from None


def _save(document: dict, path: Path) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")


#: A school-unit code is used as a file name: letters and digits only, as the register's are.
CODE_PATTERN = re.compile(r"^[0-9A-Za-z]{1,32}$")


def fetch_register(
    folder: str | Path,
    *,
    base_url: str = DEFAULT_BASE_URL,
    timeout_s: float = 30.0,
    limit: int | None = None,
) -> int:
    """Save ``/v2/organizers`` and every ``/v2/school-units/{code}`` into ``folder``.

    Units already saved are skipped, so an interrupted download resumes. Every
    school-unit code from the server becomes a file name only if it is letters
    and digits (the register's codes are eight digits): a code such as
    ``../../x`` or an absolute path is refused, so nothing is written outside
    ``folder``. A download that fails before any file was saved leaves no folder
    behind.

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

    Raises
    ------
    DataError
        No answer, an answer that is not JSON or not the expected shape, or
        school-unit codes that are not letters and digits (listed).

    """
    folder = Path(folder)
    units_dir = folder / "school-units"
    created = [p for p in (folder, units_dir) if not p.exists()]
    try:
        organizers = _get(f"{base_url}/v2/organizers", timeout_s)
        listing = _get(f"{base_url}/v2/school-units", timeout_s)
        try:
            codes = [str(item["schoolUnitCode"]) for item in listing["data"]["attributes"]]
        except (KeyError, TypeError) as exc:
            raise DataError(
                f"unexpected /v2/school-units answer (data.attributes[].schoolUnitCode: {exc!r})"
            ) from None
        bad = [c for c in codes if not CODE_PATTERN.match(c)]
        if bad:
            shown = ", ".join(repr(c) for c in bad[:5])
            raise DataError(
                f"the server's /v2/school-units answer has {len(bad)} school-unit code(s) that "
                f"are not letters and digits ({shown}); refusing to use them as file names"
            )
        codes = codes[:limit] if limit is not None else codes
        units_dir.mkdir(parents=True, exist_ok=True)
        _save(organizers, folder / "organizers.json")
        for index, code in enumerate(codes, 1):
            target = units_dir / f"{code}.json"
            if not target.exists():
                _save(_get(f"{base_url}/v2/school-units/{code}", timeout_s), target)
            if index % 500 == 0:
                log.info("saved %d of %d school units", index, len(codes))
    except BaseException:
        for path in reversed(created):  # only folders this call made, and only if empty
            if path.is_dir() and not any(path.iterdir()):
                path.rmdir()
        raise
    return len(list(units_dir.glob("*.json")))
