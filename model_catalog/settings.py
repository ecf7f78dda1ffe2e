"""Per-stack settings: the ``ml-serving:*`` keys of ``Pulumi.<stack>.yaml``, typed and validated like the catalog.

Settings are object-valued config keys (``ml-serving:cluster: {name: ..., kubernetesVersion: "1.33"}``): the Pulumi
engine hands object values to the program as JSON, so their types survive (a scalar key would arrive as a string).
Secret values never live here in plain text. Which settings may (or must) hold a Pulumi secret (`secure:` in the stack
file, set with ``pulumi config set --secret``) is part of the schema: a field-level marker (MAY_BE_SECRET,
MUST_BE_SECRET) any setting can carry, plus the scalar secret keys of SECRET_KEYS. A `secure:` value anywhere else
is an error, a secret value is never quoted in a message, and ``StackSettings.is_secret`` tells the program which
values it must keep as Pulumi secrets all the way to the object they feed.
"""

from __future__ import annotations

import dataclasses
import json
import re
import types
import typing
from collections.abc import Iterator, Mapping
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, PrivateAttr, StringConstraints, ValidationError, model_validator

from platform_data.accelerators import ACCELERATOR_LABEL, ACCELERATOR_NAMES
from platform_data.versions import SUPPORTED_KUBERNETES_MINORS

from .credentials import credential_kind
from .errors import ConfigurationError, Path, Problem, did_you_mean, format_path
from .formats import AL2023_ALIAS_PATTERN, DURATION_OR_NEVER_PATTERN
from .kubernetes_names import CHECK_LABELS, Annotations, Cidr, Labels
from .problems import PATTERN_DESCRIPTIONS, findings
from .schedules import CronSchedule, TimeZone
from .schema import ByteQuantity, CatalogModel, K8sName
from .yaml_source import SourceDocument

PROJECT = "ml-serving"
#: Where a setting came from when the stack file does not have it: the environment's config (PULUMI_CONFIG, JSON).
AMBIENT_CONFIG_FILE = "$PULUMI_CONFIG"

DnsLabel = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", max_length=63)]
KubernetesMinor = Literal[SUPPORTED_KUBERNETES_MINORS]  # type: ignore[valid-type]
AcceleratorName = Literal[ACCELERATOR_NAMES]  # type: ignore[valid-type]
UID_PATTERN = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
PATTERN_DESCRIPTIONS[UID_PATTERN] = "a Kubernetes object UID, 8-4-4-4-12 lower-case hex digits"
#: `kubernetes:*` provider config keys and the stack setting that replaces each (the program's explicit provider
#: ignores the `kubernetes:` namespace, so a value there would be silently unused).
KUBERNETES_KEYS: dict[str, str] = {
    "kubernetes:context": "ml-serving:cluster.context",
    "kubernetes:cluster": "ml-serving:cluster.context",
    "kubernetes:namespace": "ml-serving:environment.namespace",
}
KMS_KEY_ARN_PATTERN = r"^arn:aws[a-z-]*:kms:[a-z]{2}(-[a-z]+)+-[0-9]:[0-9]{12}:key/[A-Za-z0-9-]+$"
PATTERN_DESCRIPTIONS[KMS_KEY_ARN_PATTERN] = "a KMS key ARN, arn:aws:kms:<region>:<account>:key/<key id>"

#: Secret config keys the program reads (always with ``pulumi config set --secret``), and what they are for.
SECRET_KEYS: dict[str, str] = {
    "registryPassword": "password or token for an external registry (registry.type: external)",
    "secretValues": "values of the Secrets with `source: stack`, as <secret name>.<key> (docs/secrets.md)",
}

#: JSON Schema key of the field-level secret marker: "allowed" (plain or secret; a secret stays a Pulumi secret
#: up to the object it feeds) or "required" (a plain value is an error).
SECRET_MARK = "x-ml-serving-secret"
MAY_BE_SECRET: dict[str, Any] = {SECRET_MARK: "allowed"}
MUST_BE_SECRET: dict[str, Any] = {SECRET_MARK: "required"}


class EnvironmentSettings(CatalogModel):
    """What kind of environment this stack is and where its models run."""

    tier: Literal["dev", "staging", "prod"]
    """Policy tier: prod needs >= 2 replicas per model and on-demand GPUs; staging and prod need image digests."""
    namespace: DnsLabel
    """Namespace for the models (created by the stack, Pod Security 'restricted')."""
    labels: Labels = {}
    """Extra labels on every object (team, cost centre)."""


class ClusterCapacity(CatalogModel):
    """What the cluster offers the stack's models (a laptop's kind node, a namespace quota)."""

    cpu: Annotated[str, StringConstraints(pattern=r"^([0-9]+m|[0-9]+(\.[0-9]+)?)$")] = Field(examples=["3"])
    """CPU, as Kubernetes writes it ("3", "2500m")."""
    memory: ByteQuantity = Field(examples=["6Gi"])
    """Memory ("6Gi")."""


class ClusterSettings(CatalogModel):
    """The cluster this stack deploys to."""

    name: DnsLabel
    """Stable identifier of the cluster (the Kubernetes provider's clusterIdentifier): changing the kubeconfig
    does not replace resources while this stays the same."""
    kubernetes_version: KubernetesMinor
    """Kubernetes minor of the cluster, e.g. "1.33" (quoted): manifests are validated against it."""
    context: Annotated[str, StringConstraints(min_length=1, max_length=253)] | None = Field(
        None, examples=["arn:aws:eks:eu-west-1:444455556666:cluster/ml-prod-eks"]
    )
    """kubeconfig context the stack deploys through (`kubectl config get-contexts`). Required in staging and prod:
    the ambient current context may point at another cluster. The `kubernetes:*` config keys are not read (the
    program builds its own provider); this is the only place to name the context."""
    capacity: ClusterCapacity | None = Field(None, examples=[{"cpu": "3", "memory": "6Gi"}])
    """The most the stack's models may request together at their maximum replicas (requests per replica times
    `maxReplicas`, summed); e.g. dev's laptop budget (docs/dev.md#laptop-budget). Omit for no limit."""
    kube_system_uid: Annotated[str, StringConstraints(pattern=UID_PATTERN)] | None = Field(
        None, examples=["0b6f1f9e-2f5c-4b8e-9d35-5a4c3e2b1d0a"]
    )
    """The cluster's identity: UID of its `kube-system` Namespace (`kubectl --context <context> get namespace
    kube-system -o jsonpath='{.metadata.uid}'`). Before anything is registered the program reads the connected
    cluster's `kube-system` and refuses to go on when its UID differs, whatever the kubeconfig says. Required in
    staging and prod (dev's kind cluster is recreated at will)."""


