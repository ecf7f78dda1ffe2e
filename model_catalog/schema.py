"""The models.yaml catalog: pydantic v2 models, the single source of truth for its shape.

Strict everywhere: unknown fields are rejected and nothing is coerced ("2" is not 2). Field names are camelCase
in YAML. Every field carries its description (docstring), default and constraints; the JSON Schema for editors
(``schema/models.schema.json``) and the reference doc (``docs/catalog-reference.md``) are generated from here.
Rules that span several fields or need the stack's settings live in ``checks.py``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from pydantic.alias_generators import to_camel

from platform_data import metrics
from platform_data.accelerators import ACCELERATOR_NAMES
from platform_data.runtimes import RUNTIME_NAMES

from .kubernetes_names import Cidr, Labels
from .quantities import BYTES_PATTERN, CPU_PATTERN
from .tier_rules import RULE_NAMES

#: Model names become Kubernetes object names (Service names are DNS-1035 labels). 40 characters leave room for
#: the suffixes derived objects get (``-weights``, ``-config``, ...) within the 63-character limit.
MODEL_NAME_PATTERN = r"^[a-z]([-a-z0-9]*[a-z0-9])?$"
MODEL_NAME_MAX = 40
ENV_NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*$"
#: Image references: registry/repository[:tag][@sha256:digest]. The tag is Docker's `[\w][\w.-]{0,127}` with `\w`
#: spelt out as ASCII, as Docker (Go) and JSON Schema (ECMA-262) read it: the validator's regex engine would read
#: `\w` as any Unicode word character, accepting tags no registry takes (and compiling 128 copies of Unicode's word
#: class took about 90 ms of every process that imports the schema).
IMAGE_REF_PATTERN = (
    r"^[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(/[a-z0-9]+([._-][a-z0-9]+)*)*"
    r"(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(@sha256:[a-f0-9]{64})?$"
)
DNS_SUBDOMAIN_PATTERN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
#: Prometheus metric and label names (the classic character set every Prometheus version accepts).
METRIC_NAME_PATTERN = r"^[a-zA-Z_:][a-zA-Z0-9_:]*$"
LABEL_NAME_PATTERN = r"^[a-zA-Z_][a-zA-Z0-9_]*$"
#: Status-code regular expressions: digits, letters, `.`, alternation, groups, classes and repetition only.
STATUS_REGEX_PATTERN = r"^[0-9A-Za-z.|()\[\]*+?-]+$"

ModelName = Annotated[str, StringConstraints(pattern=MODEL_NAME_PATTERN, max_length=MODEL_NAME_MAX)]
EnvName = Annotated[str, StringConstraints(pattern=ENV_NAME_PATTERN)]
StackName = Annotated[str, StringConstraints(pattern=r"^[a-zA-Z0-9][-a-zA-Z0-9_.]*$", max_length=100)]
CpuQuantity = Annotated[str, StringConstraints(pattern=CPU_PATTERN)]
ByteQuantity = Annotated[str, StringConstraints(pattern=BYTES_PATTERN)]
ImageRef = Annotated[str, StringConstraints(pattern=IMAGE_REF_PATTERN, max_length=512)]
K8sName = Annotated[str, StringConstraints(pattern=DNS_SUBDOMAIN_PATTERN, max_length=253)]
HostName = Annotated[str, StringConstraints(pattern=DNS_SUBDOMAIN_PATTERN, max_length=253)]
HttpPath = Annotated[str, StringConstraints(pattern=r"^/[A-Za-z0-9/._~%!$&'()*+,;=:@-]*$", max_length=256)]
PortNumber = Annotated[int, Field(ge=1, le=65535)]
MetricName = Annotated[str, StringConstraints(pattern=METRIC_NAME_PATTERN, max_length=200)]
LabelName = Annotated[str, StringConstraints(pattern=LABEL_NAME_PATTERN, max_length=100)]

RuntimeName = Literal[RUNTIME_NAMES]  # type: ignore[valid-type]
AcceleratorName = Literal[ACCELERATOR_NAMES]  # type: ignore[valid-type]
ScalingMetric = Literal[
    "cpu", "memory", "gpu-utilization", "requests-per-second", "concurrency", "queue-depth", "queue-time", "ttft-p90"
]
CapacityChoice = Literal["on-demand", "spot", "spot-fallback"]
AccessMode = Literal["ReadWriteOnce", "ReadOnlyMany", "ReadWriteMany", "ReadWriteOncePod"]
TierRuleName = Literal[RULE_NAMES]  # type: ignore[valid-type]
#: A glob over a Hugging Face repository's paths: no leading `/`, path characters and glob syntax only.
HfPattern = Annotated[
    str, StringConstraints(pattern=r"^[A-Za-z0-9_.*?\[\]!+=@-][A-Za-z0-9_.*?\[\]/!+=@-]*$", max_length=200)
]


#: A Kubernetes label value: alphanumeric at both ends, [A-Za-z0-9._-] between, at most 63 characters.
LABEL_VALUE_PATTERN = r"^[A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$"
LabelValue = Annotated[str, StringConstraints(pattern=LABEL_VALUE_PATTERN)]


def empty_list() -> list:
    """The default of a list field: a new empty list, as ``default_factory=empty_list`` makes, from a function pydantic
    inspects cheaply (it reads each factory's signature; ``list``'s is parsed from its text with tokenize: about 10 ms
    of every process that imports the schema)."""
    return []


class CatalogModel(BaseModel):
    """Base for every catalog object: strict, closed, camelCase, immutable once validated.

    Each field's docstring (the string under it) is its description in the generated schemas and docs, attached
    when they are generated (``docstrings.document_fields()``), not at import: validation does not need it."""

    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        frozen=True,
        alias_generator=to_camel,
        populate_by_name=False,
    )


class ImageBuild(CatalogModel):
    """Build the image from a directory of this repository and push it to the stack's registry."""

    context: Annotated[str, StringConstraints(min_length=1, pattern=r"^[^/].*$")] = Field(
        examples=["images/churn-predictor"]
    )
    """Build context, relative to the repository root (e.g. `images/sentiment`)."""
    dockerfile: str = Field("Dockerfile", examples=["Dockerfile.gpu"])
    """Dockerfile path, relative to the context."""
    args: dict[EnvName, str] = Field(default_factory=dict, examples=[{"MODEL_VERSION": "2026.11"}])
    """Build arguments (`--build-arg`). Never put secrets here: build args are visible in the image history."""
    target: str | None = Field(None, examples=["runtime"])
    """Multi-stage build target."""
    platform: Literal["linux/amd64", "linux/arm64"] = "linux/amd64"
    """Target platform; GPU nodes are amd64."""


