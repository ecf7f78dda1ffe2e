"""The Pulumi program: one stack = one environment, everything derived from its settings and the catalog.

`pulumi up -s <stack>` runs it through ``__main__.py``; ``mlserve render`` runs the very same ``main()`` under
Pulumi's mock runtime. Nothing is registered until the catalog and the stack's settings are valid.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from pathlib import Path
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
from pulumi.runtime import config as runtime_config

from components.build_context import content_tag
from components.cluster_guard import cluster_identifier
from components.device_plugin import DevicePlugin
from components.gpu_node_pool import GpuNodePool, GpuNodePoolArgs, device_plugin_args
from components.labels import image_version, release_labels
from components.model_image import ModelImage, ModelImageArgs
from components.model_monitoring import ModelMonitoring, ModelMonitoringArgs
from components.model_service import ModelService, ModelServiceArgs
from components.monitoring_stack import MonitoringStack, MonitoringStackArgs
from components.namespace import ServingNamespace, ServingNamespaceArgs
from components.protection import namespace_protection
from components.registry import ImageRegistry, ImageRegistryArgs
from components.routing.component import InferenceRouting, InferenceRoutingArgs
from components.routing.peers import routed_by_gateway
from components.secrets import StackSecrets, StackSecretsArgs
from model_catalog.environment import Environment, resolve_environment
from model_catalog.errors import ConfigurationError
from model_catalog.schema import ModelSpec
from model_catalog.settings import StackSettings
from platform_data.runtimes import RUNTIMES

PROJECT_DIR = Path(__file__).resolve().parent.parent


def engine_config() -> tuple[dict[str, Any], set[str]]:
    """All config the engine handed the program (or the render's mock runtime set), and which keys are secret."""
    values: dict[str, Any] = dict(runtime_config.get_config_env())
    values.update(runtime_config.CONFIG.get())
    secret_keys = set(runtime_config.get_config_secret_keys_env())
    secret_keys |= {key for key in values if pulumi.runtime.is_config_secret(key)}
    return values, secret_keys


def load_environment(catalog_path: str | None = None, project_dir: Path = PROJECT_DIR) -> Environment:
    """Validate this stack's settings and catalog; raise ConfigurationError listing every problem."""
    values, secret_keys = engine_config()
    return resolve_environment(project_dir, pulumi.get_stack(), values, secret_keys, catalog_path)


def is_built(spec: ModelSpec) -> bool:
    return spec.image is not None and spec.image.build is not None


def image_source(model: str, spec: ModelSpec, registry: ImageRegistry) -> str:
    """Where a model's image comes from, known before anything runs: its built repository, its prebuilt ref, or
    the runtime's pin."""
    if spec.image is not None and spec.image.ref is not None:
        return spec.image.ref
    if is_built(spec):
        return registry.target(model).repository
    image = RUNTIMES[spec.runtime].image_for(spec.resources.gpu is not None)
    assert image is not None, "check_model rejects models without an image for their hardware"
    return image


def model_version(model: str, spec: ModelSpec, env: Environment, registry: ImageRegistry) -> str:
    """The app.kubernetes.io/version of a model: the catalog's `version`, else what its image is known by offline
    (a built image's content tag, a prebuilt or runtime image's tag or digest)."""
    if spec.version is not None:
        return spec.version
    if spec.image is not None and spec.image.build is not None:
        return content_tag(env.project_dir, spec.image.build)
    return image_version(image_source(model, spec, registry))


def image_for(model: str, spec: ModelSpec, env: Environment, registry: ImageRegistry) -> pulumi.Input[str]:
    """The reference a model runs: a built image's immutable ref (built and pushed here), else its source."""
    if spec.image is not None and spec.image.build is not None:
        target = registry.target(model)
        built = ModelImage(
            model,
            ModelImageArgs(
                build=spec.image.build,
                project_dir=env.project_dir,
                repository=target.repository,
                push=target.push,
                registry=target.credentials,
                reference=target.reference,
                repository_resource=target.repository_resource,
            ),
            opts=renamed(spec),
        )
        return built.ref
    return image_source(model, spec, registry)


def renamed(spec: ModelSpec, opts: pulumi.ResourceOptions | None = None) -> pulumi.ResourceOptions:
    """A renamed model's components (``renamedFrom``) carry an alias from the old name; Pulumi derives their
    children's aliases from it (a child named ``<old>-deployment`` was the component's ``<new>-deployment``)."""
    aliases = [pulumi.Alias(name=spec.renamed_from)] if spec.renamed_from else None
    return pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(aliases=aliases))