class RegistrySettings(CatalogModel):
    """Where images built from this repository are pushed."""

    type: Literal["none", "ecr", "external"] = "none"
    """`none`: no push (dev: prebuilt images, or local builds loaded into a local cluster); `ecr`: an Amazon ECR
    repository per built model; `external`: any OCI registry at `address`."""
    region: Annotated[str, StringConstraints(pattern=r"^[a-z]{2}(-[a-z]+)+-[0-9]$")] | None = None
    """AWS region of the ECR repositories (type ecr)."""
    account_id: Annotated[str, StringConstraints(pattern=r"^[0-9]{12}$")] | None = None
    """AWS account of the ECR repositories (type ecr), quoted."""
    address: Annotated[str, StringConstraints(pattern=r"^[a-z0-9.-]+(:[0-9]+)?(/[a-z0-9._-]+)*$")] | None = None
    """Registry host and path prefix, e.g. `registry.example.com/ml` (type external)."""
    username: str | None = Field(None, json_schema_extra=MAY_BE_SECRET)
    """User for the external registry (may be a secret: `pulumi config set --secret --path
    'ml-serving:registry.username' <user>`, kept secret in the push credentials and the pull Secret); its password is the secret key `ml-serving:registryPassword`. With a user,
    pushes use these credentials and pods pulling from the registry get an imagePullSecret; without one, pushes use
    the ambient `docker login` and the cluster pulls without credentials."""
    keep_images: Annotated[int, Field(ge=1, le=1000)] = 30
    """ECR lifecycle policy: keep this many images per repository."""
    kms_key_arn: Annotated[str, StringConstraints(pattern=KMS_KEY_ARN_PATTERN)] | None = Field(
        None, examples=["arn:aws:kms:eu-west-1:444455556666:key/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0"]
    )
    """ECR repositories are encrypted with this KMS key (in `region`) instead of AES256 (type ecr). ECR cannot
    change a repository's encryption: changing this replaces the repositories (blocked in prod, where they are
    protected)."""


class ExistingGpuNodes(CatalogModel):
    """GPU nodes the cluster already has for one accelerator."""

    labels: Annotated[dict[str, str], Field(min_length=1), CHECK_LABELS]
    """Labels those nodes carry; models on this accelerator select on them."""
    taints: list[str] = ["nvidia.com/gpu:NoSchedule"]
    """Taints on those nodes as `key[=value]:Effect`; models tolerate them."""
    max_gpus_per_node: Annotated[int, Field(ge=1, le=16)] = 8
    """Largest GPU count of one node in that group."""


class GpuSharing(CatalogModel):
    """How the GPUs of one accelerator are shared between pods (provider karpenter)."""

    time_slicing_replicas: Annotated[int, Field(ge=2, le=16)] = Field(examples=[4])
    """CUDA time-slicing: each physical GPU is advertised as this many `nvidia.com/gpu`, so this many one-GPU
    pods share it. No memory or fault isolation between them: only for small models that fit together in the
    GPU's memory. Pods on a shared accelerator must ask for exactly one GPU."""


class GpuNodePoolSettings(CatalogModel):
    """Where GPU capacity comes from."""

    provider: Literal["none", "karpenter", "existing"] = "none"
    """`none`: no GPUs (a GPU model is an error); `karpenter`: a NodePool and EC2NodeClass per accelerator the
    stack's models use; `existing`: nodes the cluster already has, declared in `existing`."""
    capacity_type: Literal["on-demand", "spot"] = "on-demand"
    """Karpenter capacity type; prod must use on-demand."""
    headroom_percent: Annotated[int, Field(ge=0, le=400)] = 20
    """Karpenter GPU limit = sum over models of maxReplicas x GPUs per replica, plus this much."""
    limits: Literal["catalog", "plan"] = Field("catalog", examples=["plan"])
    """How each NodePool's GPU limit is computed (provider karpenter). `catalog`: maxReplicas x GPUs plus
    `headroomPercent`, at least the whole instances that hold every model at maxReplicas plus a rollout's surge;
    `plan`: the GPUs of the capacity planner's cheapest nodes for every model at maxReplicas plus that surge (exact
    MILP, `mlserve plan`; docs/capacity-planning.md), so the pool may not grow past the cost-optimal fleet."""
    node_role: str | None = None
    """IAM role for the Karpenter nodes (EC2NodeClass.spec.role)."""
    discovery_tag: str | None = None
    """Value of the `karpenter.sh/discovery` tag on the cluster's subnets and security groups; default: the
    cluster name."""
    existing: dict[AcceleratorName, ExistingGpuNodes] = {}
    """Per accelerator, the labels and taints of existing GPU nodes (provider existing)."""
    install_device_plugin: bool = Field(True, examples=[False])
    """Install the NVIDIA device plugin (pinned Helm chart) when the stack has GPU models; turn off only when the
    cluster already runs one (GPU operator, Bottlerocket NVIDIA nodes): two plugins on a node conflict."""
    sharing: dict[AcceleratorName, GpuSharing] = Field({}, examples=[{"nvidia-l4": {"timeSlicingReplicas": 4}}])
    """Per accelerator, GPU sharing for small models (provider karpenter); unlisted accelerators are not shared."""
    consolidate_after: Annotated[str, StringConstraints(pattern=DURATION_OR_NEVER_PATTERN)] = Field(
        "30m", examples=["1h"]
    )
    """How long a GPU node stays empty before Karpenter removes it: keeps a warm node (image already pulled)
    through short dips in load. Nodes running a model are never consolidated (policy WhenEmpty)."""
    expire_after: Annotated[str, StringConstraints(pattern=DURATION_OR_NEVER_PATTERN)] = Field(
        "Never", examples=["720h"]
    )
    """Maximum age of a GPU node. Expiry is forceful in Karpenter v1 (no disruption budget applies), so the
    default is Never: nodes are replaced by drift, under budgets, when the pinned AMI is bumped."""
    ami_alias: Annotated[str, StringConstraints(pattern=AL2023_ALIAS_PATTERN)] | None = Field(
        None, examples=["al2023@v20260827"]
    )
    """Karpenter AMI alias of the GPU nodes (EKS-optimized AL2023; Karpenter picks its NVIDIA variant); default:
    the release pinned in platform_data/pins.py."""


#: Prometheus durations: a number and a unit (ms, s, m, h, d, w, y).
Duration = Annotated[str, StringConstraints(pattern=r"^[1-9][0-9]*(ms|s|m|h|d|w|y)$", max_length=20)]


class WakeHours(CatalogModel):
    """When models that may scale to zero keep one replica (a KEDA cron trigger). A model at zero replicas has no
    pod serving metrics, so nothing else can tell that requests are waiting for it."""

    timezone: TimeZone = Field(examples=["Europe/Berlin"])
    """IANA time zone of `start` and `end` (checked against the IANA database)."""
    start: CronSchedule = Field(examples=["0 8 * * 1-5"])
    """Cron schedule (5 fields, as KEDA's cron scaler reads them) at which the models wake up."""
    end: CronSchedule = Field(examples=["0 19 * * 1-5"])
    """Cron schedule at which they may scale to zero again once idle."""


