"""ModelService and ServingNamespace under Pulumi's mock runtime: children, names, parents, dependencies, outputs."""

from __future__ import annotations

import pulumi
import pytest

from mlserve.mock_runtime import MockRun, _RecordingMonitor, _RenderMocks
from tests.helpers import settings, spec


@pytest.fixture
def recorded():
    """Install the recording mock monitor; the test's registrations land in the returned MockRun."""
    from pulumi.runtime import settings as runtime_settings

    run = MockRun(stack="dev")
    impl = _RenderMocks()
    runtime_settings.ROOT.set(None)
    pulumi.runtime.set_mocks(
        impl, project="ml-serving", stack="dev", preview=False, monitor=_RecordingMonitor(run, impl)
    )
    return run


def by_name(run: MockRun):
    return {r.name: r for r in run.registrations}


def run(program) -> None:
    """Run ``program`` as a Pulumi program under the mocks; returns once every registration has completed, so the
    assertions that follow see everything (asserts inside `apply` can be skipped silently on unknowns)."""
    pulumi.runtime.test(program)()


def test_model_service_registers_its_children_under_itself(recorded):
    from components.model_service import TYPE, ModelService, ModelServiceArgs

    run(
        lambda: ModelService(
            "resnet",
            ModelServiceArgs(
                model="resnet",
                spec=spec(scaling={"minReplicas": 2, "maxReplicas": 4}),
                image="repo/resnet@sha256:" + "b" * 64,
                settings=settings(),
            ),
        )
    )
    regs = by_name(recorded)
    component_urn = regs["resnet"].urn
    assert regs["resnet"].type == TYPE
    children = {name for name, r in regs.items() if r.parent == component_urn}
    assert children == {
        "resnet-service-account",
        "resnet-config",
        "resnet-deployment",
        "resnet-service",
        "resnet-network-policy",
        "resnet-hpa",
        "resnet-pdb",
    }
    deployment = regs["resnet-deployment"]
    assert deployment.type == "kubernetes:apps/v1:Deployment"
    assert regs["resnet-service-account"].urn in deployment.dependencies
    assert regs["resnet-config"].urn in deployment.dependencies
    assert deployment.urn in regs["resnet-hpa"].dependencies
    assert deployment.inputs["metadata"]["name"] == "resnet"


def test_model_service_outputs_name_the_deployment_and_service(recorded):
    from components.model_service import ModelService, ModelServiceArgs

    names = {}

    def program():
        service = ModelService("m", ModelServiceArgs(model="m", spec=spec(), image="a/b:1", settings=settings()))
        return pulumi.Output.all(service.deployment.metadata, service.service.metadata).apply(
            lambda metas: names.update(deployment=metas[0]["name"], service=metas[1]["name"])
        )

    run(program)
    assert names == {"deployment": "m", "service": "m"}


def test_the_image_reaches_the_container_even_when_only_known_at_deploy_time(recorded):
    from components.model_service import ModelService, ModelServiceArgs

    def program():
        image = pulumi.Output.from_input("registry.example.com/m:ctx-0123456789abcdef")
        ModelService("m", ModelServiceArgs(model="m", spec=spec(), image=image, settings=settings()))

    run(program)
    container = by_name(recorded)["m-deployment"].inputs["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == "registry.example.com/m:ctx-0123456789abcdef"


def test_serving_namespace_enforces_restricted_pod_security_at_the_clusters_version(recorded):
    from components.namespace import ServingNamespace, ServingNamespaceArgs

    run(
        lambda: ServingNamespace(
            "ml-dev", ServingNamespaceArgs(name="ml-dev", kubernetes_version="1.33", labels={"team": "a"})
        )
    )
    regs = by_name(recorded)
    labels = regs["ml-dev-namespace"].inputs["metadata"]["labels"]
    for mode in ("enforce", "audit", "warn"):
        assert labels[f"pod-security.kubernetes.io/{mode}"] == "restricted"
        assert labels[f"pod-security.kubernetes.io/{mode}-version"] == "v1.33"
    assert labels["team"] == "a"
    deny = regs["ml-dev-default-deny"].inputs
    assert deny["spec"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    assert regs["ml-dev-namespace"].urn in regs["ml-dev-default-deny"].dependencies
