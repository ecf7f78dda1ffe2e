"""The repository's Dockerfiles, checked statically (no Docker daemon here): pinned bases, a non-root user, no
secrets in layers, a .dockerignore that lets only what the image needs reach the builder."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from components.build_context import context_files
from components.workload import RUN_AS_GROUP, RUN_AS_USER
from model_catalog.schema import SECRET_LIKE_ENV
from platform_data import pins
from platform_data.runtimes import MODEL_ROOT, RUNTIMES
from tests.helpers import ROOT, render_objects, run_catalog

DOCKERFILES = sorted(ROOT.glob("images/*/Dockerfile*"))
PINNED = {value for name, value in vars(pins).items() if name.isupper() and isinstance(value, str)}
#: Files that must never reach a builder (they would end up in the context hash, the build cache or a layer).
CREDENTIAL_FILES = re.compile(
    r"(^|/)(\.env(\..*)?|\.netrc|\.npmrc|\.pypirc|\.git-credentials|id_[a-z0-9]+|.*\.pem|.*\.key|credentials(\.json)?|\.aws/.*|\.docker/config\.json)$"
)


def instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) per Dockerfile instruction, continuation lines joined, comments dropped."""
    joined, pending = [], ""
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        joined.append(pending + line)
        pending = ""
    return [(keyword.upper(), rest.strip()) for keyword, _, rest in (line.partition(" ") for line in joined)]


def names_declared(path: Path) -> list[str]:
    """Names of every ARG and ENV variable."""
    names = []
    for keyword, args in instructions(path):
        if keyword == "ARG":
            names.append(args.split("=", 1)[0])
        elif keyword == "ENV":
            names += re.findall(r"([A-Za-z_][A-Za-z0-9_]*)=", args)
    return names


def test_the_repository_has_the_dockerfiles_the_catalog_builds():
    assert {p.parent.name for p in DOCKERFILES} >= {"churn-predictor", "tfserving-model"}


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.parent.name)
def test_every_base_image_is_a_digest_pinned_in_platform_data(dockerfile):
    stages: set[str] = set()
    for keyword, args in instructions(dockerfile):
        if keyword != "FROM":
            continue
        parts = [p for p in args.split() if not p.startswith("--")]
        image = parts[0]
        if image not in stages and image != "scratch":
            assert re.search(r"@sha256:[a-f0-9]{64}$", image), f"{image}: pin the base by digest"
            assert image in PINNED, f"{image}: pin it in platform_data/pins.py (with provenance) and use that value"
        if len(parts) == 3 and parts[1].lower() == "as":
            stages.add(parts[2])


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.parent.name)
def test_the_image_runs_as_the_pods_non_root_numeric_user(dockerfile):
    users = [args for keyword, args in instructions(dockerfile) if keyword == "USER"]
    assert users, "no USER: the image would run as root"
    # Numeric, so Kubernetes can verify runAsNonRoot without reading /etc/passwd; the pod's own uid/gid.
    assert users[-1] == f"{RUN_AS_USER}:{RUN_AS_GROUP}"


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.parent.name)
def test_no_build_argument_or_environment_variable_is_named_like_a_secret(dockerfile):
    # ARG and ENV values are stored in the image's history and config, readable by anyone who can pull it.
    # Secrets belong in `RUN --mount=type=secret` (BuildKit), which never reaches a layer.
    words = ("PASSWORD", "TOKEN", "SECRET", "API_KEY", "ACCESS_KEY", "PRIVATE_KEY", "CREDENTIAL")
    for name in names_declared(dockerfile):
        assert not name.upper().endswith(SECRET_LIKE_ENV) and not any(w in name.upper() for w in words), name


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.parent.name)
def test_files_come_from_the_context_owned_by_root_with_explicit_modes(dockerfile):
    for keyword, args in instructions(dockerfile):
        # ADD fetches URLs and unpacks archives implicitly: not what a reviewed, content-addressed context wants.
        assert keyword != "ADD", f"use COPY: {args}"
        if keyword == "COPY" and "--from=" not in args:
            # Root-owned so the server cannot modify its own code or model; explicit modes so the image does not
            # depend on the umask of the machine that checked the repository out.
            assert "--chown=root:root" in args and re.search(r"--chmod=0?[0-5]{3}\b", args), args


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.parent.name)
def test_a_dockerignore_admits_only_what_the_image_needs(dockerfile):
    ignore = dockerfile.parent / ".dockerignore"
    assert ignore.is_file()
    rules = [line.strip() for line in ignore.read_text().splitlines() if line.strip() and not line.startswith("#")]
    assert rules[0] == "*", "allow-list: exclude everything first, then re-include ('!file') what the image needs"


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.parent.name)
def test_credential_files_never_reach_the_builder(dockerfile, tmp_path):
    context = tmp_path / "context"
    shutil.copytree(dockerfile.parent, context)
    planted = [".env", ".netrc", "id_ed25519", "tls.key", ".aws/credentials", ".docker/config.json"]
    for name in planted:
        (context / name).parent.mkdir(parents=True, exist_ok=True)
        (context / name).write_text("secret\n")
    sent = context_files(context)
    assert [f for f in sent if CREDENTIAL_FILES.search(f)] == []


def test_the_tf_serving_image_puts_the_saved_model_where_the_runtime_serves_it():
    (copy,) = [a for k, a in instructions(ROOT / "images/tfserving-model/Dockerfile") if k == "COPY"]
    destination = copy.split()[-1].rstrip("/")
    assert destination == f"{MODEL_ROOT}/${{MODEL_NAME}}"
    assert "--model_base_path={model_dir}" in RUNTIMES["tensorflow-serving"].args


def test_a_baked_tf_serving_model_builds_from_the_packaging_context_and_runs_without_a_fetcher(tmp_path):
    project = tmp_path / "project"
    shutil.copytree(ROOT / "images/tfserving-model", project / "images/tfserving-model")
    version = project / "images/tfserving-model/model/1"
    version.mkdir(parents=True)
    (version / "saved_model.pb").write_bytes(b"\x08\x01")  # the build context only, never parsed here
    catalog = """
    models:
      resnet50-baked:
        runtime: tensorflow-serving
        image:
          build:
            context: images/tfserving-model
            args: {MODEL_NAME: resnet50-baked}
        weights: {baked: true}
        resources: {cpu: "2", memory: 4Gi}
    """
    run = run_catalog(tmp_path, catalog, project_dir=project)
    pod = render_objects(run)[("Deployment", "resnet50-baked")]["spec"]["template"]["spec"]
    assert pod["containers"][0]["image"].startswith("ml-serving.local/resnet50-baked:ctx-")
    assert "--model_base_path=/models/resnet50-baked" in pod["containers"][0]["args"]
    assert "initContainers" not in pod
