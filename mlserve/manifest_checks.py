"""Offline checks of rendered manifests: strict schema validation and checkov.

- Built-in kinds: ``kubernetes-validate --strict`` schemas, for every Kubernetes minor the platform supports.
- Custom resources: the upstream CRDs (mlserve/crds.py: $ML_SERVING_CRD_DIR, ../shared/crds or `make crds`). Their OpenAPI schemas leave
  objects open (the API server prunes unknown fields); here every object without
  ``x-kubernetes-preserve-unknown-fields`` is closed, so a misspelt field is an error, as with kubeconform -strict.
  CEL rules (x-kubernetes-validations) are not evaluated offline.
- checkov ``--framework kubernetes``, from its own virtualenv (its pins conflict with pulumi's).
"""

from __future__ import annotations

import copy
import json
import os
import re
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from model_catalog.kubernetes_names import annotation_errors, cidr_errors, dns1123_subdomain_errors, label_errors
from platform_data.versions import SUPPORTED_KUBERNETES_MINORS

from .crds import crd_dir

PROJECT_DIR = Path(__file__).resolve().parent.parent


#: libyaml's parser where PyYAML has it (bundled with its wheels): the same safe constructor as `yaml.safe_load`,
#: so the same data, read several times faster (the CRDs alone are several MB of YAML, which the pure-Python parser
#: takes seconds to read); the pure-Python parser elsewhere.
YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_manifest(path: Path) -> Any:
    """A rendered manifest file (one YAML document) as data."""
    return yaml.load(path.read_text(encoding="utf-8"), Loader=YAML_LOADER)


