"""`make e2e`: the real Pulumi engine against the local control plane (tools/e2e/cluster.sh), in order, stopping at
the first surprise.

1. ``up`` of the e2e stack (Pulumi.e2e.yaml) with the default catalog: every Deployment available (the provider's
   await logic, then checked here), each pod placed by the real kube-scheduler on a node of the right kind (GPU models
   on the fake GPU nodes of their pool, CPU models on CPU nodes), no Pod Security warning from the API server, every
   custom resource accepted by its CRD (schemas and CEL rules: a rejected one fails the ``up``).
2. ``preview --expect-no-changes``: empty; then ``refresh`` and the same preview again.
3. A catalog change (one model's maxReplicas, another model's image): the preview updates exactly the objects whose
   offline render changes, ``up`` rolls only the model whose pods changed, and the preview after it is empty again.
4. ``destroy``: no object the stack created is left in the cluster; ``up`` again rebuilds the same objects with the
   same inputs (the disaster-recovery rebuild); a final ``destroy`` leaves the cluster as it was.

The program runs as an inline Automation API program: the pulumi CLI built by tools/e2e/build.sh (the engine)
connects to the language host the pinned Python SDK serves in this process (``--client``), the protocol the
``pulumi-language-python`` plugin speaks (that plugin's Go module is not served by the module proxy, docs/e2e.md).
The Kubernetes provider plugin is the one tools/e2e/build.sh built, found on PATH; nothing is downloaded. State: a
file backend under the state directory, secrets under a passphrase generated per run.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .e2e_dry_run import FIELD_MANAGER, Kubectl, install_crds
from .render import render

PROJECT_DIR = Path(__file__).resolve().parent.parent
STACK = "e2e"
PROJECT = "ml-serving"
#: The catalog change of step 3: (model whose maxReplicas is raised, model whose image changes, its new image).
SCALED_MODEL = "review-sentiment"
REIMAGED_MODEL = "resnet50"
NEW_IMAGE = "tensorflow/serving:2.14.0"
#: Kinds whose objects are custom resources (created only if their CRD accepts them).
CUSTOM_KINDS = ("PodMonitor", "PrometheusRule", "ScaledObject", "NodePool", "EC2NodeClass")
GPU = "nvidia.com/gpu"


class E2EError(Exception):
    """A step did not do what it must."""


@dataclass
class Harness:
    state: Path
    bin_dir: Path
    kubectl: Kubectl
    passphrase: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    quiet: bool = False

    @property
    def kubeconfig(self) -> Path:
        return self.state / "kubeconfig"

    def say(self, line: str) -> None:
        if not self.quiet:
            print(line, flush=True)

    def env(self) -> dict[str, str]:
        return {
            "KUBECONFIG": str(self.kubeconfig),
            "PULUMI_BACKEND_URL": f"file://{self.state / 'pulumi-state'}",
            "PULUMI_CONFIG_PASSPHRASE": self.passphrase,
            "PULUMI_SKIP_UPDATE_CHECK": "true",
            "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
            "PULUMI_HOME": str(self.state / "pulumi-home"),
            # The provider plugin is found on PATH (an "ambient" plugin), never downloaded.
            "PATH": f"{self.bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        }


def program() -> None:
    from stacks import program as stack_program

    stack_program.main()


def workspace_dir(h: Harness) -> Path:
    """A scratch copy of the project files the CLI reads (Pulumi.yaml, Pulumi.e2e.yaml): `stack init` writes the
    stack's encryption salt into its config file, and the committed one stays untouched. The program itself reads
    the catalog and the project's files from the checkout."""
    work = h.state / "project"
    work.mkdir(parents=True, exist_ok=True)
    for name in ("Pulumi.yaml", f"Pulumi.{STACK}.yaml"):
        shutil.copy(PROJECT_DIR / name, work / name)
    return work


def open_stack(h: Harness):
    from pulumi import automation as auto

    (h.state / "pulumi-state").mkdir(parents=True, exist_ok=True)
    os.environ.update(h.env())  # the in-process language host and its program see the same environment
    opts = auto.LocalWorkspaceOptions(
        work_dir=str(workspace_dir(h)),
        pulumi_home=str(h.state / "pulumi-home"),
        env_vars=h.env(),
        secrets_provider="passphrase",
        pulumi_command=auto.PulumiCommand(root=str(h.bin_dir.parent)),
    )
    return auto.create_or_select_stack(stack_name=STACK, project_name=PROJECT, program=program, opts=opts)