class Image(CatalogModel):
    """Where the serving container image comes from: exactly one of `build` or `ref`."""

    build: ImageBuild | None = Field(None, examples=[{"context": "images/churn-predictor"}])
    """Build from a Dockerfile in this repository."""
    ref: ImageRef | None = Field(None, examples=["nvcr.io/nvidia/tritonserver:25.06-py3@sha256:75bc...35e5"])
    """A prebuilt image, e.g. `vllm/vllm-openai:v0.9.2@sha256:...`. Staging and prod require a digest."""


class Weights(CatalogModel):
    """Where the model's weights come from: exactly one of `uri` or `baked`."""

    uri: Annotated[str, StringConstraints(pattern=r"^(s3|gs|hf|pvc|https)://.+$", max_length=1024)] | None = Field(
        None, examples=["s3://acme-ml-models/resnet50/savedmodel/", "hf://org/model@main", "pvc://models/llama"]
    )
    """Storage URI fetched before the server starts: `s3://bucket/prefix`, `gs://bucket/prefix`, `hf://org/model`,
    `https://host/file.tar.gz`, or `pvc://claim-name/sub/path` (mounted read-only, not copied)."""
    baked: bool = Field(False, examples=[True])
    """The image already contains the weights under `/models/<model>`."""
    size_gib: Annotated[float, Field(gt=0, le=2048)] | None = Field(default=None, alias="sizeGiB", examples=[72])
    """Size of the weights as served (an archive's unpacked contents; for hf://, the files the filters select);
    sizes the volume (x1.25), the start-up budget and the fetch's limit: a fetch that would write more stops with
    a message naming this field."""
    load_timeout_seconds: Annotated[int, Field(ge=30, le=7200)] | None = Field(None, examples=[1200])
    """Worst-case time from container start to ready; overrides the estimate derived from `sizeGiB`."""
    credentials_secret: K8sName | None = Field(None, examples=["huggingface-token"])
    """Secret (in the stack's namespace) with the downloader's credentials, mounted as files: key `credentials`
    (AWS shared-credentials file) for s3, `key.json` for gs, `token` for hf, `authorization` (a header value) for
    https. Prefer workload identity (the stack's service-account annotations) over static keys."""
    include: Annotated[list[HfPattern], Field(max_length=50)] | None = Field(
        None, examples=[["*.safetensors", "*.json", "tokenizer.model"]]
    )
    """`hf://` only: fetch only the repository paths matching one of these glob patterns (fnmatch: `*` crosses `/`;
    a pattern ending in `/` means everything under it). Default: every file."""
    exclude: Annotated[list[HfPattern], Field(max_length=50)] | None = Field(None, examples=[["original/", "*.onnx"]])
    """`hf://` only: leave out the paths matching these patterns. Default: the runtime's (vllm: `original/`, ONNX,
    OpenVINO, Core ML, GGUF, TensorFlow and Flax files; docs/big-models.md); `[]` fetches everything included."""
    sha256: Annotated[str, StringConstraints(pattern=r"^[a-f0-9]{64}$")] | None = Field(
        None, examples=["9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"]
    )
    """`https://` only: the sha256 of the file (the archive, for an archive) as its publisher states it; checked
    after the download, and a mismatch fails the fetch (unpacked files removed)."""
    cache: bool = Field(False, examples=[True])
    """Fetch once into the stack's shared weights cache (`ml-serving:weightsCache`) instead of into every pod: a
    ReadWriteMany volume per model filled by a Job, mounted read-only by every replica, so a scale-up starts
    without a download. s3, gs, hf and https weights."""
    access_mode: AccessMode | None = Field(None, examples=["ReadOnlyMany"])
    """`pvc://` only, and required there: the existing claim's access mode, as declared on it. `ReadWriteOnce`
    attaches to one node, so more than one replica needs `sameNode: true`; `ReadWriteOncePod` admits one pod, which
    a rolling update (new pod before old) cannot respect."""
    storage_class: K8sName | None = Field(None, examples=["efs-sc"])
    """`pvc://` only: the claim's storage class, recorded on the workload (annotation `ml-serving.dev/weights-claim`)
    for reviewers; not read from the cluster."""
    same_node: bool = Field(False, examples=[True])
    """`pvc://` with `ReadWriteOnce`: pin every replica to one node (the one the volume is attached to), so more
    than one replica can mount it. They share that node's failure."""


