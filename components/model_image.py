"""ModelImage: a model's image built from a Dockerfile in this repository and pushed to the stack's registry.

The reference handed to the Deployment is ``<repository>:ctx-<content digest>``: it changes exactly when the build
context or a build input changes, so an untouched context means no rebuild and no rollout. pulumi-docker builds
only on ``pulumi up`` (never on preview), so a pull request's preview needs no Docker daemon.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pulumi
import pulumi_docker as docker

from model_catalog.schema import ImageBuild

from .build_context import content_tag

TYPE = "ml-serving:images:ModelImage"


@dataclass
class ModelImageArgs:
    build: ImageBuild
    """The catalog's build block (context, Dockerfile, args, target, platform)."""
    project_dir: Path
    """Repository root; the context is relative to it."""
    repository: pulumi.Input[str]
    """Image repository without tag, e.g. `123456789012.dkr.ecr.eu-west-1.amazonaws.com/ml-prod/sentiment`."""
    push: bool
    """Push after building (False: build into the local daemon only, e.g. for a kind cluster in dev)."""
    registry: docker.RegistryArgs | None = None
    """Credentials for the push, when the registry needs them."""


class ModelImage(pulumi.ComponentResource):
    """One built image."""

    ref: pulumi.Output[str]
    """Immutable reference the Deployment runs."""

    def __init__(self, name: str, args: ModelImageArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(TYPE, name, None, opts)
        tag = content_tag(args.project_dir, args.build)
        build = args.build
        self.image = docker.Image(
            f"{name}-image",
            image_name=pulumi.Output.concat(args.repository, ":", tag),
            build=docker.DockerBuildArgs(
                # Relative paths: `pulumi up` runs in the project directory, and the state stays machine-independent.
                context=build.context,
                dockerfile=f"{build.context}/{build.dockerfile}",
                args=dict(sorted(build.args.items())) or None,
                target=build.target,
                platform=build.platform,
            ),
            skip_push=not args.push,
            registry=args.registry,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.ref = self.image.image_name
        self.register_outputs({"ref": self.ref})