class Events:
    """Engine events of one operation: warnings and errors, and the step of every resource."""

    def __init__(self) -> None:
        self.warnings: list[str] = []
        self.steps: list[tuple[str, str, str]] = []  # (op, type, object or urn)

    def __call__(self, event) -> None:
        diag = getattr(event, "diagnostic_event", None)
        if diag is not None and diag.severity in ("warning", "error"):
            self.warnings.append(f"{diag.severity}: {diag.message.strip()}")
        pre = getattr(event, "resource_pre_event", None)
        if pre is not None:
            md = pre.metadata
            op = str(getattr(md.op, "value", md.op))
            state = md.new if md.new is not None else md.old
            self.steps.append((op, md.type, object_file(md.type, state.inputs if state else None) or md.urn))

    def changes(self) -> list[tuple[str, str, str]]:
        """(op, type, object) of every step that changes something."""
        return sorted(s for s in self.steps if s[0] not in ("same", "read", "refresh"))

    def pod_security(self) -> list[str]:
        return [w for w in self.warnings if "podsecurity" in w.lower() or "would violate" in w.lower()]


def object_file(type_token: str, inputs: dict[str, Any] | None) -> str | None:
    """A Kubernetes object as the render names its manifest file: ``<namespace>--<kind>--<name>.yaml``
    (``_cluster`` for cluster-scoped objects); None for anything else (components, providers)."""
    if not type_token.startswith("kubernetes:") or type_token.startswith("kubernetes:providers") or not inputs:
        return None
    metadata = inputs.get("metadata") or {}
    kind = type_token.split(":")[-1].lower()
    return f"{metadata.get('namespace') or '_cluster'}--{kind}--{metadata.get('name')}.yaml"


