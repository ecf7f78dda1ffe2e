"""Rules that span fields of one model (the schema checks each field alone).

Each check returns ``(path, message)`` pairs with the path relative to the model entry, so the caller can point
at the base definition or at the override that set the value. A rule about two fields gives both paths, the one
to blame by default first: the problem is reported at whichever of them a stack's override wrote.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator

from platform_data.accelerators import ACCELERATORS
from platform_data.metrics import RUNTIME_SCALING_SIGNALS, runtimes_with_signal
from platform_data.runtimes import RUNTIMES

from .credentials import credential_kind, is_credential_name
from .quantities import byte_count
from .schema import ModelSpec
from .tier_rules import TIER_RULES, WAIVABLE

FieldPath = tuple[str | int, ...]
Finding = tuple[FieldPath | tuple[FieldPath, ...], str]

#: Default scaling targets, per metric; None means the catalog must give one.
DEFAULT_TARGETS: dict[str, float | None] = {
    "cpu": 70,
    "memory": 80,
    "gpu-utilization": 80,
    "requests-per-second": None,
    "concurrency": None,
    "queue-depth": None,
    "queue-time": None,
    "ttft-p90": None,
}
PERCENT_METRICS = ("cpu", "memory", "gpu-utilization")
#: Metrics whose target is a value for the whole model (a latency), not a per-replica share of a sum.
WHOLE_MODEL_METRICS = ("queue-time", "ttft-p90")
#: Metrics that can be read while no replica runs, so the model may scale to zero on them.
SCALE_FROM_ZERO_METRICS = ("requests-per-second", "concurrency")

_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_URI_SHAPES = {
    "s3": (re.compile(r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/.*)?$"), "s3://<bucket>/<prefix>"),
    "gs": (re.compile(r"^gs://[a-z0-9][a-z0-9._-]{1,220}[a-z0-9](/.*)?$"), "gs://<bucket>/<prefix>"),
    "hf": (re.compile(r"^hf://[A-Za-z0-9][\w.-]*/[\w.-]+(@[\w./-]+)?$"), "hf://<org>/<model>[@<revision>]"),
    "https": (re.compile(r"^https://[^/\s]+/\S*$"), "https://<host>/<path>"),
    "pvc": (re.compile(r"^pvc://[a-z0-9]([-a-z0-9]*[a-z0-9])?(/[\w./-]*)?$"), "pvc://<claim-name>[/<sub/path>]"),
}


#: Catalog fields (as written) that no rule here reads: a stack's override that changes only these (``enabled:
#: false``, the most common one) has its base definition's findings (tests/catalog/test_unchecked_fields.py).
UNCHECKED_FIELDS = frozenset(
    {"description", "version", "enabled", "renamedFrom", "maxRequestSeconds", "alerts", "capacity"}
)


def check_model(spec: ModelSpec) -> list[Finding]:
    """Every cross-field problem of one effective model definition."""
    return [
        *_image(spec),
        *_weights(spec),
        *_runtime(spec),
        *_resources(spec),
        *_multinode(spec),
        *_scaling(spec),
        *_exposure(spec),
        *_egress(spec),
        *_env(spec),
        *_credentials(spec),
        *_policy_exceptions(spec),
    ]


def _image(spec: ModelSpec) -> Iterator[Finding]:
    image = spec.image
    preset = RUNTIMES[spec.runtime]
    if image is not None and (image.build is None) == (image.ref is None):
        yield ("image",), "give exactly one of 'build' (a Dockerfile in this repo) or 'ref' (a prebuilt image)"
    if image is None and preset.image_for(spec.resources.gpu is not None) is None:
        if spec.runtime == "custom":
            yield ("runtime",), "runtime 'custom' has no default image; give 'image.build' or 'image.ref'"
        else:
            yield (
                ("resources", "gpu"),
                (
                    f"runtime '{spec.runtime}' has no pinned CPU image; add 'resources.gpu' or give 'image.ref' "
                    "(a CPU build of the server)"
                ),
            )


def _weights(spec: ModelSpec) -> Iterator[Finding]:
    weights = spec.weights
    if (weights.uri is None) == (not weights.baked):
        yield ("weights",), "give exactly one of 'uri' (fetched at start-up) or 'baked: true' (inside the image)"
        return
    if weights.uri is not None:
        scheme = weights.uri.split("://", 1)[0]
        pattern, shape = _URI_SHAPES[scheme]
        # A URI with credentials is reported (without quoting it) by _credentials.
        if not pattern.match(weights.uri) and credential_kind(weights.uri, entropy=False) is None:
            yield ("weights", "uri"), f"got '{weights.uri}'; a {scheme} URI looks like {shape}"
        if scheme == "pvc" and weights.credentials_secret is not None:
            yield ("weights", "credentialsSecret"), "a pvc:// volume is mounted, not downloaded; remove it"
        if scheme == "pvc":
            yield from _claim(spec)
    elif weights.credentials_secret is not None:
        yield ("weights", "credentialsSecret"), "baked-in weights are not downloaded; remove it"
    scheme = (weights.uri or "").split("://", 1)[0]
    for field, attribute, wanted in (
        ("include", "include", "hf"),
        ("exclude", "exclude", "hf"),
        ("sha256", "sha256", "https"),
    ):
        if getattr(weights, attribute) is not None and scheme != wanted:
            yield (
                ("weights", field),
                f"'{field}' is for {wanted}:// weights; this model's come from {scheme or 'the image'}",
            )
    for field in ("include", "exclude"):
        for i, pattern in enumerate(getattr(weights, field) or []):
            if ".." in pattern.split("/"):
                yield ("weights", field, i), f"got '{pattern}'; a pattern names paths inside the repository, no '..'"
    if weights.cache and scheme in ("", "pvc"):
        yield (
            ("weights", "cache"),
            "only downloaded weights (s3, gs, hf, https) are cached; this model's are not downloaded",
        )
    if not (weights.uri or "").startswith("pvc://"):
        for field in ("accessMode", "storageClass", "sameNode"):
            if getattr(weights, _snake(field)) not in (None, False):
                yield ("weights", field), f"'{field}' describes an existing claim; it only goes with a pvc:// URI"


@functools.cache
def _snake(name: str) -> str:
    return re.sub(r"([A-Z])", lambda m: "_" + m.group(1).lower(), name)


def _claim(spec: ModelSpec) -> Iterator[Finding]:
    """An existing claim's declared access mode against the replicas that mount it."""
    weights, replicas = spec.weights, spec.scaling.max_replicas
    gpu = spec.resources.gpu
    stages = gpu.pipeline_parallelism if gpu is not None else 1
    mode = weights.access_mode
    if mode is None:
        yield (
            ("weights", "accessMode"),
            "a pvc:// claim must declare its access mode (ReadOnlyMany, ReadWriteMany, ReadWriteOnce or "
            "ReadWriteOncePod), as set on the claim: ReadWriteOnce attaches to one node only",
        )
    elif mode == "ReadWriteOncePod":
        yield (
            ("weights", "accessMode"),
            "a ReadWriteOncePod claim admits one pod, but a rolling update starts the new pod before the old one "
            "stops, so it would never start; use a ReadOnlyMany or ReadWriteMany claim",
        )
    elif mode == "ReadWriteOnce" and replicas * stages > 1 and not weights.same_node:
        pods = (
            f"{replicas} replicas (maxReplicas)" if stages == 1 else f"{replicas * stages} pods ({stages} per replica)"
        )
        yield (
            (("weights", "accessMode"), ("scaling", "maxReplicas")),
            f"a ReadWriteOnce claim attaches to one node, but up to {pods} may land on "
            "different nodes, and every one after the first would wait at attach forever; use a ReadOnlyMany or "
            "ReadWriteMany claim, or set 'weights.sameNode: true' to run every replica on one node",
        )
    if weights.same_node and mode != "ReadWriteOnce":
        yield (
            ("weights", "sameNode"),
            f"'sameNode' is for ReadWriteOnce claims; a {mode or 'claim without accessMode'} needs no pinning",
        )


