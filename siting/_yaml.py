"""Reading YAML that users write or download: strict, bounded, one clear message.

PyYAML's safe loader still accepts things a settings file should not: a key
given twice (the last silently wins), thousands of aliases that expand a small
file into gigabytes once copied or validated ("billion laughs"), and files of
any size. :func:`read_yaml` refuses all three, and turns every way a file can
be unreadable (missing, a folder, not UTF-8, not YAML) into one error that
names the file and says what would fix it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from siting.errors import SitingError

#: Largest settings file read (bytes): scenarios and manifests are a few kB.
MAX_YAML_BYTES = 1_000_000
#: Most aliases (``*name``) one file may use.
MAX_YAML_ALIASES = 100
#: Most values a file may hold once its aliases are expanded.
MAX_YAML_VALUES = 200_000


class _StrictLoader(yaml.SafeLoader):
    """A safe loader that refuses duplicate keys and counts aliases."""

    def __init__(self, stream) -> None:
        super().__init__(stream)
        self.aliases = 0

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            self.aliases += 1
            if self.aliases > MAX_YAML_ALIASES:
                mark = self.peek_event().start_mark
                raise yaml.constructor.ConstructorError(
                    None,
                    None,
                    f"more than {MAX_YAML_ALIASES} aliases (*name): write the values out",
                    mark,
                )
        return super().compose_node(parent, index)

    def construct_mapping(self, node, deep=False):
        seen: dict[Any, Any] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            try:
                hash(key)
            except TypeError:
                raise yaml.constructor.ConstructorError(
                    "while reading a mapping",
                    node.start_mark,
                    "a key must be a plain value, not a list or mapping",
                    key_node.start_mark,
                ) from None
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    "while reading a mapping",
                    node.start_mark,
                    f"the key {key!r} is given twice (first on line "
                    f"{seen[key].start_mark.line + 1}); keep one",
                    key_node.start_mark,
                )
            seen[key] = key_node
        return super().construct_mapping(node, deep=deep)


def parse_yaml(text: str, *, source: str, error: type[SitingError]) -> Any:
    """Parse YAML text strictly (see the module notes); raise ``error`` naming ``source``."""
    try:
        document = yaml.load(text, Loader=_StrictLoader)
        size = _expanded_size(document)
    except yaml.YAMLError as exc:
        raise error(f"{source}: not valid YAML: {_one_line(exc)}") from None
    except RecursionError:
        raise error(f"{source}: nested too deeply to be a settings file") from None
    except _CycleError:
        raise error(f"{source}: an alias refers to itself (a loop): write the values out") from None
    if size > MAX_YAML_VALUES:
        raise error(
            f"{source}: expands to {size:,} values (at most {MAX_YAML_VALUES:,}); "
            "aliases that repeat large blocks are refused"
        )
    return document


class _CycleError(Exception):
    pass


def _expanded_size(document: Any) -> int:
    """How many values the document holds with every alias written out.

    Aliases share objects, so this walks each distinct container once and
    multiplies: linear in the file, whatever the expansion.
    """
    sizes: dict[int, int] = {}
    visiting: set[int] = set()

    def size(value: Any) -> int:
        if not isinstance(value, dict | list):
            return 1
        key = id(value)
        if key in sizes:
            return sizes[key]
        if key in visiting:
            raise _CycleError
        visiting.add(key)
        children = [*value.keys(), *value.values()] if isinstance(value, dict) else value
        total = 1 + sum(size(child) for child in children)
        visiting.discard(key)
        sizes[key] = min(total, MAX_YAML_VALUES + 1)
        return sizes[key]

    return size(document)


def read_yaml(
    path: str | Path,
    *,
    what: str,
    error: type[SitingError],
    max_bytes: int = MAX_YAML_BYTES,
) -> Any:
    """Read a YAML settings file strictly.

    Parameters
    ----------
    path
        The file.
    what
        What the file is, for messages ("scenario file", "manifest").
    error
        The :class:`~siting.errors.SitingError` subclass to raise.
    max_bytes
        Larger files are refused before they are read.

    Raises
    ------
    SitingError
        ``error``, naming the file and what would fix it: missing, a folder,
        too large, unreadable, not UTF-8, not YAML, a key given twice, too many
        aliases.

    """
    path = Path(path)
    if not path.exists():
        raise error(f"{what} not found: {path}")
    if not path.is_file():
        raise error(f"{what} {path} is not a file")
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise error(
                f"{path}: {size:,} bytes is too large for a {what} (at most {max_bytes:,}); "
                "is it the right file?"
            )
        raw = path.read_bytes()
    except OSError as exc:
        raise error(f"{what} {path} cannot be read: {exc.strerror or exc}") from None
    if b"\x00" in raw:
        raise error(f"{path}: a binary file, not a YAML {what}")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise error(
            f"{path}: not UTF-8 text (byte {exc.start}); save the {what} as UTF-8"
        ) from None
    return parse_yaml(text, source=str(path), error=error)


def _one_line(exc: yaml.YAMLError) -> str:
    """A YAML error on one line with its position."""
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
    return f"{where}{problem}"
