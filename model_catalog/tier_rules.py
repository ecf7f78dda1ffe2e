"""Tier rules a model may waive, and the ones it may not.

A stack's tier (dev, staging, prod) switches rules on: prod runs every model with two replicas, pins images by digest,
and so on. A real fleet has models for which a rule is wrong (a 235B model on 8 H100s costs ~$110 an hour per idle
replica), so a model may waive a rule by name with its reason (`policyExceptions: [{rule, reason}]`). The exception
is rendered as an annotation on the model's workload (EXCEPTIONS_ANNOTATION), listed in the render summary and
flagged by `mlserve diff`. Rules that protect the cluster or its secrets (Pod Security, credentials, image
provenance, TLS, network isolation) are not waivable: an exception naming one is an error.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .schema import ModelSpec

#: The annotation that carries a model's exceptions in effect in the stack (JSON, sorted by rule).
EXCEPTIONS_ANNOTATION = "ml-serving.dev/policy-exceptions"


@dataclass(frozen=True)
class TierRule:
    name: str
    summary: str
    waivable: bool
    why_not: str = ""
    """For a rule that cannot be waived: why."""


TIER_RULES: dict[str, TierRule] = {
    rule.name: rule
    for rule in (
        TierRule(
            "prod-min-replicas",
            "a prod model runs with minReplicas >= 2 (one node's loss or a rollout never takes it down)",
            True,
        ),
        TierRule(
            "pod-security-restricted",
            "every pod meets Pod Security 'restricted'",
            False,
            "Pod Security protects the node and every other workload on it",
        ),
        TierRule(
            "plaintext-credentials",
            "no credential in a plain value (env, labels, URIs, build args)",
            False,
            "a plain credential ends up in the state, the rendered manifests and the cluster",
        ),
        TierRule(
            "image-pinned",
            "staging and prod run images pinned by digest",
            False,
            "a tag can be moved to other content: what runs would no longer be what was reviewed",
        ),
        TierRule(
            "public-exposure-tls",
            "a public model is served over TLS",
            False,
            "requests and their answers would cross networks in clear text",
        ),
        TierRule(
            "prod-weights-egress",
            "a prod model gets no internet egress for its weight download",
            False,
            "the NetworkPolicy selects pods, so the serving container would get the same egress",
        ),
    )
}
WAIVABLE = tuple(sorted(name for name, rule in TIER_RULES.items() if rule.waivable))
RULE_NAMES = tuple(sorted(TIER_RULES))


def waives(spec: ModelSpec, rule: str) -> bool:
    """The model declares an exception to ``rule``."""
    return any(e.rule == rule for e in spec.policy_exceptions)


def rule_bites(spec: ModelSpec, rule: str, tier: str) -> bool:
    """``rule`` would refuse this model in a stack of ``tier`` (so an exception to it is in effect)."""
    if rule == "prod-min-replicas":
        return tier == "prod" and spec.scaling.min_replicas < 2
    return False


def exceptions_in_effect(spec: ModelSpec, tier: str) -> list[tuple[str, str]]:
    """(rule, reason) of the exceptions that waive something in a stack of ``tier``, sorted by rule."""
    return sorted((e.rule, e.reason) for e in spec.policy_exceptions if rule_bites(spec, e.rule, tier))


def exceptions_annotation(spec: ModelSpec, tier: str) -> dict[str, str]:
    """The workload's annotation listing the exceptions in effect (empty when there are none)."""
    found = exceptions_in_effect(spec, tier)
    if not found:
        return {}
    value = json.dumps([{"rule": rule, "reason": reason} for rule, reason in found], separators=(",", ":"))
    return {EXCEPTIONS_ANNOTATION: value}
