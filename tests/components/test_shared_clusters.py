"""Shared clusters: monitoring.mode existing creates only per-model objects; two managed stacks in one cluster own
no cluster-scoped object in common and only one of them installs what a cluster can have once."""

from __future__ import annotations

import shutil

import pytest
import yaml

from mlserve.__main__ import EXIT_INVALID, main
from model_catalog.errors import ConfigurationError
from model_catalog.settings import parse_settings
from tests.helpers import BASE_SETTINGS, ROOT, engine_config, render_objects, run_catalog

CATALOG = """\
version: 1
models:
  web:
    runtime: tensorflow-serving
    weights: {uri: "s3://bucket/model/", sizeGiB: 1}
    resources: {cpu: "1", memory: 2Gi}
    scaling: {minReplicas: 1, maxReplicas: 4, metric: cpu}
  chat:
    runtime: torchserve
    weights: {uri: "s3://bucket/chat/", sizeGiB: 1}
    resources: {cpu: "1", memory: 2Gi}
    scaling: {minReplicas: 1, maxReplicas: 4, metric: requests-per-second, target: 10}
"""
EXISTING_URL = "http://kps-prometheus.observability.svc.cluster.local:9090"
EXISTING = {
    "enabled": True,
    "mode": "existing",
    "namespace": "observability",
    "existing": {"prometheusUrl": EXISTING_URL, "selectorLabels": {"release": "kps"}},
}
CHART = "kubernetes:helm.sh/v4:Chart"


def cluster_scoped(run) -> set[tuple[str, str]]:
    return {key for key, obj in render_objects(run).items() if "namespace" not in obj["metadata"]}


def charts(run) -> dict[str, dict]:
    return {r.inputs["name"]: r.inputs for r in run.registrations if r.type == CHART}


def stack(tmp_path, namespace, monitoring):
    (tmp_path / namespace).mkdir()
    return run_catalog(
        tmp_path / namespace, CATALOG, environment={"tier": "dev", "namespace": namespace}, monitoring=monitoring
    )


def test_existing_monitoring_renders_only_per_model_objects_and_no_chart(tmp_path):
    run = stack(tmp_path, "ml-a", EXISTING)
    assert charts(run) == {}
    # the only cluster-scoped object is the models' own namespace; nothing of the monitoring is cluster-scoped
    assert cluster_scoped(run) == {("Namespace", "ml-a")}
    objects = render_objects(run)
    kinds = {kind for kind, _ in objects}
    assert {"PodMonitor", "PrometheusRule", "ScaledObject"} <= kinds
    assert not [r for r in run.registrations if r.type.startswith("random:")]  # no Grafana password either
    for name in ("web", "chat"):
        assert objects[("PodMonitor", name)]["metadata"]["labels"]["release"] == "kps"
        assert objects[("PrometheusRule", name)]["metadata"]["labels"]["release"] == "kps"
        dashboard = objects[("ConfigMap", f"ml-a-dashboard-{name}")]
        assert dashboard["metadata"]["namespace"] == "observability"
    (trigger,) = objects[("ScaledObject", "chat")]["spec"]["triggers"]
    assert trigger["metadata"]["serverAddress"] == EXISTING_URL
    # the models accept scrapes from the existing Prometheus' namespace
    policy = objects[("NetworkPolicy", "web")]
    assert "observability" in str(policy["spec"]["ingress"])


def test_existing_monitoring_checks_the_crds_it_needs_before_anything(tmp_path):
    run = stack(tmp_path, "ml-a", EXISTING)
    reads = {r.options["read"] for r in run.registrations if r.type.endswith(":CustomResourceDefinition")}
    assert reads == {
        "podmonitors.monitoring.coreos.com",
        "prometheusrules.monitoring.coreos.com",
        "scaledobjects.keda.sh",
    }


