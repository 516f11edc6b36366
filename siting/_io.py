"""File helpers: atomic writes and run folders, so a failed run never leaves half a result.

A *run folder* (``siting solve --out DIR``, ``siting compare --out DIR``) holds
exactly one run. A run is written whole into a hidden staging folder beside
``DIR``, then the two folders are swapped in one atomic rename: readers see the
previous run or the new one, never a mix, and a run killed at any moment leaves
the previous run as it was. A manifest (``.siting-run.json``) lists the files a
run wrote, so a later run knows which files are siting's: a folder that holds
anything else is refused, naming those files. Staging folders left by a killed
run are removed by the next run into the same folder.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import json
import logging
import os
import secrets
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from siting.errors import OutputError

log = logging.getLogger(__name__)

#: The manifest of a run folder: which files the run wrote.
MANIFEST = ".siting-run.json"
#: Hidden folders of runs in progress (``.siting-staging-DIR-PID-TOKEN``) and of
#: previous runs being swapped out (``.siting-old-DIR-PID-TOKEN``).
STAGING_PREFIX = ".siting-staging-"
OLD_PREFIX = ".siting-old-"
#: Files siting wrote before run folders had a manifest: a folder holding only
#: these is taken for an earlier siting run.
KNOWN_OUTPUTS = frozenset(
    {
        "offices.csv",
        "assignments.csv",
        "regions.gpkg",
        "map.png",
        "map.svg",
        "map.pdf",
        "report.html",
        "summary.json",
        "comparison.csv",
        "comparison.png",
        "changes.csv",
        "county_changes.csv",
    }
)


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; rename it onto ``target`` on success.

    The temporary name keeps the target's suffix (GDAL picks drivers by it). On
    any exception the temporary file is removed and ``target`` is left as it was.
    A symbolic link at ``target`` is replaced by the file, never written through.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=target.suffix, dir=target.parent)
    os.close(fd)
    tmp = Path(name)
    tmp.unlink()  # writers such as GDAL refuse to open an existing empty file
    try:
        yield tmp
        tmp.replace(target)
    finally:
        tmp.unlink(missing_ok=True)


#: A spreadsheet reads a cell starting with one of these as a formula (OWASP, "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value: Any) -> Any:
    """``value``, with a text that a spreadsheet would read as a formula made plain text.

    Text starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets
    a leading single quote (OWASP's advice against CSV injection): an organizer
    named ``=HYPERLINK(...)`` stays a name. Numbers and other values pass unchanged.
    Every CSV cell siting writes goes through here.
    """
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def describe_os_error(exc: OSError) -> str:
    """``exc`` in words, without Python's ``[Errno 28]`` prefix."""
    return exc.strerror or str(exc) or type(exc).__name__


# -- run folders --------------------------------------------------------------------------


def _listed(names: list[str], limit: int = 8) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def _is_ours(name: str) -> bool:
    return name.startswith((STAGING_PREFIX, OLD_PREFIX))


def _read_manifest(folder: Path) -> list[str] | None:
    try:
        data = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        files = data["files"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not isinstance(files, list) or not all(isinstance(f, str) for f in files):
        return None
    return files


def _previous_run(out: Path) -> list[Path]:
    """The files of the run in ``out`` (none if empty); refuse files that are not siting's."""
    entries = sorted(p.name for p in out.iterdir() if not _is_ours(p.name))
    if not entries:
        return []
    listed = _read_manifest(out)
    siting = ({*listed, MANIFEST} if listed is not None else set(KNOWN_OUTPUTS)) & set(entries)
    foreign = [
        name + ("/" if (out / name).is_dir() and not (out / name).is_symlink() else "")
        for name in entries
        if name not in siting
    ]
    if foreign:
        raise OutputError(
            f"output folder {out} holds {len(foreign)} file(s) that are not a siting run: "
            f"{_listed(foreign)}. A folder holds one run and siting replaces it whole: "
            "choose another output folder, or move those files away"
        )
    return [out / name for name in entries]


def _resolve(path: str | os.PathLike[str]) -> Path:
    """The folder's absolute path; a link to a folder is followed to the folder itself."""
    return Path(os.path.abspath(path)).resolve()


def _nearest_existing(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def _probe(folder: Path) -> OSError | None:
    """Try to create (and remove) a folder in ``folder``: the error, or None."""
    probe = folder / f"{STAGING_PREFIX}probe-{os.getpid()}-{secrets.token_hex(4)}"
    try:
        os.mkdir(probe)
        os.rmdir(probe)
    except OSError as exc:
        return exc
    return None


def check_out_dir(path: str | os.PathLike[str]) -> list[Path]:
    """Check that a run can be written into folder ``path``; call it before solving.

    Parameters
    ----------
    path
        The output folder (it need not exist yet).

    Returns
    -------
    list of Path
        The previous run's files that writing a run into ``path`` would replace
        (empty for a new or empty folder).

    Raises
    ------
    siting.errors.OutputError
        ``path`` (or a folder on its way) is a file; the folder holds files that
        are not a siting run (named in the message); or it cannot be written
        (read-only, no permission, a system folder such as ``/proc``).

    """
    out = _resolve(path)
    if out.exists() and not out.is_dir():
        raise OutputError(
            f"output folder {path} is a file, not a folder: choose another output folder"
        )
    if not out.exists():
        base = _nearest_existing(out.parent)
        if not base.is_dir():
            raise OutputError(
                f"output folder {path}: {base} is a file, so no folder can be made inside it; "
                "choose another output folder"
            )
        failure = _probe(base)
        if failure is not None:
            raise OutputError(
                f"cannot create output folder {path}: {describe_os_error(failure)} in {base}; "
                "choose a folder you can write to"
            )
        return []
    try:
        previous = _previous_run(out)
    except PermissionError as exc:
        raise OutputError(
            f"cannot read output folder {path}: {describe_os_error(exc)}; "
            "choose a folder you can write to"
        ) from None
    failure = _probe(out.parent) and _probe(out)  # beside the folder, or else inside it
    if failure is not None:
        raise OutputError(
            f"cannot write to output folder {path}: {describe_os_error(failure)}; "
            "choose a folder you can write to"
        )
    return previous


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's live process
    return True


def _stale(path: Path) -> bool:
    """A staging folder whose process is gone (names without a process id are stale)."""
    parts = path.name.rsplit("-", 2)
    if len(parts) == 3 and parts[1].isdigit():
        return not _pid_alive(int(parts[1]))
    return True


def clean_stale(out: str | os.PathLike[str]) -> list[Path]:
    """Remove staging folders that killed runs left beside and inside ``out``.

    A previous run moved aside (``.siting-old-*``) by a run killed before it put
    its own in place is moved back when ``out`` is missing. Returns what was
    removed or restored.
    """
    out = _resolve(out)
    found = []
    if out.name and out.parent.is_dir():
        for prefix in (STAGING_PREFIX, OLD_PREFIX):
            found += out.parent.glob(f"{prefix}{glob_escape(out.name)}-*")
    if out.is_dir():
        found += [p for p in out.iterdir() if _is_ours(p.name)]
    cleaned = []
    for path in sorted(found):
        if not _stale(path):
            continue
        if path.name.startswith(OLD_PREFIX) and path.parent == out.parent and not out.exists():
            path.rename(out)
            log.warning("restored the previous run into %s from %s", out, path.name)
        elif path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
        cleaned.append(path)
    if cleaned:
        log.info("removed %d staging folder(s) left by killed runs", len(cleaned))
    return cleaned


def glob_escape(name: str) -> str:
    """``name`` with glob's special characters taken literally."""
    return "".join(f"[{c}]" if c in "*?[]" else c for c in name)


_RENAME_EXCHANGE = 2


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux ``renameat2``); False where unsupported."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd = -100
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), str(b))