#: LoRA adapter names: what a request's `model` names, and part of an init container's name (a DNS label).
ADAPTER_NAME_PATTERN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
AdapterName = Annotated[str, StringConstraints(pattern=ADAPTER_NAME_PATTERN, max_length=40)]


class Adapter(CatalogModel):
    """A LoRA adapter served beside its base model (runtime vllm)."""

    uri: Annotated[str, StringConstraints(pattern=r"^(s3|gs|hf|https)://.+$", max_length=1024)] = Field(
        examples=["s3://acme-ml-models/adapters/support-tone/", "hf://acme/llama-3.1-8b-sql-lora"]
    )
    """Where the adapter comes from, fetched with the weights before the server starts (`s3://`, `gs://`, `hf://`,
    `https://`); an adapter of the same scheme as `weights.uri` uses `weights.credentialsSecret`."""
    size_gib: Annotated[float, Field(gt=0, le=64)] = Field(alias="sizeGiB", examples=[0.3])
    """Approximate size; sizes the adapters' download volume."""
    rank: Literal[8, 16, 32, 64, 128, 256] = Field(16, examples=[64])
    """LoRA rank of the adapter; vLLM's `--max-lora-rank` is the largest of the model's adapters."""


class Gpu(CatalogModel):
    """GPUs per replica."""

    accelerator: AcceleratorName = Field(examples=["nvidia-l4"])
    """GPU model, a row of the accelerator table (`docs/catalog-reference.md#accelerators`)."""
    count: Annotated[int, Field(ge=1, le=8)] = Field(1, examples=[1])
    """GPUs per tensor-parallel shard."""
    tensor_parallelism: Annotated[int, Field(ge=1, le=8)] = Field(1, examples=[2])
    """Tensor-parallel degree; the pod gets `count x tensorParallelism` GPUs. Runtimes: vllm, triton, custom."""
    pipeline_parallelism: Annotated[int, Field(ge=1, le=16)] = Field(1, examples=[2])
    """Pipeline stages across nodes: above 1, one replica is a LeaderWorkerSet group of this many pods, one per
    node, each with `count x tensorParallelism` GPUs (16 H100 = tensorParallelism 8 x pipelineParallelism 2).
    Runtime: vllm (Ray); docs/big-models.md#multi-node-models."""


