"""The pulumi-policy wrappers (policy/__main__.py) in the pack's own virtualenv: each rule is a policy with the
rule's name and enforcement level, and validating a resource reports the rule's violation with its URN, built the
way the Pulumi engine hands resources to a pack (ResourceValidationArgs, StackValidationArgs).

Run with `make policy-pack-test` (.venv-policy: pulumi-policy needs protobuf 5, the program's venv has 6)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from pulumi_policy import (
    EnforcementLevel,
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    StackValidationArgs,
)

PACK = Path(__file__).resolve().parent.parent


def load_pack():
    spec = importlib.util.spec_from_file_location("ml_serving_policy_pack", PACK / "__main__.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # __name__ is not "__main__": the pack's server does not start
    return module


def options(protect: bool = False) -> PolicyResourceOptions:
    return PolicyResourceOptions(protect, [], None, [], PolicyCustomTimeouts(0, 0, 0), [], None)


def by_name():
    return {p.name: p for p in load_pack().policies()}


def test_every_rule_is_a_policy_with_its_enforcement_level():
    from policy.rules import RULES

    policies = by_name()
    assert list(policies) == [r.name for r in RULES]
    for rule in RULES:
        level = EnforcementLevel.MANDATORY if rule.mandatory else EnforcementLevel.ADVISORY
        assert policies[rule.name].enforcement_level == level


def test_a_resource_policy_reports_the_rule_and_urn_and_passes_a_protected_one():
    urn = (
        "urn:pulumi:prod::ml-serving::ml-serving:core:ServingNamespace$kubernetes:core/v1:Namespace::ml-prod-namespace"
    )
    policy = by_name()["prod-protected"]
    reports: list[tuple[str, str | None]] = []
    args = ResourceValidationArgs(
        "kubernetes:core/v1:Namespace", {"metadata": {"name": "ml-prod"}}, urn, "ml-prod-namespace", options(), None
    )
    policy.validate(args, lambda message, urn=None: reports.append((message, urn)))
    assert reports == [
        (
            f"prod-protected: {urn}: kubernetes:core/v1:Namespace in prod stack 'prod' is not protected "
            "(set protect=True)",
            urn,
        )
    ]
    reports.clear()
    args.opts = options(protect=True)
    policy.validate(args, lambda message, urn=None: reports.append((message, urn)))
    assert reports == []


def test_a_stack_policy_sees_every_resource():
    def resource(type_, name, props):
        urn = f"urn:pulumi:staging::ml-serving::{type_}::{name}"
        return PolicyResource(type_, props, urn, name, options(), None, None, [], {})

    deployment = resource(
        "kubernetes:apps/v1:Deployment",
        "m-deployment",
        {"metadata": {"name": "m", "namespace": "ml"}, "spec": {"replicas": 2}},
    )
    hpa = resource(
        "kubernetes:autoscaling/v2:HorizontalPodAutoscaler",
        "m-hpa",
        {"metadata": {"name": "m", "namespace": "ml"}, "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "m"}}},
    )
    reports: list[tuple[str, str | None]] = []
    by_name()["replicas-with-autoscaler"].validate(
        StackValidationArgs([deployment, hpa]), lambda message, urn=None: reports.append((message, urn))
    )
    assert [u for _, u in reports] == [deployment.urn]
    assert reports[0][0].startswith(f"replicas-with-autoscaler: {deployment.urn}: sets spec.replicas")