def _new_hidden_folder(parent: Path, prefix: str, name: str) -> Path:
    while True:
        path = parent / f"{prefix}{name}-{os.getpid()}-{secrets.token_hex(4)}"
        try:
            os.mkdir(path)  # permissions from the umask, as any new folder
        except FileExistsError:
            continue
        return path


def _manifest_text(files: list[str], kind: str, scenarios: list[str]) -> str:
    from siting import __version__

    return json.dumps(
        {
            "what": f"a siting {kind} run; siting replaces the files listed here as a whole",
            "kind": kind,
            "scenarios": scenarios,
            "files": files,
            "siting": __version__,
        },
        indent=2,
        ensure_ascii=False,
    )


def publish_run(
    out: str | os.PathLike[str],
    write: Callable[[Path], list[str]],
    *,
    kind: str,
    scenarios: list[str],
) -> tuple[list[Path], list[Path]]:
    """Write a run into folder ``out`` whole, replacing the previous run whole.

    Parameters
    ----------
    out
        The output folder.
    write
        Writes the run's files into the folder it is given; returns their names.
    kind
        ``"solve"`` or ``"compare"`` (recorded in the manifest).
    scenarios
        The scenario names (recorded in the manifest).

    Returns
    -------
    tuple of (list of Path, list of Path)
        The files written, and the previous run's files that they replaced.

    Raises
    ------
    siting.errors.OutputError
        See :func:`check_out_dir`; also a full disk while writing. The previous
        run is then left as it was.

    """
    shown = out
    out = _resolve(out)
    previous = check_out_dir(out)
    try:
        clean_stale(out)
        return _publish(out, write, kind=kind, scenarios=scenarios), previous
    except OutputError:
        raise
    except OSError as exc:
        where = f" ({Path(exc.filename).name})" if exc.filename else ""
        raise OutputError(
            f"cannot write the outputs to {shown}: {describe_os_error(exc)}{where}; "
            "the folder's earlier files are unchanged"
        ) from None


