"""Fixtures shared by every test directory."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mlserve.crds import MISSING, crd_dir


@pytest.fixture
def crds() -> Path:
    """The CRD schema directory. Without one, a test that needs it is skipped, naming `make crds`; in CI (CI=true)
    it fails instead: CI has ../shared/crds or runs `make crds`, so a skip there would hide a check it can run."""
    directory = crd_dir()
    if directory is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true but {MISSING}")
        pytest.skip(MISSING)
    return directory