def timed(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[Any, float]:
    started = time.perf_counter()
    result = fn(*args, **kwargs)
    return result, time.perf_counter() - started


def kube_json(h: Harness, *args: str) -> Any:
    return json.loads(h.kubectl.run(*args, "-o", "json").stdout)


@dataclass(frozen=True)
class StackObject:
    api_version: str
    kind: str
    namespace: str
    name: str

    def manifest(self) -> dict[str, Any]:
        metadata = {"name": self.name, **({"namespace": self.namespace} if self.namespace else {})}
        return {"apiVersion": self.api_version, "kind": self.kind, "metadata": metadata}

    def __str__(self) -> str:
        return f"{self.kind}/{self.namespace + '/' if self.namespace else ''}{self.name}"


def stack_objects(stack) -> dict[StackObject, Any]:
    """Every Kubernetes object the stack created (from its state), with the inputs it was created from. Reads of
    existing objects (``get``: the CRDs the program checks for) are not the stack's and are left out."""
    deployment = stack.export_stack().deployment or {}
    found: dict[StackObject, Any] = {}
    for res in deployment.get("resources", []):
        token = res.get("type", "")
        if res.get("external") or not token.startswith("kubernetes:") or token.startswith("kubernetes:providers"):
            continue
        outputs = res.get("outputs", {})
        metadata = outputs.get("metadata", {})
        obj = StackObject(outputs["apiVersion"], outputs["kind"], metadata.get("namespace", ""), metadata["name"])
        found[obj] = res.get("inputs", {})
    return found


def present(h: Harness, objects) -> list[str]:
    """Which of ``objects`` exist in the cluster (one ``kubectl get -f`` of their references)."""
    if not objects:
        return []
    refs = h.state / "objects.yaml"
    refs.write_text(yaml.safe_dump_all([o.manifest() for o in sorted(objects, key=str)]), encoding="utf-8")
    out = h.kubectl.run("get", "-f", str(refs), "--ignore-not-found", "-o", "name").stdout
    return sorted(line for line in out.splitlines() if line.strip())


def check_deployments(h: Harness, namespace: str) -> dict[str, list[str]]:
    """Every Deployment available; every pod Ready, on a GPU node exactly when it requests GPUs, on a node matching
    its selector. Returns the nodes each Deployment's pods run on."""
    nodes = {n["metadata"]["name"]: n for n in kube_json(h, "get", "nodes")["items"]}
    pods = kube_json(h, "get", "pods", "-n", namespace)["items"]
    placed: dict[str, list[str]] = {}
    for d in kube_json(h, "get", "deployments", "-n", namespace)["items"]:
        name = d["metadata"]["name"]
        want, available = d["spec"].get("replicas", 1), d["status"].get("availableReplicas", 0)
        if available < want:
            raise E2EError(f"Deployment {namespace}/{name}: {available}/{want} replicas available")
        selector = d["spec"]["selector"].get("matchLabels", {})
        mine = [p for p in pods if all(p["metadata"].get("labels", {}).get(k) == v for k, v in selector.items())]
        for pod in mine:
            pod_name = pod["metadata"]["name"]
            if pod["metadata"].get("deletionTimestamp"):
                continue
            node = nodes.get(pod["spec"].get("nodeName", ""))
            if node is None:
                raise E2EError(f"pod {namespace}/{pod_name} is not scheduled: {pod.get('status', {})}")
            labels = node["metadata"].get("labels", {})
            gpu_node = GPU in node["status"].get("capacity", {})
            wants_gpu = any(GPU in (c.get("resources") or {}).get("limits", {}) for c in pod["spec"]["containers"])
            wrong_labels = {k: v for k, v in pod["spec"].get("nodeSelector", {}).items() if labels.get(k) != v}
            if gpu_node != wants_gpu or wrong_labels:
                raise E2EError(
                    f"pod {namespace}/{pod_name} ({'GPU' if wants_gpu else 'CPU'}) runs on node "
                    f"{node['metadata']['name']} ({'GPU' if gpu_node else 'CPU'}; selector mismatch {wrong_labels})"
                )
            placed.setdefault(name, []).append(node["metadata"]["name"])
        if len(placed.get(name, [])) < want:
            raise E2EError(f"Deployment {namespace}/{name}: {len(placed.get(name, []))}/{want} pods found running")
    return {name: sorted(set(n)) for name, n in sorted(placed.items())}


def changed_catalog(h: Harness) -> Path:
    """The default catalog with SCALED_MODEL's maxReplicas raised by one and REIMAGED_MODEL's image changed."""
    catalog = yaml.safe_load((PROJECT_DIR / "models.yaml").read_text(encoding="utf-8"))
    models = catalog["models"]
    models[SCALED_MODEL]["scaling"]["maxReplicas"] += 1
    models[REIMAGED_MODEL]["image"] = {"ref": NEW_IMAGE}
    path = h.state / "models-changed.yaml"
    path.write_text(yaml.safe_dump(catalog, sort_keys=False), encoding="utf-8")
    return path


def render_diff(h: Harness, catalog: Path) -> list[str]:
    """Manifest files whose offline render differs between the default and the changed catalog."""
    before, after = h.state / "render-default", h.state / "render-changed"
    render(PROJECT_DIR, STACK, before, progress=False)
    render(PROJECT_DIR, STACK, after, str(catalog), progress=False)
    names = {p.name for p in (before / "manifests").glob("*.yaml")} | {
        p.name for p in (after / "manifests").glob("*.yaml")
    }
    return sorted(
        n
        for n in names
        if not ((before / "manifests" / n).exists() and (after / "manifests" / n).exists())
        or (before / "manifests" / n).read_bytes() != (after / "manifests" / n).read_bytes()
    )


def replica_sets(h: Harness, namespace: str) -> dict[str, set[str]]:
    """ReplicaSets per owning Deployment."""
    found: dict[str, set[str]] = {}
    for rs in kube_json(h, "get", "replicasets", "-n", namespace)["items"]:
        owners = rs["metadata"].get("ownerReferences") or [{}]
        found.setdefault(owners[0].get("name", ""), set()).add(rs["metadata"]["name"])
    return found


def expect_empty_preview(h: Harness, stack, label: str) -> int:
    events = Events()
    preview = stack.preview(expect_no_changes=True, on_event=events, color="never")
    changes = {k: v for k, v in preview.change_summary.items() if k != "same"}
    if changes or events.changes():
        raise E2EError(f"preview {label} is not empty: {changes} {events.changes()}")
    same = preview.change_summary.get("same", 0)
    h.say(f"preview {label}: no changes ({same} resources unchanged)")
    return same


def prepare_cluster(h: Harness, monitoring_namespace: str) -> None:
    """What the e2e stack expects of its cluster (Pulumi.e2e.yaml): the operator's and KEDA's CRDs and the
    monitoring namespace a cluster's own monitoring stack would have. Owned by the harness, not by the stack."""
    install_crds(h.kubectl)
    if h.kubectl.run("get", "namespace", monitoring_namespace, check=False).returncode != 0:
        h.kubectl.run("create", "namespace", monitoring_namespace, f"--field-manager={FIELD_MANAGER}")


def run(h: Harness) -> dict[str, Any]:
    from .render import validate

    env = validate(PROJECT_DIR, STACK)
    namespace = env.settings.environment.namespace
    prepare_cluster(h, env.settings.monitoring.namespace or "monitoring")
    stack = open_stack(h)
    summary: dict[str, Any] = {}

    # 1. up
    events = Events()
    up, seconds = timed(stack.up, on_event=events, color="never")
    summary["up_seconds"] = round(seconds, 1)
    summary["resources"] = sum(up.summary.resource_changes.values())
    h.say(f"up: succeeded, {summary['resources']} resources {dict(up.summary.resource_changes)} in {seconds:.1f}s")
    if events.pod_security():
        raise E2EError("Pod Security warnings during up:\n  " + "\n  ".join(events.pod_security()))
    created = stack_objects(stack)
    found = present(h, created)
    if len(found) != len(created):
        raise E2EError(f"{len(created) - len(found)} objects of the stack's state are missing from the cluster")
    placement = check_deployments(h, namespace)
    custom = sorted(str(o) for o in created if o.kind in CUSTOM_KINDS)
    h.say(f"up: {len(placement)} Deployments available, pods by node: {placement}")
    h.say(
        f"up: {len(created)} objects in the cluster, {len(custom)} custom resources accepted by their CRDs, "
        f"0 Pod Security warnings ({len(events.warnings)} other warnings)"
    )
    for warning in events.warnings:
        h.say(f"  {warning}")

    # 2. an empty preview, before and after refresh
    expect_empty_preview(h, stack, "after up")
    refreshed = stack.refresh(color="never")
    h.say(f"refresh: {dict(refreshed.summary.resource_changes)}")
    expect_empty_preview(h, stack, "after refresh")

    # 3. a catalog change previews as exactly that change and rolls only the model whose pods changed
    from pulumi import automation as auto

    catalog = changed_catalog(h)
    expected = render_diff(h, catalog)
    before_rs = replica_sets(h, namespace)
    stack.set_config(f"{PROJECT}:catalog", auto.ConfigValue(value=str(catalog.relative_to(PROJECT_DIR))))
    events = Events()
    stack.preview(on_event=events, color="never")
    previewed = events.changes()
    got = sorted({obj for _, _, obj in previewed})
    if got != expected or any(op != "update" for op, _, _ in previewed):
        raise E2EError(f"the catalog change previewed as {previewed}; the offline render changes {expected}")
    h.say(
        f"catalog change ({SCALED_MODEL} maxReplicas +1, {REIMAGED_MODEL} image {NEW_IMAGE}): preview updates "
        f"exactly the {len(got)} objects the render changes: {got}"
    )
    stack.up(color="never")
    after_rs = replica_sets(h, namespace)
    rolled = sorted(d for d in after_rs if after_rs[d] != before_rs.get(d))
    if rolled != [REIMAGED_MODEL]:
        raise E2EError(f"up rolled {rolled}; only {REIMAGED_MODEL} should roll")
    check_deployments(h, namespace)
    h.say(f"catalog change: up rolled only {rolled}")
    expect_empty_preview(h, stack, "after the change")
    stack.remove_config(f"{PROJECT}:catalog")
    stack.up(color="never")

    # 4. destroy leaves nothing; up rebuilds the same objects
    stack.destroy(color="never")
    left = present(h, created)
    if left:
        raise E2EError(f"destroy left {len(left)} objects of the stack: {left}")
    h.say(f"destroy: 0 of the stack's {len(created)} objects left in the cluster")
    _, seconds = timed(stack.up, color="never")
    rebuilt = stack_objects(stack)
    if set(rebuilt) != set(created):
        missing, extra = sorted(map(str, set(created) - set(rebuilt))), sorted(map(str, set(rebuilt) - set(created)))
        raise E2EError(f"the rebuild differs: missing {missing}, extra {extra}")
    differing = sorted(str(o) for o in created if rebuilt[o] != created[o])
    if differing:
        raise E2EError(f"the rebuild created objects from other inputs: {differing}")
    check_deployments(h, namespace)
    h.say(f"rebuild: up recreated the same {len(rebuilt)} objects from the same inputs in {seconds:.1f}s")
    expect_empty_preview(h, stack, "after the rebuild")
    stack.destroy(color="never")
    left = present(h, rebuilt)
    if left:
        raise E2EError(f"the final destroy left {len(left)} objects: {left}")
    stack.workspace.remove_stack(STACK)
    h.say("final destroy: 0 objects left; stack removed")
    return summary
