"""Spot with on-demand fallback, per model: which Karpenter capacity types a GPU model's replicas use.

A model's ``capacity`` (catalog) or, without one, the stack's ``gpuNodePool.capacityType`` decides (Karpenter stacks
only; existing GPU nodes and CPU models are not placed by capacity type):

- ``on-demand``: every replica on on-demand nodes (node selector ``karpenter.sh/capacity-type: on-demand``).
- ``spot``: every replica on spot nodes (refused in prod: a reclaim may take every replica at once).
- ``spot-fallback``: the **on-demand floor**: the model's Deployment ``<model>`` runs ``minReplicas`` replicas on
  on-demand nodes only (never interrupted by a spot reclaim, covered by its own PodDisruptionBudget), and a second
  Deployment ``<model>-spot`` runs the replicas above the floor (0 to ``maxReplicas - minReplicas``, scaled by
  KEDA on the load the floor cannot carry), preferring spot and falling back to on-demand when spot is short.
- the stack's ``capacityType: spot`` without a model ``capacity`` (``spot-preferred``): every replica prefers spot
  and falls back to on-demand, no floor (what a spot stack always did).

Per accelerator, the node pools follow: ``<namespace>-<accelerator>`` (on-demand) and, when a model may use spot,
``<namespace>-<accelerator>-spot`` (spot). With both, the spot pool has the higher Karpenter ``weight``: Karpenter
tries it first for a pod either pool can hold, and when spot is short (insufficient capacity, the spot pool's limit)
it launches from the on-demand pool instead. Pure functions, no Pulumi (docs/llm-traffic.md#spot).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from model_catalog.checks import scaling_target
from model_catalog.schema import ModelSpec
from model_catalog.settings import StackSettings

Manifest = dict[str, Any]

ON_DEMAND = "on-demand"
SPOT = "spot"
SPOT_FALLBACK = "spot-fallback"
#: The stack's `capacityType: spot` for a model without its own `capacity`: spot first, on-demand fallback, no floor.
SPOT_PREFERRED = "spot-preferred"
#: Karpenter's well-known label: the capacity type of the node.
CAPACITY_TYPE_LABEL = "karpenter.sh/capacity-type"
#: Label of a model's pods that tells its Deployments apart (never in the model's shared selector).
TRACK_LABEL = "ml-serving.dev/track"
FLOOR_TRACK = "on-demand-floor"
SPOT_TRACK = "spot"
#: Suffix of the spot Deployment (and its PodDisruptionBudget) of a spot-fallback model.
SPOT_SUFFIX = "-spot"
#: Karpenter NodePool weights (higher is tried first; an unweighted pool counts as 0). Both are set only when an
#: accelerator has a spot pool: a pod that either pool can hold goes to spot first.
SPOT_POOL_WEIGHT = 100
ON_DEMAND_POOL_WEIGHT = 10
#: Capacity types each placement may use.
ALLOWED: dict[str, tuple[str, ...]] = {
    ON_DEMAND: (ON_DEMAND,),
    SPOT: (SPOT,),
    SPOT_FALLBACK: (ON_DEMAND, SPOT),
    SPOT_PREFERRED: (ON_DEMAND, SPOT),
}


def placement(spec: ModelSpec, settings: StackSettings) -> str | None:
    """The model's capacity placement in this stack, or None when capacity types do not apply (a CPU model, or GPU
    nodes the stack does not provision)."""
    if spec.resources.gpu is None or settings.gpu_node_pool.provider != "karpenter":
        return None
    if spec.capacity is not None:
        return spec.capacity
    return SPOT_PREFERRED if settings.gpu_node_pool.capacity_type == SPOT else ON_DEMAND


def has_floor(spec: ModelSpec, settings: StackSettings) -> bool:
    """A spot-fallback model: split into the on-demand floor and the spot Deployment."""
    return placement(spec, settings) == SPOT_FALLBACK


def spot_deployment_name(model: str) -> str:
    return f"{model}{SPOT_SUFFIX}"


def _prefer_spot(pod: Manifest) -> None:
    """Make the scheduler fill existing spot nodes first (Karpenter's pool weights do the same for new nodes)."""
    affinity = pod.setdefault("affinity", {})
    affinity["nodeAffinity"] = {
        "preferredDuringSchedulingIgnoredDuringExecution": [
            {
                "weight": 100,
                "preference": {"matchExpressions": [{"key": CAPACITY_TYPE_LABEL, "operator": "In", "values": [SPOT]}]},
            }
        ]
    }


def place_pod(template: Manifest, where: str) -> None:
    """Set a pod template's capacity-type scheduling: required for on-demand and spot, preferred for spot first."""
    pod = template["spec"]
    if where in (ON_DEMAND, SPOT):
        pod["nodeSelector"][CAPACITY_TYPE_LABEL] = where
    else:
        _prefer_spot(pod)


@dataclass(frozen=True)
class FloorSplit:
    """The second Deployment of a spot-fallback model and the disruption budgets of both tracks."""

    spot_deployment: Manifest
    floor_pdb: Manifest | None
    spot_pdb: Manifest


def spot_replicas(spec: ModelSpec) -> int:
    """Most replicas the spot Deployment runs: those above the floor."""
    return spec.scaling.max_replicas - spec.scaling.min_replicas


def split_floor(model: str, spec: ModelSpec, deployment: Manifest, pdb: Manifest | None) -> FloorSplit:
    """Turn the model's Deployment into its on-demand floor (in place: ``minReplicas`` replicas, on-demand only,
    track label) and build the spot Deployment beside it (same pod, spot first, starting at zero replicas) and a
    disruption budget per track (a pod may be covered by one PodDisruptionBudget only: the eviction API refuses
    pods under two)."""
    floor_spec = deployment["spec"]
    floor_spec["replicas"] = spec.scaling.min_replicas
    floor_template = floor_spec["template"]
    spot = copy.deepcopy(deployment)
    floor_template["metadata"]["labels"][TRACK_LABEL] = FLOOR_TRACK
    place_pod(floor_template, ON_DEMAND)

    name = spot_deployment_name(model)
    spot["metadata"]["name"] = name
    spot_spec = spot["spec"]
    spot_spec["replicas"] = 0  # KEDA owns it from creation (components/monitoring.scaled_object)
    spot_spec["selector"] = {"matchLabels": {**floor_spec["selector"]["matchLabels"], TRACK_LABEL: SPOT_TRACK}}
    spot_template = spot_spec["template"]
    spot_template["metadata"]["labels"][TRACK_LABEL] = SPOT_TRACK
    place_pod(spot_template, SPOT_FALLBACK)

    floor_pdb = None
    if pdb is not None:
        floor_pdb = copy.deepcopy(pdb)
        floor_pdb["spec"]["selector"] = {
            "matchLabels": {**floor_spec["selector"]["matchLabels"], TRACK_LABEL: FLOOR_TRACK}
        }
    spot_pdb = {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {**copy.deepcopy(deployment["metadata"]), "name": name},
        "spec": {
            "maxUnavailable": 1,
            "selector": copy.deepcopy(spot_spec["selector"]),
            "unhealthyPodEvictionPolicy": "AlwaysAllow",
        },
    }
    spot_pdb["metadata"].pop("annotations", None)
    return FloorSplit(spot, floor_pdb, spot_pdb)


def spot_scaling_query(signal: str, spec: ModelSpec) -> str:
    """The spot Deployment's autoscaler query: the model's load (a sum over all its replicas) minus what the floor
    carries at target, never below zero. KEDA's AverageValue divides it by the target: the replicas needed above the
    floor, zero (KEDA scales the spot Deployment to zero) while the floor suffices."""
    floor_load = spec.scaling.min_replicas * scaling_target(spec)
    return f"clamp_min(({signal}) - {floor_load:g}, 0)"
