"""A multi-node model as a LeaderWorkerSet (`leaderworkerset.x-k8s.io/v1`, kubernetes-sigs/lws).

One replica of the model is a group of `pipelineParallelism` pods, one per node, each with `count x
tensorParallelism` GPUs: tensor parallelism inside a node (NVLink), pipeline parallelism across nodes (the network).
The leader runs the Ray head and vLLM's OpenAI server with `--pipeline-parallel-size`; the workers join its Ray
cluster. This is vLLM's documented multi-node deployment with LWS (docs.vllm.ai, "LeaderWorkerSet"), using the
`multi-node-serving.sh` helper the vllm-openai image ships, which waits until the whole group has joined before the
server starts.

Everything else is the single-node pod unchanged: security contexts, resources, GPU node selector and tolerations
(leader and workers land on the same accelerator pool), weights (each pod fetches or mounts its own copy; pipeline
stages read their layers locally), probes on the leader. The Service selects leaders only; autoscalers scale groups
(the LWS `scale` subresource); the capacity plan counts whole groups (components/gpu_capacity.py).
"""

from __future__ import annotations

import copy
from typing import Any

from model_catalog.schema import ModelSpec

Manifest = dict[str, Any]

API_VERSION = "leaderworkerset.x-k8s.io/v1"
KIND = "LeaderWorkerSet"
#: The label LWS puts on every pod with its index in the group (0 = the leader).
WORKER_INDEX_LABEL = "leaderworkerset.sigs.k8s.io/worker-index"
#: The helper script of the vllm-openai image (examples/online_serving/multi-node-serving.sh in vLLM's repository).
MULTI_NODE_SCRIPT = "/vllm-workspace/examples/online_serving/multi-node-serving.sh"
RAY_PORT = 6379


def group_size(spec: ModelSpec) -> int:
    """Pods per replica: one per pipeline stage."""
    gpu = spec.resources.gpu
    return 1 if gpu is None else gpu.pipeline_parallelism


def is_multinode(spec: ModelSpec) -> bool:
    return group_size(spec) > 1


def scale_target(model: str, spec: ModelSpec) -> Manifest:
    """What an autoscaler scales: the model's Deployment, or its LeaderWorkerSet (by groups)."""
    if is_multinode(spec):
        return {"apiVersion": API_VERSION, "kind": KIND, "name": model}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "name": model}


def _shell(script: str) -> dict[str, list[str]]:
    return {"command": ["/bin/bash", "-c"], "args": [script]}


def leader_template(template: Manifest, spec: ModelSpec) -> Manifest:
    """The single-node pod template, with the server started behind the Ray head once the group has joined."""
    leader = copy.deepcopy(template)
    container = leader["spec"]["containers"][0]
    server_args = container.get("args", [])
    args = " ".join(
        [*server_args, f"--pipeline-parallel-size={group_size(spec)}", "--distributed-executor-backend=ray"]
    )
    container.update(
        _shell(
            f"bash {MULTI_NODE_SCRIPT} leader --ray_cluster_size=${{LWS_GROUP_SIZE}} && "
            f"exec python3 -m vllm.entrypoints.openai.api_server {args}"
        )
    )
    container["ports"] = [*container["ports"], {"name": "ray", "containerPort": RAY_PORT, "protocol": "TCP"}]
    return leader


def worker_template(template: Manifest) -> Manifest:
    """The same pod joining the leader's Ray cluster; no server, so probes ask Ray whether the group is healthy."""
    worker = copy.deepcopy(template)
    container = worker["spec"]["containers"][0]
    container.update(_shell(f"exec bash {MULTI_NODE_SCRIPT} worker --ray_address=${{LWS_LEADER_ADDRESS}}"))
    container.pop("ports", None)
    health = {
        "exec": {"command": ["/bin/sh", "-c", f'ray health-check --address "${{LWS_LEADER_ADDRESS}}:{RAY_PORT}"']},
        "timeoutSeconds": 10,
    }
    container["startupProbe"] = {**health, **_timing(container["startupProbe"])}
    container["readinessProbe"] = {**health, **_timing(container["readinessProbe"])}
    container["livenessProbe"] = {**health, **_timing(container["livenessProbe"])}
    worker["metadata"]["annotations"].pop("kubectl.kubernetes.io/default-container", None)
    return worker


def _timing(probe: Manifest) -> Manifest:
    return {k: v for k, v in probe.items() if k in ("periodSeconds", "failureThreshold", "successThreshold")}


#: `pulumi up` waits until every group is ready (LWS reports the Available condition).
WAIT_FOR_AVAILABLE = "jsonpath={.status.conditions[?(@.type=='Available')].status}=True"


def leader_worker_set(metadata: Manifest, template: Manifest, spec: ModelSpec, replicas: int) -> Manifest:
    """The LeaderWorkerSet in the Deployment's place: ``replicas`` groups of ``group_size`` pods."""
    return {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "metadata": metadata,
        "spec": {
            "replicas": replicas,
            # Workers start with the leader; the leader's script waits for them before the server starts.
            "startupPolicy": "LeaderCreated",
            "rolloutStrategy": {
                "type": "RollingUpdate",
                # A new group before an old one goes: never below the serving capacity during a rollout.
                "rollingUpdateConfiguration": {"maxUnavailable": 0, "maxSurge": 1},
            },
            "networkConfig": {"subdomainPolicy": "UniquePerReplica"},
            "leaderWorkerTemplate": {
                "size": group_size(spec),
                # A pipeline stage that dies takes the group's Ray cluster with it: restart the whole group.
                "restartPolicy": "RecreateGroupOnPodRestart",
                "leaderTemplate": leader_template(template, spec),
                "workerTemplate": worker_template(template),
            },
        },
    }


def intra_group_rules(selector: dict[str, str]) -> tuple[Manifest, Manifest]:
    """NetworkPolicy ingress and egress between the model's own pods on every port (Ray and NCCL pick theirs)."""
    peer = {"podSelector": {"matchLabels": dict(selector)}}
    return {"from": [peer]}, {"to": [peer]}
