"""The Pulumi program: one stack = one environment, everything derived from its settings and the catalog.

`pulumi up -s <stack>` runs it through ``__main__.py``; ``mlserve render`` runs the very same ``main()`` under
Pulumi's mock runtime. Nothing is registered until the catalog and the stack's settings are valid.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
from pulumi.runtime import config as runtime_config

from components.model_image import ModelImage, ModelImageArgs
from components.model_monitoring import ModelMonitoring, ModelMonitoringArgs
from components.model_service import ModelService, ModelServiceArgs
from components.monitoring_stack import MonitoringStack, MonitoringStackArgs
from components.namespace import ServingNamespace, ServingNamespaceArgs
from model_catalog.environment import Environment, resolve_environment
from model_catalog.errors import ConfigurationError
from model_catalog.schema import ModelSpec
from platform_data.runtimes import RUNTIMES

PROJECT_DIR = Path(__file__).resolve().parent.parent


def engine_config() -> tuple[dict[str, Any], set[str]]:
    """All config the engine handed the program (or the render's mock runtime set), and which keys are secret."""
    values: dict[str, Any] = dict(runtime_config.get_config_env())
    values.update(runtime_config.CONFIG.get())
    secret_keys = set(runtime_config.get_config_secret_keys_env()) | set(runtime_config._SECRET_KEYS.get())
    return values, secret_keys


def load_environment(catalog_path: str | None = None, project_dir: Path = PROJECT_DIR) -> Environment:
    """Validate this stack's settings and catalog; raise ConfigurationError listing every problem."""
    values, secret_keys = engine_config()
    return resolve_environment(project_dir, pulumi.get_stack(), values, secret_keys, catalog_path)


def image_for(
    model: str, spec: ModelSpec, env: Environment, provider_opts: pulumi.ResourceOptions
) -> pulumi.Input[str]:
    """The reference a model runs: its prebuilt ref, a built image's content-addressed ref, or the runtime's pin."""
    if spec.image is not None and spec.image.ref is not None:
        return spec.image.ref
    if spec.image is not None and spec.image.build is not None:
        registry = env.settings.registry
        if registry.type == "ecr":
            host = f"{registry.account_id}.dkr.ecr.{registry.region}.amazonaws.com"
            repository = f"{host}/{env.settings.environment.namespace}/{model}"
        elif registry.type == "external":
            repository = f"{registry.address}/{model}"
        else:
            repository = f"ml-serving.local/{model}"
        built = ModelImage(
            model,
            ModelImageArgs(
                build=spec.image.build,
                project_dir=env.project_dir,
                repository=repository,
                push=registry.type != "none",
            ),
            opts=provider_opts,
        )
        return built.ref
    image = RUNTIMES[spec.runtime].image_for(spec.resources.gpu is not None)
    assert image is not None, "check_model rejects models without an image for their hardware"
    return image


def build(env: Environment) -> None:
    """Register every resource of the environment."""
    settings = env.settings
    provider = k8s.Provider(
        "kubernetes",
        cluster_identifier=settings.cluster.name,
        context=settings.cluster.context,
        enable_server_side_apply=True,
    )
    k8s_opts = pulumi.ResourceOptions(providers=[provider])
    namespace = ServingNamespace(
        settings.environment.namespace,
        ServingNamespaceArgs(
            name=settings.environment.namespace,
            kubernetes_version=settings.cluster.kubernetes_version,
            labels=dict(settings.environment.labels),
        ),
        opts=k8s_opts,
    )
    monitoring = (
        MonitoringStack("monitoring", MonitoringStackArgs(settings=settings, models=env.models), opts=k8s_opts)
        if settings.monitoring.enabled
        else None
    )
    services = {}
    for model, spec in env.models.items():
        image = image_for(model, spec, env, pulumi.ResourceOptions())
        built = spec.image is not None and spec.image.build is not None
        services[model] = ModelService(
            model,
            ModelServiceArgs(model=model, spec=spec, image=image, settings=settings, built_image=built),
            opts=pulumi.ResourceOptions(providers=[provider], depends_on=[namespace]),
        )
        if monitoring is not None:
            ModelMonitoring(
                model,
                ModelMonitoringArgs(
                    model=model, spec=spec, settings=settings, deployment=services[model].deployment, stack=monitoring
                ),
                opts=pulumi.ResourceOptions(providers=[provider], depends_on=[namespace]),
            )
    pulumi.export("namespace", namespace.name)
    pulumi.export("models", sorted(services))
    if monitoring is not None:
        pulumi.export(
            "monitoring", {"namespace": settings.monitoring.namespace, "prometheus": monitoring.prometheus_url}
        )


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
