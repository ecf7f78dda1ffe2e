"""One stack's environment: its validated settings plus the catalog's models as they apply in that stack.

This is the single entry point the Pulumi program uses (and with it the offline render): read the stack's
settings, read the catalog, run the rules that need both, and either return everything valid or raise one
ConfigurationError listing every problem. No Pulumi import here: this layer is testable on its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path as FsPath
from typing import Any

from .catalog import LoadedCatalog, load_catalog
from .checks import SCALE_FROM_ZERO_METRICS
from .errors import ConfigurationError, Problem
from .schema import ModelSpec
from .settings import StackSettings, parse_settings, stack_file_name
from .yaml_source import SourceDocument, load_yaml

#: Scaling metrics read from Prometheus (through the monitoring stack) rather than from the metrics server.
MONITORED_METRICS = ("gpu-utilization", *SCALE_FROM_ZERO_METRICS)


@dataclass(frozen=True)
class Environment:
    """Everything one stack deploys, validated."""

    stack: str
    project_dir: FsPath
    settings: StackSettings
    catalog: LoadedCatalog
    models: dict[str, ModelSpec]
    """Enabled models in this stack, overrides applied, sorted by name."""

    @property
    def gpu_models(self) -> dict[str, ModelSpec]:
        return {name: spec for name, spec in self.models.items() if spec.resources.gpu is not None}


def known_stacks(project_dir: FsPath) -> list[str]:
    """Stacks of the project: one ``Pulumi.<stack>.yaml`` each."""
    return sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in project_dir.glob("Pulumi.*.yaml"))


def load_stack_document(project_dir: FsPath, stack: str) -> SourceDocument | None:
    path = project_dir / stack_file_name(stack)
    return load_yaml(path, shown_as=stack_file_name(stack)) if path.exists() else None


def resolve_environment(
    project_dir: FsPath,
    stack: str,
    config: Mapping[str, Any],
    secret_keys: set[str],
    catalog_path: str | None = None,
) -> Environment:
    """Validate settings and catalog for ``stack``; raise ConfigurationError listing every problem."""
    problems: list[Problem] = []
    settings: StackSettings | None = None
    try:
        settings = parse_settings(config, secret_keys, stack, load_stack_document(project_dir, stack))
    except ConfigurationError as exc:
        problems.extend(exc.problems)
    # An explicit catalog path is the user's (relative to where they are); the stack's is relative to the project.
    if catalog_path is not None:
        shown, catalog_file = catalog_path, FsPath(catalog_path)
    else:
        shown = settings.catalog if settings else "models.yaml"
        catalog_file = project_dir / shown
    loaded: LoadedCatalog | None = None
    try:
        loaded = load_catalog(catalog_file, known_stacks=known_stacks(project_dir), shown_as=shown)
    except ConfigurationError as exc:
        problems.extend(exc.problems)
    if settings is not None and loaded is not None:
        problems.extend(stack_problems(loaded, settings, stack))
    if problems or settings is None or loaded is None:
        raise ConfigurationError(problems)
    models = {name: spec for name, spec in loaded.models_for(stack).items() if spec.enabled}
    return Environment(stack=stack, project_dir=project_dir, settings=settings, catalog=loaded, models=models)


def stack_problems(loaded: LoadedCatalog, settings: StackSettings, stack: str) -> list[Problem]:
    """Rules that need both the catalog and the stack's settings."""
    problems: list[Problem] = []
    tier = settings.environment.tier
    pools = settings.gpu_node_pool
    for name, spec in loaded.models_for(stack).items():
        if not spec.enabled:
            continue

        def report(path: tuple[str, ...], message: str, model: str = name) -> None:
            problems.append(loaded.problem(model, stack, path, message))

        gpu = spec.resources.gpu
        if gpu is not None and pools.provider == "none":
            report(
                ("resources", "gpu"),
                f"stack '{stack}' offers no GPUs (ml-serving:gpuNodePool.provider is 'none'); override this model "
                f"for '{stack}' without 'resources.gpu', or with 'enabled: false'",
            )
        elif gpu is not None and pools.provider == "existing":
            nodes = pools.existing.get(gpu.accelerator)
            if nodes is None:
                report(
                    ("resources", "gpu", "accelerator"),
                    f"stack '{stack}' declares no existing '{gpu.accelerator}' nodes (ml-serving:gpuNodePool."
                    f"existing has: {', '.join(sorted(pools.existing)) or 'none'})",
                )
            elif gpu.count * gpu.tensor_parallelism > nodes.max_gpus_per_node:
                report(
                    ("resources", "gpu", "count"),
                    f"needs {gpu.count * gpu.tensor_parallelism} GPUs per pod; the existing '{gpu.accelerator}' "
                    f"nodes of stack '{stack}' have at most {nodes.max_gpus_per_node}",
                )
        if tier == "prod" and spec.scaling.min_replicas < 2:
            report(
                ("scaling", "minReplicas"),
                f"got {spec.scaling.min_replicas}; a prod stack runs every model with minReplicas >= 2 so that one "
                "node's loss or a rollout never takes it down",
            )
        if spec.scaling.metric in MONITORED_METRICS and not settings.monitoring.enabled:
            report(
                ("scaling", "metric"),
                f"'{spec.scaling.metric}' is read from Prometheus, but stack '{stack}' has monitoring off "
                "(ml-serving:monitoring.enabled); enable it or scale on cpu/memory here",
            )
        if spec.scaling.min_replicas == 0 and settings.monitoring.enabled and settings.monitoring.wake_hours is None:
            report(
                ("scaling", "minReplicas"),
                f"a model at zero replicas has no pod serving metrics, so nothing would wake it up; set "
                f"ml-serving:monitoring.wakeHours in stack '{stack}' (it keeps one replica during those hours) or "
                "use minReplicas >= 1",
            )
        if tier != "dev" and spec.image is not None and spec.image.ref is not None and "@sha256:" not in spec.image.ref:
            report(
                ("image", "ref"),
                f"got '{spec.image.ref}'; a {tier} stack runs only images pinned by digest "
                "(name:tag@sha256:<digest>): a tag can be moved to different content",
            )
    return problems
