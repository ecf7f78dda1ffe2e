"""Server-side dry-run of every rendered manifest against a real API server (the e2e control plane).

For each stack: render it offline (the same render as ``make render``), install the CRDs of ../shared/crds, create
its namespaces for real (with their Pod Security labels, so admission judges the workloads as it would in the
cluster), then ``kubectl apply --server-side --dry-run=server`` every other object. The API server runs its full
admission chain (defaulting, validation, CRD schemas and CEL rules, Pod Security) without persisting anything.
Secret values the render masks (``[secret]``) are replaced by a placeholder map first, and counted.
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .manifest_checks import crd_dir, load_manifest
from .render import render

FIELD_MANAGER = "ml-serving-e2e"
MASKED = "[secret]"
PLACEHOLDER = {"masked-by-render": "placeholder"}
POD_SECURITY = re.compile(r"PodSecurity", re.IGNORECASE)
TIMEOUT_SECONDS = 300


@dataclass
class DryRunResult:
    stack: str
    objects: int = 0
    accepted: int = 0
    masked_secrets: int = 0
    created_namespaces: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    pod_security_warnings: list[str] = field(default_factory=list)
    other_warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors and not self.pod_security_warnings and self.accepted == self.objects

    def line(self) -> str:
        return (
            f"dry-run {self.stack}: {self.accepted}/{self.objects} objects accepted, {len(self.errors)} errors, "
            f"{len(self.pod_security_warnings)} Pod Security warnings, {len(self.other_warnings)} other warnings "
            f"({self.masked_secrets} masked secret values replaced by a placeholder)"
        )


class Kubectl:
    def __init__(self, binary: str, kubeconfig: str):
        self.binary = binary
        self.env = {**os.environ, "KUBECONFIG": kubeconfig}

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            [self.binary, *args], env=self.env, capture_output=True, text=True, timeout=TIMEOUT_SECONDS, check=False
        )
        if check and proc.returncode != 0:
            raise RuntimeError(f"kubectl {' '.join(args)} failed ({proc.returncode}):\n{proc.stderr.strip()}")
        return proc


def install_crds(kubectl: Kubectl) -> int:
    """Apply the CRDs for real and wait until the API server serves them."""
    files = sorted(crd_dir().glob("*.yaml"))
    for f in files:
        kubectl.run("apply", "--server-side", "--force-conflicts", f"--field-manager={FIELD_MANAGER}", "-f", str(f))
    kubectl.run("wait", "--for=condition=Established", "--timeout=60s", "crd", "--all")
    return len(files)


def _unmask(doc: dict) -> int:
    """Replace masked Secret payloads with a placeholder map; return how many were replaced."""
    replaced = 0
    if doc.get("kind") == "Secret":
        for key in ("data", "stringData"):
            if doc.get(key) == MASKED:
                doc[key] = dict(PLACEHOLDER)
                replaced += 1
    return replaced


def dry_run_stack(kubectl: Kubectl, project_dir: Path, stack: str, out: Path) -> DryRunResult:
    result = DryRunResult(stack)
    render(project_dir, stack, out)
    docs = [load_manifest(p) for p in sorted((out / "manifests").glob("*.yaml"))]
    namespaces = [d for d in docs if d["kind"] == "Namespace"]
    others = [d for d in docs if d["kind"] != "Namespace"]
    result.objects = len(docs)
    # Namespaces for real: objects in them can only be admitted (and judged by Pod Security) once they exist.
    with tempfile.TemporaryDirectory() as tmp:
        _apply(kubectl, Path(tmp) / "namespaces.yaml", namespaces, "--force-conflicts", result)
        declared = {d["metadata"]["name"] for d in namespaces}
        used = sorted({d["metadata"]["namespace"] for d in others if d["metadata"].get("namespace")} - declared)
        for name in used:
            if kubectl.run("get", "namespace", name, check=False).returncode != 0:
                kubectl.run("create", "namespace", name)
                result.created_namespaces.append(name)
        for doc in others:
            result.masked_secrets += _unmask(doc)
        _apply(kubectl, Path(tmp) / "objects.yaml", others, "--dry-run=server", result)
    return result


def _apply(kubectl: Kubectl, path: Path, docs: list[dict], mode: str, result: DryRunResult) -> None:
    """Server-side apply of ``docs`` (written to ``path``) with ``mode`` (``--force-conflicts`` or
    ``--dry-run=server``); what the API server says goes into ``result``."""
    path.write_text(yaml.safe_dump_all(docs, sort_keys=True))
    proc = kubectl.run("apply", "--server-side", mode, f"--field-manager={FIELD_MANAGER}", "-f", str(path), check=False)
    _collect(proc, result)


def _collect(proc: subprocess.CompletedProcess[str], result: DryRunResult) -> None:
    result.accepted += sum(1 for line in proc.stdout.splitlines() if "serverside-applied" in line)
    for line in proc.stderr.splitlines():
        if not line.strip():
            continue
        if line.startswith("Warning:"):
            (result.pod_security_warnings if POD_SECURITY.search(line) else result.other_warnings).append(line)
        else:
            result.errors.append(line)
    if proc.returncode != 0 and not result.errors:
        result.errors.append(f"kubectl exited {proc.returncode} without a message")


def dry_run(
    project_dir: Path, stacks: list[str], kubectl_binary: str, kubeconfig: str, out_root: Path
) -> list[DryRunResult]:
    kubectl = Kubectl(kubectl_binary, kubeconfig)
    install_crds(kubectl)
    return [dry_run_stack(kubectl, project_dir, stack, out_root / stack) for stack in stacks]
