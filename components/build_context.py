"""Content address of a Docker build: a digest over every file the build can see plus every build input.

The tag of a built image is derived from it, so the same context always yields the same reference (no rebuild, no
rollout) and any change to a file, the Dockerfile, a build argument, the target or the platform yields a new one.
Files excluded by .dockerignore do not count (Docker never sends them to the builder). What the builder receives
is decided in one place, model_catalog/build_contexts.py, whose rules validation enforces before this runs: a
symbolic link counts by its target path (the link is what Docker sends), never by what it points to, and no special
file is ever opened.
"""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

from model_catalog.build_contexts import scan_context
from model_catalog.schema import ImageBuild

TAG_PREFIX = "ctx-"
TAG_HEX_LENGTH = 16


def context_files(context: Path) -> list[str]:
    """Regular files and links the builder receives, relative to the context, sorted."""
    scan = scan_context(context)
    return sorted([*scan.files, *scan.links])


def context_digest(project_dir: Path, build: ImageBuild) -> str:
    """sha256 over the context's files (names, modes, contents), its links (names, targets) and the build's
    inputs."""
    context = project_dir / build.context
    scan = scan_context(context)
    if scan.problems:
        # Validation (model_catalog.environment.build_problems) reports these with the catalog's location first.
        raise ValueError(f"build context '{build.context}': " + "; ".join(scan.problems))
    digest = hashlib.sha256()
    for key, value in (
        ("dockerfile", build.dockerfile),
        ("target", build.target or ""),
        ("platform", build.platform),
        *sorted(("arg:" + k, v) for k, v in build.args.items()),
    ):
        digest.update(f"{key}={value}\0".encode())
    entries = [(relative, None) for relative in scan.files] + list(scan.links.items())
    for relative, link_target in sorted(entries):
        if link_target is not None:
            digest.update(f"link:{relative}:{link_target}\0".encode())
            continue
        path = context / relative
        # Any execute bit (not os.access: the same tree must hash the same for every user, root included).
        executable = bool(os.lstat(path).st_mode & (stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH))
        digest.update(f"file:{relative}:{'x' if executable else '-'}\0".encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    # Docker sends the Dockerfile even when .dockerignore lists it.
    digest.update(b"dockerfile-content\0" + hashlib.sha256((context / build.dockerfile).read_bytes()).digest())
    return digest.hexdigest()


def content_tag(project_dir: Path, build: ImageBuild) -> str:
    return TAG_PREFIX + context_digest(project_dir, build)[:TAG_HEX_LENGTH]