def _runtime(spec: ModelSpec) -> Iterator[Finding]:
    preset = RUNTIMES[spec.runtime]
    if spec.runtime == "custom":
        if spec.server is None:
            yield ("runtime",), "runtime 'custom' needs a 'server' block (port, probes, metrics)"
        elif spec.server.readiness_path == spec.server.liveness_path:
            yield (
                ("server", "livenessPath"),
                (
                    f"'livenessPath' ('{spec.server.liveness_path}') must differ from 'readinessPath': a pod that is "
                    "busy loading must not be restarted"
                ),
            )
        if spec.server is not None:
            try:
                re.compile(spec.server.metrics.error_status)
            except re.error as exc:
                yield (
                    ("server", "metrics", "errorStatus"),
                    f"got '{spec.server.metrics.error_status}', not a regular expression ({exc})",
                )
    elif spec.server is not None:
        yield (
            ("server",),
            (f"'server' is only for runtime 'custom'; runtime '{spec.runtime}' supplies its ports, probes and metrics"),
        )
    if spec.adapters and spec.runtime != "vllm":
        yield (
            ("adapters",),
            f"LoRA adapters are served by runtime 'vllm' (--enable-lora); runtime '{spec.runtime}' cannot load them",
        )
    for name, adapter in sorted(spec.adapters.items()):
        scheme = adapter.uri.split("://", 1)[0]
        pattern, shape = _URI_SHAPES[scheme]
        if not pattern.match(adapter.uri) and credential_kind(adapter.uri, entropy=False) is None:
            yield ("adapters", name, "uri"), f"got '{adapter.uri}'; a {scheme} URI looks like {shape}"
    canary = spec.rollout.canary
    if canary is not None:
        if canary.image is None and canary.weights is None and not canary.args:
            yield ("rollout", "canary"), "a canary tries something: give 'image', 'weights' or 'args'"
        if canary.image is not None and spec.image is not None and spec.image.build is not None:
            yield (
                ("rollout", "canary", "image"),
                "the model's image is built from this repository; a canary of a built image changes the build "
                "context instead (a canary image is a prebuilt reference)",
            )
        stable_scheme = spec.weights.uri.split("://", 1)[0] if spec.weights.uri else None
        if canary.weights is not None:
            scheme = canary.weights.uri.split("://", 1)[0] if canary.weights.uri else None
            if scheme != stable_scheme:
                yield (
                    ("rollout", "canary", "weights"),
                    f"the canary's weights must come like the stable ones ({stable_scheme or 'baked'}, got "
                    f"{scheme or 'baked'}): both pods share the model's ConfigMap and credentials",
                )
    if spec.priority is not None and spec.runtime != "vllm":
        yield (
            ("priority",),
            f"'priority' orders requests in a vLLM model's endpoint picker (gateway-inference routing); runtime "
            f"'{spec.runtime}' has none",
        )
    gpu = spec.resources.gpu
    if gpu is not None and gpu.tensor_parallelism > 1 and not preset.supports_tensor_parallelism:
        supported = sorted(name for name, row in RUNTIMES.items() if row.supports_tensor_parallelism)
        yield (
            ("resources", "gpu", "tensorParallelism"),
            (
                f"runtime '{spec.runtime}' does not shard models; tensorParallelism > 1 needs one of: "
                + ", ".join(supported)
            ),
        )


