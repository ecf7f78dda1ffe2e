"""`mlserve validate`'s list of the Secrets a stack's models need and where each comes from (docs/secrets.md)."""

from __future__ import annotations

from typing import Any

from components.registry import PULL_SECRET_NAME
from model_catalog.environment import Environment
from model_catalog.secrets import describe_source, secrets_needed
from model_catalog.settings import PROJECT


def secrets_data(env: Environment) -> list[dict[str, Any]]:
    """Every Secret the stack's models need, sorted by name: keys read, source, readers (``validate --json``)."""
    settings = env.settings
    namespace = settings.environment.namespace
    found = [
        {
            "name": name,
            "keys": sorted(need.keys),
            "source": settings.secrets[name].source,
            "description": describe_source(name, settings.secrets[name], namespace),
            "readBy": [{"model": model, "use": what} for model, _, what in need.users],
        }
        for name, need in secrets_needed(env.models).items()
    ]
    if settings.registry.type == "external" and settings.registry.username is not None:
        found.append(
            {
                "name": PULL_SECRET_NAME,
                "keys": [".dockerconfigjson"],
                "source": "stack",
                "description": f"created by the stack from {PROJECT}:registryPassword (pull credentials of the "
                "external registry)",
                "readBy": [],
            }
        )
    return sorted(found, key=lambda s: s["name"])


def secrets_report(env: Environment) -> list[str]:
    """One line per Secret (name, keys read, source) and one per reader."""
    found = secrets_data(env)
    lines = [f"secrets the models need ({len(found)}):"]
    for secret in found:
        lines.append(f"  {secret['name']} [{', '.join(secret['keys'])}]: {secret['description']}")
        lines.extend(f"    read by {r['model']} ({r['use']})" for r in secret["readBy"])
    unused = sorted(set(env.settings.secrets) - {s["name"] for s in found})
    if unused:
        lines.append(f"  declared but read by no model of this stack: {', '.join(unused)}")
    return lines
