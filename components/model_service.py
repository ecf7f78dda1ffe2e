"""ModelService: everything one catalog model runs as in a stack.

ServiceAccount, ConfigMap (runtime config files, weight fetcher), Deployment, Service, NetworkPolicy, and as the
catalog asks: HorizontalPodAutoscaler, PodDisruptionBudget, Ingress. The objects themselves are built by
``components.workload`` (pure functions); this class registers them as children named ``<model>-<role>``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pulumi

from model_catalog.schema import ModelSpec
from model_catalog.settings import StackSettings

from .canary import canary_deployment
from .kube import register
from .workload import AUTOSCALED_FIELDS, build_model_objects, has_autoscaler, weights_cache_objects

TYPE = "ml-serving:models:ModelService"


@dataclass
class ModelServiceArgs:
    model: str
    """Catalog key; names every object of the model."""
    spec: ModelSpec
    """The model as effective in this stack (overrides applied)."""
    image: pulumi.Input[str]
    """Image reference the server runs (pinned: digest, or a content-addressed tag of a built image)."""
    settings: StackSettings
    """The stack's settings (namespace, GPU pools, ingress, monitoring)."""
    built_image: bool = False
    """True when ``image`` is built from this repository (a content-addressed tag rather than a digest)."""
    image_pull_secrets: list[dict[str, Any]] = field(default_factory=list)
    """The pods' imagePullSecrets (``{"name": ...}``), when the image's registry needs credentials."""
    release: dict[str, str] = field(default_factory=dict)
    """app.kubernetes.io/instance and /version of this stack's release of the model (labels.release_labels)."""


class ModelService(pulumi.ComponentResource):
    """One served model."""

    deployment: pulumi.CustomResource
    service: pulumi.CustomResource

    def __init__(self, name: str, args: ModelServiceArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(TYPE, name, None, opts)
        objects = build_model_objects(
            args.model,
            args.spec,
            args.image,
            args.settings,
            args.built_image,
            image_pull_secrets=args.image_pull_secrets,
            release=args.release,
        )
        child = pulumi.ResourceOptions(parent=self)
        self.service_account = register(f"{name}-service-account", objects.service_account, child)
        prerequisites: list[pulumi.Resource] = [self.service_account]
        self.config_map = None
        if objects.config_map is not None:
            self.config_map = register(f"{name}-config", objects.config_map, child)
            prerequisites.append(self.config_map)
        # A cached model (components/weights/cache.py): claim, fill Job, the Job's NetworkPolicy; the Deployment
        # waits for the fill, so its pods mount a full cache.
        labels = objects.deployment["metadata"]["labels"]
        self.weights_cache = []
        for manifest in weights_cache_objects(args.model, args.spec, args.settings, labels):
            role = {"PersistentVolumeClaim": "weights-cache", "Job": "weights-fill"}.get(
                manifest["kind"], "weights-fill-network-policy"
            )
            resource = register(
                f"{name}-{role}", manifest, pulumi.ResourceOptions(parent=self, depends_on=list(prerequisites))
            )
            self.weights_cache.append(resource)
            prerequisites.append(resource)
        # A multi-node model's workload is a LeaderWorkerSet (components/multinode/lws.py).
        role = "leader-worker-set" if objects.deployment["kind"] == "LeaderWorkerSet" else "deployment"
        self.deployment = register(
            f"{name}-{role}",
            objects.deployment,
            pulumi.ResourceOptions(
                parent=self,
                depends_on=prerequisites,
                # A spot-fallback model's floor has a fixed size; its spot Deployment is the autoscaled one.
                ignore_changes=AUTOSCALED_FIELDS if has_autoscaler(args.spec) and objects.spot is None else None,
            ),
        )
        self.spot_deployment = None
        if objects.spot is not None:
            self.spot_deployment = register(
                f"{name}-spot-deployment",
                objects.spot.spot_deployment,
                pulumi.ResourceOptions(parent=self, depends_on=prerequisites, ignore_changes=AUTOSCALED_FIELDS),
            )
            register(f"{name}-spot-pdb", objects.spot.spot_pdb, child)
        self.canary = None
        if args.spec.rollout.canary is not None:
            # A second, small Deployment beside the stable one (components/canary.py).
            self.canary = register(
                f"{name}-canary-deployment",
                canary_deployment(
                    args.model, args.spec, args.image, args.settings, args.release, args.image_pull_secrets
                ),
                pulumi.ResourceOptions(parent=self, depends_on=prerequisites),
            )
        self.service = register(f"{name}-service", objects.service, child)
        self.network_policy = register(f"{name}-network-policy", objects.network_policy, child)
        after_deployment = pulumi.ResourceOptions(parent=self, depends_on=[self.deployment])
        self.hpa = register(f"{name}-hpa", objects.hpa, after_deployment) if objects.hpa else None
        self.pdb = register(f"{name}-pdb", objects.pdb, child) if objects.pdb else None
        self.ingress = (
            register(f"{name}-ingress", objects.ingress, pulumi.ResourceOptions(parent=self, depends_on=[self.service]))
            if objects.ingress
            else None
        )
        self.register_outputs(
            {
                "deployment": self.deployment.metadata.apply(lambda m: m["name"]),
                "service": self.service.metadata.apply(lambda m: m["name"]),
            }
        )
