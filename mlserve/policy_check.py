"""``mlserve policy``: the policy pack's rules (policy/rules.py) over a stack's offline render.

The same rule functions ``pulumi preview --policy-pack policy`` runs, applied to what the program registers under
mocks: a Kubernetes object is judged by its manifest (as written to manifests/), any other resource by its inputs,
with its ``protect`` option. Exit 0 when no mandatory rule is violated (advisory findings are listed), 1 otherwise,
2 on invalid input (nothing is rendered then).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from policy.rules import RULES, Context, Resource, Violation, evaluate

from .output import clean, is_kubernetes_object, manifest
from .render import run_stack


def stack_resources(project_dir: Path, stack: str, catalog: str | None = None) -> tuple[list[Resource], Context]:
    run = run_stack(project_dir, stack, catalog)
    assert run.environment is not None
    resources = [
        Resource(
            urn=reg.urn,
            type=reg.type,
            props=manifest(reg) if is_kubernetes_object(reg) else clean(reg.inputs),
            protect=bool(reg.options.get("protect")),
            ignore_changes=tuple(reg.options.get("ignoreChanges", ())),
        )
        for reg in run.registrations
        # Reads of existing objects (Resource.get) are not created by the stack: nothing to judge.
        if reg.custom and "read" not in reg.options
    ]
    return resources, Context(stack=stack, tier=run.environment.settings.environment.tier)


def policy_report(violations: list[Violation], resources: int, context: Context) -> list[str]:
    mandatory = [v for v in violations if v.mandatory]
    advisory = [v for v in violations if not v.mandatory]
    rules = sum(1 for r in RULES if r.mandatory)
    lines = [
        f"policy, stack '{context.stack}' (tier {context.tier}): {resources} resources, {rules} mandatory and "
        f"{len(RULES) - rules} advisory rules: {len(mandatory)} mandatory violations, {len(advisory)} advisory"
    ]
    lines += [f"  {v}" for v in violations]
    if mandatory:
        lines.append("Mandatory rules are what must never reach a cluster: fix the catalog, settings or component.")
    return lines


def policy_data(violations: list[Violation], resources: int, context: Context) -> dict[str, Any]:
    """The ``--json`` fields (schema/cli/policy.schema.json): the rules that ran and every violation."""
    return {
        "tier": context.tier,
        "resources": resources,
        "rules": [{"name": r.name, "mandatory": r.mandatory} for r in RULES],
        "mandatoryViolations": sum(1 for v in violations if v.mandatory),
        "advisoryViolations": sum(1 for v in violations if not v.mandatory),
        "violations": [
            {"rule": v.rule, "mandatory": v.mandatory, "urn": v.urn, "message": v.message} for v in violations
        ],
    }


def evaluate_stack(
    project_dir: Path, stack: str, catalog: str | None = None
) -> tuple[int, list[Violation], int, Context]:
    """(exit status, violations, resources judged, context): 1 when a mandatory rule is violated."""
    resources, context = stack_resources(project_dir, stack, catalog)
    violations = evaluate(resources, context)
    return (1 if any(v.mandatory for v in violations) else 0), violations, len(resources), context


def check_policy(project_dir: Path, stack: str, catalog: str | None = None) -> tuple[int, list[str]]:
    status, violations, resources, context = evaluate_stack(project_dir, stack, catalog)
    return status, policy_report(violations, resources, context)