class ExistingMonitoring(CatalogModel):
    """The Prometheus, Grafana and KEDA a cluster already runs (monitoring.mode existing)."""

    prometheus_url: Annotated[str, StringConstraints(pattern=r"^https?://[^\s/]+(:[0-9]+)?(/\S*)?$")] = Field(
        examples=["http://kube-prometheus-stack-prometheus.monitoring.svc.cluster.local:9090"]
    )
    """In-cluster URL of the existing Prometheus: what the models' ScaledObjects query."""
    selector_labels: dict[str, str] = Field({}, examples=[{"release": "kube-prometheus-stack"}])
    """Labels the existing Prometheus selects PodMonitors and PrometheusRules by (kube-prometheus-stack's default
    is `release: <its release name>`); added to the models' PodMonitors and PrometheusRules."""


class MonitoringSettings(CatalogModel):
    """The stack's Prometheus/Grafana monitoring and the autoscaler reading from it (docs/monitoring.md)."""

    enabled: bool = False
    """Scrape, alert on and graph every model (and install the monitoring stack, mode managed)."""
    mode: Literal["managed", "existing"] = Field("managed", examples=["existing"])
    """`managed`: this stack installs its own Prometheus operator, Prometheus, Alertmanager and Grafana (and, when
    `clusterWide`, the CRDs, node-exporter and KEDA), under per-stack release names and namespaces. `existing`: the
    cluster already runs them; the stack creates only per-model objects (PodMonitor, PrometheusRule, dashboard
    ConfigMaps, ScaledObject) and no cluster-scoped object, after checking that their CRDs exist."""
    namespace: DnsLabel | None = Field(None, examples=["monitoring"])
    """Namespace of the monitoring stack. managed: created by the stack, default `<environment.namespace>-monitoring`;
    it runs with Pod Security 'privileged' (node-exporter and the DCGM exporter need host access), so nothing else
    belongs in it. existing (required): where the existing Prometheus and Grafana run; dashboards go there and the
    models accept scrapes from there."""
    cluster_wide: bool = Field(True, examples=[False])
    """mode managed: this stack installs what a cluster can have only once: the Prometheus operator's and KEDA's CRDs,
    KEDA itself (its external-metrics APIService is cluster-wide) and node-exporter (a host port on every node).
    Exactly one stack per cluster sets it (docs/monitoring.md#shared-clusters); the others set `false` and use them."""
    existing: ExistingMonitoring | None = Field(
        None, examples=[{"prometheusUrl": "http://kube-prometheus-stack-prometheus.monitoring.svc.cluster.local:9090"}]
    )
    """mode existing: the Prometheus the stack's autoscalers query and the labels it selects rules by."""
    retention: Duration = Field("15d", examples=["30d"])
    """How long Prometheus keeps samples."""
    storage: ByteQuantity | None = Field(None, examples=["200Gi"])
    """Persistent volume per Prometheus replica; Prometheus also stops at 85% of it (retentionSize). Omit for an
    emptyDir: samples are lost when the pod moves (dev only; prod requires it)."""
    storage_class: K8sName | None = Field(None, examples=["gp3"])
    """StorageClass of those volumes; omit for the cluster's default."""
    prometheus_replicas: Annotated[int, Field(ge=1, le=5)] = Field(1, examples=[2])
    """Prometheus replicas, each scraping everything (prod requires >= 2)."""
    alertmanager_replicas: Annotated[int, Field(ge=1, le=5)] = Field(1, examples=[3])
    """Alertmanager replicas, clustered (prod requires >= 2)."""
    scrape_interval: Duration = Field("15s", examples=["30s"])
    """How often Prometheus scrapes the models; the autoscalers react no faster."""
    autoscaler_namespace: DnsLabel | None = Field(None, examples=["keda"])
    """Namespace of KEDA, which scales models on Prometheus metrics (Pod Security 'restricted'), when this stack
    installs it (mode managed, clusterWide); default `<environment.namespace>-keda`."""
    runbook_base_url: Annotated[str, StringConstraints(pattern=r"^\S+$", max_length=300)] = Field(
        "docs/runbooks.md", examples=["https://git.example.com/ml/ml-serving/-/blob/main/docs/runbooks.md"]
    )
    """Where alerts' `runbook_url` annotations point; each alert adds its `#anchor`."""
    wake_hours: WakeHours | None = Field(
        None, examples=[{"timezone": "Europe/Berlin", "start": "0 8 * * 1-5", "end": "0 19 * * 1-5"}]
    )
    """Required when a model may scale to zero (`minReplicas: 0`): it keeps one replica during these hours and
    scales to zero outside them when idle."""


class IngressSettings(CatalogModel):
    """The ingress controller that exposes public models."""

    class_name: K8sName = "nginx"
    """IngressClass of public models' Ingresses."""
    controller_namespace: DnsLabel = "ingress-nginx"
    """Namespace of the ingress controller (allowed in by the models' NetworkPolicies)."""
    controller_pod_labels: Labels = {"app.kubernetes.io/name": "ingress-nginx"}
    """Labels of the controller pods."""
    controller: Literal["ingress-nginx", "other"] = Field("ingress-nginx", examples=["other"])
    """Which controller serves `className`: `ingress-nginx` gets per-model annotations from the catalog (read and send
    timeouts from `maxRequestSeconds`, body size from `exposure.maxBodySize`); `other` gets none (set them on the
    controller)."""
    tls_cluster_issuer: K8sName | None = None
    """cert-manager ClusterIssuer for public hosts' certificates. Public models need it unless `plainHttpReason`
    says why not."""
    plain_http_reason: Annotated[str, StringConstraints(min_length=10, max_length=300)] | None = Field(
        None, examples=["TLS ends at the AWS load balancer in front of ingress-nginx (ACM certificate)"]
    )
    """Why this stack's public models may be served without a certificate on the Ingress (TLS terminated upstream,
    or a test environment): written on each such Ingress. Without it, a public model without TLS is an error."""


class GatewayRef(CatalogModel):
    """A Gateway API `Gateway` the stack's LLM routes attach to (installed and run outside this stack)."""

    name: K8sName = Field(examples=["inference-gateway"])
    """Name of the Gateway."""
    namespace: DnsLabel = Field(examples=["gateway-system"])
    """Its namespace; its listeners must allow routes from the models' namespace (`allowedRoutes`)."""
    section_name: K8sName | None = Field(None, examples=["https"])
    """The listener the routes attach to; omit for every listener that allows them."""
    pod_labels: Labels = Field({}, examples=[{"gateway.networking.k8s.io/gateway-name": "inference-gateway"}])
    """Labels of the Gateway's data-plane (proxy) pods, the only pods allowed to send requests to the models and to
    call the endpoint pickers; empty: every pod of `namespace`."""


