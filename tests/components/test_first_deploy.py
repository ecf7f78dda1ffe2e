"""The first `pulumi up` on a real cluster: the cluster guard, awaited readiness, protection, replica hand-over.

Run through the real program under mocks (the committed stacks, and small catalogs); the guard's comparison is a
plain function, tested with both answers.
"""

from __future__ import annotations

import pytest

import mlserve.mock_runtime as mock_runtime
from components.cluster_guard import WrongCluster, verify_identity
from components.kube import WAIT_FOR_READY
from mlserve.render import run_stack
from tests.helpers import ROOT, render_objects, run_catalog, settings

UID = "00000000-0000-4000-8000-000000000001"
MAIN_PROVIDER = "pulumi:providers:kubernetes::kubernetes"
CATALOG = """\
version: 1
models:
  web:
    runtime: tensorflow-serving
    weights: {uri: "s3://bucket/model/", sizeGiB: 1}
    resources: {cpu: "1", memory: 2Gi}
    scaling: {minReplicas: 2, maxReplicas: 4, metric: cpu}
"""


@pytest.fixture(scope="module")
def prod():
    return run_stack(ROOT, "prod")


def by_name(run, name):
    (reg,) = [r for r in run.registrations if r.name == name]
    return reg


def test_the_identity_check_passes_only_for_the_named_cluster():
    stack = settings(environment={"tier": "prod", "namespace": "ml"})
    assert verify_identity({"name": "kube-system", "uid": UID}, stack) == "test"
    with pytest.raises(WrongCluster, match="kube-system UID is '11111111-.*', but .* expects '00000000-"):
        verify_identity({"uid": "11111111-0000-4000-8000-000000000001"}, stack)
    with pytest.raises(WrongCluster):
        verify_identity({}, stack)


def test_the_owning_provider_exists_only_through_the_read_of_kube_system(prod):
    read = by_name(prod, "cluster-identity-kube-system")
    assert (read.type, read.options) == ("kubernetes:core/v1:Namespace", {"read": "kube-system"})
    assert read.provider.endswith("pulumi:providers:kubernetes::cluster-identity")
    (provider,) = [r for r in prod.registrations if r.urn.endswith(MAIN_PROVIDER)]
    assert read.urn in provider.dependencies
    # offline the read's answer is unknown, and so is the identifier: nothing pretends the check ran
    assert provider.inputs["clusterIdentifier"] == mock_runtime.UNKNOWN
    reader = by_name(prod, "cluster-identity")
    assert (
        reader.inputs["context"]
        == provider.inputs["context"]
        == "arn:aws:eks:eu-west-1:444455556666:cluster/ml-prod-eks"
    )


def test_a_different_cluster_registers_no_kubernetes_object(tmp_path, monkeypatch):
    other = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "kube-system", "uid": "1" * 8 + UID[8:]}}
    monkeypatch.setitem(mock_runtime.READ_ANSWERS, "kubernetes:core/v1:Namespace", lambda id_: other)
    runs = []

    class Recorded(mock_runtime.MockRun):
        def __init__(self, **fields):
            super().__init__(**fields)
            runs.append(self)

    monkeypatch.setattr(mock_runtime, "MockRun", Recorded)
    with pytest.raises(WrongCluster, match="wrong cluster"):
        run_catalog(tmp_path, CATALOG, "staging", environment={"tier": "staging", "namespace": "ml"})
    (run,) = runs
    # what reached the engine: the read-only provider and its read, nothing under the owning provider
    assert sorted(r.name for r in run.registrations if r.type.startswith(("kubernetes:", "pulumi:providers:"))) == [
        "cluster-identity",
        "cluster-identity-kube-system",
    ]


def test_a_matching_cluster_deploys(tmp_path, monkeypatch):
    same = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "kube-system", "uid": UID}}
    monkeypatch.setitem(mock_runtime.READ_ANSWERS, "kubernetes:core/v1:Namespace", lambda id_: same)
    run = run_catalog(tmp_path, CATALOG, "staging", environment={"tier": "staging", "namespace": "ml"})
    (provider,) = [r for r in run.registrations if r.urn.endswith(MAIN_PROVIDER)]
    assert provider.inputs["clusterIdentifier"] == "test"
    assert ("Deployment", "web") in render_objects(run)


def test_dev_without_an_identity_reads_nothing(tmp_path):
    cluster = {"name": "dev", "kubernetesVersion": "1.33", "context": "kind-ml-dev"}
    run = run_catalog(tmp_path, CATALOG, cluster=cluster)
    assert not [r for r in run.registrations if "read" in r.options]
    (provider,) = [r for r in run.registrations if r.urn.endswith(MAIN_PROVIDER)]
    assert provider.inputs["clusterIdentifier"] == "dev"


