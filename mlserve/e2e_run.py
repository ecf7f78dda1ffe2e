"""`make e2e`: the real Pulumi engine against the local control plane (tools/e2e/cluster.sh), in order, stopping at
the first surprise.

1. ``up`` of the e2e stack with the default catalog: every Deployment available, each pod on a node of the right
   kind (GPU models on fake GPU nodes of their accelerator, CPU models on CPU nodes) placed by the real
   kube-scheduler, no Pod Security warning (the engine's diagnostics, and a server-side check of the namespace's
   running pods against ``restricted``), every custom resource accepted by its CRD (schemas and CEL rules).
2. ``preview --expect-no-changes``: empty; then ``refresh`` and the same preview again.
3. A catalog change (one model's maxReplicas, another model's image): the preview changes exactly the objects the
   offline render says change, ``up`` rolls only the model whose pods changed.
4. ``destroy``: no object of the stack is left; ``up`` again rebuilds the same objects.

The program runs as an inline Automation API program: the pulumi CLI (the engine, built from its Go module) connects
to the language host that the pinned Python SDK serves in this process (``--client``), the same protocol the
``pulumi-language-python`` plugin speaks. The Kubernetes provider plugin is the one tools/e2e/build.sh built.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .e2e_dry_run import Kubectl, install_crds
from .render import render

PROJECT_DIR = Path(__file__).resolve().parent.parent
STACK = "e2e"
MANAGED = "app.kubernetes.io/part-of=ml-serving"
#: Kinds the stack creates (the check that destroy leaves none of them labelled as ours).
KINDS = (
    "deployments,services,serviceaccounts,configmaps,networkpolicies,poddisruptionbudgets,"
    "horizontalpodautoscalers,ingresses,podmonitors,prometheusrules,scaledobjects"
)
CLUSTER_KINDS = "namespaces,nodepools,ec2nodeclasses"


class E2EError(Exception):
    """A step did not do what it must."""


@dataclass
class Harness:
    state: Path
    bin_dir: Path
    kubectl: Kubectl
    log: list[str] = field(default_factory=list)

    @property
    def kubeconfig(self) -> str:
        return str(self.state / "kubeconfig")

    def say(self, line: str) -> None:
        print(line, flush=True)
        self.log.append(line)

    def env(self) -> dict[str, str]:
        return {
            "KUBECONFIG": self.kubeconfig,
            "PULUMI_BACKEND_URL": f"file://{self.state / 'pulumi-state'}",
            "PULUMI_CONFIG_PASSPHRASE": self.passphrase,
            "PULUMI_SKIP_UPDATE_CHECK": "true",
            "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
            "PULUMI_HOME": str(self.state / "pulumi-home"),
            # The provider plugin is found on PATH (an "ambient" plugin), never downloaded.
            "PATH": f"{self.bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        }

    passphrase: str = field(default_factory=lambda: secrets.token_urlsafe(24))


def program():
    from stacks import program as stack_program

    stack_program.main()


def workspace_dir(h: Harness) -> Path:
    """A scratch copy of the project files the CLI reads (Pulumi.yaml, Pulumi.e2e.yaml): `stack init` writes the
    stack's encryption salt into its config file, and the committed one stays untouched."""
    work = h.state / "project"
    work.mkdir(parents=True, exist_ok=True)
    for name in ("Pulumi.yaml", f"Pulumi.{STACK}.yaml"):
        shutil.copy(PROJECT_DIR / name, work / name)
    return work


def open_stack(h: Harness):
    from pulumi import automation as auto

    os.environ.update(h.env())  # the in-process language host and its program see the same environment
    opts = auto.LocalWorkspaceOptions(
        work_dir=str(workspace_dir(h)),
        pulumi_home=str(h.state / "pulumi-home"),
        env_vars=h.env(),
        secrets_provider="passphrase",
        pulumi_command=auto.PulumiCommand(root=str(h.bin_dir.parent)),
    )
    return auto.create_or_select_stack(stack_name=STACK, project_name="ml-serving", program=program, opts=opts)


class Diagnostics:
    """Engine events of one operation: warnings and errors, and per-resource steps."""

    def __init__(self) -> None:
        self.warnings: list[str] = []
        self.steps: list[tuple[str, str, str]] = []  # (op, type, urn)

    def __call__(self, event) -> None:
        diag = getattr(event, "diagnostic_event", None)
        if diag is not None and diag.severity in ("warning", "error"):
            self.warnings.append(f"{diag.severity}: {diag.message.strip()}")
        pre = getattr(event, "resource_pre_event", None)
        if pre is not None:
            md = pre.metadata
            op = str(md.op.value if hasattr(md.op, "value") else md.op)
            self.steps.append((op, md.type, object_id(md.type, md.new or md.old) or md.urn))

    def changes(self) -> list[tuple[str, str, str]]:
        """(op, type, object) of every step that changes something."""
        return sorted(s for s in self.steps if s[0] not in ("same", "read"))

    def pod_security(self) -> list[str]:
        return [w for w in self.warnings if "PodSecurity" in w]


