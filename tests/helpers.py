"""Shared helpers: build catalogs and settings in a few lines, run the real program under mocks."""

from __future__ import annotations

import json
import os
import subprocess
import textwrap
from pathlib import Path
from typing import Any

import pytest

from mlserve.manifest_checks import load_manifest
from model_catalog.catalog import LoadedCatalog, validate_catalog
from model_catalog.errors import ConfigurationError
from model_catalog.schema import ModelSpec
from model_catalog.settings import PROJECT, StackSettings
from model_catalog.yaml_source import parse_yaml

ROOT = Path(__file__).resolve().parent.parent
STACKS = ("dev", "staging", "prod")

BASE_SETTINGS: dict[str, Any] = {
    "environment": {"tier": "dev", "namespace": "ml-test"},
    # staging and prod tiers need a context and the cluster's identity (model_catalog/settings.py _cluster_checks).
    "cluster": {
        "name": "test",
        "kubernetesVersion": "1.33",
        "context": "test-context",
        "kubeSystemUid": "00000000-0000-4000-8000-000000000001",
    },
}


def catalog_text(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


def load(text: str, stacks: tuple[str, ...] = STACKS) -> LoadedCatalog:
    """Validate catalog YAML text (as `models.yaml`)."""
    return validate_catalog(parse_yaml(catalog_text(text), "models.yaml"), stacks)


def problems(text: str, stacks: tuple[str, ...] = STACKS) -> list[str]:
    """The rendered problem lines of an invalid catalog (fails the test if it is valid)."""
    with pytest.raises(ConfigurationError) as info:
        load(text, stacks)
    return [str(p) for p in info.value.problems]


def sample_catalogs() -> list[dict[str, Any]]:
    """Catalogs (as data) with every kind of model: a 300-model fleet, the default catalog and every example's."""
    import yaml

    from mlserve.fleet import fleet

    paths = [ROOT / "models.yaml", *sorted((ROOT / "examples").glob("*/models.yaml"))]
    return [fleet(300)] + [yaml.safe_load(path.read_text(encoding="utf-8")) for path in paths]


def spec(**fields: Any) -> ModelSpec:
    """A valid CPU model with the given fields replaced (camelCase keys, as in YAML)."""
    data: dict[str, Any] = {
        "runtime": "tensorflow-serving",
        "weights": {"uri": "s3://bucket/model/", "sizeGiB": 1},
        "resources": {"cpu": "1", "memory": "2Gi"},
    }
    data.update(fields)
    return ModelSpec.model_validate(data)


def settings(**overrides: Any) -> StackSettings:
    """Stack settings: BASE_SETTINGS with top-level keys replaced."""
    return StackSettings.model_validate({**BASE_SETTINGS, **overrides})


def engine_config(values: dict[str, Any]) -> dict[str, str]:
    """Settings as the Pulumi engine hands them to the program: `ml-serving:<key>` -> JSON text."""
    return {f"{PROJECT}:{k}": v if isinstance(v, str) else json.dumps(v) for k, v in values.items()}


def write_catalog(path: Path, text: str) -> Path:
    path.write_text(catalog_text(text), encoding="utf-8")
    return path


def render_objects(run) -> dict[tuple[str, str], dict[str, Any]]:
    """Kubernetes objects of a mock run, cleaned as the render writes them, keyed by (kind, name)."""
    from mlserve.output import is_kubernetes_object, manifest

    return {
        (obj["kind"], obj["metadata"]["name"]): obj
        for obj in (manifest(r) for r in run.registrations if is_kubernetes_object(r))
    }


def run_catalog(
    tmp_path: Path,
    text: str,
    stack: str = "dev",
    *,
    secrets: dict[str, str] | None = None,
    secret_settings: tuple[str, ...] = (),
    project_dir: Path = ROOT,
    **settings_overrides: Any,
):
    """Run the real program under mocks with a catalog and settings (no stack file needed). ``secrets``: secret
    config values by key (e.g. ``registryPassword``), handed over as the engine hands decrypted secrets.
    ``secret_settings``: settings keys handed over as secret (the engine marks a whole key secret when a leaf is).
    ``project_dir``: where build contexts are looked up."""
    from mlserve.mock_runtime import run_program
    from stacks import program

    catalog = write_catalog(tmp_path / "models.yaml", text)
    config = engine_config({**BASE_SETTINGS, **settings_overrides})
    config.update({f"{PROJECT}:{k}": v for k, v in (secrets or {}).items()})
    secret_keys = [f"{PROJECT}:{k}" for k in [*(secrets or {}), *secret_settings]]
    return run_program(
        project_dir, stack, lambda: program.run(str(catalog), project_dir), config=config, secret_keys=secret_keys
    )


def read_yaml(path: Path) -> Any:
    """A rendered manifest (or any one-document YAML file), read with libyaml's parser where PyYAML has it."""
    return load_manifest(path)


def metric_names(expr: str) -> set[str]:
    """Every series name a PromQL expression reads (parsing it: an invalid expression raises)."""
    import promql_parser

    names: set[str] = set()

    def visit(node) -> bool:
        if isinstance(node, promql_parser.VectorSelector):
            if node.name:
                names.add(node.name)
            names.update(m.value for m in node.matchers.matchers if m.name == "__name__")
        return True

    promql_parser.walk(promql_parser.parse(expr), visit)
    return names


def run_make(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    """`make ARGS` in ``cwd`` as a user would run it, with this checkout's virtualenv (never re-created from a test:
    ``-o``), and without the variables of a `make test` this suite may run under (MAKEFLAGS would pass its
    command-line variables on)."""
    venv = ROOT / ".venv"
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES")}
    command = ["make", "--no-print-directory", "-o", f"{venv}/.installed", f"VENV={venv}", *args]
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=False)
