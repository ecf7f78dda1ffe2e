"""One stack's environment: its validated settings plus the catalog's models as they apply in that stack.

This is the single entry point the Pulumi program uses (and with it the offline render): read the stack's
settings, read the catalog, run the rules that need both, and either return everything valid or raise one
ConfigurationError listing every problem. No Pulumi import here: this layer is testable on its own.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path as FsPath
from typing import Any

from platform_data.accelerators import ACCELERATORS
from platform_data.image_pinning import POLICY_RULE as PIN_RULE
from platform_data.image_pinning import pinned_by_digest
from platform_data.metrics import RUNTIME_SCALING_SIGNALS

from .build_contexts import dockerfile_problem, scan_context
from .catalog import LoadedCatalog, load_catalog
from .checks import SCALE_FROM_ZERO_METRICS
from .errors import ConfigurationError, Problem
from .quantities import byte_count, cpu_millicores, format_mebibytes
from .schema import Catalog, ModelSpec
from .secrets import secret_problems
from .settings import StackSettings, parse_settings, stack_file_name
from .split import ownership_problems, split_of, team_config, team_problems
from .tier_rules import rule_bites, waives
from .yaml_source import SourceDocument, load_yaml, parse_yaml

#: Scaling metrics read from Prometheus (through the monitoring stack) rather than from the metrics server.
MONITORED_METRICS = ("gpu-utilization", *SCALE_FROM_ZERO_METRICS, *RUNTIME_SCALING_SIGNALS)


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
    stacks = known_stacks(project_dir)
    doc = load_stack_document(project_dir, stack)
    # A team stack of a split environment reads the shared settings from its platform stack (docs/team-stacks.md).
    config, secret_keys, platform, found = team_config(project_dir, stack, config, secret_keys, doc, stacks)
    problems.extend(found)
    try:
        settings = parse_settings(config, secret_keys, stack, doc)
    except ConfigurationError as exc:
        problems.extend(exc.problems)
    if settings is not None and platform is not None:
        problems.extend(team_problems(stack, settings, platform, doc))
    if split_of(config).get("role") == "platform":
        # A platform stack serves no models of its own (its teams' stacks do): it has no catalog to read.
        if settings is not None:
            problems.extend(cluster_sharing_problems(project_dir, stack, settings))
        if problems or settings is None:
            raise ConfigurationError(problems)
        # (A catalog needs a model; a platform's is empty by construction, not read from any file.)
        source = parse_yaml("version: 1\nmodels: {}\n", f"{stack_file_name(stack)} (platform: no models)")
        empty = LoadedCatalog(source=source, catalog=Catalog.model_construct(version=1, models={}), effective={"": {}})
        return Environment(stack=stack, project_dir=project_dir, settings=settings, catalog=empty, models={})
    # An explicit catalog path is the user's (relative to where they are); the stack's is relative to the project.
    if catalog_path is not None:
        shown, catalog_file = catalog_path, FsPath(catalog_path)
    else:
        shown = settings.catalog if settings else "models.yaml"
        catalog_file = project_dir / shown
    loaded: LoadedCatalog | None = None
    try:
        loaded = load_catalog(catalog_file, known_stacks=stacks, shown_as=shown)
    except ConfigurationError as exc:
        problems.extend(exc.problems)
    if settings is not None and loaded is not None and platform is not None and settings.split.team is not None:
        models = list(loaded.catalog.models)
        problems.extend(ownership_problems(project_dir, stack, settings, loaded.source, models, doc, stacks))
    if settings is not None:
        problems.extend(cluster_sharing_problems(project_dir, stack, settings))
    if settings is not None and loaded is not None:
        problems.extend(stack_problems(loaded, settings, stack))
        problems.extend(capacity_problems(loaded, settings, stack, project_dir))
        problems.extend(secret_problems(loaded, settings, stack))
    if loaded is not None:
        problems.extend(exposure_problems(loaded, stack))
    if loaded is not None:
        problems.extend(build_problems(loaded, stack, project_dir))
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
        if gpu is not None and pools.provider == "none" and settings.split.role == "team":
            report(
                ("resources", "gpu"),
                f"team stack '{stack}' has no GPU nodes: its platform stack '{settings.split.platform}' "
                f"({stack_file_name(str(settings.split.platform))}) declares none (ml-serving:gpuNodePool.provider "
                "'none'); declare the cluster's GPU nodes there (provider 'existing'), or keep GPU models in a single "
                "stack (docs/team-stacks.md)",
            )
        elif gpu is not None and pools.provider == "none":
            report(
                ("resources", "gpu"),
                f"stack '{stack}' offers no GPUs (ml-serving:gpuNodePool.provider is 'none'); override this model "
                f"for '{stack}' without 'resources.gpu', or with 'enabled: false'",
            )
        elif gpu is not None and pools.provider == "existing":
            nodes = pools.existing.get(gpu.accelerator)
            if nodes is None and settings.split.role == "team":
                platform = str(settings.split.platform)
                report(
                    ("resources", "gpu", "accelerator"),
                    f"team stack '{stack}' has no '{gpu.accelerator}' nodes: its platform stack '{platform}' "
                    f"({stack_file_name(platform)}) declares {', '.join(sorted(pools.existing)) or 'none'} in "
                    "ml-serving:gpuNodePool.existing",
                )
            elif nodes is None:
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
        if name in spec.adapters:
            report(
                ("adapters", name),
                f"an adapter named like its model ('{name}') could not be told apart from the base model in a "
                "request's `model`; rename the adapter",
            )
        if gpu is not None and pools.provider == "karpenter":
            for path, message in _karpenter_gpu_problems(spec, settings, stack):
                report(path, message)
            for path, message in _capacity_choice_problems(spec, settings, stack):
                report(path, message)
        if spec.weights.cache and settings.weights_cache.storage_class is None:
            report(
                ("weights", "cache"),
                f"stack '{stack}' has no shared weights cache; set ml-serving:weightsCache.storageClass (a "
                "ReadWriteMany class) in its settings, or override 'weights.cache: false' for it",
            )
        downloads = spec.weights.uri is not None and not spec.weights.uri.startswith("pvc://")
        open_cidrs = [c for c in settings.network.weights_egress_cidrs if c.endswith("/0")]
        if tier == "prod" and downloads and open_cidrs:
            report(
                ("weights", "uri"),
                f"a prod model gets no internet egress, but its weight download would open {open_cidrs[0]} to the "
                "whole pod, serving container included (a NetworkPolicy selects pods, not containers); declare where "
                f"weights come from in stack '{stack}': ml-serving:network.weightsEgressCidrs (object storage "
                "endpoints, or an egress proxy's range with network.weightsProxy), or use pvc:// weights",
            )
        if spec.exposure.type == "public" and not (
            settings.ingress.tls_cluster_issuer or settings.ingress.plain_http_reason
        ):
            report(
                ("exposure", "type"),
                f"a public model is served over TLS in every tier, but stack '{stack}' sets no "
                "ml-serving:ingress.tlsClusterIssuer (cert-manager); set one, or state why plain HTTP is right here "
                "in ml-serving:ingress.plainHttpReason (e.g. TLS ends at the load balancer)",
            )
        if waives(spec, "prod-min-replicas") and not rule_bites(spec, "prod-min-replicas", tier) and tier == "prod":
            index = next(i for i, e in enumerate(spec.policy_exceptions) if e.rule == "prod-min-replicas")
            report(
                ("policyExceptions", index, "rule"),
                f"waives 'prod-min-replicas', but minReplicas is {spec.scaling.min_replicas} in stack '{stack}': the "
                "exception waives nothing; remove it (a stale exception hides the next real one)",
            )
        if rule_bites(spec, "prod-min-replicas", tier) and not waives(spec, "prod-min-replicas"):
            report(
                ("scaling", "minReplicas"),
                f"got {spec.scaling.min_replicas}; a prod stack runs every model with minReplicas >= 2 so that one "
                "node's loss or a rollout never takes it down (or waive it with its reason: policyExceptions: "
                "[{rule: prod-min-replicas, reason: ...}])",
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
        canary = spec.rollout.canary
        if tier != "dev" and canary is not None and canary.image is not None and not pinned_by_digest(canary.image):
            report(
                ("rollout", "canary", "image"),
                f"got '{canary.image}'; a {tier} stack runs only images pinned by digest (name:tag@sha256:<digest>)",
            )
        if (
            tier != "dev"
            and spec.image is not None
            and spec.image.ref is not None
            and not pinned_by_digest(spec.image.ref)
        ):
            report(
                ("image", "ref"),
                f"got '{spec.image.ref}'; a {tier} stack runs only images pinned by digest "
                f"(name:tag@sha256:<digest>): a tag can be moved to different content (policy rule {PIN_RULE}, "
                "checked here before anything renders)",
            )
        if (
            tier != "dev"
            and spec.image is not None
            and spec.image.build is not None
            and settings.registry.type == "none"
        ):
            report(
                ("image", "build"),
                f"a {tier} stack's cluster can only pull a built image from a registry, but stack '{stack}' has "
                "none (ml-serving:registry.type is 'none'); set registry type 'ecr' or 'external', or give "
                "'image.ref' (a pushed image, by digest)",
            )
    return problems


def _raw_settings(project_dir: FsPath, stack: str) -> dict[str, Any]:
    """Another stack's `ml-serving:*` values as written in its file (no validation: only compared here)."""
    doc = load_stack_document(project_dir, stack)
    data = doc.data if doc is not None and isinstance(doc.data, dict) else {}
    config = data.get("config") if isinstance(data.get("config"), dict) else {}
    return {k.removeprefix("ml-serving:"): v for k, v in config.items() if isinstance(v, dict)}


