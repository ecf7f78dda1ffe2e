"""`mlserve validate`'s list of the Secrets a stack's models need and where each comes from (docs/secrets.md)."""

from __future__ import annotations

from components.registry import PULL_SECRET_NAME
from model_catalog.environment import Environment
from model_catalog.secrets import describe_source, secrets_needed
from model_catalog.settings import PROJECT


def secrets_report(env: Environment) -> list[str]:
    """One line per Secret (name, keys read, source) and one per reader."""
    settings = env.settings
    namespace = settings.environment.namespace
    needs = secrets_needed(env.models)
    pull = settings.registry.type == "external" and settings.registry.username is not None
    lines = [f"secrets the models need ({len(needs) + pull}):"]
    for name, need in needs.items():
        source = describe_source(name, settings.secrets[name], namespace)
        lines.append(f"  {name} [{', '.join(sorted(need.keys))}]: {source}")
        lines.extend(f"    read by {model} ({what})" for model, _, what in need.users)
    if pull:
        lines.append(
            f"  {PULL_SECRET_NAME} [.dockerconfigjson]: created by the stack from {PROJECT}:registryPassword "
            "(pull credentials of the external registry)"
        )
    unused = sorted(set(settings.secrets) - set(needs))
    if unused:
        lines.append(f"  declared but read by no model of this stack: {', '.join(unused)}")
    return lines