class Resources(CatalogModel):
    """Requests for one replica of the serving container."""

    cpu: CpuQuantity = Field(examples=["2", "500m"])
    """CPU request, e.g. `"2"` or `"500m"` (a quoted string)."""
    memory: ByteQuantity = Field(examples=["16Gi"])
    """Memory request and limit, e.g. `"8Gi"`; includes `/dev/shm` for runtimes that need it."""
    ephemeral_storage: ByteQuantity = Field("2Gi", examples=["20Gi"])
    """Ephemeral storage for logs, caches and /tmp (request and limit)."""
    shm_size: ByteQuantity | None = Field(None, examples=["2Gi"])
    """Size of `/dev/shm` for runtimes that need it (vllm, triton, torchserve); default: a quarter of `memory`."""
    gpu: Gpu | None = Field(None, examples=[{"accelerator": "nvidia-h100", "count": 1, "tensorParallelism": 2}])
    """GPUs; omit for a CPU model."""


class Scaling(CatalogModel):
    """Replica bounds and the signal the autoscaler follows. `minReplicas == maxReplicas` means a fixed size."""

    min_replicas: Annotated[int, Field(ge=0, le=500)] = Field(1, examples=[2])
    """Fewest replicas; 0 allows scale to zero (needs a request-based metric)."""
    max_replicas: Annotated[int, Field(ge=1, le=500)] = Field(1, examples=[8])
    """Most replicas."""
    metric: ScalingMetric = Field("cpu", examples=["concurrency"])
    """Signal to scale on: `cpu`/`memory` (% of request), `gpu-utilization` (%), `requests-per-second` or
    `concurrency` (in-flight or queued requests) per replica; for queue-bound models, `queue-depth` (requests
    waiting per replica: vLLM `num_requests_waiting`, Triton pending requests, TorchServe queue) or `queue-time`
    (mean seconds a request waits: Triton queue duration, TorchServe queue latency, vLLM queue time); for LLM
    latency SLOs, `ttft-p90` (time to first token, p90 seconds, from vLLM's histogram). The runtime's series are in
    docs/metrics-reference.md."""
    target: Annotated[float, Field(gt=0, le=100_000)] | None = Field(None, examples=[24])
    """Target per replica for `metric`; default 70 for cpu, 80 for memory and gpu-utilization; required for
    requests-per-second and concurrency."""


