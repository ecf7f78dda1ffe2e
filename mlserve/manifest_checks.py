"""Offline checks of rendered manifests: strict schema validation and checkov.

- Built-in kinds: ``kubernetes-validate --strict`` schemas, for every Kubernetes minor the platform supports.
- Custom resources: the upstream CRDs in ``../shared/crds`` (or $ML_SERVING_CRD_DIR). Their OpenAPI schemas leave
  objects open (the API server prunes unknown fields); here every object without
  ``x-kubernetes-preserve-unknown-fields`` is closed, so a misspelt field is an error, as with kubeconform -strict.
  CEL rules (x-kubernetes-validations) are not evaluated offline.
- checkov ``--framework kubernetes``, from its own virtualenv (its pins conflict with pulumi's).
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from platform_data.versions import SUPPORTED_KUBERNETES_MINORS

PROJECT_DIR = Path(__file__).resolve().parent.parent
CRD_DIR_ENV = "ML_SERVING_CRD_DIR"


def crd_dir() -> Path:
    return Path(os.environ.get(CRD_DIR_ENV, PROJECT_DIR.parent / "shared" / "crds"))


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
        for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")):
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


#: What the render writes for values that exist only at deploy time (mlserve/output.py).
DEPLOY_TIME_PLACEHOLDERS = ("[secret]", "[unknown]")


def without_deploy_time_fields(obj: dict[str, Any]) -> dict[str, Any]:
    """The object without top-level fields the render could only mark as secret or unknown (e.g. a Secret's
    stringData holding a generated password): their shape is checked by the builders' tests, not here."""
    return {k: v for k, v in obj.items() if not (isinstance(v, str) and v in DEPLOY_TIME_PLACEHOLDERS)}


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
    have_crds = directory.is_dir()
    paths = sorted(manifest_dir.glob("*.yaml"))
    for done, path in enumerate(paths, start=1):
        obj = without_deploy_time_fields(yaml.safe_load(path.read_text(encoding="utf-8")))
        for minor in minors:
            try:
                kubernetes_validate.validate(obj, f"{minor}.0", strict=True)
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
    obj = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
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
