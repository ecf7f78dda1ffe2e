"""What a stack protects from accidental deletion (docs/protection.md lists it per tier).

- prod: every Namespace is ``protect``ed (a rename or a removed feature fails the preview instead of deleting the
  namespace and all it holds); the models' and the monitoring namespace are also ``retainOnDelete`` (the models'
  Secrets, Prometheus' volumes survive even a deliberate removal from the program or a `destroy`).
- every tier: a Helm chart that installs CRDs is ``retainOnDelete`` (deleting a CRD deletes every object of that
  kind in the cluster, other stacks' included); in prod it is protected too.
- the ECR repositories (components/registry.py) are protected and retained in prod.
"""

from __future__ import annotations

from typing import Any

from model_catalog.settings import StackSettings


def is_prod(settings: StackSettings) -> bool:
    return settings.environment.tier == "prod"


def namespace_protection(settings: StackSettings, *, stateful: bool) -> dict[str, Any]:
    """ResourceOptions fields of a Namespace the stack creates; ``stateful``: it holds data (volumes, Secrets
    created outside the stack) that must survive the namespace's removal from the program."""
    prod = is_prod(settings)
    return {"protect": prod, "retain_on_delete": prod and stateful}


def crd_chart_protection(settings: StackSettings) -> dict[str, Any]:
    """ResourceOptions fields of a chart that installs CRDs: never deleted with the stack; protected in prod."""
    return {"protect": is_prod(settings), "retain_on_delete": True}