def test_every_ready_reporting_custom_resource_is_awaited_with_a_timeout(prod):
    objects = render_objects(prod)
    awaited = {
        kind for (kind, _), obj in objects.items() if "pulumi.com/waitFor" in obj["metadata"].get("annotations", {})
    }
    assert awaited == {"NodePool", "EC2NodeClass", "ScaledObject"}
    for (kind, name), obj in objects.items():
        if kind in awaited:
            annotations = obj["metadata"]["annotations"]
            assert annotations["pulumi.com/waitFor"] == WAIT_FOR_READY, (kind, name)
            assert 60 <= int(annotations["pulumi.com/timeoutSeconds"]) <= 900, (kind, name)


def test_prod_protects_its_namespaces_and_retains_the_stateful_ones(prod):
    namespaces = {
        r.inputs["metadata"]["name"]: r.options
        for r in prod.registrations
        if r.type == "kubernetes:core/v1:Namespace" and "read" not in r.options
    }
    assert namespaces == {
        "ml-prod": {"protect": True, "retainOnDelete": True},
        "ml-prod-monitoring": {"protect": True, "retainOnDelete": True},
        "ml-prod-keda": {"protect": True},
        "ml-prod-nvidia-device-plugin": {"protect": True},
    }


@pytest.mark.parametrize("stack", ["dev", "staging"])
def test_other_tiers_protect_no_namespace(stack):
    run = run_stack(ROOT, stack)
    namespaces = [r for r in run.registrations if r.type == "kubernetes:core/v1:Namespace" and "read" not in r.options]
    assert namespaces and not [r.name for r in namespaces if r.options.get("protect")]


def test_charts_that_install_crds_are_never_deleted_with_the_stack(prod):
    charts = {r.inputs["name"]: r.options for r in prod.registrations if r.type == "kubernetes:helm.sh/v4:Chart"}
    assert charts["ml-prod-monitoring"] == {"protect": True, "retainOnDelete": True}
    assert charts["keda"] == {"protect": True, "retainOnDelete": True}


def test_autoscaled_deployments_leave_later_replica_changes_to_the_autoscaler(prod):
    for reg in prod.registrations:
        if reg.type == "kubernetes:apps/v1:Deployment":
            scaling = prod.environment.models[reg.inputs["metadata"]["name"]].scaling
            autoscaled = scaling.min_replicas != scaling.max_replicas
            assert reg.inputs["spec"]["replicas"] >= 1
            assert reg.options.get("ignoreChanges") == (["spec.replicas"] if autoscaled else None), reg.name


PUBLIC = """\
version: 1
models:
  web:
    runtime: tensorflow-serving
    weights: {uri: "s3://bucket/model/", sizeGiB: 1}
    resources: {cpu: "1", memory: 2Gi}
    maxRequestSeconds: 120
    exposure: {type: public, host: web.example.com, maxBodySize: 20Mi}
"""


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_public_models_of_the_committed_stacks_are_served_over_tls(stack):
    objects = render_objects(run_stack(ROOT, stack))
    ingresses = [obj for (kind, _), obj in objects.items() if kind == "Ingress"]
    assert ingresses
    for ingress in ingresses:
        assert ingress["spec"]["tls"] and "cert-manager.io/cluster-issuer" in ingress["metadata"]["annotations"]


def test_a_public_model_without_tls_needs_a_stated_reason(tmp_path):
    from model_catalog.errors import ConfigurationError

    with pytest.raises(ConfigurationError) as info:
        run_catalog(tmp_path, PUBLIC)
    (problem,) = info.value.problems
    assert (problem.line, problem.path) == (8, "models.web.exposure.type")
    assert "a public model is served over TLS in every tier, but stack 'dev' sets no" in problem.message
    reason = "TLS ends at the load balancer in front of the controller"
    run = run_catalog(tmp_path, PUBLIC, ingress={"plainHttpReason": reason})
    ingress = render_objects(run)[("Ingress", "web")]
    assert "tls" not in ingress["spec"]
    assert ingress["metadata"]["annotations"]["ml-serving.dev/plain-http-reason"] == reason


def test_the_ingress_controller_gets_the_models_timeout_and_body_size(tmp_path):
    run = run_catalog(tmp_path, PUBLIC, ingress={"tlsClusterIssuer": "letsencrypt"})
    annotations = render_objects(run)[("Ingress", "web")]["metadata"]["annotations"]
    assert annotations["nginx.ingress.kubernetes.io/proxy-read-timeout"] == "120"
    assert annotations["nginx.ingress.kubernetes.io/proxy-send-timeout"] == "120"
    assert annotations["nginx.ingress.kubernetes.io/proxy-body-size"] == "20m"
    other = run_catalog(tmp_path, PUBLIC, ingress={"tlsClusterIssuer": "letsencrypt", "controller": "other"})
    annotations = render_objects(other)[("Ingress", "web")]["metadata"]["annotations"]
    assert not [key for key in annotations if key.startswith("nginx.")]
