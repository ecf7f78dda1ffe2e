"""The policy rules: what must never reach a cluster (mandatory) and what should not (advisory).

Plain functions over a resource's type, inputs (for a Kubernetes object: its manifest), URN and `protect` option,
with no Pulumi import, so the same code runs in two places:

- ``pulumi preview --policy-pack policy`` (policy/__main__.py wraps each rule in a pulumi-policy policy);
- ``make policy STACK=...`` over the offline render (mlserve/policy_check.py), in tests and in CI.

Each resource rule returns messages; a stack rule returns (URN, message) pairs. A violation names its rule and the
resource's URN. Values a preview cannot know yet (``[unknown]`` offline, or not a string) are not judged.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# platform_data is the bottom layer (stdlib only): the catalog check uses the same definition of "pinned".
from platform_data.image_pinning import pinned

UNKNOWN_TEXT = "[unknown]"
SECRET_TEXT = "[secret]"

POD_TEMPLATE_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job")
GPU_RESOURCE = "nvidia.com/gpu"
#: Shapes of real credentials (cloud keys, tokens, private keys).
CREDENTIAL_PATTERNS = {
    "an AWS access key id": re.compile(r"\b(AKIA|ASIA)[0-9A-Z]{16}\b"),
    "a private key": re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    "a GitHub token": re.compile(r"\bgh[pousr]_[A-Za-z0-9]{36,}\b"),
    "a Hugging Face token": re.compile(r"\bhf_[A-Za-z0-9]{30,}\b"),
    "a Slack token": re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}\b"),
    "an API secret key": re.compile(r"\bsk-[A-Za-z0-9_-]{20,}\b"),
    "a GitLab token": re.compile(r"\bglpat-[A-Za-z0-9_-]{20,}\b"),
}
#: Environment variable names that hold credentials: a literal value there is a credential in plain text.
CREDENTIAL_NAME = re.compile(r"(PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|ACCESS_?KEY|PRIVATE_?KEY|CREDENTIAL)", re.I)
#: ... unless the name says it holds where the credential is, not the credential (HF_TOKEN_PATH, SECRET_NAME).
CREDENTIAL_REFERENCE = re.compile(r"_(PATH|FILE|DIR|NAME|URL|URI|ENDPOINT|HEADER)$", re.I)
#: An Ingress's stated reason for plain HTTP (TLS ends at a load balancer in front): accepted outside prod.
PLAIN_HTTP_ANNOTATION = "ml-serving.dev/plain-http-reason"
PROTECTED_IN_PROD = ("kubernetes:core/v1:Namespace", "aws:ecr/repository:Repository")


@dataclass(frozen=True)
class Resource:
    urn: str
    type: str
    props: Mapping[str, Any]
    protect: bool = False
    ignore_changes: tuple[str, ...] = ()

    @property
    def kind(self) -> str:
        """The Kubernetes kind (``kubernetes:apps/v1:Deployment`` -> ``Deployment``), or '' for other resources."""
        return self.type.rsplit(":", 1)[-1] if self.type.startswith("kubernetes:") else ""


@dataclass(frozen=True)
class Context:
    stack: str
    tier: str  # dev | staging | prod


@dataclass(frozen=True)
class Violation:
    rule: str
    urn: str
    message: str
    mandatory: bool

    def __str__(self) -> str:
        return f"{'mandatory' if self.mandatory else 'advisory'} {self.rule}: {self.urn}: {self.message}"


ResourceCheck = Callable[[Resource, Context], list[str]]
StackCheck = Callable[[list[Resource], Context], list[tuple[str, str]]]


@dataclass(frozen=True)
class Rule:
    name: str
    description: str
    mandatory: bool
    check: ResourceCheck | None = None
    stack_check: StackCheck | None = None


# --- helpers -------------------------------------------------------------------------------------------------------


def _get(obj: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(obj, Mapping):
            return None
        obj = obj.get(key)
    return obj


def pod_spec(resource: Resource) -> Mapping[str, Any] | None:
    kind = resource.kind
    if kind in POD_TEMPLATE_KINDS:
        spec = _get(resource.props, "spec", "template", "spec")
    elif kind == "CronJob":
        spec = _get(resource.props, "spec", "jobTemplate", "spec", "template", "spec")
    elif kind == "Pod":
        spec = _get(resource.props, "spec")
    elif kind == "LeaderWorkerSet":
        return _leader_and_worker(resource)
    else:
        return None
    return spec if isinstance(spec, Mapping) else None


def _leader_and_worker(resource: Resource) -> Mapping[str, Any] | None:
    """A LeaderWorkerSet's two pod templates as one spec to check: both templates' containers and volumes, and any
    host namespace either asks for (the leader's other fields; the builders give both the same)."""
    specs = [
        s
        for s in (
            _get(resource.props, "spec", "leaderWorkerTemplate", key, "spec")
            for key in ("workerTemplate", "leaderTemplate")
        )
        if isinstance(s, Mapping)
    ]
    if not specs:
        return None
    merged: dict[str, Any] = {}
    for spec in specs:
        merged.update(spec)
    for key in ("containers", "initContainers", "ephemeralContainers", "volumes"):
        merged[key] = [item for spec in specs for item in (spec.get(key) or [])]
    for key in ("hostNetwork", "hostPID", "hostIPC"):
        merged[key] = any(spec.get(key) for spec in specs)
    return merged


def containers(spec: Mapping[str, Any], init: bool = True) -> list[Mapping[str, Any]]:
    groups = ("initContainers", "containers", "ephemeralContainers") if init else ("containers",)
    return [c for g in groups for c in (spec.get(g) or []) if isinstance(c, Mapping)]


def _known(value: Any) -> bool:
    return isinstance(value, str) and value != UNKNOWN_TEXT


def _name(container: Mapping[str, Any]) -> str:
    return f"container '{container.get('name', '?')}'"


# --- mandatory rules -----------------------------------------------------------------------------------------------


def pod_security_restricted(resource: Resource, context: Context) -> list[str]:
    """Pod Security "restricted": non-root, RuntimeDefault seccomp, no privilege escalation, all capabilities
    dropped (only NET_BIND_SERVICE may be added), not privileged, no host namespaces or hostPath volumes."""
    spec = pod_spec(resource)
    if spec is None:
        return []
    problems = []
    pod_ctx = spec.get("securityContext") or {}
    for field in ("hostNetwork", "hostPID", "hostIPC"):
        if spec.get(field) is True:
            problems.append(f"{field} is true")
    for volume in spec.get("volumes") or []:
        if isinstance(volume, Mapping) and "hostPath" in volume:
            problems.append(f"volume '{volume.get('name')}' is a hostPath")
    for c in containers(spec):
        ctx = c.get("securityContext") or {}
        if not (ctx.get("runAsNonRoot") is True or (pod_ctx.get("runAsNonRoot") is True and "runAsNonRoot" not in ctx)):
            problems.append(f"{_name(c)}: runAsNonRoot is not true")
        if ctx.get("runAsUser", pod_ctx.get("runAsUser")) == 0:
            problems.append(f"{_name(c)}: runAsUser is 0")
        seccomp = _get(ctx, "seccompProfile", "type") or _get(pod_ctx, "seccompProfile", "type")
        if seccomp not in ("RuntimeDefault", "Localhost"):
            problems.append(f"{_name(c)}: seccompProfile.type is {seccomp!r}, not RuntimeDefault or Localhost")
        if ctx.get("allowPrivilegeEscalation") is not False:
            problems.append(f"{_name(c)}: allowPrivilegeEscalation is not false")
        if ctx.get("privileged") is True:
            problems.append(f"{_name(c)}: privileged is true")
        caps = ctx.get("capabilities") or {}
        if "ALL" not in (caps.get("drop") or []):
            problems.append(f"{_name(c)}: capabilities.drop does not include ALL")
        extra = sorted(set(caps.get("add") or []) - {"NET_BIND_SERVICE"})
        if extra:
            problems.append(f"{_name(c)}: adds capabilities {', '.join(extra)} (only NET_BIND_SERVICE is allowed)")
    return problems


def image_pinned(resource: Resource, context: Context) -> list[str]:
    """Staging and prod run images pinned by digest (``@sha256:``) or by this repository's content tag (``ctx-``):
    platform_data/image_pinning.py, which the catalog check applies to ``image.ref`` before anything renders."""
    spec = pod_spec(resource)
    if spec is None or context.tier == "dev":
        return []
    return [
        f"{_name(c)}: image '{c['image']}' is not pinned by digest (@sha256:...) or content tag (:ctx-...) "
        f"in {context.tier} stack '{context.stack}'"
        for c in containers(spec)
        if _known(c.get("image")) and not pinned(c["image"])
    ]


def requests_and_limits(resource: Resource, context: Context) -> list[str]:
    """Every container requests and limits cpu and memory (the scheduler and the kubelet rely on both)."""
    spec = pod_spec(resource)
    if spec is None:
        return []
    problems = []
    for c in containers(spec):
        missing = [
            f"{kind}.{res}"
            for kind in ("requests", "limits")
            for res in ("cpu", "memory")
            if _get(c, "resources", kind, res) in (None, "")
        ]
        if missing:
            problems.append(f"{_name(c)}: no {', '.join(missing)}")
    return problems


def gpu_scheduling(resource: Resource, context: Context) -> list[str]:
    """A pod that asks for GPUs tolerates the GPU pool's taint (``nvidia.com/gpu``) and selects its nodes (a node
    selector or required node affinity beyond the OS), so it lands on, and only on, GPU nodes."""
    spec = pod_spec(resource)
    if spec is None:
        return []
    gpu = [
        c
        for c in containers(spec)
        if any(_get(c, "resources", kind, GPU_RESOURCE) not in (None, 0, "0") for kind in ("requests", "limits"))
    ]
    if not gpu:
        return []
    problems = []
    tolerations = [t for t in spec.get("tolerations") or [] if isinstance(t, Mapping)]
    if not any(
        t.get("key") == GPU_RESOURCE or (t.get("operator") == "Exists" and not t.get("key")) for t in tolerations
    ):
        problems.append(f"{_name(gpu[0])} asks for {GPU_RESOURCE} but the pod has no toleration for the GPU taint")
    selector = {k for k in (spec.get("nodeSelector") or {}) if k not in ("kubernetes.io/os", "kubernetes.io/arch")}
    required = _get(spec, "affinity", "nodeAffinity", "requiredDuringSchedulingIgnoredDuringExecution")
    if not selector and not required:
        problems.append(f"{_name(gpu[0])} asks for {GPU_RESOURCE} but the pod selects no GPU nodes")
    return problems


def public_exposure_tls(resource: Resource, context: Context) -> list[str]:
    """Every public host is served over TLS: each Ingress rule's host is in the Ingress's ``tls`` hosts (outside
    prod, an Ingress may instead state why plain HTTP is right, e.g. TLS ends at the load balancer, in its
    ``ml-serving.dev/plain-http-reason`` annotation); no LoadBalancer or NodePort Service (plain TCP to the outside,
    no TLS termination here)."""
    if resource.kind == "Ingress":
        annotations = _get(resource.props, "metadata", "annotations") or {}
        if context.tier != "prod" and annotations.get(PLAIN_HTTP_ANNOTATION):
            return []
        tls_hosts = {h for t in _get(resource.props, "spec", "tls") or [] for h in (t.get("hosts") or [])}
        rules = _get(resource.props, "spec", "rules") or []
        problems = [
            f"host '{r.get('host') or '*'}' is exposed without TLS (not in spec.tls)"
            for r in rules
            if isinstance(r, Mapping) and (r.get("host") or "*") not in tls_hosts
        ]
        if not rules and _get(resource.props, "spec", "defaultBackend") and not tls_hosts:
            problems.append("the default backend is exposed without TLS")
        return problems
    if resource.kind == "Service":
        kind = _get(resource.props, "spec", "type")
        if kind in ("LoadBalancer", "NodePort"):
            return [f"Service type {kind} exposes the model outside the cluster without TLS (use an Ingress with tls)"]
    return []


def _credential_in(value: Any) -> str | None:
    if not _known(value) or value == SECRET_TEXT:
        return None
    for what, pattern in CREDENTIAL_PATTERNS.items():
        if pattern.search(value):
            return what
    return None


def _decoded(value: Any) -> Any:
    if not _known(value):
        return value
    try:
        return base64.b64decode(value, validate=True).decode("utf-8", errors="replace")
    except (binascii.Error, ValueError):
        return value


def plaintext_credentials(resource: Resource, context: Context) -> list[str]:
    """No credential in plain text: an env var with a credential's name and a literal value, or any env, Secret or
    ConfigMap value shaped like a real credential (keys, tokens, private keys). Mount Secrets or use secretKeyRef."""
    problems = []
    spec = pod_spec(resource)
    for c in containers(spec) if spec is not None else []:
        for env in c.get("env") or []:
            if not isinstance(env, Mapping) or "value" not in env:
                continue
            name, value = str(env.get("name", "")), env.get("value")
            what = _credential_in(value)
            if what:
                problems.append(f"{_name(c)}: env {name} holds {what} in plain text")
            elif (
                CREDENTIAL_NAME.search(name)
                and not CREDENTIAL_REFERENCE.search(name)
                and _known(value)
                and value not in ("", SECRET_TEXT)
            ):
                problems.append(f"{_name(c)}: env {name} has a literal value; use valueFrom.secretKeyRef")
    if resource.kind in ("Secret", "ConfigMap"):
        for field in ("data", "stringData", "binaryData"):
            values = resource.props.get(field)
            for key, value in values.items() if isinstance(values, Mapping) else ():
                what = _credential_in(_decoded(value) if field != "stringData" else value)
                if what:
                    problems.append(f"{field}.{key} holds {what}")
    return problems


def replicas_with_autoscaler(resources: list[Resource], context: Context) -> list[tuple[str, str]]:
    """A Deployment an autoscaler (HPA or KEDA ScaledObject) owns sets no ``spec.replicas``, unless the resource
    ignores changes to it (``ignoreChanges: [spec.replicas]``: the first count only, then the autoscaler's):
    otherwise under server-side apply every `pulumi up` resets it, fighting the autoscaler."""
    scaled: dict[tuple[str, str], str] = {}
    for r in resources:
        if r.kind in ("HorizontalPodAutoscaler", "ScaledObject"):
            target = _get(r.props, "spec", "scaleTargetRef") or {}
            if target.get("kind", "Deployment") == "Deployment" and _known(target.get("name")):
                namespace = _get(r.props, "metadata", "namespace") or ""
                scaled[(namespace, target["name"])] = f"{r.kind} {r.urn.rsplit('::', 1)[-1]}"
    out = []
    for r in resources:
        if (
            r.kind == "Deployment"
            and _get(r.props, "spec", "replicas") is not None
            and "spec.replicas" not in r.ignore_changes
        ):
            key = (_get(r.props, "metadata", "namespace") or "", _get(r.props, "metadata", "name") or "")
            if key in scaled:
                out.append(
                    (
                        r.urn,
                        f"sets spec.replicas although {scaled[key]} scales it; drop replicas or ignore changes to "
                        "spec.replicas",
                    )
                )
    return out


def prod_protected(resource: Resource, context: Context) -> list[str]:
    """In prod, Namespaces (deleting one deletes everything in it) and image registries are ``protect``ed."""
    if context.tier == "prod" and resource.type in PROTECTED_IN_PROD and not resource.protect:
        return [f"{resource.type} in prod stack '{context.stack}' is not protected (set protect=True)"]
    return []


# --- advisory rules ------------------------------------------------------------------------------------------------


def read_only_root(resource: Resource, context: Context) -> list[str]:
    """Containers run with a read-only root filesystem (writable paths as volumes)."""
    spec = pod_spec(resource)
    if spec is None:
        return []
    return [
        f"{_name(c)}: readOnlyRootFilesystem is not true"
        for c in containers(spec)
        if _get(c, "securityContext", "readOnlyRootFilesystem") is not True
    ]


def probes(resource: Resource, context: Context) -> list[str]:
    """Long-running containers have readiness and liveness probes (traffic only to ready pods, restarts of hung
    ones)."""
    if resource.kind not in ("Deployment", "StatefulSet", "DaemonSet"):
        return []
    spec = pod_spec(resource) or {}
    return [
        f"{_name(c)}: no {probe}"
        for c in containers(spec, init=False)
        for probe in ("readinessProbe", "livenessProbe")
        if not c.get(probe)
    ]


RULES: tuple[Rule, ...] = (
    Rule("pod-security-restricted", pod_security_restricted.__doc__ or "", True, pod_security_restricted),
    Rule("image-pinned", image_pinned.__doc__ or "", True, image_pinned),
    Rule("requests-and-limits", requests_and_limits.__doc__ or "", True, requests_and_limits),
    Rule("gpu-scheduling", gpu_scheduling.__doc__ or "", True, gpu_scheduling),
    Rule("public-exposure-tls", public_exposure_tls.__doc__ or "", True, public_exposure_tls),
    Rule("plaintext-credentials", plaintext_credentials.__doc__ or "", True, plaintext_credentials),
    Rule(
        "replicas-with-autoscaler", replicas_with_autoscaler.__doc__ or "", True, stack_check=replicas_with_autoscaler
    ),
    Rule("prod-protected", prod_protected.__doc__ or "", True, prod_protected),
    Rule("read-only-root-filesystem", read_only_root.__doc__ or "", False, read_only_root),
    Rule("probes", probes.__doc__ or "", False, probes),
)


def check_resource(rule: Rule, resource: Resource, context: Context) -> list[Violation]:
    assert rule.check is not None
    return [Violation(rule.name, resource.urn, m, rule.mandatory) for m in rule.check(resource, context)]


def check_stack(rule: Rule, resources: list[Resource], context: Context) -> list[Violation]:
    assert rule.stack_check is not None
    return [Violation(rule.name, urn, m, rule.mandatory) for urn, m in rule.stack_check(resources, context)]


def evaluate(resources: Iterable[Resource], context: Context, rules: Iterable[Rule] = RULES) -> list[Violation]:
    """Every rule over every resource, mandatory violations first, then by rule and URN."""
    resources = list(resources)
    found: list[Violation] = []
    for rule in rules:
        if rule.check is not None:
            for r in resources:
                found += check_resource(rule, r, context)
        if rule.stack_check is not None:
            found += check_stack(rule, resources, context)
    return sorted(found, key=lambda v: (not v.mandatory, v.rule, v.urn, v.message))


def stack_of(urn: str) -> str:
    """``urn:pulumi:<stack>::<project>::<type>::<name>`` -> ``<stack>``."""
    return urn.split("::", 1)[0].rsplit(":", 1)[-1]


def tier_of(stack: str, project_dir: Path) -> str:
    """The stack's policy tier from its committed ``Pulumi.<stack>.yaml`` (``ml-serving:environment.tier``); a stack
    without one is judged as prod, the strictest tier."""
    import yaml

    path = project_dir / f"Pulumi.{stack}.yaml"
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        return "prod"
    tier = _get(data, "config", "ml-serving:environment", "tier")
    return tier if tier in ("dev", "staging", "prod") else "prod"
