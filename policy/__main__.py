"""The policy pack as the Pulumi CLI runs it: ``pulumi preview --policy-pack policy``.

Each rule of policy/rules.py becomes a pulumi-policy policy (mandatory rules block the update, advisory ones warn).
A resource's tier comes from its stack's committed ``Pulumi.<stack>.yaml`` (the stack name is in the URN).
"""

from __future__ import annotations

import sys
from pathlib import Path

from pulumi_policy import (
    EnforcementLevel,
    PolicyPack,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))  # the rules are imported as the offline check imports them: policy.rules

from policy.rules import RULES, Context, Resource, Rule, check_resource, check_stack, stack_of, tier_of  # noqa: E402


def context_for(urn: str) -> Context:
    stack = stack_of(urn)
    return Context(stack=stack, tier=tier_of(stack, PROJECT_DIR))


def _policy_fields(rule: Rule) -> dict:
    return {
        "name": rule.name,
        "description": " ".join(rule.description.split()),
        "enforcement_level": EnforcementLevel.MANDATORY if rule.mandatory else EnforcementLevel.ADVISORY,
    }


def _report(violations, report_violation) -> None:
    for violation in violations:
        report_violation(f"{violation.rule}: {violation.urn}: {violation.message}", violation.urn)


def resource_policy(rule: Rule) -> ResourceValidationPolicy:
    def validate(args: ResourceValidationArgs, report_violation) -> None:
        resource = Resource(
            args.urn, args.resource_type, args.props, bool(args.opts.protect), tuple(args.opts.ignore_changes or ())
        )
        _report(check_resource(rule, resource, context_for(args.urn)), report_violation)

    return ResourceValidationPolicy(validate=validate, **_policy_fields(rule))


def stack_policy(rule: Rule) -> StackValidationPolicy:
    def validate(args: StackValidationArgs, report_violation) -> None:
        resources = [
            Resource(r.urn, r.resource_type, r.props, bool(r.opts.protect), tuple(r.opts.ignore_changes or ()))
            for r in args.resources
        ]
        if resources:
            _report(check_stack(rule, resources, context_for(resources[0].urn)), report_violation)

    return StackValidationPolicy(validate=validate, **_policy_fields(rule))


def policies() -> list:
    return [resource_policy(r) if r.check is not None else stack_policy(r) for r in RULES]


if __name__ == "__main__":
    PolicyPack(name="ml-serving", policies=policies(), enforcement_level=EnforcementLevel.ADVISORY)
