"""``mlserve --version``: this project's version and the versions it pins (Pulumi, its Kubernetes provider,
the Kubernetes minors the manifests are validated for and each stack's cluster version)."""

from __future__ import annotations

import re
import tomllib
from importlib import metadata
from pathlib import Path

import yaml

from platform_data.versions import SUPPORTED_KUBERNETES_MINORS

from .cli import PACKAGE_PROJECT_DIR, find_project_dir

DISTRIBUTION = "ml-serving"
PINNED = ("pulumi", "pulumi-kubernetes")


def project_version() -> str:
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        data = tomllib.loads((PACKAGE_PROJECT_DIR / "pyproject.toml").read_text(encoding="utf-8"))
        return data["project"]["version"]


def requirement_pins(requirements: Path) -> dict[str, str]:
    """name -> version of every ``name==version`` line (names normalised: lower case, ``_`` -> ``-``)."""
    if not requirements.is_file():
        return {}
    pins = {}
    for line in requirements.read_text(encoding="utf-8").splitlines():
        match = re.match(r"^([A-Za-z0-9_.-]+)==([^\s;#]+)", line.strip())
        if match:
            pins[match.group(1).lower().replace("_", "-")] = match.group(2)
    return pins


def stack_kubernetes_versions(project_dir: Path) -> dict[str, str]:
    """stack -> ml-serving:cluster.kubernetesVersion, for every readable stack file that sets it."""
    versions = {}
    for path in sorted(project_dir.glob("Pulumi.*.yaml")):
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            version = data["config"]["ml-serving:cluster"]["kubernetesVersion"]
        except (OSError, yaml.YAMLError, KeyError, TypeError):
            continue
        versions[path.name[len("Pulumi.") : -len(".yaml")]] = str(version)
    return versions


def version_lines() -> list[str]:
    pins = requirement_pins(PACKAGE_PROJECT_DIR / "requirements.txt")
    lines = [f"mlserve {project_version()}"]
    for name in PINNED:
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            installed = "not installed"
        pinned = pins.get(name)
        note = "" if pinned in (None, installed) else f" (requirements.txt pins {pinned}: reinstall with `make venv`)"
        lines.append(f"{name} {installed}{note}")
    minors = SUPPORTED_KUBERNETES_MINORS
    lines.append(f"Kubernetes {minors[0]}-{minors[-1]} (manifests validated for {', '.join(minors)})")
    stacks = stack_kubernetes_versions(find_project_dir())
    if stacks:
        lines.append("  stack clusters: " + ", ".join(f"{s} {v}" for s, v in stacks.items()))
    return lines
