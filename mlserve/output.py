"""Write a mock run as reviewable files: one YAML per Kubernetes object, and resources.json.

Output is canonical, so the same inputs give the same bytes: keys sorted (apiVersion, kind, metadata first in
manifests), integral floats written as integers (values cross a protobuf Struct and come back as floats), secret
values replaced by ``[secret]`` (a secret mapping keeps its keys) and values unknown until deploy time by
``[unknown]``.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pulumi.output import Unknown

from components.cluster_guard import identity_note

from .mock_runtime import SECRET_MARK, SECRET_SIG, UNKNOWN, MockRun, Registration
from .output_dir import replace_owned_directory

SECRET_TEXT = "[secret]"
UNKNOWN_TEXT = "[unknown]"
MANIFEST_HEAD = ("apiVersion", "kind", "metadata")


def clean(value: Any) -> Any:
    """Canonical plain data: secrets masked, unknowns marked, integral floats as ints, mapping keys sorted."""
    if isinstance(value, dict):
        if value.get(SECRET_SIG) == SECRET_MARK:
            return masked(value.get("value"))
        return {k: clean(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [clean(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    # Unknowns arrive as the wire sentinel or, once deserialized with keep_unknowns, as pulumi's Unknown object.
    if isinstance(value, Unknown) or value == UNKNOWN:
        return UNKNOWN_TEXT
    return value


def masked(secret: Any) -> Any:
    """A secret's shape without its content: mapping keys stay (a Secret's keys are not secret, and the manifest
    keeps its schema), every value becomes ``[secret]``."""
    if isinstance(secret, dict) and secret.get(SECRET_SIG) != SECRET_MARK:
        return {k: masked(secret[k]) for k in sorted(secret)}
    return SECRET_TEXT


def is_kubernetes_object(reg: Registration) -> bool:
    inputs = reg.inputs
    return (
        reg.custom
        and reg.type.startswith("kubernetes:")
        and isinstance(inputs.get("apiVersion"), str)
        and isinstance(inputs.get("kind"), str)
        and isinstance(inputs.get("metadata"), dict)
    )


def manifest(reg: Registration) -> dict[str, Any]:
    obj = clean(reg.inputs)
    return {**{k: obj[k] for k in MANIFEST_HEAD}, **{k: v for k, v in obj.items() if k not in MANIFEST_HEAD}}


def manifest_file_name(obj: dict[str, Any]) -> str:
    meta = obj["metadata"]
    namespace = meta.get("namespace") or "_cluster"
    return f"{namespace}--{obj['kind'].lower()}--{meta['name']}.yaml"


class _Dumper(yaml.SafeDumper):
    pass


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def to_yaml(obj: Any) -> str:
    return yaml.dump(obj, Dumper=_Dumper, sort_keys=False, default_flow_style=False, width=1000, allow_unicode=True)


def resource_entry(reg: Registration, manifest_name: str | None = None) -> dict[str, Any]:
    """What only resources.json knows about a resource: URN, parent, provider, dependencies and options. A Kubernetes
    object's inputs are its manifest, so it names that file instead of repeating it (a new model's golden diff is
    its manifests); every other resource (cloud resources, image builds, Helm charts, providers) keeps its inputs."""
    entry: dict[str, Any] = {
        "urn": reg.urn,
        "type": reg.type,
        "name": reg.name,
        "parent": reg.parent,
        "custom": reg.custom,
    }
    if reg.provider:
        entry["provider"] = reg.provider
    if reg.dependencies:
        entry["dependencies"] = reg.dependencies
    if reg.options:
        entry["options"] = clean(reg.options)
    if manifest_name is not None:
        entry["manifest"] = f"manifests/{manifest_name}"
    else:
        entry["inputs"] = clean(reg.inputs)
    return entry


@dataclass(frozen=True)
class RenderSummary:
    out_dir: Path
    resources: int
    objects: Counter
    others: Counter = field(default_factory=Counter)
    """Resources outside Kubernetes (image builds, registry repositories, ...), by type."""
    notes: tuple[str, ...] = ()
    """What the render could not check offline (the cluster guard), said on the summary."""

    def lines(self, stack: str) -> list[str]:
        kinds = ", ".join(f"{count} {kind}" for kind, count in sorted(self.objects.items()))
        lines = [
            f"rendered stack '{stack}': {self.resources} resources, {sum(self.objects.values())} Kubernetes objects",
            f"  {kinds}",
        ]
        if self.others:
            lines.append("  and " + ", ".join(f"{count} {kind}" for kind, count in sorted(self.others.items())))
        lines.append(f"  -> {self.out_dir}/manifests/, {self.out_dir}/resources.json")
        lines.extend(f"  {note}" for note in self.notes)
        return lines


def exception_notes(env: Any) -> list[str]:
    """One line per tier rule a model waives in this stack (model_catalog/tier_rules.py), with its reason."""
    from model_catalog.tier_rules import exceptions_in_effect

    tier = env.settings.environment.tier
    return [
        f"policy exception: model '{model}' waives '{rule}': {reason}"
        for model, spec in env.models.items()
        for rule, reason in exceptions_in_effect(spec, tier)
    ]


def _outside_manifests(reg: Registration) -> bool:
    """Resources whose content is not in manifests/: cloud resources, image builds, and Helm charts (a chart is
    one resource offline; its objects are only known when Helm renders it at deploy time)."""
    if reg.type.startswith("kubernetes:helm.sh/"):
        return True
    return reg.custom and not reg.type.startswith(("kubernetes:", "pulumi:providers:"))


def write_render(
    run: MockRun,
    out_dir: Path,
    project_dir: Path | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> RenderSummary:
    """Write manifests/ and resources.json into ``out_dir``, replacing a previous render there (and nothing else:
    mlserve/output_dir.py); ``progress(written, total)`` after each file."""
    objects: dict[str, dict[str, Any]] = {}
    files: dict[str, str] = {}
    kinds: Counter = Counter()
    for reg in run.registrations:
        if is_kubernetes_object(reg):
            obj = manifest(reg)
            name = manifest_file_name(obj)
            if name in objects:
                raise RuntimeError(f"two objects render to {name}; object names must be unique per kind")
            objects[name] = obj
            files[reg.urn] = name
            kinds[obj["kind"]] += 1
    document = {
        "stack": run.stack,
        "outputs": clean(run.outputs),
        "resources": [resource_entry(reg, files.get(reg.urn)) for reg in run.registrations],
    }
    files = {f"manifests/{name}": to_yaml(objects[name]) for name in sorted(objects)}
    files["resources.json"] = json.dumps(document, indent=2, sort_keys=False) + "\n"
    replace_owned_directory(out_dir, files, project_dir, progress)
    others = Counter(reg.type for reg in run.registrations if _outside_manifests(reg))
    notes = (identity_note(run.environment.settings), *exception_notes(run.environment)) if run.environment else ()
    return RenderSummary(out_dir=out_dir, resources=len(run.registrations), objects=kinds, others=others, notes=notes)