class SecretRef(CatalogModel):
    """A key of a Kubernetes Secret in the stack's namespace. The value never appears in the catalog."""

    secret: K8sName = Field(examples=["crm-db"])
    """Secret name."""
    key: Annotated[str, StringConstraints(pattern=r"^[-._a-zA-Z0-9]+$", max_length=253)] = Field(examples=["password"])
    """Key inside the Secret."""


class Client(CatalogModel):
    """Pods allowed to call the model (NetworkPolicy ingress)."""

    namespace: K8sName | None = Field(None, examples=["web"])
    """Namespace of the callers; omit for the model's own namespace."""
    pod_labels: Labels = Field(default_factory=dict, examples=[{"app": "frontend"}])
    """Labels the calling pods carry; empty means every pod of that namespace."""


class Egress(CatalogModel):
    """A destination the model's pods may call (NetworkPolicy egress), besides DNS and its weight download."""

    cidr: Cidr | None = Field(None, examples=["10.20.0.0/16"])
    """An IP range outside the cluster (e.g. a managed database's subnet)."""
    namespace: K8sName | None = Field(None, examples=["feature-store"])
    """A namespace inside the cluster (with `podLabels`, the pods in it)."""
    pod_labels: Labels = Field(default_factory=dict, examples=[{"app": "redis"}])
    """Labels of the pods called in `namespace`; empty means all of them."""
    ports: Annotated[list[PortNumber], Field(min_length=1)] = Field(examples=[[5432]])
    """TCP ports."""


class Exposure(CatalogModel):
    """Who can reach the model."""

    type: Literal["internal", "public"] = Field("internal", examples=["public"])
    """`internal`: a ClusterIP Service only. `public`: also an Ingress on `host`."""
    host: HostName | None = Field(None, examples=["vision.api.acme.example"])
    """Public host name (required for `public`)."""
    path: HttpPath = Field("/", examples=["/v1/models/resnet50"])
    """Path prefix on `host`."""
    clients: list[Client] = Field(
        default_factory=empty_list, examples=[[{"namespace": "crm", "podLabels": {"app": "crm-backend"}}]]
    )
    """In-cluster callers allowed by the NetworkPolicy."""
    max_body_size: ByteQuantity | None = Field(None, examples=["16Mi"])
    """Largest request body the ingress accepts (`public`), e.g. for models that take images or audio; omit for the
    ingress controller's default (ingress-nginx: 1m)."""


class ServerMetrics(CatalogModel):
    """The Prometheus metrics a `custom` server exposes, by name: dashboards, alerts and autoscaling read these. The
    defaults are the prometheus_client conventions that `images/churn-predictor` follows."""

    requests_total: MetricName = Field(metrics.CUSTOM_REQUESTS_TOTAL, examples=["myapp_requests_total"])
    """Counter of finished requests with a status-code label: request rate, error rate and the `requests-per-second`
    scaling signal."""
    status_label: LabelName = Field(metrics.CUSTOM_STATUS_LABEL, examples=["status"])
    """Label of `requestsTotal` holding the response status."""
    error_status: Annotated[str, StringConstraints(pattern=STATUS_REGEX_PATTERN, max_length=100)] = Field(
        metrics.CUSTOM_ERROR_STATUS, examples=["5[0-9][0-9]"]
    )
    """Regular expression (fully anchored) matching the statuses that count as server errors."""
    request_labels: dict[LabelName, Annotated[str, StringConstraints(max_length=200)]] = Field(
        default_factory=dict, examples=[{"path": "/predict"}]
    )
    """Count only requests whose series carry these labels, e.g. `{path: /predict}` to leave out probes and
    scrapes."""
    latency_histogram: MetricName = Field(metrics.CUSTOM_LATENCY_HISTOGRAM, examples=["myapp_request_seconds"])
    """Histogram of request latency in seconds, by base name (the server exposes `<name>_bucket`, `_sum` and
    `_count`)."""
    in_flight: MetricName | None = Field(metrics.CUSTOM_IN_FLIGHT, examples=["myapp_busy_workers"])
    """Gauge of requests being served now (the `concurrency` scaling signal); null: derived from the latency
    histogram (Little's law)."""