def timed(h: Harness, what: str, fn, *args, **kwargs):
    started = time.perf_counter()
    result = fn(*args, **kwargs)
    seconds = time.perf_counter() - started
    return result, seconds


def kube_json(h: Harness, *args: str) -> Any:
    return json.loads(h.kubectl.run(*args, "-o", "json").stdout)


def objects(h: Harness, namespace: str) -> list[str]:
    """Every object of the stack in the cluster, as kind/namespace/name (labelled part-of ml-serving)."""
    found = []
    for item in kube_json(h, "get", KINDS, "-A", "-l", MANAGED)["items"]:
        found.append(f"{item['kind']}/{item['metadata'].get('namespace', '')}/{item['metadata']['name']}")
    for item in kube_json(h, "get", CLUSTER_KINDS, "-l", MANAGED)["items"]:
        found.append(f"{item['kind']}//{item['metadata']['name']}")
    return sorted(found)


def check_deployments(h: Harness, namespace: str) -> dict[str, Any]:
    """Every Deployment available, every pod Ready on a node of the right kind."""
    nodes = {n["metadata"]["name"]: n for n in kube_json(h, "get", "nodes")["items"]}
    deployments = kube_json(h, "get", "deployments", "-n", namespace)["items"]
    pods = kube_json(h, "get", "pods", "-n", namespace)["items"]
    placed: dict[str, list[str]] = {}
    for d in deployments:
        name = d["metadata"]["name"]
        want, ready = d["spec"].get("replicas", 1), d["status"].get("availableReplicas", 0)
        if ready < want:
            raise E2EError(f"Deployment {namespace}/{name}: {ready}/{want} available")
        selector = d["spec"]["template"]["spec"].get("nodeSelector", {})
        for pod in pods:
            if pod["metadata"].get("labels", {}).get("app.kubernetes.io/name") != name:
                continue
            node = nodes.get(pod["spec"].get("nodeName", ""))
            if node is None:
                raise E2EError(f"pod {pod['metadata']['name']} is not scheduled")
            labels = node["metadata"]["labels"]
            gpu_node = "nvidia.com/gpu" in node["status"].get("capacity", {})
            wants_gpu = any(
                "nvidia.com/gpu" in c.get("resources", {}).get("limits", {}) for c in pod["spec"]["containers"]
            )
            if gpu_node != wants_gpu or any(labels.get(k) != v for k, v in selector.items()):
                raise E2EError(f"pod {pod['metadata']['name']} landed on {node['metadata']['name']} ({labels})")
            placed.setdefault(name, []).append(node["metadata"]["name"])
    return {"deployments": len(deployments), "placed": placed}


def pod_security_check(h: Harness, namespace: str) -> list[str]:
    """Server-side: would the running pods pass ``restricted``? (the API server evaluates them on a dry-run label)."""
    proc = h.kubectl.run(
        "label",
        "--dry-run=server",
        "--overwrite",
        "namespace",
        namespace,
        "pod-security.kubernetes.io/enforce=restricted",
    )
    return [line for line in proc.stderr.splitlines() if line.startswith("Warning")]


def changed_catalog(h: Harness) -> tuple[Path, str, str]:
    """The default catalog with one model's maxReplicas raised and another model's image changed."""
    catalog = yaml.safe_load((PROJECT_DIR / "models.yaml").read_text(encoding="utf-8"))
    models = catalog["models"]
    scaled, reimaged = "review-sentiment", "resnet50"
    models[scaled]["scaling"]["maxReplicas"] += 1
    models[reimaged]["image"] = {"ref": "tensorflow/serving:2.15.0"}
    path = h.state / "models-changed.yaml"
    path.write_text(yaml.safe_dump(catalog, sort_keys=False), encoding="utf-8")
    return path, scaled, reimaged


def render_diff(h: Harness, catalog: Path) -> list[str]:
    """Objects whose rendered manifest differs between the default and the changed catalog (kind/namespace/name)."""
    before, after = h.state / "render-before", h.state / "render-after"
    render(PROJECT_DIR, STACK, before)
    render(PROJECT_DIR, STACK, after, str(catalog))
    names = {p.name for p in (before / "manifests").glob("*.yaml")} | {
        p.name for p in (after / "manifests").glob("*.yaml")
    }
    changed = []
    for name in sorted(names):
        a, b = before / "manifests" / name, after / "manifests" / name
        if not (a.exists() and b.exists()) or a.read_text() != b.read_text():
            changed.append(name)
    return changed


def replica_sets(h: Harness, namespace: str) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for rs in kube_json(h, "get", "replicasets", "-n", namespace)["items"]:
        owner = rs["metadata"].get("ownerReferences", [{}])[0].get("name", "")
        found.setdefault(owner, set()).add(rs["metadata"]["name"])
    return found