class RoutingSettings(CatalogModel):
    """How requests reach the stack's LLMs (docs/llm-traffic.md)."""

    type: Literal["ingress", "gateway-inference"] = Field("ingress", examples=["gateway-inference"])
    """`ingress`: every model is a Service, public ones behind an Ingress. `gateway-inference`: each vLLM model also
    gets an InferencePool, its endpoint picker (the llm-d router's EPP: picks a replica by queue, KV cache and loaded
    LoRA adapters) and an HTTPRoute from `gateway`; other runtimes keep the Ingress path."""
    gateway: GatewayRef | None = Field(None, examples=[{"name": "inference-gateway", "namespace": "gateway-system"}])
    """The Gateway of `gateway-inference` (required there)."""
    internal_gateway: GatewayRef | None = Field(
        None, examples=[{"name": "internal-gateway", "namespace": "gateway-system"}]
    )
    """A cluster-internal Gateway for vLLM models with `exposure.type: internal`: their HTTPRoutes attach here,
    matched by served model name. Without it, internal vLLM models keep their plain Service (never a route on the
    public `gateway`)."""
    failure_mode: Literal["FailClose", "FailOpen"] = Field("FailClose", examples=["FailOpen"])
    """What the Gateway does while a model's endpoint picker does not answer: `FailClose` refuses the request,
    `FailOpen` sends it to any replica of the pool."""
    endpoint_picker_replicas: Annotated[int, Field(ge=1, le=5)] | None = Field(None, examples=[2])
    """Replicas of each endpoint picker (active-active); default 2 in prod, 1 elsewhere."""


class ExternalSecretRef(CatalogModel):
    """Where the External Secrets Operator reads a Secret's values."""

    store: K8sName = Field(examples=["aws-secrets-manager"])
    """Name of the SecretStore or ClusterSecretStore."""
    store_kind: Literal["ClusterSecretStore", "SecretStore"] = "ClusterSecretStore"
    """Kind of the store."""
    remote_key: Annotated[str, StringConstraints(pattern=r"^\S+$", max_length=512)] = Field(examples=["prod/crm-db"])
    """Key of the value in the store (a JSON object with one property per Secret key)."""


SecretKey = Annotated[str, StringConstraints(pattern=r"^[-._a-zA-Z0-9]+$", max_length=253)]


class SecretDeclaration(CatalogModel):
    """A Kubernetes Secret in the models' namespace that the stack's models reference (docs/secrets.md)."""

    source: Literal["stack", "external"] = Field(examples=["stack"])
    """`stack`: created by the stack from the secret config `ml-serving:secretValues.<name>.<key>`; `external`:
    created by something else, through an ExternalSecret the stack creates (`externalSecret`) or by hand."""
    keys: Annotated[list[SecretKey], Field(min_length=1)] = Field(examples=[["token"]])
    """The Secret's keys (the models' references are checked against them)."""
    external_secret: ExternalSecretRef | None = Field(
        None, examples=[{"store": "aws-secrets-manager", "remoteKey": "prod/crm-db"}]
    )
    """source external: create an External Secrets Operator `ExternalSecret` for it (awaited until Ready)."""


class WeightsCacheSettings(CatalogModel):
    """The stack's shared weights cache (docs/big-models.md#a-shared-weights-cache): for each model with
    `weights.cache: true`, a ReadWriteMany volume filled once by a Job and mounted read-only by every replica, so a
    scale-up or a replaced pod starts without a download."""

    storage_class: K8sName | None = Field(None, examples=["efs-sc"])
    """A storage class that provisions ReadWriteMany volumes (EFS, Filestore, Azure Files, CephFS, NFS); omit for
    no shared cache (models with `weights.cache: true` are then an error in this stack)."""


class NetworkSettings(CatalogModel):
    """Egress the models' pods may use."""

    weights_egress_cidrs: list[Cidr] = Field(["0.0.0.0/0"], examples=[["10.0.128.0/24"]])
    """Where weight downloads may go (port 443, or `weightsProxy`'s port): object storage endpoints or the egress
    proxy's range. A NetworkPolicy applies to the whole pod, so the serving container can reach these too
    (docs/security.md#networking); a prod stack must not use `0.0.0.0/0` when a model downloads weights."""
    weights_proxy: Annotated[str, StringConstraints(pattern=r"^https?://[A-Za-z0-9.-]+:[0-9]{1,5}$")] | None = Field(
        None, examples=["http://10.0.128.10:3128"]
    )
    """HTTPS proxy of the weight downloads (`HTTPS_PROXY` of the init container only), e.g. an egress proxy that
    allows only the weight hosts; it must lie inside `weightsEgressCidrs`."""
    api_server_cidrs: list[Cidr] = Field(["0.0.0.0/0"], examples=[["10.0.0.0/16"]])
    """Where the Kubernetes API server's endpoints are (ports 443 and 6443): the only API egress of the monitoring,
    KEDA and device-plugin pods, and where KEDA's metrics API is called from. Narrow it to the cluster's
    endpoint range (EKS: the VPC CIDR holding its control-plane ENIs)."""
    identity_annotations: Annotations = {}
    """Annotations on every model's ServiceAccount for cloud workload identity, e.g.
    `eks.amazonaws.com/role-arn: arn:aws:iam::123456789012:role/ml-prod-weights`."""


#: A CODEOWNERS owner: a GitHub user or team (`@user`, `@org/team`) or an e-mail address.
OWNER_PATTERN = r"^(@[A-Za-z0-9][A-Za-z0-9-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)?|[^@\s]+@[^@\s]+\.[^@\s]+)$"
PATTERN_DESCRIPTIONS[OWNER_PATTERN] = "a CODEOWNERS owner: @user, @org/team or an e-mail address"


class TeamDeclaration(CatalogModel):
    """One team of a split environment, declared by its platform stack (docs/team-stacks.md)."""

    owners: Annotated[list[Annotated[str, StringConstraints(pattern=OWNER_PATTERN)]], Field(min_length=1)] = Field(
        examples=[["@acme/fraud-ml"]]
    )
    """Who owns the team's catalog: its CODEOWNERS line (`mlserve codeowners`) names these owners."""
    namespace: DnsLabel | None = Field(None, examples=["ml-prod-fraud"])
    """The team's namespace, created by the platform stack (Pod Security 'restricted', default deny); default
    `<environment.namespace>-<team>`. The team stack's `environment.namespace` must be this one."""


class SplitSettings(CatalogModel):
    """Whether this stack is a whole environment, or the platform or one team's part of a split environment
    (docs/team-stacks.md)."""

    role: Literal["single", "platform", "team"] = Field("single", examples=["platform"])
    """`single` (the default): one stack per environment, platform and models together. `platform`: the
    environment's shared part (the teams' namespaces, the monitoring, and the settings every team inherits:
    registry, ingress, network, ...) and no models. `team`: one team's models, in the namespace its platform stack
    created for it, reading the platform's outputs through a StackReference."""
    teams: dict[DnsLabel, TeamDeclaration] = Field({}, examples=[{"fraud": {"owners": ["@acme/fraud-ml"]}}])
    """role platform: the environment's teams, by name (at least one)."""
    platform: DnsLabel | None = Field(None, examples=["prod"])
    """role team: the platform stack of this environment (a stack of this project with role platform)."""
    team: DnsLabel | None = Field(None, examples=["fraud"])
    """role team: which of the platform's teams this stack deploys."""

    def team_namespace(self, team: str, base: str) -> str:
        declared = self.teams[team].namespace
        return declared if declared is not None else f"{base}-{team}"


