"""Secrets that exist before they are needed: which Kubernetes Secrets a stack's models reference, and where each comes
from (the stack's `ml-serving:secrets` declarations).

A model references a Secret by name in `weights.credentialsSecret` (the keys its downloader reads) and in
`secretEnv` (one key each). Every such Secret must be declared for the stack: `source: stack` (the stack creates it
from the secret config `ml-serving:secretValues`, set with `pulumi config set --secret --path`) or
`source: external` (something else creates it: an `ExternalSecret` the stack creates when `externalSecret` is set,
or a documented `kubectl create secret` step). An undeclared Secret would leave the first `pulumi up` waiting for
pods that can never start. No Pulumi import here: the CLI lists these, the program creates them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from platform_data.downloaders import DOWNLOADERS

from .catalog import LoadedCatalog
from .errors import Problem
from .schema import ModelSpec
from .settings import PROJECT, SecretDeclaration, StackSettings


@dataclass
class SecretNeed:
    """One Secret the stack's models reference."""

    name: str
    keys: set[str] = field(default_factory=set)
    """Keys the models read from it."""
    users: list[tuple[str, tuple[str, ...], str]] = field(default_factory=list)
    """(model, field path, what for) per reference, for messages and the listing."""


def weights_credential_keys(spec: ModelSpec) -> tuple[str, ...]:
    """Keys of `weights.credentialsSecret` the model's downloader reads (one file each)."""
    uri = spec.weights.uri or ""
    downloader = DOWNLOADERS.get(uri.split("://", 1)[0])
    return tuple(key for _, key in downloader.credential_files) if downloader else ()


def secrets_needed(models: Mapping[str, ModelSpec]) -> dict[str, SecretNeed]:
    """Every Secret the (enabled, stack-effective) models reference, by name, sorted."""
    needs: dict[str, SecretNeed] = {}
    for model in sorted(models):
        spec = models[model]
        name = spec.weights.credentials_secret
        if name:
            need = needs.setdefault(name, SecretNeed(name))
            need.keys.update(weights_credential_keys(spec))
            need.users.append((model, ("weights", "credentialsSecret"), "weights credentials"))
        for variable in sorted(spec.secret_env):
            ref = spec.secret_env[variable]
            need = needs.setdefault(ref.secret, SecretNeed(ref.secret))
            need.keys.add(ref.key)
            need.users.append((model, ("secretEnv", variable, "secret"), f"env {variable}"))
    return dict(sorted(needs.items()))


def secret_problems(loaded: LoadedCatalog, settings: StackSettings, stack: str) -> list[Problem]:
    """A model referencing a Secret the stack does not declare, or a key its declaration does not list."""
    problems: list[Problem] = []
    models = {name: spec for name, spec in loaded.models_for(stack).items() if spec.enabled}
    declared = settings.secrets
    for name, need in secrets_needed(models).items():
        declaration = declared.get(name)
        for model, path, _ in need.users:
            if declaration is None:
                problems.append(
                    loaded.problem(
                        model,
                        stack,
                        path,
                        f"Secret '{name}' is not declared for stack '{stack}', so nothing would create it and the pods "
                        f"would never start; declare it in {PROJECT}:secrets.{name} with 'source: stack' (values "
                        "from pulumi config set --secret) or 'source: external' (docs/secrets.md)",
                    )
                )
                continue
            wanted = sorted(need.keys - set(declaration.keys))
            if wanted and path[0] == "weights":
                problems.append(
                    loaded.problem(
                        model,
                        stack,
                        path,
                        f"Secret '{name}' needs key(s) {', '.join(wanted)} for this model; {PROJECT}:secrets.{name}"
                        f".keys lists {', '.join(declaration.keys)}",
                    )
                )
            elif wanted:
                key = models[model].secret_env[path[1]].key
                if key in wanted:
                    problems.append(
                        loaded.problem(
                            model,
                            stack,
                            (*path[:-1], "key"),
                            f"Secret '{name}' has no key '{key}' in {PROJECT}:secrets.{name}.keys "
                            f"({', '.join(declaration.keys)})",
                        )
                    )
    return problems


def describe_source(name: str, declaration: SecretDeclaration, namespace: str) -> str:
    """Where one declared Secret comes from, in words (the validate listing)."""
    if declaration.source == "stack":
        return f"created by the stack from secret config {PROJECT}:secretValues.{name}.<key>"
    if declaration.external_secret is not None:
        ext = declaration.external_secret
        return (
            f"external: the stack creates an ExternalSecret (External Secrets Operator) from "
            f"{ext.store_kind} '{ext.store}', remote key '{ext.remote_key}'"
        )
    # From files: a literal would stay in the shell's history.
    files = " ".join(f"--from-file={key}=<file>" for key in declaration.keys)
    return f"external: create it before `pulumi up`: kubectl -n {namespace} create secret generic {name} {files}"
