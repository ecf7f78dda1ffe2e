"""Canary without double GPU cost (catalog ``rollout.canary``): a second, small Deployment beside the stable one.

``<model>-canary`` runs ``replicas`` (default 1) pods of the same pod template with what is being tried (image,
weights, extra arguments), labelled ``ml-serving.dev/rollout: canary`` and selecting only those pods. Its pods
carry the model's selector label, so the model's Service, NetworkPolicy, PodMonitor and (gateway-inference) its
InferencePool include them: traffic splits by replica ratio, about replicas / (replicas + stable replicas), stated
as approximate (the endpoint picker weighs replicas by load). Its GPUs are counted in the node pool limits and the
capacity report (components/gpu_capacity.py). Alerts compare the canary with the stable pods (``canary_rules``).
Promotion and abort are catalog edits (docs/llm-traffic.md#canary). Pure functions, no Pulumi.
"""

from __future__ import annotations

import copy
from typing import Any

from model_catalog.schema import Image, ModelSpec
from model_catalog.settings import StackSettings
from platform_data.metrics import fill

from . import capacity_placement as cp
from .labels import VERSION_LABEL, image_version, label_value, model_labels, selector_labels
from .monitoring import ALERT_WINDOW, rule_labels, signals_for
from .suppressions import checkov_annotations
from .workload import deployment_timeout_seconds, pod_template, suppression_cases

Manifest = dict[str, Any]

ROLLOUT_LABEL = "ml-serving.dev/rollout"
CANARY = "canary"
#: Label the model's PodMonitor copies from the pods, so series tell canary and stable apart.
ROLLOUT_SERIES_LABEL = "rollout"
#: The canary fires when its error ratio exceeds the stable one's by this factor and this absolute margin.
ERROR_FACTOR = 2
ERROR_MARGIN = 0.01
#: ... or its p99 latency the stable one's by this factor.
LATENCY_FACTOR = 1.5


def canary_name(model: str) -> str:
    return f"{model}-{CANARY}"


def canary_spec(spec: ModelSpec) -> ModelSpec:
    """The model as the canary runs it."""
    canary = spec.rollout.canary
    assert canary is not None
    update: dict[str, Any] = {"rollout": type(spec.rollout)()}
    if canary.image is not None:
        update["image"] = Image.model_validate({"ref": canary.image})
    if canary.weights is not None:
        update["weights"] = canary.weights
    return spec.model_copy(update=update)


def canary_version(spec: ModelSpec, stable_version: str) -> str:
    canary = spec.rollout.canary
    assert canary is not None
    if canary.version is not None:
        return canary.version
    if canary.image is not None and image_version(canary.image) != stable_version:
        return image_version(canary.image)
    return label_value(f"{stable_version}-{CANARY}")


def canary_deployment(
    model: str,
    spec: ModelSpec,
    stable_image: Any,
    settings: StackSettings,
    release: dict[str, str],
    image_pull_secrets: list[Manifest],
) -> Manifest:
    canary = spec.rollout.canary
    assert canary is not None
    tried = canary_spec(spec)
    image = canary.image or stable_image
    release = {**release, VERSION_LABEL: canary_version(spec, release.get(VERSION_LABEL, "unknown"))}
    labels = model_labels(model, spec.runtime, settings.environment.labels, release)
    template = pod_template(model, tried, image, settings, labels, image_pull_secrets)
    template["metadata"]["labels"] = {**template["metadata"]["labels"], ROLLOUT_LABEL: CANARY}
    server = template["spec"]["containers"][0]
    if canary.args:
        server["args"] = [*server.get("args", []), *canary.args]
    where = cp.placement(spec, settings)
    if where is not None:
        # A spot-fallback model's canary runs on on-demand, like its floor: a reclaim must not end the trial.
        cp.place_pod(template, cp.ON_DEMAND if where == cp.SPOT_FALLBACK else where)
    built = canary.image is None and spec.image is not None and spec.image.build is not None
    annotations = checkov_annotations(suppression_cases(tried, settings, built))
    if spec.resources.gpu is not None:
        annotations["pulumi.com/timeoutSeconds"] = str(deployment_timeout_seconds(tried))
    metadata: Manifest = {"name": canary_name(model), "namespace": settings.environment.namespace, "labels": labels}
    if annotations:
        metadata["annotations"] = annotations
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": metadata,
        "spec": {
            "replicas": canary.replicas,
            "selector": {"matchLabels": {**selector_labels(model), ROLLOUT_LABEL: CANARY}},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}},
            "revisionHistoryLimit": 5,
            "progressDeadlineSeconds": deployment_timeout_seconds(tried),
            "template": copy.deepcopy(template),
        },
    }