def _same_cluster(settings: StackSettings, other: dict[str, Any]) -> bool:
    cluster = other.get("cluster", {})
    if settings.cluster.kube_system_uid is not None and cluster.get("kubeSystemUid") is not None:
        return cluster.get("kubeSystemUid") == settings.cluster.kube_system_uid
    return (cluster.get("name"), cluster.get("context")) == (settings.cluster.name, settings.cluster.context)


def cluster_sharing_problems(project_dir: FsPath, stack: str, settings: StackSettings) -> list[Problem]:
    """Stacks of this project in the same cluster (same kube-system UID, else same name and context): different
    namespaces, and at most one managed monitoring stack with clusterWide (it owns the CRDs, KEDA, node-exporter)."""
    mon = settings.monitoring
    owner = mon.enabled and mon.mode == "managed" and mon.cluster_wide
    found: list[tuple[tuple[str, ...], str]] = []
    for other in known_stacks(project_dir):
        raw = _raw_settings(project_dir, other)
        if other == stack or not _same_cluster(settings, raw):
            continue
        if raw.get("environment", {}).get("namespace") == settings.environment.namespace:
            found.append(
                (
                    ("ml-serving:environment", "namespace"),
                    f"stack '{other}' deploys to the same cluster and namespace '{settings.environment.namespace}'; "
                    "two stacks in one cluster need namespaces of their own",
                )
            )
        other_mon = raw.get("monitoring", {})
        other_owner = (
            other_mon.get("enabled") is True
            and other_mon.get("mode", "managed") == "managed"
            and other_mon.get("clusterWide", True) is True
        )
        if owner and other_owner:
            found.append(
                (
                    ("ml-serving:monitoring",),
                    f"stack '{other}' ({stack_file_name(other)}) also installs the cluster-wide monitoring pieces (CRDs, "
                    f"KEDA, node-exporter) in cluster '{settings.cluster.name}'; exactly one stack per cluster may: "
                    "set clusterWide: false in one of them (docs/monitoring.md#shared-clusters)",
                )
            )
    doc = load_stack_document(project_dir, stack)
    problems = []
    for path, message in found:
        shown = ".".join(path)
        if doc is None:
            problems.append(Problem(stack_file_name(stack), 1, 1, shown, message))
        else:
            problems.append(doc.problem(("config", *path), message, shown_path=shown))
    return problems


