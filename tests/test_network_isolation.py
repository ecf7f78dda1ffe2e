"""Least-privilege networking in the rendered stacks (the goldens are the exact render, checked by test_render):
every namespace a stack creates denies by default, the prod serving pods reach only what is declared, and only
Prometheus' pods may scrape a model."""

from __future__ import annotations

import pytest

from model_catalog.environment import resolve_environment
from model_catalog.errors import ConfigurationError
from tests.helpers import BASE_SETTINGS, ROOT, STACKS, engine_config, read_yaml, write_catalog

GOLDEN = ROOT / "tests" / "golden"


def objects(stack: str, kind: str) -> list[dict]:
    return [read_yaml(p) for p in sorted((GOLDEN / stack / "manifests").glob(f"*--{kind}--*.yaml"))]


@pytest.mark.parametrize("stack", STACKS)
def test_every_namespace_the_stack_creates_has_a_default_deny(stack):
    namespaces = {n["metadata"]["name"] for n in objects(stack, "namespace")}
    denies = {
        p["metadata"]["namespace"]
        for p in objects(stack, "networkpolicy")
        if p["spec"]["podSelector"] == {}
        and p["spec"]["policyTypes"] == ["Ingress", "Egress"]
        and not p["spec"].get("ingress")
        and not p["spec"].get("egress")
    }
    assert namespaces and namespaces <= denies


def test_prod_serving_pods_have_no_egress_beyond_what_is_declared():
    catalog = read_yaml(ROOT / "models.yaml")["models"]
    network = read_yaml(ROOT / "Pulumi.prod.yaml")["config"]["ml-serving:network"]
    for policy in objects("prod", "networkpolicy"):
        model = policy["metadata"]["labels"].get("ml-serving.dev/model")
        if model is None:
            continue
        declared = catalog[model].get("egress", [])
        cidrs = {rule["cidr"] for rule in declared if "cidr" in rule} | set(network["weightsEgressCidrs"])
        namespaces = {rule["namespace"] for rule in declared if "namespace" in rule} | {"kube-system"}
        for rule in policy["spec"]["egress"]:
            for peer in rule["to"]:
                if "ipBlock" in peer:
                    assert peer["ipBlock"]["cidr"] in cidrs and not peer["ipBlock"]["cidr"].endswith("/0"), model
                else:
                    assert peer["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"] in namespaces
                    if peer["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"] == "kube-system":
                        assert rule["ports"][0]["port"] == 53 and peer["podSelector"]["matchLabels"] == {
                            "k8s-app": "kube-dns"
                        }


@pytest.mark.parametrize("stack", STACKS)
def test_only_prometheus_pods_of_the_monitoring_namespace_may_scrape_a_model(stack):
    for policy in objects(stack, "networkpolicy"):
        if "ml-serving.dev/model" not in policy["metadata"]["labels"]:
            continue
        for rule in policy["spec"]["ingress"]:
            for peer in rule["from"]:
                assert "podSelector" in peer, policy["metadata"]["name"]
                if peer["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"] == "monitoring":
                    assert peer["podSelector"] == {"matchLabels": {"app.kubernetes.io/name": "prometheus"}}


def test_only_the_prod_download_goes_through_the_proxy():
    deployment = read_yaml(GOLDEN / "prod" / "manifests" / "ml-prod--deployment--llama3-70b.yaml")
    pod = deployment["spec"]["template"]["spec"]
    (fetch,) = pod["initContainers"]
    assert {"name": "HTTPS_PROXY", "value": "http://10.40.128.10:3128"} in fetch["env"]
    assert all("PROXY" not in e["name"].upper() for c in pod["containers"] for e in c.get("env", []))


DOWNLOADING = """
models:
  m:
    runtime: triton
    weights: {uri: "s3://bucket/m/", sizeGiB: 1}
    resources: {cpu: "1", memory: 1Gi}
    scaling: {minReplicas: 2, maxReplicas: 2}
"""


def test_a_prod_stack_must_declare_where_weights_come_from(tmp_path):
    settings = {**BASE_SETTINGS, "environment": {"tier": "prod", "namespace": "ml-prod"}}
    catalog = write_catalog(tmp_path / "models.yaml", DOWNLOADING)
    with pytest.raises(ConfigurationError) as info:
        resolve_environment(ROOT, "prod", engine_config(settings), set(), str(catalog))
    (problem,) = info.value.problems
    assert problem.path == "models.m.weights.uri"
    assert problem.message.startswith("a prod model gets no internet egress, but its weight download would open ")
    declared = {**settings, "network": {"weightsEgressCidrs": ["10.1.0.0/24"]}}
    assert resolve_environment(ROOT, "prod", engine_config(declared), set(), str(catalog)).models