def _multinode(spec: ModelSpec) -> Iterator[Finding]:
    gpu = spec.resources.gpu
    if gpu is None or gpu.pipeline_parallelism == 1:
        return
    if spec.runtime != "vllm":
        yield (
            ("resources", "gpu", "pipelineParallelism"),
            f"runtime '{spec.runtime}' is not served across nodes; pipelineParallelism > 1 needs runtime vllm",
        )
    if spec.weights.same_node:
        yield (
            (("weights", "sameNode"), ("resources", "gpu", "pipelineParallelism")),
            f"a replica spans {gpu.pipeline_parallelism} nodes (pipelineParallelism), so its pods cannot share one "
            "node's ReadWriteOnce claim; use a ReadOnlyMany or ReadWriteMany claim",
        )


def _resources(spec: ModelSpec) -> Iterator[Finding]:
    res = spec.resources
    needs_shm = RUNTIMES[spec.runtime].needs_shm or bool(spec.server and spec.server.needs_shm)
    if res.shm_size is not None:
        if not needs_shm:
            yield ("resources", "shmSize"), f"runtime '{spec.runtime}' gets no /dev/shm volume; remove 'shmSize'"
        elif byte_count(res.shm_size) >= byte_count(res.memory):
            yield (
                (("resources", "shmSize"), ("resources", "memory")),
                (
                    f"'shmSize' ({res.shm_size}) must be smaller than 'memory' ({res.memory}): /dev/shm counts "
                    "against the memory limit"
                ),
            )
    gpu = res.gpu
    if gpu is not None:
        accelerator = ACCELERATORS[gpu.accelerator]
        total = gpu.count * gpu.tensor_parallelism
        if total > accelerator.max_gpus_per_node:
            yield (
                ("resources", "gpu", "count"),
                (
                    f"{gpu.count} x tensorParallelism {gpu.tensor_parallelism} = {total} GPUs per pod, but the largest "
                    f"{gpu.accelerator} instance ({accelerator.instance_types[-1].name}) has "
                    f"{accelerator.max_gpus_per_node}; a model larger than one node splits across nodes with "
                    "pipelineParallelism (one pod per node, e.g. tensorParallelism 8 x pipelineParallelism 2)"
                ),
            )


