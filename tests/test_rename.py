"""A model renamed with `renamedFrom` keeps its Pulumi identity: every resource of the renamed model resolves, through
its aliases, to exactly the URN it had under the old name, so `pulumi preview` shows renames, not delete + create."""

from __future__ import annotations

import pytest

from mlserve.render import run_stack
from tests.helpers import ROOT, problems

STACK_TYPE = "pulumi:pulumi:Stack"


def urn(stack: str, parent: str | None, type_: str, name: str) -> str:
    """A URN as the engine builds it: the parent's type chain (not its name) qualifies the type."""
    if parent:
        parent_type = parent.split("::")[2]
        if parent_type != STACK_TYPE:
            type_ = f"{parent_type}${type_}"
    return f"urn:pulumi:{stack}::ml-serving::{type_}::{name}"


def alias_urns(registrations) -> dict[str, list[str]]:
    """Each resource's alias URNs as the engine resolves them: its own alias specs (name, type and parent default to
    the resource's), plus the aliases it inherits from an aliased parent when its name starts with the parent's
    (the engine's child-alias rule: `<parent>-deployment` was `<old parent>-deployment`)."""
    by_urn = {r.urn: r for r in registrations}
    resolved: dict[str, list[str]] = {}
    for r in registrations:  # sorted by URN: a parent's URN is a prefix-free sibling, so resolve lazily below
        resolved[r.urn] = []

    def resolve(r) -> list[str]:
        if resolved[r.urn]:
            return resolved[r.urn]
        stack = r.urn.split("::")[0].split(":")[-1]
        out = []
        for alias in r.options.get("aliases", []):
            spec = alias.get("spec", {})
            parent = spec.get("parentUrn") or r.parent
            out.append(urn(stack, parent, spec.get("type", r.type), spec.get("name", r.name)))
        parent = by_urn.get(r.parent or "")
        if parent is not None and r.name.startswith(parent.name):
            for parent_alias in resolve(parent):
                old_parent_name = parent_alias.rsplit("::", 1)[1]
                out.append(urn(stack, parent_alias, r.type, old_parent_name + r.name[len(parent.name) :]))
        resolved[r.urn] = out
        return out

    return {r.urn: resolve(r) for r in registrations}


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_a_renamed_models_resources_alias_exactly_their_old_urns(stack, tmp_path):
    text = (ROOT / "models.yaml").read_text(encoding="utf-8")
    renamed = text.replace("  resnet50:\n", "  image-tagger:\n    renamedFrom: resnet50\n", 1)
    catalog = tmp_path / "models.yaml"
    catalog.write_text(renamed, encoding="utf-8")
    before = run_stack(ROOT, stack)
    after = run_stack(ROOT, stack, str(catalog))

    def of_model(run, model):
        return {r.urn for r in run.registrations if r.name == model or r.name.startswith(f"{model}-")}

    old = of_model(before, "resnet50")
    new = of_model(after, "image-tagger")
    assert len(old) == len(new) >= 10
    aliases = alias_urns(after.registrations)
    assert all(len(aliases[u]) == 1 for u in new), {u: aliases[u] for u in new if len(aliases[u]) != 1}
    assert {aliases[u][0] for u in new} == old
    # Nothing else is aliased; everything else keeps its URN.
    others = {r.urn for r in after.registrations} - new
    assert all(aliases[u] == [] for u in others)
    assert others == {r.urn for r in before.registrations} - old


def test_renamed_from_must_not_name_a_current_model():
    found = problems(
        """
        version: 1
        models:
          a:
            runtime: tensorflow-serving
            weights: {uri: "s3://bucket/a/", sizeGiB: 1}
            resources: {cpu: "1", memory: 1Gi}
          b:
            renamedFrom: a
            runtime: tensorflow-serving
            weights: {uri: "s3://bucket/b/", sizeGiB: 1}
            resources: {cpu: "1", memory: 1Gi}
        """
    )
    assert found == [
        "models.yaml:8:18: models.b.renamedFrom: 'a' is still a model of this catalog; renamedFrom names a model's "
        "previous name, which no current model may use (its resources would be claimed twice)"
    ]
