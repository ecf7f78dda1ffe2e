"""ModelImage: a model's image built from a Dockerfile in this repository and pushed to the stack's registry.

The image is tagged ``ctx-<content digest>`` (components/build_context.py): the tag changes exactly when the build
context or a build input changes, so an untouched context means no rebuild and no rollout, and a changed one means
both. pulumi-docker builds only on ``pulumi up``, never on preview (``buildOnPreview: false``), so a pull request's
preview needs no Docker daemon and never pulls a multi-GB CUDA base image; what a preview does read is the build
context (hashed here and by the provider), which .dockerignore keeps small.

What the Deployment runs depends on the registry (components/registry.py REGISTRY_KINDS):
``<repository>:ctx-<digest>`` where tags are immutable or nothing is pushed (exact at preview), or
``<repository>:ctx-<digest>@sha256:<digest of the push>`` where they are not (known only after the push).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import pulumi

if TYPE_CHECKING:
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
    repository: str
    """Image repository without tag, e.g. `123456789012.dkr.ecr.eu-west-1.amazonaws.com/ml-prod/sentiment`."""
    push: bool
    """Push after building (False: build into the local daemon only, e.g. for a kind cluster in dev)."""
    registry: docker.RegistryArgs | None = None
    """Credentials for the push, when the registry needs them (None: the ambient `docker login`)."""
    reference: Literal["tag", "digest"] = "tag"
    """`tag`: run the content-addressed tag (the registry keeps tags immutable, or nothing is pushed). `digest`:
    also pin the digest the push reported (for registries whose tags can be overwritten)."""
    repository_resource: pulumi.Resource | None = None
    """The registry repository the image is pushed to: built after it exists, and rebuilt when it is replaced
    (a new, empty repository must receive the image again)."""


class ModelImage(pulumi.ComponentResource):
    """One built image."""

    ref: pulumi.Output[str]
    """Immutable reference the Deployment runs."""
    tag: str
    """The content-addressed tag, known before anything is built."""

    def __init__(self, name: str, args: ModelImageArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(TYPE, name, None, opts)
        import pulumi_docker as docker  # imported by the stacks that build images only (about 0.1 s)

        build = args.build
        self.tag = content_tag(args.project_dir, build)
        tagged = f"{args.repository}:{self.tag}"
        repository = [args.repository_resource] if args.repository_resource is not None else []
        self.image = docker.Image(
            f"{name}-image",
            image_name=tagged,
            build=docker.DockerBuildArgs(
                # Relative paths: `pulumi up` runs in the project directory, and the state stays machine-independent.
                context=build.context,
                dockerfile=f"{build.context}/{build.dockerfile}",
                args=dict(sorted(build.args.items())) or None,
                target=build.target,
                platform=build.platform,
            ),
            # Explicit although it is the default: a preview must never need a Docker daemon.
            build_on_preview=False,
            skip_push=not args.push,
            registry=args.registry,
            opts=pulumi.ResourceOptions(parent=self, depends_on=repository, replace_with=repository or None),
        )
        if args.reference == "digest":
            # repoDigest is `<repository>@sha256:...`; keep the tag in front so people can tell builds apart.
            digest = self.image.repo_digest.apply(lambda d: d.split("@", 1)[1] if d and "@" in d else d)
            self.ref = pulumi.Output.concat(tagged, "@", digest)
        else:
            # The image name is an input echoed back, so the Deployment depends on the build and push, and its
            # value (hence the rollout) is decided by the content tag alone.
            self.ref = self.image.image_name
        self.register_outputs({"ref": self.ref, "tag": self.tag})