def capacity_problems(loaded: LoadedCatalog, settings: StackSettings, stack: str, project_dir: FsPath) -> list[Problem]:
    """The models at their maximum replicas must fit ``cluster.capacity`` (requests per replica times maxReplicas)."""
    capacity = settings.cluster.capacity
    if capacity is None:
        return []
    models = {name: spec for name, spec in loaded.models_for(stack).items() if spec.enabled}
    cpu = sum(cpu_millicores(s.resources.cpu) * s.scaling.max_replicas for s in models.values())
    memory = sum(byte_count(s.resources.memory) * s.scaling.max_replicas for s in models.values())
    over = []
    if cpu > cpu_millicores(capacity.cpu):
        over.append(f"{cpu}m CPU (capacity {capacity.cpu})")
    if memory > byte_count(capacity.memory):
        over.append(f"{format_mebibytes(memory)} memory (capacity {capacity.memory})")
    if not over:
        return []
    doc = load_stack_document(project_dir, stack)
    path = ("config", "ml-serving:cluster", "capacity")
    message = (
        f"the models of stack '{stack}' request {' and '.join(over)} at their maximum replicas; lower their "
        "resources or maxReplicas for this stack (overrides), or raise the capacity"
    )
    if doc is None:
        return [Problem(stack_file_name(stack), 1, 1, "ml-serving:cluster.capacity", message)]
    return [doc.problem(path, message, shown_path="ml-serving:cluster.capacity")]


