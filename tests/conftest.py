from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from siting.atlas import default_data_dir, load_atlas

# The travel cache of the tests lives in a fresh temporary folder, never in the home folder.
os.environ["SITING_CACHE_DIR"] = tempfile.mkdtemp(prefix="siting-test-cache-")


@pytest.fixture(scope="session")
def sweden():
    """The shipped Swedish atlas, loaded once."""
    return load_atlas()


@pytest.fixture
def data_copy(tmp_path: Path) -> Path:
    """A writable copy of the shipped data folder; returns its manifest path."""
    target = tmp_path / "data"
    shutil.copytree(default_data_dir(), target)
    return target / "sweden.yaml"