class Server(CatalogModel):
    """How to run a `custom` server (preset runtimes supply all of this)."""

    port: PortNumber = Field(8080, examples=[9000])
    """HTTP port serving inference."""
    metrics_port: PortNumber | None = Field(None, examples=[9090])
    """Port serving Prometheus metrics; default: `port`."""
    metrics_path: HttpPath = Field("/metrics", examples=["/prometheus"])
    """Prometheus metrics path."""
    readiness_path: HttpPath = Field("/readyz", examples=["/ready"])
    """Answers 200 once the model is loaded and serving."""
    liveness_path: HttpPath = Field("/healthz", examples=["/live"])
    """Answers 200 while the process is healthy; must differ from `readinessPath`."""
    startup_path: HttpPath | None = Field(None, examples=["/started"])
    """Answers 200 once started; default: `readinessPath`."""
    command: list[str] = Field(default_factory=empty_list, examples=[["python3", "/app/serve.py"]])
    """Entrypoint override; empty keeps the image's."""
    args: list[str] = Field(default_factory=empty_list, examples=[["--model-dir={model_dir}"]])
    """Arguments; `{model}` and `{model_dir}` are replaced."""
    needs_shm: bool = Field(False, examples=[True])
    """Mount a memory-backed `/dev/shm` (PyTorch DataLoader workers, NCCL)."""
    metrics: ServerMetrics = Field(default_factory=ServerMetrics, examples=[{"requestLabels": {"path": "/predict"}}])
    """Names of the server's Prometheus metrics."""


class Alerts(CatalogModel):
    """Thresholds of the model's alert rules (each alert is explained in `docs/runbooks.md`)."""

    latency_seconds: Annotated[float, Field(gt=0, le=3600)] | None = Field(None, examples=[2.5])
    """p99 request latency above which `ModelHighLatency` fires (the mean, for runtimes without a latency
    histogram: torchserve); default: half of `maxRequestSeconds`."""
    error_rate_percent: Annotated[float, Field(gt=0, le=100)] = Field(5.0, examples=[1])
    """Share of requests failing on the server's side above which `ModelHighErrorRate` fires."""


class Canary(CatalogModel):
    """A canary: a second, small Deployment `<model>-canary` beside the stable one, with what is being tried."""

    image: ImageRef | None = Field(None, examples=["vllm/vllm-openai:v0.11.1@sha256:4f1c...9a2e"])
    """A prebuilt image to try (staging and prod: by digest); default the stable one's."""
    weights: Weights | None = Field(None, examples=[{"uri": "s3://acme-ml-models/llama/2026-12/", "sizeGiB": 16}])
    """Other weights to try (the same URI scheme as the stable weights); default the stable ones."""
    args: list[str] = Field(default_factory=empty_list, examples=[["--enable-prefix-caching"]])
    """Server arguments added after the stable ones."""
    replicas: Annotated[int, Field(ge=1, le=10)] = Field(1, examples=[1])
    """Replicas of the canary (fixed, never autoscaled): its GPUs are counted in the node pools and the capacity
    report. Its share of the traffic is about replicas / (replicas + stable replicas): the model's Service and
    endpoint picker spread requests over all the model's pods."""
    version: LabelValue | None = Field(None, examples=["2026.12-rc1"])
    """`app.kubernetes.io/version` of the canary's pods; default the canary image's tag, else the stable version
    with `-canary`."""