def registry_password(settings: StackSettings) -> pulumi.Output[str] | None:
    """The external registry's password (secret config), read only when the settings say a user needs it."""
    if settings.registry.type == "external" and settings.registry.username is not None:
        return pulumi.Config().require_secret("registryPassword")
    return None


def secret_values(settings: StackSettings) -> pulumi.Output[Any] | None:
    """The values of the Secrets the stack creates (secret config), read only when some Secret has source stack."""
    if any(d.source == "stack" for d in settings.secrets.values()):
        return pulumi.Config().require_secret_object("secretValues")
    return None


def kubernetes_provider(settings: StackSettings, platform_check: pulumi.Output[str] | None = None) -> k8s.Provider:
    """The provider that owns every Kubernetes object of the stack. Its clusterIdentifier resolves only once the
    connected cluster is the stack's (components/cluster_guard.py) and, on a team stack, once the platform stack's
    outputs say it has deployed what the team needs (``platform_check``)."""
    identifier = cluster_identifier(settings)
    if platform_check is not None:
        identifier = pulumi.Output.all(identifier, platform_check).apply(lambda values: values[0])
    return k8s.Provider(
        "kubernetes",
        cluster_identifier=identifier,
        context=settings.cluster.context,
        enable_server_side_apply=True,
    )


def build(env: Environment) -> None:
    """Register every resource of the environment (or of its platform or one team's part: docs/team-stacks.md)."""
    for _ in build_steps(env):
        pass


def build_steps(env: Environment, only: Collection[str] | None = None) -> Iterator[str]:
    """``build``, one model at a time: registers the stack's shared resources, then each model's components, and
    yields the model's name after constructing them. What is registered does not depend on what the caller does
    between steps: ``build`` (``pulumi up``) just goes on; the offline render lets the registrations of the models so
    far complete before the next one (bounded memory: docs/benchmarks.md). ``only``: construct only these models'
    components (one process's share of a render split across processes, mlserve/shards.py); the shared resources
    and the exports are the whole stack's."""
    settings = env.settings
    if settings.split.role == "platform":
        build_platform(env)
        return
    if settings.split.role == "team":
        platform = platform_reference(settings)
        team_namespace = checked_team_namespace(platform, settings)
        provider = kubernetes_provider(settings, team_namespace)
        # The namespace is the platform's: the team's objects wait for its stack's outputs, not for a resource here.
        yield from build_models(env, provider, team_namespace, [platform], only)
        return
    provider = kubernetes_provider(settings)
    namespace = ServingNamespace(
        settings.environment.namespace,
        ServingNamespaceArgs(
            name=settings.environment.namespace,
            kubernetes_version=settings.cluster.kubernetes_version,
            labels=dict(settings.environment.labels),
            protect=namespace_protection(settings, stateful=True)["protect"],
        ),
        opts=pulumi.ResourceOptions(providers=[provider]),
    )
    yield from build_models(env, provider, namespace.name, [namespace], only)


