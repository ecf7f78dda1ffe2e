"""Fixtures shared by every test directory."""

from __future__ import annotations

import gc
import os
from pathlib import Path

import pytest

from mlserve import interpreter
from mlserve.crds import MISSING, crd_dir


def pytest_configure(config) -> None:
    """The suite renders stacks in-process many times: the collector thresholds of a render
    (mlserve/interpreter.py) save it a large share of its time; nothing is frozen (tests create and drop
    renders all session long)."""
    gc.set_threshold(*interpreter.THRESHOLDS)


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
