"""`make dev-images`: build the dev stack's images into the local Docker daemon and load them into its kind cluster.

The dev stack pushes nothing (registry none): its Deployments run ``ml-serving.local/<model>:ctx-<digest>``, which no
registry serves, so a kind node can run it only once it is loaded. This computes exactly the references the program
renders (same content-addressed tag, components/build_context.py) and runs, per built model, ``docker build`` with
the catalog's Dockerfile, args, target and platform, then ``kind load docker-image`` into the cluster the stack's
context names (``kind-<cluster>``). Needs Docker and kind; ``--dry-run`` prints the commands instead.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from components.build_context import content_tag
from components.registry import LOCAL_REGISTRY
from mlserve.cli import EnvironmentProblemError
from model_catalog.environment import Environment
from model_catalog.errors import ConfigurationError, Problem
from model_catalog.settings import stack_file_name

KIND_CONTEXT_PREFIX = "kind-"


def kind_cluster(env: Environment) -> str:
    """The kind cluster the stack deploys to: its context without the ``kind-`` prefix kind gives it."""
    context = env.settings.cluster.context
    if env.settings.registry.type != "none" or context is None or not context.startswith(KIND_CONTEXT_PREFIX):
        raise ConfigurationError(
            [
                Problem(
                    stack_file_name(env.stack),
                    1,
                    1,
                    "ml-serving:cluster.context",
                    f"dev-images loads images into a kind cluster: stack '{env.stack}' needs registry type 'none' and "
                    f"a kind context 'kind-<cluster>' (got registry '{env.settings.registry.type}', context "
                    f"'{context}')",
                )
            ]
        )
    return context[len(KIND_CONTEXT_PREFIX) :]


def image_commands(env: Environment) -> list[list[str]]:
    """``docker build`` and ``kind load`` per built model, in model order."""
    cluster = kind_cluster(env)
    commands: list[list[str]] = []
    for model, spec in env.models.items():
        build = spec.image.build if spec.image is not None else None
        if build is None:
            continue
        ref = f"{LOCAL_REGISTRY}/{model}:{content_tag(env.project_dir, build)}"
        docker = ["docker", "build", "--tag", ref, "--file", f"{build.context}/{build.dockerfile}"]
        for key, value in sorted(build.args.items()):
            docker += ["--build-arg", f"{key}={value}"]
        if build.target:
            docker += ["--target", build.target]
        if build.platform:
            docker += ["--platform", build.platform]
        commands.append([*docker, build.context])
        commands.append(["kind", "load", "docker-image", ref, "--name", cluster])
    return commands


def run(env: Environment, dry_run: bool) -> int:
    """Run (or print) the commands from the project directory; 1 when a command fails, EnvironmentProblemError (exit
    3) when docker or kind is missing."""
    commands = image_commands(env)
    if not commands:
        print(f"stack '{env.stack}' builds no image")
        return 0
    if dry_run:
        print("\n".join(" ".join(command) for command in commands))
        return 0
    missing = sorted({c[0] for c in commands if shutil.which(c[0]) is None})
    if missing:
        raise EnvironmentProblemError(f"needs {' and '.join(missing)} on PATH (docs/dev.md); nothing was built")
    for command in commands:
        print("+ " + " ".join(command), flush=True)
        if subprocess.run(command, cwd=Path(env.project_dir), check=False).returncode != 0:
            return 1
    return 0