class Rollout(CatalogModel):
    """How a new version of the model is tried before it replaces the stable one."""

    canary: Canary | None = Field(None, examples=[{"image": "vllm/vllm-openai:v0.11.1@sha256:4f1c...9a2e"}])
    """Run a canary beside the stable Deployment. Promote: copy its `image`/`weights`/`args` into the model and
    delete `rollout.canary`; abort: delete `rollout.canary` (both are catalog edits `mlserve diff` shows)."""


class PolicyException(CatalogModel):
    """A tier rule this model waives, with the reason (docs/catalog-reference.md#tier-rules)."""

    rule: TierRuleName = Field(examples=["prod-min-replicas"])
    """The rule's name; only waivable rules are accepted."""
    reason: Annotated[str, StringConstraints(min_length=10, max_length=500)] = Field(
        examples=["235B on 8 H100: a second idle replica costs $110/hour; a node loss is an accepted outage"]
    )
    """Why the rule is wrong for this model, for reviewers (rendered on the workload and in the summary)."""


class ModelSpec(CatalogModel):
    """One served model, as effective in one stack (overrides already applied)."""

    description: str | None = Field(None, examples=["ImageNet classifier for the photo tagger."])
    """What the model does, for people reading the catalog and dashboards."""
    version: LabelValue | None = Field(None, examples=["2026.11", "v3.1.0"])
    """The model's version, shown as the `app.kubernetes.io/version` label on its objects; default: the tag of the
    image it runs (or its digest, or the content tag of a built image). Set it when the weights change under one
    image. A new value rolls the pods (the label is on the pod template, never in a selector)."""
    enabled: bool = Field(True, examples=[False])
    """Set false (typically in an override) to leave the model out of a stack."""
    renamed_from: ModelName | None = Field(None, examples=["resnet50-v1"])
    """The model's previous catalog name, after a rename: its Pulumi resources get `aliases` from the old names, so
    `pulumi preview` shows them renamed instead of deleted and created again (protected resources such as prod's
    image repository stay). Its Kubernetes objects still take the new name. Remove once every stack is deployed."""
    runtime: RuntimeName = Field(examples=["vllm"])
    """Serving runtime, a row of the runtime table; `custom` needs a `server` block and an `image`."""
    image: Image | None = Field(None, examples=[{"ref": "vllm/vllm-openai:v0.11.0@sha256:014a...845c"}])
    """Container image; omit to use the runtime's pinned default."""
    weights: Weights = Field(examples=[{"uri": "hf://org/model", "sizeGiB": 16}])
    """Where the weights come from."""
    resources: Resources = Field(examples=[{"cpu": "4", "memory": "16Gi"}])
    """Per-replica resources."""
    scaling: Scaling = Field(Scaling(), examples=[{"minReplicas": 2, "maxReplicas": 6, "metric": "cpu"}])
    """Replica bounds and autoscaling signal."""
    server: Server | None = Field(None, examples=[{"port": 8080, "readinessPath": "/readyz"}])
    """Port, probes and metrics of a `custom` runtime."""
    env: dict[EnvName, str] = Field(default_factory=dict, examples=[{"LOG_LEVEL": "info"}])
    """Plain environment variables. Names that look like credentials (`*_TOKEN`, `*_PASSWORD`, ...) are rejected:
    use `secretEnv`."""
    secret_env: dict[EnvName, SecretRef] = Field(
        default_factory=dict, examples=[{"DB_PASSWORD": {"secret": "crm-db", "key": "password"}}]
    )
    """Environment variables read from Secrets."""
    exposure: Exposure = Field(default_factory=Exposure, examples=[{"type": "public", "host": "api.acme.example"}])
    """Who can reach the model."""
    max_request_seconds: Annotated[int, Field(ge=1, le=3600)] = Field(60, examples=[300])
    """Longest request the server may be serving when asked to stop; sets the drain time."""
    egress: list[Egress] = Field(
        default_factory=empty_list,
        examples=[[{"namespace": "feature-store", "podLabels": {"app": "redis"}, "ports": [6379]}]],
    )
    """Destinations the model calls; everything else except DNS and the weight download is denied."""
    alerts: Alerts = Field(Alerts(), examples=[{"latencySeconds": 2.5, "errorRatePercent": 1}])
    """Alert thresholds."""
    capacity: CapacityChoice | None = Field(None, examples=["spot-fallback"])
    """Node capacity of a GPU model's replicas on Karpenter pools: `on-demand`, `spot` (spot nodes only; not in
    prod), or `spot-fallback`: `minReplicas` replicas stay on on-demand nodes (the floor: the Deployment `<model>`,
    never hit by a spot reclaim) and the replicas above them run in a second Deployment `<model>-spot`, scaled by
    KEDA, on spot first and on on-demand when spot is short (needs maxReplicas > minReplicas >= 1 and a
    Prometheus-read scaling metric). Default: the stack's `gpuNodePool.capacityType` (`spot` there: every replica
    spot first, on-demand fallback, no floor). Each accelerator gets an on-demand and, when needed, a spot NodePool
    (spot weighted higher): docs/llm-traffic.md#spot. The capacity planner (`mlserve plan`) reads it too."""

    adapters: dict[AdapterName, Adapter] = Field(
        default_factory=dict,
        examples=[{"support-tone": {"uri": "s3://acme-ml-models/adapters/support-tone/", "sizeGiB": 0.3}}],
    )
    """LoRA adapters served beside the base model (runtime vllm), keyed by the name requests use as their `model`:
    fetched with the weights, registered with vLLM (`--enable-lora --lora-modules <name>=...`), routed by name
    (docs/llm-traffic.md#lora-adapters)."""
    rollout: Rollout = Field(Rollout(), examples=[{"canary": {"image": "vllm/vllm-openai:v0.11.1@sha256:4f1c...9a2e"}}])
    """A canary beside the stable Deployment (docs/llm-traffic.md#canary)."""
    priority: Annotated[int, Field(ge=-1000, le=1000)] | None = Field(None, examples=[10])
    """vLLM models in a stack with `routing.type: gateway-inference`: the priority of the model's requests in its
    endpoint picker's flow control (an `InferenceObjective`, llm-d.ai/v1alpha2, set on every request of the model's
    HTTPRoute); higher is served first when the pool is saturated. Unset: 0. Ignored by `ingress` stacks."""
    policy_exceptions: list[PolicyException] = Field(
        default_factory=empty_list,
        examples=[[{"rule": "prod-min-replicas", "reason": "one replica of 8 H100s is all we can afford"}]],
    )
    """Tier rules this model waives, each with its reason; rendered as the annotation
    `ml-serving.dev/policy-exceptions`, listed by `mlserve render` and flagged by `mlserve diff`. Rules protecting
    the cluster or secrets (Pod Security, credentials, image pinning, TLS, egress) cannot be waived."""


class Model(ModelSpec):
    """A catalog entry: the model's base definition plus per-stack overrides."""

    overrides: dict[StackName, dict[str, Any]] = Field(
        default_factory=dict, examples=[{"dev": {"scaling": {"maxReplicas": 1}}}]
    )
    """Per-stack changes, keyed by stack name, merged as a JSON Merge Patch (RFC 7386): mappings merge,
    lists and scalars replace, `null` removes. E.g. `dev: {resources: {gpu: null}, scaling: {maxReplicas: 1}}`."""


class Catalog(CatalogModel):
    """The whole models.yaml."""

    version: Literal[1] = Field(1, examples=[1])
    """Catalog format version."""
    models: Annotated[dict[ModelName, Model], Field(min_length=1)] = Field(examples=[{"resnet50": {"...": "..."}}])
    """Served models keyed by a stable name; the key names every Kubernetes object of the model."""


SECRET_LIKE_ENV = ("_TOKEN", "_PASSWORD", "_SECRET", "_API_KEY", "_ACCESS_KEY", "_PRIVATE_KEY", "_CREDENTIALS")
