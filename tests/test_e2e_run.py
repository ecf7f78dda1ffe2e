"""The e2e harness's offline parts (the run itself needs the control plane and the built engine: `make e2e`)."""

from __future__ import annotations

from types import SimpleNamespace

from mlserve.__main__ import main
from mlserve.e2e_run import (
    NEW_IMAGE,
    REIMAGED_MODEL,
    SCALED_MODEL,
    STACK,
    Events,
    Harness,
    StackObject,
    changed_catalog,
    object_file,
    render_diff,
)
from mlserve.render import validate
from tests.helpers import ROOT


def test_a_kubernetes_step_names_the_manifest_file_the_render_writes():
    assert object_file("kubernetes:apps/v1:Deployment", {"metadata": {"name": "m", "namespace": "ns"}}) == (
        "ns--deployment--m.yaml"
    )
    assert object_file("kubernetes:karpenter.sh/v1:NodePool", {"metadata": {"name": "p"}}) == (
        "_cluster--nodepool--p.yaml"
    )
    assert object_file("kubernetes:providers:Provider", {"metadata": {"name": "x"}}) is None
    assert object_file("ml-serving:models:ModelService", {"metadata": {"name": "x"}}) is None


def _pre(op: str, token: str, name: str) -> SimpleNamespace:
    state = SimpleNamespace(inputs={"metadata": {"name": name, "namespace": "ns"}})
    metadata = SimpleNamespace(op=op, type=token, urn=f"urn:{name}", new=state, old=None)
    return SimpleNamespace(resource_pre_event=SimpleNamespace(metadata=metadata), diagnostic_event=None)


def test_events_keep_changes_and_pod_security_warnings_apart():
    events = Events()
    events(_pre("same", "kubernetes:core/v1:Service", "a"))
    events(_pre("update", "kubernetes:apps/v1:Deployment", "b"))
    warning = 'would violate PodSecurity "restricted:latest": allowPrivilegeEscalation != false'
    for severity, message in (("warning", warning), ("info", "noise"), ("warning", "deprecated API")):
        events(SimpleNamespace(diagnostic_event=SimpleNamespace(severity=severity, message=message)))
    assert events.changes() == [("update", "kubernetes:apps/v1:Deployment", "ns--deployment--b.yaml")]
    assert events.pod_security() == [f"warning: {warning}"]
    assert len(events.warnings) == 2


def test_a_stack_object_is_referenced_for_kubectl_get_by_kind_and_name():
    namespaced = StackObject("apps/v1", "Deployment", "ns", "m")
    cluster = StackObject("karpenter.sh/v1", "NodePool", "", "p")
    assert namespaced.manifest() == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "m", "namespace": "ns"},
    }
    assert cluster.manifest() == {"apiVersion": "karpenter.sh/v1", "kind": "NodePool", "metadata": {"name": "p"}}
    assert str(namespaced) == "Deployment/ns/m" and str(cluster) == "NodePool/p"


def test_the_e2e_stack_is_valid_and_builds_no_image():
    env = validate(ROOT, STACK)
    assert env.settings.cluster.context == "e2e"
    assert env.settings.monitoring.mode == "existing"
    assert all(spec.image is None or spec.image.build is None for spec in env.models.values())


def test_the_catalog_change_touches_exactly_the_two_models(tmp_path):
    h = Harness(tmp_path, tmp_path, kubectl=None)  # type: ignore[arg-type]
    catalog = changed_catalog(h)
    changed = render_diff(h, catalog)
    assert f"ml-e2e--deployment--{REIMAGED_MODEL}.yaml" in changed
    assert f"ml-e2e--scaledobject--{SCALED_MODEL}.yaml" in changed
    # Every object of the re-imaged model carries its version label; of the scaled one, only what reads maxReplicas.
    assert all(REIMAGED_MODEL in name or SCALED_MODEL in name for name in changed), changed
    assert not any("--deployment--" + SCALED_MODEL in n for n in changed)  # a new maximum rolls no pod
    assert (
        NEW_IMAGE
        in (tmp_path / "render-changed" / "manifests" / f"ml-e2e--deployment--{REIMAGED_MODEL}.yaml").read_text()
    )


def test_the_command_needs_the_built_tools_and_a_running_control_plane(tmp_path, capsys):
    state = str(ROOT / "build" / "e2e-test-no-cluster")  # never created
    assert main(["e2e", "--bin", str(tmp_path), "--state", state]) == 3
    assert "lacks pulumi, pulumi-resource-kubernetes, kubectl" in capsys.readouterr().err
    for tool in ("pulumi", "pulumi-resource-kubernetes", "kubectl"):
        (tmp_path / tool).write_text("")
    assert main(["e2e", "--bin", str(tmp_path), "--state", state]) == 3
    assert "run `make cluster-up` first" in capsys.readouterr().err
    assert main(["e2e", "--bin", str(tmp_path), "--state", str(tmp_path)]) == 2
    assert "must be inside the project" in capsys.readouterr().err
    assert not (ROOT / "build" / "e2e-test-no-cluster").exists()