def build_problems(loaded: LoadedCatalog, stack: str, project_dir: FsPath) -> list[Problem]:
    """Build contexts of the stack's models: inside the project, with their Dockerfile inside the context, a
    .dockerignore, and nothing the builder must not receive (model_catalog/build_contexts.py)."""
    problems: list[Problem] = []
    root = project_dir.resolve()
    # Models built from one context (a fleet's custom servers) share its checks: the context is read once.
    checked: dict[tuple[str, str], list[tuple[tuple[str, ...], str]]] = {}
    for name, spec in loaded.models_for(stack).items():
        build = spec.image.build if spec.enabled and spec.image is not None else None
        if build is None:
            continue
        key = (build.context, build.dockerfile)
        if key not in checked:
            checked[key] = _context_problems(project_dir, root, build.context, build.dockerfile)
        problems.extend(loaded.problem(name, stack, path, message) for path, message in checked[key])
    return problems


def _context_problems(
    project_dir: FsPath, root: FsPath, shown: str, dockerfile: str
) -> list[tuple[tuple[str, ...], str]]:
    """What is wrong with the build context ``shown`` (as the catalog writes it) and its ``dockerfile``."""
    at_context = ("image", "build", "context")
    context = (project_dir / shown).resolve()
    if not context.is_relative_to(root) or context == root:
        return [
            (
                at_context,
                f"got '{shown}'; a build context is a directory below the project directory (the builder receives "
                "all of it), e.g. 'images/<model>'",
            )
        ]
    if not context.is_dir():
        return [(at_context, f"'{shown}' is not a directory of the project")]
    if (reason := dockerfile_problem(context, dockerfile, shown)) is not None:
        return [(("image", "build", "dockerfile"), reason)]
    if not (context / ".dockerignore").is_file():
        return [
            (
                at_context,
                f"'{shown}' has no .dockerignore; add one that lists what the image needs (start with '*', then "
                "'!file' per file) so that nothing else, credentials included, reaches the builder",
            )
        ]
    return [(at_context, f"in '{shown}': {message}") for message in scan_context(context).problems]


def _karpenter_gpu_problems(spec: ModelSpec, settings: StackSettings, stack: str) -> list[tuple[tuple[str, ...], str]]:
    """A GPU replica must fit some instance type of its accelerator's node pool, and a shared GPU takes one-GPU
    replicas only (time-slicing hands out slices of one GPU, never several physical GPUs)."""
    gpu = spec.resources.gpu
    assert gpu is not None
    accelerator = ACCELERATORS[gpu.accelerator]
    units = gpu.count * gpu.tensor_parallelism
    sharing = settings.gpu_node_pool.sharing.get(gpu.accelerator)
    if sharing is not None and units > 1:
        return [
            (
                ("resources", "gpu", "count"),
                f"'{gpu.accelerator}' GPUs are shared in stack '{stack}' (ml-serving:gpuNodePool.sharing, "
                f"{sharing.time_slicing_replicas} slices per GPU), so a replica gets one slice; this model asks for "
                f"{units} GPUs. Ask for 1, or remove the sharing of '{gpu.accelerator}'",
            )
        ]
    slices = sharing.time_slicing_replicas if sharing is not None else 1
    with_gpus = [t for t in accelerator.instance_types if t.gpus * slices >= units]
    if not with_gpus:
        return []  # too many GPUs per pod for any instance: check_model reports it
    cpu, memory = cpu_millicores(spec.resources.cpu), byte_count(spec.resources.memory)
    if _replica_fits(gpu.accelerator, units, slices, cpu, memory):
        return []
    largest = max(with_gpus, key=lambda t: (t.pod_memory_bytes, t.pod_cpu_millicores))
    path = ("resources", "memory") if memory > largest.pod_memory_bytes else ("resources", "cpu")
    return [
        (
            path,
            f"a replica asks for {spec.resources.cpu} CPU and {spec.resources.memory} with {units} "
            f"{gpu.accelerator} GPU(s), but no {gpu.accelerator} instance type holds it: the largest, "
            f"{largest.name}, leaves pods {largest.pod_cpu_millicores}m CPU and "
            f"{format_mebibytes(largest.pod_memory_bytes)} after system and DaemonSet reservations",
        )
    ]