def build_platform(env: Environment) -> None:
    """A split environment's platform stack: every team's namespace, the shared monitoring and the device plugin of
    the declared GPU nodes (the other shared settings are read by the team stacks from its file); its outputs are
    what the team stacks reference."""
    settings = env.settings
    provider = kubernetes_provider(settings)
    k8s_opts = pulumi.ResourceOptions(providers=[provider])
    teams: dict[str, dict[str, pulumi.Input[str]]] = {}
    for team in sorted(settings.split.teams):
        name = settings.split.team_namespace(team, settings.environment.namespace)
        namespace = ServingNamespace(
            name,
            ServingNamespaceArgs(
                name=name,
                kubernetes_version=settings.cluster.kubernetes_version,
                labels=dict(settings.environment.labels),
                protect=namespace_protection(settings, stateful=True)["protect"],
            ),
            opts=k8s_opts,
        )
        teams[team] = {"namespace": namespace.name}
    pulumi.export("teams", teams)
    pulumi.export("cluster", settings.cluster.name)
    pulumi.export("registry", {"type": settings.registry.type})
    pools = settings.gpu_node_pool
    gpu_nodes = sorted(pools.existing) if pools.provider == "existing" else []
    if gpu_nodes and pools.install_device_plugin:
        # The cluster's declared GPU nodes (the teams' GPU models run there): one device plugin for every team.
        slices = {accelerator: 1 for accelerator in gpu_nodes}
        DevicePlugin("gpu-nodes-device-plugin", device_plugin_args(settings, slices, {}), opts=k8s_opts)
    if settings.monitoring.enabled:
        # Any team may scale a model on a Prometheus metric (the platform installs the autoscaler, mode managed) and
        # run on the declared GPU nodes (the DCGM exporter watches them).
        args = MonitoringStackArgs(settings=settings, models={}, autoscaler=True, gpu_accelerators=gpu_nodes)
        monitoring = MonitoringStack("monitoring", args, opts=k8s_opts)
        pulumi.export(
            "monitoring", {"namespace": settings.monitoring.namespace, "prometheus": monitoring.prometheus_url}
        )


def platform_reference(settings: StackSettings) -> pulumi.StackReference:
    """The team stack's view of its platform stack's outputs (same organization and project)."""
    assert settings.split.platform is not None
    target = f"{pulumi.get_organization()}/{pulumi.get_project()}/{settings.split.platform}"
    return pulumi.StackReference("platform", target)


def checked_team_namespace(platform: pulumi.StackReference, settings: StackSettings) -> pulumi.Output[str]:
    """The team's namespace as the platform stack exported it; fails (nothing registered) while the platform has not
    deployed this team, or deployed another namespace or monitoring than the team's settings expect."""
    team, platform_stack = settings.split.team, settings.split.platform
    deploy_first = f"deploy the platform stack first: pulumi up -s {platform_stack} (docs/team-stacks.md)"
    expected_prometheus = (
        settings.monitoring.existing.prometheus_url
        if settings.monitoring.enabled and settings.monitoring.existing is not None
        else None
    )

    def check(outputs: dict[str, Any]) -> str:
        teams = outputs.get("teams") or {}
        if team not in teams:
            raise pulumi.RunError(
                f"platform stack '{platform_stack}' exports no team '{team}' (it has: "
                f"{', '.join(sorted(teams)) or 'none'}); {deploy_first}"
            )
        namespace = teams[team].get("namespace")
        if namespace != settings.environment.namespace:
            raise pulumi.RunError(
                f"platform stack '{platform_stack}' created namespace '{namespace}' for team '{team}', but this "
                f"stack deploys to '{settings.environment.namespace}'; {deploy_first}"
            )
        prometheus = (outputs.get("monitoring") or {}).get("prometheus")
        if expected_prometheus is not None and prometheus != expected_prometheus:
            raise pulumi.RunError(
                f"platform stack '{platform_stack}' runs Prometheus at '{prometheus}', but this stack's autoscalers "
                f"would query '{expected_prometheus}'; {deploy_first}"
            )
        return namespace

    return platform.outputs.apply(check)