def run(h: Harness, namespace: str) -> dict[str, Any]:
    summary: dict[str, Any] = {}
    install_crds(h.kubectl)
    # The cluster's own monitoring namespace (the e2e stack uses `monitoring.install: false`): the harness's.
    if h.kubectl.run("get", "namespace", "monitoring", check=False).returncode != 0:
        h.kubectl.run("create", "namespace", "monitoring")
    stack = open_stack(h)

    diag = Diagnostics()
    up, secs = timed(h, "up", stack.up, on_event=diag, color="never")
    summary["up_seconds"] = round(secs, 1)
    summary["resources"] = sum(up.summary.resource_changes.values())
    h.say(f"up: succeeded, {summary['resources']} resources ({dict(up.summary.resource_changes)}) in {secs:.1f}s")
    if diag.pod_security():
        raise E2EError("Pod Security warnings during up:\n  " + "\n  ".join(diag.pod_security()))
    placement = check_deployments(h, namespace)
    h.say(f"up: {placement['deployments']} Deployments available; pods by node: {placement['placed']}")
    psa = pod_security_check(h, namespace)
    if psa:
        raise E2EError("running pods would violate Pod Security 'restricted':\n  " + "\n  ".join(psa))
    first_objects = objects(h, namespace)
    crs = [
        o
        for o in first_objects
        if o.split("/")[0] in ("PodMonitor", "PrometheusRule", "ScaledObject", "NodePool", "EC2NodeClass")
    ]
    h.say(
        f"up: 0 Pod Security warnings; {len(first_objects)} objects in the cluster, {len(crs)} custom resources "
        "accepted by their CRDs"
    )

    for label, before in (("after up", None), ("after refresh", "refresh")):
        if before == "refresh":
            refreshed = stack.refresh(color="never")
            h.say(f"refresh: {dict(refreshed.summary.resource_changes)}")
        d = Diagnostics()
        preview = stack.preview(expect_no_changes=True, on_event=d, color="never")
        changes = {k: v for k, v in preview.change_summary.items() if k != "same"}
        if changes or d.changes():
            raise E2EError(f"preview {label} is not empty: {changes} {d.changes()}")
        h.say(f"preview {label}: no changes ({preview.change_summary.get('same', 0)} unchanged)")
    summary["preview_empty"] = True

    catalog, scaled, reimaged = changed_catalog(h)
    expected = render_diff(h, catalog)
    rs_before = replica_sets(h, namespace)
    stack.set_config("ml-serving:catalog", _config_value(str(catalog.relative_to(PROJECT_DIR))))
    d = Diagnostics()
    stack.preview(on_event=d, color="never")
    previewed = d.changes()
    got = sorted({obj for _, _, obj in previewed})
    want = sorted(expected)
    if got != want or any(op != "update" for op, _, _ in previewed):
        raise E2EError(f"catalog change previewed as {previewed}; the render says {want}")
    h.say(f"catalog change ({scaled} maxReplicas+1, {reimaged} image): preview updates exactly {got}")
    stack.up(color="never")
    rs_after = replica_sets(h, namespace)
    rolled = sorted(d for d in rs_after if rs_after[d] != rs_before.get(d))
    if rolled != [reimaged]:
        raise E2EError(f"up rolled {rolled}; only {reimaged} should roll")
    h.say(f"catalog change: up rolled only {rolled}")
    stack.remove_config("ml-serving:catalog")
    stack.up(color="never")

    stack.destroy(color="never")
    left = objects(h, namespace)
    if left:
        raise E2EError(f"destroy left {len(left)} objects: {left}")
    h.say("destroy: 0 objects of the stack left in the cluster")
    up2, secs2 = timed(h, "up", stack.up, color="never")
    rebuilt = objects(h, namespace)
    check_deployments(h, namespace)
    if rebuilt != first_objects:
        raise E2EError(
            f"rebuild differs: missing {set(first_objects) - set(rebuilt)}, extra {set(rebuilt) - set(first_objects)}"
        )
    h.say(f"rebuild: up recreated the same {len(rebuilt)} objects in {secs2:.1f}s")
    return summary


def _config_value(value: str):
    from pulumi import automation as auto

    return auto.ConfigValue(value=value)


def object_id(type_token: str, state) -> str | None:
    """A Kubernetes resource step's object as the render names its manifest file: <namespace>--<kind>--<name>.yaml
    (``_cluster`` for cluster-scoped objects); None for other resources (components, providers)."""
    if not type_token.startswith("kubernetes:") or type_token.startswith("kubernetes:providers") or state is None:
        return None
    metadata = (state.inputs or {}).get("metadata") or {}
    kind = type_token.split(":")[-1].lower()
    return f"{metadata.get('namespace') or '_cluster'}--{kind}--{metadata.get('name')}.yaml"