def _scaling(spec: ModelSpec) -> Iterator[Finding]:
    s = spec.scaling
    if s.min_replicas > s.max_replicas:
        yield (
            (("scaling", "minReplicas"), ("scaling", "maxReplicas")),
            (f"'minReplicas' ({s.min_replicas}) must be <= 'maxReplicas' ({s.max_replicas})"),
        )
    if s.target is None and DEFAULT_TARGETS[s.metric] is None:
        yield ("scaling", "target"), f"metric '{s.metric}' has no default target; set 'target' (per replica)"
    if s.target is not None and s.metric in PERCENT_METRICS and s.target > 100:
        yield ("scaling", "target"), f"got {s.target:g}; a '{s.metric}' target is a percentage, 1 to 100"
    if s.metric == "gpu-utilization" and spec.resources.gpu is None:
        yield ("scaling", "metric"), "'gpu-utilization' needs 'resources.gpu'; scale a CPU model on another metric"
    if s.metric in RUNTIME_SCALING_SIGNALS and spec.runtime not in runtimes_with_signal(s.metric):
        yield (
            ("scaling", "metric"),
            (
                f"runtime '{spec.runtime}' exposes no '{s.metric}' signal; runtimes that do: "
                f"{', '.join(runtimes_with_signal(s.metric))} (docs/metrics-reference.md)"
            ),
        )
    if s.min_replicas == 0 and s.metric not in SCALE_FROM_ZERO_METRICS:
        yield (
            ("scaling", "minReplicas"),
            (
                f"scale to zero needs a metric that exists while no pod runs ({', '.join(SCALE_FROM_ZERO_METRICS)}); "
                f"'{s.metric}' is measured on running pods"
            ),
        )


def _policy_exceptions(spec: ModelSpec) -> Iterator[Finding]:
    seen: set[str] = set()
    for i, exception in enumerate(spec.policy_exceptions):
        rule = TIER_RULES[exception.rule]
        if not rule.waivable:
            yield (
                ("policyExceptions", i, "rule"),
                f"rule '{rule.name}' cannot be waived ({rule.why_not}); waivable rules: {', '.join(WAIVABLE)}",
            )
        if exception.rule in seen:
            yield ("policyExceptions", i, "rule"), f"rule '{exception.rule}' is waived twice; keep one entry"
        seen.add(exception.rule)
        yield from _credential(("policyExceptions", i, "reason"), exception.reason, _NOT_SECRET_HINT)


def _exposure(spec: ModelSpec) -> Iterator[Finding]:
    e = spec.exposure
    if e.type == "public" and e.host is None:
        yield ("exposure", "host"), "a public model needs 'host' (the Ingress host name)"
    if e.type == "internal" and e.host is not None:
        yield ("exposure", "host"), "'host' is only for type 'public'; set 'type: public' or remove it"


def _egress(spec: ModelSpec) -> Iterator[Finding]:
    for i, rule in enumerate(spec.egress):
        if (rule.cidr is None) == (rule.namespace is None):
            yield ("egress", i), "give exactly one of 'cidr' (outside the cluster) or 'namespace' (inside it)"
        elif rule.cidr is not None and rule.pod_labels:
            yield ("egress", i, "podLabels"), "'podLabels' only go with 'namespace'"


