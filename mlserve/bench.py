"""Benchmark: render time and peak memory against catalog size (``mlserve bench``, ``make bench``).

Each size renders a synthetic catalog (the real models.yaml entries, repeated under new names) for the prod stack
in a fresh subprocess, so the numbers include interpreter and SDK start-up and nothing is shared between runs.
Targets (checked here, not in the test suite): a 200-model prod stack renders in under 60 s within 2 GiB.
"""

from __future__ import annotations

import copy
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

PROJECT_DIR = Path(__file__).resolve().parent.parent
SIZES = (5, 50, 200)
TARGET_SECONDS = {200: 60.0}
TARGET_RSS_MIB = {200: 2048}


def synthetic_catalog(models: int, project_dir: Path = PROJECT_DIR) -> dict:
    base = yaml.safe_load((project_dir / "models.yaml").read_text(encoding="utf-8"))
    entries = list(base["models"].items())
    catalog = {"version": 1, "models": {}}
    for i in range(models):
        name, entry = entries[i % len(entries)]
        catalog["models"][f"{name[:30]}-{i}"] = copy.deepcopy(entry)
    return catalog


def measure(models: int, stack: str, project_dir: Path = PROJECT_DIR) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        catalog = Path(tmp) / "models.yaml"
        catalog.write_text(yaml.safe_dump(synthetic_catalog(models, project_dir), sort_keys=False), encoding="utf-8")
        started = time.perf_counter()
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "mlserve",
                "render",
                "--stack",
                stack,
                "--catalog",
                str(catalog),
                "--out",
                f"{tmp}/out",
            ],
            cwd=project_dir,
            capture_output=True,
            text=True,
            check=False,
        )
        seconds = time.perf_counter() - started
        rss_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        if result.returncode != 0:
            raise SystemExit(f"render of {models} models failed:\n{result.stderr}")
        document = json.loads((Path(tmp) / "out" / "resources.json").read_text())
        return {
            "models": models,
            "resources": len(document["resources"]),
            "seconds": round(seconds, 2),
            # ru_maxrss of children is the largest child so far; sizes run in increasing order.
            "peak_rss_mib": round(max(rss_mib, before / 1024)),
        }