def build_models(
    env: Environment,
    provider: k8s.Provider,
    namespace: pulumi.Input[str],
    ready: list[pulumi.Resource],
    only: Collection[str] | None = None,
) -> Iterator[str]:
    """The models of a single stack or a team stack, in ``namespace`` (after ``ready``: the namespace resource, or
    the platform stack's reference); yields each model's name once its components are constructed (only those in
    ``only``, when given: build_steps)."""
    settings = env.settings
    k8s_opts = pulumi.ResourceOptions(providers=[provider])
    # Every Secret the models reference exists (or is being created) before any model: docs/secrets.md.
    secrets = StackSecrets(
        "secrets",
        StackSecretsArgs(settings=settings, values=secret_values(settings)),
        opts=pulumi.ResourceOptions(providers=[provider], depends_on=ready),
    )
    registry = ImageRegistry(
        "registry",
        ImageRegistryArgs(
            settings=settings,
            models=[model for model, spec in env.models.items() if is_built(spec)],
            namespace=namespace,
            password=registry_password(settings),
        ),
        opts=k8s_opts,
    )
    # GPU capacity sized from the catalog; GPU models wait for it so their pods never sit pending for a pool.
    gpu_capacity: list[pulumi.Resource] = []
    if settings.gpu_node_pool.provider != "none" and env.gpu_models:
        args = GpuNodePoolArgs(settings=settings, models=env.models, planned_gpus=planned_limits(env))
        gpu_capacity.append(GpuNodePool("gpu-nodes", args, k8s_opts))
    monitoring = (
        MonitoringStack("monitoring", MonitoringStackArgs(settings=settings, models=env.models), opts=k8s_opts)
        if settings.monitoring.enabled
        else None
    )
    services = {}
    built_images: dict[str, pulumi.Input[str]] = {}
    for model, spec in env.models.items():
        if only is not None and model not in only:
            continue
        image = image_for(model, spec, env, registry)
        release = release_labels(model, env.stack, model_version(model, spec, env, registry))
        gpu_deps = gpu_capacity if spec.resources.gpu is not None else []
        if is_built(spec):
            built_images[model] = image
        services[model] = ModelService(
            model,
            ModelServiceArgs(
                model=model,
                spec=spec,
                image=image,
                settings=settings,
                # A content-addressed tag (checkov suppressions); an external registry's image runs by digest.
                built_image=is_built(spec) and registry.kind.reference == "tag",
                image_pull_secrets=registry.pull_secrets(image_source(model, spec, registry)),
                release=release,
            ),
            opts=renamed(spec, pulumi.ResourceOptions(providers=[provider], depends_on=[*ready, secrets, *gpu_deps])),
        )
        if routed_by_gateway(spec, settings):
            InferenceRouting(
                model,
                InferenceRoutingArgs(
                    model=model,
                    spec=spec,
                    settings=settings,
                    release=release,
                    monitoring_ready=[monitoring.operator] if monitoring and monitoring.operator else [],
                ),
                opts=renamed(spec, pulumi.ResourceOptions(providers=[provider], depends_on=[services[model]])),
            )
        if monitoring is not None:
            ModelMonitoring(
                model,
                ModelMonitoringArgs(
                    model=model,
                    spec=spec,
                    settings=settings,
                    deployment=services[model].spot_deployment or services[model].deployment,
                    stack=monitoring,
                    release=release,
                ),
                opts=renamed(spec, pulumi.ResourceOptions(providers=[provider], depends_on=ready)),
            )
        yield model
    pulumi.export("namespace", namespace)
    pulumi.export("models", sorted(env.models))  # every model has its services: the same list as sorted(services)
    # What each built model runs: for `kind load docker-image` in dev, and for CI to scan or sign what was pushed.
    pulumi.export("images", built_images)
    if monitoring is not None:
        pulumi.export(
            "monitoring", {"namespace": settings.monitoring.namespace, "prometheus": monitoring.prometheus_url}
        )


def planned_limits(env: Environment) -> dict[str, int] | None:
    """``gpuNodePool.limits: plan``: the capacity planner's GPUs per accelerator (planning/limits.py; the solver is
    imported only for a stack that opts in)."""
    if env.settings.gpu_node_pool.limits != "plan":
        return None
    from planning.limits import planned_gpus

    return planned_gpus(env)


def run(catalog_path: str | None = None, project_dir: Path = PROJECT_DIR) -> Environment:
    """Validate, then register everything; raises ConfigurationError before registering anything."""
    env = load_environment(catalog_path, project_dir)
    build(env)
    return env


def main() -> None:
    """Entry point for `pulumi up` / `pulumi preview`."""
    try:
        run()
    except ConfigurationError as exc:
        # RunError: Pulumi prints the message without a stack trace and exits non-zero.
        raise pulumi.RunError("invalid configuration:\n" + exc.render()) from None