class StackSettings(CatalogModel):
    """Everything a stack's ``ml-serving:*`` config keys say."""

    catalog: str = "models.yaml"
    """Catalog file, relative to the project directory."""
    environment: EnvironmentSettings
    """Tier and namespace."""
    cluster: ClusterSettings
    """Target cluster."""
    registry: RegistrySettings = RegistrySettings()
    """Image registry for built models."""
    gpu_node_pool: GpuNodePoolSettings = GpuNodePoolSettings()
    """GPU capacity."""
    monitoring: MonitoringSettings = MonitoringSettings()
    """Monitoring stack."""
    ingress: IngressSettings = IngressSettings()
    """Ingress controller for public models."""
    network: NetworkSettings = NetworkSettings()
    """Network egress and workload identity."""
    routing: RoutingSettings = RoutingSettings()
    """How requests reach the LLMs: Ingress, or the Gateway API Inference Extension."""
    secrets: dict[K8sName, SecretDeclaration] = Field(
        {}, examples=[{"huggingface-token": {"source": "stack", "keys": ["token"]}}]
    )
    """Every Kubernetes Secret the stack's models reference, and where it comes from (docs/secrets.md)."""
    weights_cache: WeightsCacheSettings = Field(WeightsCacheSettings(), examples=[{"storageClass": "efs-sc"}])
    """The shared weights cache for models with `weights.cache: true`."""
    split: SplitSettings = Field(SplitSettings(), examples=[{"role": "team", "platform": "prod", "team": "fraud"}])
    """Split an environment into a platform stack and one stack per team (docs/team-stacks.md); default: one stack."""

    @model_validator(mode="before")
    @classmethod
    def _per_stack_names(cls, data: Any) -> Any:
        """A managed monitoring stack's namespaces default to names derived from the stack's own namespace, so two
        stacks in one cluster never own the same Namespace."""
        if not isinstance(data, dict):
            return data
        environment, monitoring = data.get("environment"), data.get("monitoring", {})
        if not isinstance(environment, dict) or not isinstance(environment.get("namespace"), str):
            return data
        if not isinstance(monitoring, dict) or monitoring.get("mode", "managed") != "managed":
            return data
        base = environment["namespace"]
        derived = {"namespace": f"{base}-monitoring", "autoscalerNamespace": f"{base}-keda"}
        return {**data, "monitoring": {**derived, **monitoring}}

    _secret_paths: frozenset[tuple[str | int, ...]] = PrivateAttr(default_factory=frozenset)

    def is_secret(self, *path: str | int) -> bool:
        """Whether the value at ``path`` (YAML names, e.g. ``"registry", "username"``) was given as a secret: the
        program must then keep it a Pulumi secret (``pulumi.Output.secret``) up to the object it feeds."""
        return any(path[: len(secret)] == secret for secret in self._secret_paths)

    @property
    def model_namespaces(self) -> list[str]:
        """Namespaces the stack's models run in: its own, or on a platform stack every team's (sorted)."""
        if self.split.role == "platform":
            base = self.environment.namespace
            return sorted(self.split.team_namespace(team, base) for team in self.split.teams)
        return [self.environment.namespace]

    def node_labels(self, accelerator: str) -> dict[str, str]:
        """Labels of the nodes that serve ``accelerator`` in this stack (what workloads select on)."""
        if self.gpu_node_pool.provider == "existing":
            return dict(self.gpu_node_pool.existing[accelerator].labels)
        return {ACCELERATOR_LABEL: accelerator}


def stack_file_name(stack: str) -> str:
    return f"Pulumi.{stack}.yaml"


def decode_config_value(value: Any) -> Any:
    """Engine config values are strings; object and list values are JSON text."""
    if isinstance(value, str) and value[:1] in ("{", "["):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def _marker(extra: Any) -> str | None:
    return extra.get(SECRET_MARK) if isinstance(extra, dict) else None


def _unwrap(tp: Any) -> Iterator[tuple[Any, str | None]]:
    """Concrete types behind an annotation (Annotated, Optional, unions), each with a secret marker found on the way."""
    origin = typing.get_origin(tp)
    if origin is Annotated:
        inner, *metadata = typing.get_args(tp)
        marker = next((m for m in (_marker(getattr(x, "json_schema_extra", None)) for x in metadata) if m), None)
        for candidate, inner_marker in _unwrap(inner):
            yield candidate, inner_marker or marker
    elif origin in (typing.Union, types.UnionType):
        for arg in typing.get_args(tp):
            yield from _unwrap(arg)
    else:
        yield tp, None


def _children(tp: Any, element: str | int) -> Iterator[tuple[Any, str | None]]:
    """The annotations (with their markers) one step below ``tp`` at ``element``."""
    for candidate, _ in _unwrap(tp):
        origin = typing.get_origin(candidate)
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            for name, info in candidate.model_fields.items():
                if (info.alias or name) == element:
                    marker = _marker(info.json_schema_extra)
                    yield from ((t, m or marker) for t, m in _unwrap(info.annotation))
        elif origin is dict and isinstance(element, str):
            yield from _unwrap(typing.get_args(candidate)[1])
        elif origin is list and isinstance(element, int):
            yield from _unwrap(typing.get_args(candidate)[0])


def secrecy(path: Path, root: type[BaseModel] = StackSettings) -> str | None:
    """The secret marker of the setting at ``path`` (YAML names from the config key down): "allowed", "required",
    or None for a setting that must not be secret."""
    if root is StackSettings and len(path) == 1 and path[0] in SECRET_KEYS:
        return "required"
    level: list[tuple[Any, str | None]] = [(root, None)]
    for element in path:
        level = [child for tp, _ in level for child in _children(tp, element)]
    return next((marker for _, marker in level if marker), None)


def secret_capable_settings(root: type[BaseModel] = StackSettings) -> list[str]:
    """Every setting that may hold a secret, as `key.path` (`<name>` for a map's keys), for messages and docs."""
    found: list[str] = list(SECRET_KEYS) if root is StackSettings else []

    def walk(tp: Any, shown: str, depth: int) -> None:
        for candidate, _ in _unwrap(tp):
            origin = typing.get_origin(candidate)
            if isinstance(candidate, type) and issubclass(candidate, BaseModel) and depth < 8:
                for name, info in candidate.model_fields.items():
                    child = f"{shown}.{info.alias or name}" if shown else info.alias or name
                    if _marker(info.json_schema_extra) or any(m for _, m in _unwrap(info.annotation)):
                        found.append(child)
                    else:
                        walk(info.annotation, child, depth + 1)
            elif origin in (dict, list) and depth < 8:
                inner = typing.get_args(candidate)[-1]
                child = f"{shown}.<name>" if origin is dict else f"{shown}[]"
                if any(m for _, m in _unwrap(inner)):
                    found.append(child)
                else:
                    walk(inner, child, depth + 1)

    walk(root, "", 0)
    return found