def _close_objects(schema: Any) -> Any:
    """Deep copy of an OpenAPI v3 schema in which objects reject unknown properties, and int-or-string works."""
    if isinstance(schema, list):
        return [_close_objects(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: _close_objects(v) for k, v in schema.items()}
    if out.pop("x-kubernetes-int-or-string", False):
        out.pop("type", None)
        out["anyOf"] = [{"type": "integer"}, {"type": "string"}]
    closable = out.get("type") == "object" and "properties" in out and "additionalProperties" not in out
    if closable and not out.get("x-kubernetes-preserve-unknown-fields"):
        out["additionalProperties"] = False
    if out.pop("nullable", False) and "type" in out:
        out["type"] = [out["type"], "null"]
    return out


@cache
def crd_schemas(directory: Path) -> dict[tuple[str, str], dict[str, Any]]:
    """(apiVersion, kind) -> strict JSON Schema, for every served version of every CRD in ``directory``."""
    schemas: dict[tuple[str, str], dict[str, Any]] = {}
    for path in sorted(directory.glob("*.yaml")):
        for doc in yaml.load_all(path.read_text(encoding="utf-8"), Loader=YAML_LOADER):
            if not doc or doc.get("kind") != "CustomResourceDefinition":
                continue
            spec = doc["spec"]
            for version in spec["versions"]:
                if not version.get("served", True):
                    continue
                schema = copy.deepcopy(version["schema"]["openAPIV3Schema"])
                props = schema.setdefault("properties", {})
                # apiVersion/kind/metadata are the API machinery's; the CRD leaves metadata open.
                props["metadata"] = {"type": "object"}
                schemas[(f"{spec['group']}/{version['name']}", spec["names"]["kind"])] = _close_objects(schema)
    return schemas


def validate_custom_resource(obj: dict[str, Any], directory: Path) -> list[str]:
    schemas = crd_schemas(directory)
    schema = schemas.get((obj.get("apiVersion", ""), obj.get("kind", "")))
    if schema is None:
        return [f"no CRD schema for {obj.get('apiVersion')} {obj.get('kind')} in {directory}"]
    validator = jsonschema.Draft202012Validator(schema)
    return [
        f"{'.'.join(map(str, error.absolute_path)) or '<root>'}: {error.message}"
        for error in sorted(validator.iter_errors(obj), key=lambda e: list(map(str, e.absolute_path)))
    ]


def _metadata_blocks(obj: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    blocks = [("metadata", obj.get("metadata") or {})]
    spec = obj.get("spec") if isinstance(obj.get("spec"), dict) else {}
    template = spec.get("template") if isinstance(spec.get("template"), dict) else {}
    if isinstance(template.get("metadata"), dict):
        blocks.append(("spec.template.metadata", template["metadata"]))
    return blocks


def _cidrs(value: Any, path: str) -> list[tuple[str, str]]:
    """Every ``ipBlock`` CIDR (and its ``except`` entries) anywhere in a NetworkPolicy."""
    found: list[tuple[str, str]] = []
    if isinstance(value, dict):
        block = value.get("ipBlock")
        if isinstance(block, dict):
            found.append((f"{path}.ipBlock.cidr", str(block.get("cidr"))))
            found += [(f"{path}.ipBlock.except[{i}]", str(c)) for i, c in enumerate(block.get("except") or [])]
        for key, item in value.items():
            if key != "ipBlock":
                found += _cidrs(item, f"{path}.{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found += _cidrs(item, f"{path}[{i}]")
    return found


#: Kinds whose names the API server checks as DNS labels (at most 63 characters), not DNS subdomains (253).
DNS1035_LABEL_KINDS = ("Service",)
DNS1123_LABEL_KINDS = ("Namespace",)
#: A Deployment's pods are named <deployment>-<pod-template-hash, up to 10>-<5 random>; a pod's hostname is its
#: name, a DNS label of at most 63 characters (longer names are truncated, so pods of two models could collide).
POD_NAME_SUFFIX = 1 + 10 + 1 + 5


def name_errors(obj: dict[str, Any]) -> list[str]:
    """Object, container, volume and port names within the API server's limits."""
    kind, name = obj.get("kind"), str((obj.get("metadata") or {}).get("name", ""))
    errors = [f"metadata.name: '{name}' {e}" for e in dns1123_subdomain_errors(name)]
    if kind in DNS1035_LABEL_KINDS + DNS1123_LABEL_KINDS and len(name) > 63:
        errors.append(f"metadata.name: '{name}' must be no more than 63 characters (a {kind} name is a DNS label)")
    spec = obj.get("spec") if isinstance(obj.get("spec"), dict) else {}
    pod = (spec.get("template") or {}).get("spec") if isinstance(spec.get("template"), dict) else None
    if kind == "Deployment" and len(name) + POD_NAME_SUFFIX > 63:
        errors.append(f"metadata.name: '{name}' leaves its pods' names longer than a 63-character hostname")
    if isinstance(pod, dict):
        containers = [*(pod.get("initContainers") or []), *(pod.get("containers") or [])]
        for c in containers:
            cname = str(c.get("name", ""))
            if len(cname) > 63:
                errors.append(f"container '{cname}': a container name is a DNS label of at most 63 characters")
            for port in c.get("ports") or []:
                if "name" in port and len(str(port["name"])) > 15:
                    errors.append(f"container '{cname}' port '{port['name']}': port names have at most 15 characters")
        for volume in pod.get("volumes") or []:
            if len(str(volume.get("name", ""))) > 63:
                errors.append(f"volume '{volume.get('name')}': a volume name is a DNS label of at most 63 characters")
    return errors


def api_server_rules(obj: dict[str, Any]) -> list[str]:
    """What the API server checks beyond the OpenAPI schema, for the fields we render: label keys and values,
    annotation keys and size, NetworkPolicy CIDRs (model_catalog/kubernetes_names.py)."""
    errors: list[str] = []
    for where, meta in _metadata_blocks(obj):
        errors += [f"{where}.labels: {e}" for e in label_errors(meta.get("labels") or {})]
        errors += [f"{where}.annotations: {e}" for e in annotation_errors(meta.get("annotations") or {})]
    errors += name_errors(obj)
    if obj.get("kind") == "NetworkPolicy":
        errors += [
            f"{where}: '{cidr}' {e}" for where, cidr in _cidrs(obj.get("spec"), "spec") for e in cidr_errors(cidr)
        ]
    return errors


@cache
def _definitions(schema_dir: str) -> Any:
    """The shared ``_definitions.json`` of one of kubernetes-validate's schema directories, as a registry resource.
    Parsed once per process: the file is 1.4 MB, and `kubernetes_validate.validate` parses it again for every object
    and minor (most of a whole check's time)."""
    from kubernetes_validate.utils import schema_contents
    from referencing import Resource

    return Resource.from_contents(schema_contents(f"kubernetes-json-schema/{schema_dir}/_definitions.json", schema_dir))


@cache
def _builtin_validator(minor: str, api_version: str, kind: str) -> tuple[Any, str]:
    """The strict validator `kubernetes_validate.validate(obj, f"{minor}.0", strict=True)` builds for an object of
    this apiVersion and kind (the same schema files, registry and draft), built once per process and reused.
    Returns it with the minor of the schemas it uses; raises SchemaNotFoundError for kinds kubernetes-validate has
    no schema of (custom resources)."""
    from kubernetes_validate.utils import (
        SchemaNotFoundError,
        VersionNotSupportedError,
        all_versions,
        latest_version,
        major_minor,
        schema_contents,
    )
    from referencing import Registry, Resource

    desired = f"{minor}.0"
    if major_minor(desired) > latest_version():
        raise VersionNotSupportedError(version=major_minor(desired))
    version = [v for v in all_versions() if major_minor(v) <= major_minor(desired)][-1]
    group_version = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    schema_dir = f"v{version}-local-strict"
    try:
        schema = schema_contents(f"kubernetes-json-schema/{schema_dir}/{kind.lower()}-{group_version}.json", desired)
    except FileNotFoundError:
        raise SchemaNotFoundError(version=major_minor(desired), kind=kind, api_version=api_version) from None
    registry = _definitions(schema_dir) @ (Resource.from_contents(schema) @ Registry())
    return jsonschema.Draft202012Validator(schema, registry=registry), major_minor(version)


def validate_builtin(obj: dict[str, Any], minor: str) -> None:
    """Strict validation of a built-in object for Kubernetes ``minor``, as `kubernetes_validate.validate` does it
    (raises its SchemaNotFoundError and ValidationError), with the schemas parsed and the validator built once per
    process instead of once per call."""
    from kubernetes_validate import ValidationError

    validator, version = _builtin_validator(minor, obj["apiVersion"], obj["kind"])
    try:
        validator.validate(obj)
    except jsonschema.ValidationError as exc:
        raise ValidationError(exc, version=version) from None


@dataclass
class SchemaReport:
    checked: int = 0
    """Objects checked: built-in kinds against Kubernetes' schemas, custom resources against their CRDs."""
    custom: int = 0
    """Of those, custom resources checked against their CRD."""
    unchecked_custom: list[str] = field(default_factory=list)
    """Custom resources not checked because there is no CRD directory (files)."""
    errors: list[str] = field(default_factory=list)


def validate_manifests(
    manifest_dir: Path,
    minors: tuple[str, ...] = SUPPORTED_KUBERNETES_MINORS,
    progress: Callable[[int, int], None] | None = None,
) -> SchemaReport:
    """Every manifest file against its schema: built-in kinds for each minor, custom resources against their CRD
    (when the CRD directory exists; otherwise they are listed in ``unchecked_custom``). ``progress(done, total)``
    is called after each file."""
    import kubernetes_validate
    from kubernetes_validate.utils import SchemaNotFoundError

    report = SchemaReport()
    directory = crd_dir()
    have_crds = directory is not None
    paths = sorted(manifest_dir.glob("*.yaml"))
    for done, path in enumerate(paths, start=1):
        obj = load_manifest(path)  # whole: secrets are masked value by value
        report.errors += [f"{path.name} (Kubernetes API rules): {e}" for e in api_server_rules(obj)]
        for minor in minors:
            try:
                validate_builtin(obj, minor)
            except SchemaNotFoundError:
                if have_crds:
                    report.custom += 1
                    report.errors += [f"{path.name}: {e}" for e in validate_custom_resource(obj, directory)]
                else:
                    report.unchecked_custom.append(path.name)
                break
            except kubernetes_validate.ValidationError as exc:
                where = ".".join(map(str, exc.absolute_path)) or "<root>"
                report.errors.append(f"{path.name} (Kubernetes {minor}): {where}: {exc.message}")
        report.checked = done - len(report.unchecked_custom)
        if progress is not None:
            progress(done, len(paths))
    return report


@dataclass
class CheckovReport:
    passed: int
    failed: list[str]
    skipped: list[str]
    unknown: list[str] = field(default_factory=list)
    """Failed checks that only read a value the render cannot know (see UNKNOWN_IMAGE_CHECKS)."""


#: Checks that judge a container's image reference. When the render shows that reference as unknown (an image
#: pinned by the digest its push reports, components/model_image.py), checkov judges the placeholder, not the
#: image: such a result is reported as not evaluable offline instead of failing (as Pulumi policy packs downgrade a
#: mandatory policy that reads an unknown value at preview).
UNKNOWN_IMAGE_CHECKS = ("CKV_K8S_14", "CKV_K8S_15", "CKV_K8S_43")
UNKNOWN_TEXT = "[unknown]"


def _has_unknown_image(path: Path) -> bool:
    if not path.is_file():
        return False
    obj = load_manifest(path) or {}
    spec = obj.get("spec", {})
    pod = spec.get("template", {}).get("spec", spec) if isinstance(spec, dict) else {}
    containers = [*pod.get("containers", []), *pod.get("initContainers", [])]
    return any(c.get("image") == UNKNOWN_TEXT for c in containers)


def run_checkov(manifest_dir: Path, checkov: Path) -> CheckovReport:
    """checkov --framework kubernetes over the manifests, offline; failed and skipped checks listed by object."""
    env = {**os.environ, "BC_SKIP_MAPPING": "TRUE", "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": "false"}
    result = subprocess.run(
        [str(checkov), "--framework", "kubernetes", "-d", str(manifest_dir), "-o", "json", "--skip-download"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if result.returncode not in (0, 1):
        raise RuntimeError(f"checkov failed to run (exit {result.returncode}):\n{result.stderr[-2000:]}")
    data = json.loads(result.stdout or "{}")
    reports = data if isinstance(data, list) else [data]
    failed, skipped, unknown, passed = [], [], [], 0
    for report in reports:
        results = report.get("results", {})
        passed += report.get("summary", {}).get("passed", 0)
        failed += [f"parsing error: {path}" for path in results.get("parsing_errors", [])]
        for check in results.get("failed_checks", []):
            line = f"{check['check_id']} {check['resource']}: {check['check_name']}"
            source = manifest_dir / str(check.get("file_path", "")).lstrip("/")
            if check["check_id"] in UNKNOWN_IMAGE_CHECKS and _has_unknown_image(source):
                unknown.append(line + " (image known only after the push)")
            else:
                failed.append(line)
        for check in results.get("skipped_checks", []):
            skipped.append(
                f"{check['check_id']} {check['resource']}: {check['check_result'].get('suppress_comment', '')}"
            )
    return CheckovReport(passed=passed, failed=sorted(failed), skipped=sorted(skipped), unknown=sorted(unknown))