def _publish(out: Path, write, *, kind: str, scenarios: list[str]) -> list[Path]:
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        staging = _new_hidden_folder(out.parent, STAGING_PREFIX, out.name) if out.name else None
    except OSError:
        staging = None  # the parent is not writable: stage inside the folder itself
    if staging is None:
        return _publish_in_place(out, write, kind=kind, scenarios=scenarios)
    try:
        names = write(staging)
        (staging / MANIFEST).write_text(_manifest_text(names, kind, scenarios), encoding="utf-8")
        if not out.exists():
            staging.rename(out)
        elif _exchange(staging, out):
            shutil.rmtree(staging, ignore_errors=True)  # now the previous run
        else:  # two renames: a killed run leaves the previous one in .siting-old-*
            old = out.parent / f"{OLD_PREFIX}{out.name}-{os.getpid()}-{secrets.token_hex(4)}"
            out.rename(old)
            staging.rename(out)
            shutil.rmtree(old, ignore_errors=True)
    except OSError as exc:
        if exc.errno in (errno.EXDEV, errno.EBUSY) and staging.exists():  # a mount point
            shutil.rmtree(staging, ignore_errors=True)
            return _publish_in_place(out, write, kind=kind, scenarios=scenarios)
        shutil.rmtree(staging, ignore_errors=True)
        raise
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return [out / name for name in names]


def _publish_in_place(out: Path, write, *, kind: str, scenarios: list[str]) -> list[Path]:
    """Where the folder cannot be swapped: stage inside it, then move file by file.

    The manifest names the old and new files while they are moved, so the next
    run still knows all of them for siting's.
    """
    out.mkdir(parents=True, exist_ok=True)
    previous = [p.name for p in _previous_run(out) if p.name != MANIFEST]
    staging = _new_hidden_folder(out, STAGING_PREFIX, "run")
    try:
        names = write(staging)
        both = sorted({*previous, *names})
        with atomic_path(out / MANIFEST) as tmp:
            tmp.write_text(_manifest_text(both, kind, scenarios), encoding="utf-8")
        for name in names:
            (staging / name).replace(out / name)
        for name in set(previous) - set(names):
            path = out / name
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                path.unlink(missing_ok=True)
        with atomic_path(out / MANIFEST) as tmp:
            tmp.write_text(_manifest_text(names, kind, scenarios), encoding="utf-8")
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return [out / name for name in names]