def required_secret_paths(values: Any, root: type[BaseModel] = StackSettings) -> Iterator[Path]:
    """Paths of the leaves in ``values`` (decoded config, key -> value) whose setting must be a secret."""

    def walk(value: Any, level: list[tuple[Any, str | None]], path: Path) -> Iterator[Path]:
        if any(marker == "required" for _, marker in level):
            yield path
            return
        items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
        for element, child in items:
            below = [c for tp, _ in level for c in _children(tp, element)]
            if below:
                yield from walk(child, below, (*path, element))

    yield from walk(values, [(root, None)], ())


def secure_leaves(value: Any, path: Path) -> Iterator[Path]:
    """Paths of the `secure:` values in a stack file's raw config value."""
    if isinstance(value, dict):
        if set(value) == {"secure"}:
            yield path
            return
        for key, child in value.items():
            yield from secure_leaves(child, (*path, key))
    elif isinstance(value, list):
        for i, child in enumerate(value):
            yield from secure_leaves(child, (*path, i))


def parse_settings(
    config: Mapping[str, Any],
    secret_keys: set[str],
    stack: str,
    stack_doc: SourceDocument | None,
) -> StackSettings:
    """Validate a stack's config (full keys ``ml-serving:x`` -> engine values); raise with every problem.

    Secret values are never quoted: a problem with one says what is wrong, not what it is."""
    file = stack_doc.file if stack_doc is not None else stack_file_name(stack)

    def problem(path: Path, message: str, at_key: bool = False) -> Problem:
        key = f"{PROJECT}:{path[0]}" if path else ""
        shown = format_path((key,) + tuple(path[1:])) if path else ""
        if stack_doc is not None and key in config and not stack_doc.has(("config", key)):
            # Not written in the stack file: the ambient PULUMI_CONFIG set it (the engine merges it in beneath).
            return Problem(AMBIENT_CONFIG_FILE, 1, 1, shown, message)
        if stack_doc is None:
            return Problem(file, 1, 1, shown, message)
        line, column = stack_doc.locate(("config", key) + tuple(path[1:]), at_key=at_key)
        return Problem(file, line, column, shown, message)

    prefix = f"{PROJECT}:"
    values: dict[str, Any] = {}
    problems: list[Problem] = []
    known = [info.alias or name for name, info in StackSettings.model_fields.items()]
    raw = stack_doc.data.get("config") if stack_doc is not None and isinstance(stack_doc.data, dict) else None
    raw_config = raw if isinstance(raw, dict) else {}
    # Which values are secret: the engine marks whole keys; the stack file says which leaves were `secure:`.
    secret_paths: set[Path] = set()
    for full_key in sorted(k for k in secret_keys if k.startswith(prefix) and k in config):
        key = full_key[len(prefix) :]
        secret_paths.update(list(secure_leaves(raw_config.get(full_key), (key,))) or [(key,)])

    def is_secret(path: Path) -> bool:
        return any(tuple(path[: len(secret)]) == secret for secret in secret_paths)

    for full_key in sorted(config):
        if full_key.startswith("kubernetes:"):
            problems.append(_kubernetes_key_problem(full_key, file, stack_doc))
            continue
        if not full_key.startswith(prefix):
            continue
        key = full_key[len(prefix) :]
        if key in SECRET_KEYS:
            if full_key not in secret_keys:
                problems.append(
                    problem(
                        (key,),
                        f"'{full_key}' must be a secret; run: pulumi config set --secret {full_key} <value> "
                        f"(then remove the plain value from {file})",
                    )
                )
            continue
        if key not in known:
            allowed = known + list(SECRET_KEYS)
            problems.append(
                problem(
                    (key,),
                    f"unknown setting '{full_key}';{did_you_mean(key, allowed)} allowed: {', '.join(allowed)}",
                    at_key=True,
                )
            )
            continue
        values[key] = decode_config_value(config[full_key])
    problems.extend(problem(path, message) for path, message in _secrecy_checks(values, secret_paths))
    settings = None
    try:
        settings = StackSettings.model_validate(values)
    except ValidationError as exc:
        for path, at_key, message in findings(exc, StackSettings, hidden=is_secret):
            if not path:
                continue
            problems.append(problem(path, message, at_key))
    if settings is not None:
        settings._secret_paths = frozenset(secret_paths)
        problems.extend(problem(path, message) for path, message in _cross_checks(settings, stack))
        present = {k[len(prefix) :] for k in secret_keys if k.startswith(prefix) and k in config}
        problems.extend(problem(path, message) for path, message in _secret_checks(settings, present))
        secret_values = decode_config_value(config.get(f"{prefix}secretValues")) if "secretValues" in present else None
        problems.extend(problem(path, message) for path, message in _secret_value_checks(settings, secret_values))
    if problems:
        # Whatever a check quoted, a secret value (or its ciphertext) is never part of a message.
        hidden = {v for path in secret_paths for v in _strings(_value_at(values, path))}
        hidden |= {
            v for path in secret_paths for v in _strings(_value_at(raw_config, (f"{prefix}{path[0]}", *path[1:])))
        }
        raise ConfigurationError(_masked(p, hidden) for p in problems)
    assert settings is not None
    return settings


def _value_at(data: Any, path: Path) -> Any:
    for element in path:
        in_dict = isinstance(data, dict) and element in data
        in_list = isinstance(data, list) and isinstance(element, int) and 0 <= element < len(data)
        if not (in_dict or in_list):
            return None
        data = data[element]
    return data


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        if value:
            yield value
    elif isinstance(value, dict):
        for child in value.values():
            yield from _strings(child)
    elif isinstance(value, list):
        for child in value:
            yield from _strings(child)


def _masked(problem: Problem, hidden: set[str]) -> Problem:
    message = problem.message
    for value in sorted(hidden, key=len, reverse=True):
        # Whole words only: a short secret must not cut holes into the words of the message.
        message = re.sub(rf"(?<![A-Za-z0-9]){re.escape(value)}(?![A-Za-z0-9])", "[secret]", message)
    return dataclasses.replace(problem, message=message)


def _secrecy_checks(values: dict[str, Any], secret_paths: set[Path]) -> list[tuple[Path, str]]:
    """`secure:` only where the schema allows a secret; a setting that must be secret is never plain."""
    found: list[tuple[Path, str]] = []
    capable = ", ".join(f"{PROJECT}:{name}" for name in secret_capable_settings())
    for path in sorted(secret_paths, key=str):
        key = str(path[0])
        if key in SECRET_KEYS or key not in values:
            continue  # the scalar secret keys, and unknown keys (reported as unknown)
        if secrecy(path) is not None:
            continue
        whole_key = len(path) == 1
        if whole_key and any(name.startswith(f"{key}.") for name in secret_capable_settings()):
            continue  # a secret key whose `secure:` leaves are not known here (no stack file): checked per field
        found.append(
            (
                path,
                "cannot be a secret: this setting is used in plain text (object names, labels, manifests, state), "
                f"so a secret here would not stay secret. Settings that may be secrets: {capable}. Put credentials "
                "in a Kubernetes Secret the catalog references (secretEnv, weights.credentialsSecret), or set this "
                f"value without --secret",
            )
        )
    for path in required_secret_paths(values):
        if not any(tuple(path[: len(secret)]) == secret for secret in secret_paths):
            shown = format_path((f"{PROJECT}:{path[0]}", *path[1:]))
            found.append(
                (
                    path,
                    f"must be a secret; run: pulumi config set --secret --path '{shown}' <value> (then remove the "
                    "plain value from the stack file)",
                )
            )
    return found