def _env(spec: ModelSpec) -> Iterator[Finding]:
    for name in sorted(set(spec.env) & set(spec.secret_env)):
        yield ("env", name), f"'{name}' is set in both 'env' and 'secretEnv'; keep one"
    for name in sorted(spec.env):
        if is_credential_name(name):
            yield (
                ("env", name),
                (
                    f"'{name}' looks like a credential; plain env values end up in the stack state and the rendered "
                    "manifests. Reference a Secret with 'secretEnv' instead"
                ),
            )


#: Where each screened catalog value should live instead.
_SECRET_ENV_HINT = "put it in a Kubernetes Secret and reference it with 'secretEnv'"
_NOT_SECRET_HINT = "labels, annotations and host names are public metadata; keep credentials out of them"


def _credential(path: FieldPath, value: str, hint: str, *, entropy: bool = True) -> Iterator[Finding]:
    kind = credential_kind(value, entropy=entropy)
    if kind is not None:
        yield (
            path,
            f"looks like a credential ({kind}; the value is not shown): plain values end up in the stack state, the "
            f"rendered manifests and the cluster; {hint}",
        )


def _credentials(spec: ModelSpec) -> Iterator[Finding]:
    """Credentials written as plain values (screening, model_catalog/credentials.py)."""
    for name, value in sorted(spec.env.items()):
        if not is_credential_name(name):  # a credential's name is reported by _env
            yield from _credential(("env", name), value, _SECRET_ENV_HINT)
    uri = spec.weights.uri
    if uri is not None:
        yield from _credential(
            ("weights", "uri"),
            uri,
            "give the URI without credentials and put them in the Secret named by 'weights.credentialsSecret' "
            "(key 'token' for hf://, 'authorization' for https://, or workload identity for s3:// and gs://)",
            entropy=False,
        )
    for name, adapter in sorted(spec.adapters.items()):
        yield from _credential(
            ("adapters", name, "uri"),
            adapter.uri,
            "give the URI without credentials; an adapter fetched like the weights uses 'weights.credentialsSecret'",
            entropy=False,
        )
    build = spec.image.build if spec.image is not None else None
    if build is not None:
        build_hint = (
            "build args are stored in the image's history; give the running container the credential through "
            "'secretEnv' instead"
        )
        for name, value in sorted(build.args.items()):
            if is_credential_name(name):
                yield ("image", "build", "args", name), f"'{name}' looks like a credential; {build_hint}"
            else:
                yield from _credential(("image", "build", "args", name), value, build_hint)
    if spec.server is not None:
        for field in ("command", "args"):
            for i, value in enumerate(getattr(spec.server, field)):
                yield from _credential(
                    ("server", field, i), value, _SECRET_ENV_HINT + " (an argument can read it as $(NAME))"
                )
        for key, value in sorted(spec.server.metrics.request_labels.items()):
            yield from _credential(("server", "metrics", "requestLabels", key), value, _NOT_SECRET_HINT)
    if spec.exposure.host is not None:
        yield from _credential(("exposure", "host"), spec.exposure.host, _NOT_SECRET_HINT, entropy=False)
    for i, client in enumerate(spec.exposure.clients):
        for key, value in sorted(client.pod_labels.items()):
            yield from _credential(("exposure", "clients", i, "podLabels", key), value, _NOT_SECRET_HINT)
    for i, rule in enumerate(spec.egress):
        for key, value in sorted(rule.pod_labels.items()):
            yield from _credential(("egress", i, "podLabels", key), value, _NOT_SECRET_HINT)


def candidate_paths(path: FieldPath | tuple[FieldPath, ...]) -> tuple[FieldPath, ...]:
    """The paths a finding is about, the default one first."""
    return path if path and isinstance(path[0], tuple) else (path,)  # type: ignore[return-value]


def scaling_target(spec: ModelSpec) -> float:
    """The effective scaling target (the catalog's, else the metric's default)."""
    target = spec.scaling.target if spec.scaling.target is not None else DEFAULT_TARGETS[spec.scaling.metric]
    assert target is not None, "check_model rejects a missing target for metrics without a default"
    return target


def is_dns_label(value: str) -> bool:
    return bool(_DNS_LABEL.match(value))