@functools.lru_cache(maxsize=4096)
def _replica_fits(accelerator: str, units: int, slices: int, cpu: int, memory: int) -> bool:
    """Some instance type of ``accelerator`` holds a replica of ``cpu`` millicores, ``memory`` bytes and ``units``
    GPU units (memoized: a fleet asks the same few sizes thousands of times)."""
    return any(
        t.gpus * slices >= units and t.replicas_that_fit(cpu, memory, units, slices) >= 1
        for t in ACCELERATORS[accelerator].instance_types
    )


def _capacity_choice_problems(
    spec: ModelSpec, settings: StackSettings, stack: str
) -> list[tuple[tuple[str, ...], str]]:
    """A model's `capacity` on Karpenter GPU pools (components/capacity_placement.py): no spot-only model in prod,
    and a spot-fallback model has a floor to keep on on-demand and replicas above it for KEDA to put on spot."""
    found: list[tuple[tuple[str, ...], str]] = []
    scaling = spec.scaling
    if spec.capacity == "spot" and settings.environment.tier == "prod":
        found.append(
            (
                ("capacity",),
                "a prod model never runs on spot only: one reclaim can take every replica at once; use "
                "'spot-fallback' (minReplicas stay on on-demand, the replicas above them on spot) or 'on-demand'",
            )
        )
    if spec.capacity != "spot-fallback":
        return found
    if spec.resources.gpu is not None and spec.resources.gpu.pipeline_parallelism > 1:
        found.append(
            (
                ("capacity",),
                "'spot-fallback' splits a Deployment into an on-demand floor and a spot part; a multi-node model "
                "(pipelineParallelism > 1) runs as a LeaderWorkerSet: use 'on-demand' or 'spot'",
            )
        )
    if scaling.min_replicas < 1:
        found.append(
            (
                ("scaling", "minReplicas"),
                "got 0; 'spot-fallback' keeps minReplicas on on-demand nodes (the floor), so it needs minReplicas >= 1 "
                "(for a model that may scale to zero, use 'spot')",
            )
        )
    elif scaling.max_replicas <= scaling.min_replicas:
        found.append(
            (
                ("scaling", "maxReplicas"),
                f"got {scaling.max_replicas} (minReplicas {scaling.min_replicas}); 'spot-fallback' keeps minReplicas "
                "on on-demand and runs the replicas above them on spot, so it needs maxReplicas > minReplicas "
                "(or capacity 'on-demand')",
            )
        )
    if scaling.metric in ("cpu", "memory"):
        found.append(
            (
                ("scaling", "metric"),
                f"got '{scaling.metric}'; a 'spot-fallback' model's spot replicas are scaled by KEDA on the load above "
                "its on-demand floor, read from Prometheus: use requests-per-second, concurrency or gpu-utilization",
            )
        )
    return found


def exposure_problems(loaded: LoadedCatalog, stack: str) -> list[Problem]:
    """Two public models on one host and path: the ingress controller would send every request to one of them
    (paths are Prefix matches, so a trailing slash makes no difference)."""
    problems: list[Problem] = []
    taken: dict[tuple[str, str], str] = {}
    for name, spec in loaded.models_for(stack).items():
        exposure = spec.exposure
        if not spec.enabled or exposure.type != "public" or exposure.host is None:
            continue
        route = (exposure.host.lower(), exposure.path.rstrip("/") or "/")
        if route in taken:
            problems.append(
                loaded.problem(
                    name,
                    stack,
                    ("exposure", "path"),
                    f"host '{exposure.host}' path '{exposure.path}' is already the public route of model "
                    f"'{taken[route]}'; an ingress sends each request to one backend, so give this model another "
                    "host or path",
                )
            )
        else:
            taken[route] = name
    return problems
