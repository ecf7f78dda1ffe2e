"""StackSecrets: the Kubernetes Secrets a stack's models reference, there before the models need them.

``source: stack`` Secrets are created from the secret config ``ml-serving:secretValues`` (decrypted only by the Pulumi
CLI; a secret Output all the way into the object, masked in every render). ``source: external`` Secrets with
``externalSecret`` get an External Secrets Operator ``ExternalSecret`` that creates them, awaited until Ready; without
it, docs/secrets.md gives the `kubectl` step and the stack creates nothing. Models depend on this component, so their
pods never start before their Secrets exist. docs/secrets.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi

from model_catalog.settings import SecretDeclaration, StackSettings

from .kube import await_ready, register
from .labels import platform_labels

TYPE = "ml-serving:core:StackSecrets"
#: How long `pulumi up` waits for the External Secrets Operator to report an ExternalSecret Ready (synced).
EXTERNAL_SECRET_READY_SECONDS = 300
EXTERNAL_SECRET_REFRESH = "1h"

Manifest = dict[str, Any]


def secret_manifest(name: str, keys: list[str], values: Any, settings: StackSettings) -> Manifest:
    """An Opaque Secret with ``keys``; ``values`` (a secret Output of {name: {key: value}}) supplies each one."""
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "Opaque",
        "metadata": {
            "name": name,
            "namespace": settings.environment.namespace,
            "labels": platform_labels("secret", settings.environment.labels),
        },
        "stringData": {key: values.apply(lambda v, n=name, k=key: v[n][k]) for key in keys},
    }


def external_secret_manifest(name: str, declaration: SecretDeclaration, settings: StackSettings) -> Manifest:
    """An ExternalSecret that makes the operator create Secret ``name`` from the declared store and remote key."""
    ext = declaration.external_secret
    assert ext is not None
    return {
        "apiVersion": "external-secrets.io/v1",
        "kind": "ExternalSecret",
        "metadata": await_ready(
            {
                "name": name,
                "namespace": settings.environment.namespace,
                "labels": platform_labels("secret", settings.environment.labels),
            },
            EXTERNAL_SECRET_READY_SECONDS,
        ),
        "spec": {
            "refreshInterval": EXTERNAL_SECRET_REFRESH,
            "secretStoreRef": {"kind": ext.store_kind, "name": ext.store},
            "target": {"name": name, "creationPolicy": "Owner"},
            "data": [
                {"secretKey": key, "remoteRef": {"key": ext.remote_key, "property": key}} for key in declaration.keys
            ],
        },
    }


@dataclass
class StackSecretsArgs:
    settings: StackSettings
    """The stack's settings: ``secrets`` declares each Secret and its source."""
    values: Any
    """The secret config ``ml-serving:secretValues`` as a secret Output ({name: {key: value}}), or None when no
    Secret has ``source: stack``."""


class StackSecrets(pulumi.ComponentResource):
    """The stack's declared Secrets (created from secret config) and ExternalSecrets."""

    def __init__(self, name: str, args: StackSecretsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(TYPE, name, None, opts)
        settings = args.settings
        self.objects: dict[str, pulumi.CustomResource] = {}
        for secret_name, declaration in sorted(settings.secrets.items()):
            if declaration.source == "stack":
                assert args.values is not None, "settings checks require secretValues for source: stack"
                manifest = secret_manifest(secret_name, list(declaration.keys), args.values, settings)
                self.objects[secret_name] = register(
                    f"{name}-{secret_name}", manifest, pulumi.ResourceOptions(parent=self)
                )
            elif declaration.external_secret is not None:
                self.objects[secret_name] = register(
                    f"{name}-{secret_name}-external",
                    external_secret_manifest(secret_name, declaration, settings),
                    pulumi.ResourceOptions(parent=self),
                )
        self.register_outputs({"secrets": sorted(self.objects)})