def test_two_managed_stacks_in_one_cluster_share_no_cluster_scoped_object(tmp_path):
    first = stack(tmp_path, "ml-a", {"enabled": True})
    second = stack(tmp_path, "ml-b", {"enabled": True, "clusterWide": False})
    assert cluster_scoped(first) and cluster_scoped(second)
    assert cluster_scoped(first) & cluster_scoped(second) == set()
    a, b = charts(first), charts(second)
    # charts name their cluster-scoped objects (ClusterRoles, bindings) after the release: per stack
    assert set(a) & set(b) == set()
    assert {c["namespace"] for c in a.values()} & {c["namespace"] for c in b.values()} == set()
    # what a cluster can have once: CRDs, node-exporter's host port, KEDA (its APIService) come from one stack only
    kps_a, kps_b = a["ml-a-monitoring"]["values"], b["ml-b-monitoring"]["values"]
    assert (kps_a["crds"], kps_b["crds"]) == ({"enabled": True}, {"enabled": False})
    assert (kps_a["nodeExporter"], kps_b["nodeExporter"]) == ({"enabled": True}, {"enabled": False})
    assert "keda" in a and not [name for name in b if "keda" in name]
    # each operator manages only its own stack's namespaces
    assert kps_a["prometheusOperator"]["namespaces"] == {"releaseNamespace": True, "additional": ["ml-a"]}
    assert kps_b["prometheusOperator"]["namespaces"] == {"releaseNamespace": True, "additional": ["ml-b"]}
    # the second stack's autoscaler still queries its own Prometheus
    (trigger,) = render_objects(second)[("ScaledObject", "chat")]["spec"]["triggers"]
    assert trigger["metadata"]["serverAddress"].startswith("http://ml-b-monitoring-prometheus.ml-b-monitoring.svc")


def errors(monitoring) -> list[str]:
    config = engine_config({**BASE_SETTINGS, "monitoring": monitoring})
    with pytest.raises(ConfigurationError) as info:
        parse_settings(config, set(), "dev", None)
    return [p.message for p in info.value.problems]


def test_existing_mode_needs_its_prometheus_and_namespace_and_installs_nothing():
    assert errors({"enabled": True, "mode": "existing"}) == [
        "mode 'existing' needs 'existing.prometheusUrl' (the Prometheus the autoscalers query)",
        "mode 'existing' needs 'namespace': where the existing Prometheus and Grafana run (dashboards go there, "
        "scrapes come from there)",
    ]
    assert errors({**EXISTING, "clusterWide": True, "storage": "10Gi"}) == [
        "'clusterWide' is only for mode 'managed'; mode 'existing' installs nothing",
        "'storage' is only for mode 'managed'; mode 'existing' installs nothing",
    ]
    assert errors({"enabled": True, "existing": EXISTING["existing"]}) == ["'existing' is only for mode 'existing'"]


def second_staging_stack(tmp_path, namespace, monitoring):
    """The project with a second stack in staging's cluster (same kube-system UID)."""
    project = tmp_path / "project"
    project.mkdir()
    for name in ("models.yaml", "Pulumi.dev.yaml", "Pulumi.staging.yaml", "Pulumi.prod.yaml", "Pulumi.e2e.yaml"):
        (project / name).write_text((ROOT / name).read_text(encoding="utf-8"), encoding="utf-8")
    shutil.copytree(ROOT / "images", project / "images")  # build contexts must be inside the project
    staging = yaml.safe_load((ROOT / "Pulumi.staging.yaml").read_text(encoding="utf-8"))["config"]
    staging["ml-serving:environment"]["namespace"] = namespace
    staging["ml-serving:monitoring"] = monitoring
    (project / "Pulumi.staging-b.yaml").write_text(yaml.safe_dump({"config": staging}), encoding="utf-8")
    return project


def test_one_stack_per_cluster_installs_the_cluster_wide_pieces(tmp_path, capsys):
    both = second_staging_stack(tmp_path, "ml-staging-b", {"enabled": True, "retention": "7d"})
    assert main(["validate", "--stack", "staging-b", "--project-dir", str(both)]) == EXIT_INVALID
    err = capsys.readouterr().err
    assert "ml-serving:monitoring: stack 'staging' (Pulumi.staging.yaml) also installs the cluster-wide" in err
    assert "exactly one stack per cluster may: set clusterWide: false in one of them" in err


def test_a_second_stack_in_the_cluster_uses_the_owners_pieces_and_its_own_namespace(tmp_path, capsys):
    ok = second_staging_stack(tmp_path, "ml-staging-b", {"enabled": True, "clusterWide": False})
    assert main(["validate", "--stack", "staging-b", "--project-dir", str(ok)]) == 0
    assert main(["validate", "--stack", "staging", "--project-dir", str(ok)]) == 0
    capsys.readouterr()


def test_two_stacks_in_one_cluster_never_share_a_namespace(tmp_path, capsys):
    same = second_staging_stack(tmp_path, "ml-staging", {"enabled": True, "clusterWide": False})
    assert main(["validate", "--stack", "staging-b", "--project-dir", str(same)]) == EXIT_INVALID
    assert "stack 'staging' deploys to the same cluster and namespace 'ml-staging'" in capsys.readouterr().err