def _kubernetes_key_problem(full_key: str, file: str, stack_doc: SourceDocument | None) -> Problem:
    """A `kubernetes:*` key: the program's own provider never reads it, so it would be silently ignored."""
    replacement = KUBERNETES_KEYS.get(full_key)
    where = (
        f"set {replacement} instead"
        if replacement
        else "name the cluster with ml-serving:cluster.context (and KUBECONFIG for the file)"
    )
    message = (
        f"'{full_key}' is not read: this program builds its own Kubernetes provider from the stack's settings, so "
        f"the kubernetes: config namespace is ignored; {where}, then run: pulumi config rm {full_key}"
    )
    if stack_doc is None:
        return Problem(file, 1, 1, full_key, message)
    line, column = stack_doc.locate(("config", full_key), at_key=True)
    return Problem(file, line, column, full_key, message)


def _field_name(model: type[CatalogModel], alias: str) -> str:
    return next(name for name, info in model.model_fields.items() if (info.alias or name) == alias)


def _cluster_checks(s: StackSettings) -> list[tuple[Path, str]]:
    """staging and prod name their cluster twice: the kubeconfig context to use, and the identity to expect."""
    found: list[tuple[Path, str]] = []
    tier = s.environment.tier
    if tier == "dev":
        return found
    if s.cluster.context is None:
        found.append(
            (
                ("cluster", "context"),
                f"a {tier} stack names its kubeconfig context (see `kubectl config get-contexts`), e.g. "
                "context: arn:aws:eks:<region>:<account>:cluster/<name>; without one the provider uses whatever "
                "context is current",
            )
        )
    if s.cluster.kube_system_uid is None:
        found.append(
            (
                ("cluster", "kubeSystemUid"),
                f"a {tier} stack states which cluster it expects: set kubeSystemUid to the output of `kubectl "
                "--context <context> get namespace kube-system -o jsonpath='{.metadata.uid}'`; the program "
                "refuses to deploy to any other cluster",
            )
        )
    return found


def _split_checks(s: StackSettings) -> list[tuple[Path, str]]:
    """What one stack file's `split` must say for its role (the checks across stacks: model_catalog/split.py)."""
    split, found = s.split, []
    platform_only, team_only = ("teams",), ("platform", "team")
    if split.role == "platform" and not split.teams:
        found.append((("split", "role"), "a platform stack declares its teams: split.teams, at least one"))
    if split.role == "team":
        for field in team_only:
            if getattr(split, field) is None:
                found.append((("split", "role"), f"a team stack names its '{field}' (split.{field})"))
    for field in (*platform_only, *team_only):
        value = getattr(split, field)
        owner = "platform" if field in platform_only else "team"
        if value and split.role != owner:
            found.append(
                ((("split", field)), f"'{field}' is only for role '{owner}' (this stack's role is '{split.role}')")
            )
    if split.role == "platform":
        namespaces: dict[str, str] = {s.environment.namespace: "environment.namespace"}
        for team in sorted(split.teams):
            namespace = split.team_namespace(team, s.environment.namespace)
            if namespace in namespaces:
                found.append(
                    (
                        ("split", "teams", team),
                        f"team '{team}' would run in namespace '{namespace}', already taken by "
                        f"{namespaces[namespace]}; give it its own (split.teams.{team}.namespace)",
                    )
                )
            namespaces[namespace] = f"team '{team}'"
        if s.gpu_node_pool.provider == "karpenter":
            found.append(
                (
                    ("gpuNodePool", "provider"),
                    "got 'karpenter'; a split environment's platform declares the cluster's GPU nodes ('existing') or "
                    "none: Karpenter pools sized from per-team GPU budgets are not built "
                    "(docs/team-stacks.md#not-built-yet); keep Karpenter-provisioned GPU models in a single stack",
                )
            )
    return found


def _cross_checks(s: StackSettings, stack: str) -> list[tuple[Path, str]]:
    found: list[tuple[Path, str]] = _cluster_checks(s) + _split_checks(s)
    reg = s.registry
    if reg.type == "ecr" and (reg.region is None or reg.account_id is None):
        found.append((("registry", "type"), "type 'ecr' needs 'region' and 'accountId'"))
    if reg.type == "external" and reg.address is None:
        found.append((("registry", "address"), "type 'external' needs 'address' (host[/path])"))
    if reg.type != "external" and (reg.address is not None or reg.username is not None):
        found.append((("registry", "type"), "'address' and 'username' are only for type 'external'"))
    if reg.kms_key_arn is not None and reg.type != "ecr":
        found.append((("registry", "kmsKeyArn"), "'kmsKeyArn' is only for type 'ecr'"))
    elif reg.kms_key_arn is not None and reg.region is not None:
        key_region = reg.kms_key_arn.split(":")[3]
        if key_region != reg.region:
            found.append(
                (
                    ("registry", "kmsKeyArn"),
                    f"the key is in '{key_region}' but the repositories are in '{reg.region}'; ECR needs a key in "
                    "the repositories' region",
                )
            )
    gpu = s.gpu_node_pool
    if gpu.provider == "existing" and not gpu.existing:
        found.append(
            (("gpuNodePool", "existing"), "provider 'existing' needs the labels of the GPU nodes per accelerator")
        )
    if gpu.provider != "existing" and gpu.existing:
        found.append((("gpuNodePool", "existing"), "'existing' is only for provider 'existing'"))
    if gpu.provider == "karpenter" and gpu.node_role is None:
        found.append((("gpuNodePool", "nodeRole"), "provider 'karpenter' needs 'nodeRole' (the nodes' IAM role)"))
    if s.environment.tier == "prod" and gpu.provider == "karpenter" and gpu.capacity_type == "spot":
        found.append(
            (("gpuNodePool", "capacityType"), "a prod stack must use 'on-demand' GPUs: spot reclaims evict models")
        )
    if gpu.limits == "plan" and gpu.provider != "karpenter":
        found.append(
            (
                ("gpuNodePool", "limits"),
                f"'limits: plan' sizes Karpenter node pools, so it is only for provider 'karpenter' (got "
                f"'{gpu.provider}')",
            )
        )
    if gpu.sharing and gpu.provider != "karpenter":
        found.append(
            (
                ("gpuNodePool", "sharing"),
                f"'sharing' is only for provider 'karpenter' (got '{gpu.provider}'); existing nodes share GPUs "
                "through their own device plugin configuration",
            )
        )
    net = s.network
    if net.weights_proxy is not None:
        proxy_port = int(net.weights_proxy.rsplit(":", 1)[1])
        if not 1 <= proxy_port <= 65535:
            found.append((("network", "weightsProxy"), f"port {proxy_port} is not a TCP port (1-65535)"))
    if s.ingress.plain_http_reason is not None and s.ingress.tls_cluster_issuer is not None:
        found.append(
            (("ingress", "plainHttpReason"), "'plainHttpReason' is only for a stack without 'tlsClusterIssuer'")
        )
    if s.routing.type == "gateway-inference" and s.routing.gateway is None:
        found.append(
            (
                ("routing", "type"),
                "type 'gateway-inference' needs 'gateway' (name and namespace of the Gateway the routes attach to)",
            )
        )
    for key, value in (("gateway", s.routing.gateway), ("internalGateway", s.routing.internal_gateway)):
        if s.routing.type != "gateway-inference" and value is not None:
            found.append((("routing", key), f"'{key}' is only for type 'gateway-inference'"))
    if s.monitoring.mode == "managed" and s.monitoring.namespace == s.environment.namespace:
        found.append((("monitoring", "namespace"), "the monitoring stack needs its own namespace"))
    found.extend(_monitoring_checks(s))
    found.extend(_credential_checks(s))
    return found