def rollout_relabeling() -> Manifest:
    """PodMonitor relabeling: the pod's rollout label as the series label ``rollout`` (empty for stable pods)."""
    return {
        "action": "replace",
        "sourceLabels": ["__meta_kubernetes_pod_label_ml_serving_dev_rollout"],
        "targetLabel": ROLLOUT_SERIES_LABEL,
    }


def canary_share(spec: ModelSpec) -> tuple[float, float]:
    """The canary's approximate share of requests at the stable's max and min replicas."""
    canary = spec.rollout.canary
    assert canary is not None
    share = [
        canary.replicas / (canary.replicas + max(n, 1)) for n in (spec.scaling.max_replicas, spec.scaling.min_replicas)
    ]
    return share[0], share[1]


def canary_rules(model: str, spec: ModelSpec, settings: StackSettings, labels: dict[str, str]) -> Manifest:
    """PrometheusRule ``<model>-canary``: the canary's error ratio and p99 latency against the stable pods'."""
    signals = signals_for(model, spec, settings.environment.namespace)
    base = signals.selectors["sel"]
    row = signals.row

    def expr(template: str, rollout: str, **extra: str) -> str:
        return fill(template, sel=f'{base},{ROLLOUT_SERIES_LABEL}{rollout}"{CANARY}"', w=ALERT_WINDOW, **extra)

    def ratio(rollout: str) -> str:
        return f"(({expr(row.errors, rollout)}) or vector(0)) / ({expr(row.requests, rollout)})"

    rules = [
        {
            "alert": "CanaryHighErrorRate",
            "expr": f"{ratio('=')} > {ERROR_FACTOR} * {ratio('!=')} + {ERROR_MARGIN:g}",
            "for": "10m",
            "labels": {"severity": "warning", "model": model},
            "annotations": {
                "summary": f"Canary of {model} fails more requests than its stable pods",
                "description": (
                    f"The canary's error ratio is over {ERROR_FACTOR}x the stable pods' plus {ERROR_MARGIN:.0%}. "
                    "Abort: delete rollout.canary from the catalog."
                ),
                "runbook_url": f"{settings.monitoring.runbook_base_url}#canaryhigherrorrate",
            },
        }
    ]
    if row.latency_quantile is not None:
        latency = row.latency_quantile
        rules.append(
            {
                "alert": "CanaryHighLatency",
                "expr": (f"{expr(latency, '=', q='0.99')} > {LATENCY_FACTOR:g} * {expr(latency, '!=', q='0.99')}"),
                "for": "15m",
                "labels": {"severity": "warning", "model": model},
                "annotations": {
                    "summary": f"Canary of {model} is slower than its stable pods",
                    "description": f"The canary's p99 latency is over {LATENCY_FACTOR:g}x the stable pods'.",
                    "runbook_url": f"{settings.monitoring.runbook_base_url}#canaryhighlatency",
                },
            }
        )
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {
            "name": canary_name(model),
            "namespace": settings.environment.namespace,
            "labels": rule_labels(settings, labels),
        },
        "spec": {"groups": [{"name": f"{model}.canary", "rules": rules}]},
    }