def _credential_checks(s: StackSettings) -> list[tuple[Path, str]]:
    """Plain settings that look like credentials (model_catalog/credentials.py); the value is never quoted."""
    metadata_hint = "labels, annotations and host names are public metadata; keep credentials out of them"
    screened: list[tuple[Path, str, str, bool]] = [
        (("environment", "labels", k), v, metadata_hint, True) for k, v in sorted(s.environment.labels.items())
    ]
    screened += [
        (("network", "identityAnnotations", k), v, metadata_hint, True)
        for k, v in sorted(s.network.identity_annotations.items())
    ]
    screened += [
        (("ingress", "controllerPodLabels", k), v, metadata_hint, True)
        for k, v in sorted(s.ingress.controller_pod_labels.items())
    ]
    if s.registry.address is not None:
        screened.append((("registry", "address"), s.registry.address, metadata_hint, False))
    if s.registry.username is not None and not s.is_secret("registry", "username"):
        screened.append(
            (
                ("registry", "username"),
                s.registry.username,
                f"set it as a secret: pulumi config set --secret --path '{PROJECT}:registry.username' <user>",
                True,
            )
        )
    found: list[tuple[Path, str]] = []
    for path, value, hint, entropy in screened:
        kind = credential_kind(value, entropy=entropy)
        if kind is not None and not s.is_secret(*path):
            found.append((path, f"looks like a credential ({kind}; the value is not shown); {hint}"))
    return found


def _monitoring_checks(s: StackSettings) -> list[tuple[Path, str]]:
    found: list[tuple[Path, str]] = []
    mon = s.monitoring
    if mon.mode == "existing":
        if mon.existing is None:
            found.append(
                (
                    ("monitoring", "existing"),
                    "mode 'existing' needs 'existing.prometheusUrl' (the Prometheus the autoscalers query)",
                )
            )
        if mon.namespace is None:
            found.append(
                (
                    ("monitoring", "namespace"),
                    "mode 'existing' needs 'namespace': where the existing Prometheus and Grafana run (dashboards "
                    "go there, scrapes come from there)",
                )
            )
        for key in ("autoscalerNamespace", "clusterWide", "storage", "storageClass"):
            if _field_name(MonitoringSettings, key) in mon.model_fields_set:
                found.append(
                    (("monitoring", key), f"'{key}' is only for mode 'managed'; mode 'existing' installs nothing")
                )
        return found
    if mon.existing is not None:
        found.append((("monitoring", "existing"), "'existing' is only for mode 'existing'"))
    if not mon.enabled:
        return found
    if mon.autoscaler_namespace in (mon.namespace, s.environment.namespace):
        found.append(
            (
                ("monitoring", "autoscalerNamespace"),
                f"got '{mon.autoscaler_namespace}'; KEDA needs a namespace of its own (Pod Security 'restricted'), "
                f"not the models' ('{s.environment.namespace}') nor the privileged monitoring one ('{mon.namespace}')",
            )
        )
    if s.environment.tier == "prod":
        if mon.storage is None:
            found.append(
                (
                    ("monitoring", "storage"),
                    "a prod stack keeps its metrics on a persistent volume; set 'storage' (e.g. \"200Gi\")",
                )
            )
        for key, value in (
            ("prometheusReplicas", mon.prometheus_replicas),
            ("alertmanagerReplicas", mon.alertmanager_replicas),
        ):
            if value < 2:
                found.append(
                    (("monitoring", key), f"got {value}; a prod stack runs >= 2 so that one node's loss loses no alert")
                )
    return found


def _secret_value_checks(s: StackSettings, values: Any) -> list[tuple[Path, str]]:
    """``ml-serving:secretValues`` (decoded; its values are never shown) has exactly the keys the `source: stack`
    declarations list."""
    found: list[tuple[Path, str]] = []
    given = values if isinstance(values, dict) else {}
    key = f"{PROJECT}:secretValues"
    for name, declaration in sorted(s.secrets.items()):
        if declaration.source == "external" and name in given:
            found.append(
                (
                    ("secretValues", name),
                    f"Secret '{name}' has source 'external': the stack does not create it, so "
                    f"nothing reads these values; run: pulumi config rm --path '{key}.{name}'",
                )
            )
        if declaration.source == "external":
            continue
        entry = given.get(name)
        for secret_key in declaration.keys:
            if not isinstance(entry, dict) or secret_key not in entry:
                found.append(
                    (
                        ("secrets", name, "keys"),
                        f"Secret '{name}' (source 'stack') has no value for key '{secret_key}'; run: pulumi config "
                        f"set --secret --path '{key}.{name}.{secret_key}' <value>",
                    )
                )
        extra = sorted(set(entry) - set(declaration.keys)) if isinstance(entry, dict) else []
        if extra:
            found.append(
                (("secretValues", name), f"values for undeclared key(s) {', '.join(extra)} of Secret '{name}'")
            )
    for name in sorted(set(given) - set(s.secrets)):
        found.append((("secretValues", name), f"values for Secret '{name}', which {PROJECT}:secrets does not declare"))
    for name, declaration in sorted(s.secrets.items()):
        if declaration.source == "stack" and declaration.external_secret is not None:
            found.append((("secrets", name, "externalSecret"), "'externalSecret' is only for source 'external'"))
    return found


def _secret_checks(s: StackSettings, present: set[str]) -> list[tuple[Path, str]]:
    """Secret keys the settings need, or that nothing would read (``present``: secret keys set in the stack)."""
    found: list[tuple[Path, str]] = []
    reg = s.registry
    needs_password = reg.type == "external" and reg.username is not None
    if needs_password and "registryPassword" not in present:
        found.append(
            (
                ("registry", "username"),
                f"a username needs its password as a secret; run: pulumi config set --secret {PROJECT}:registryPassword "
                "<password or token> (or remove 'username' to use the ambient docker login and no pull secret)",
            )
        )
    if "registryPassword" in present and not needs_password:
        found.append(
            (
                ("registryPassword",),
                "nothing reads this secret: it is the password of registry 'username' (type 'external'); set "
                f"'username' or run: pulumi config rm {PROJECT}:registryPassword",
            )
        )
    return found
