"""Content address of a Docker build: a digest over every file the build can see plus every build input.

The tag of a built image is derived from it, so the same context always yields the same reference (no rebuild, no
rollout) and any change to a file, the Dockerfile, a build argument, the target or the platform yields a new one.
Files excluded by .dockerignore do not count (Docker never sends them to the builder).
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

from model_catalog.schema import ImageBuild

TAG_PREFIX = "ctx-"
TAG_HEX_LENGTH = 16


def _ignore_rules(context: Path) -> list[tuple[bool, re.Pattern[str]]]:
    """.dockerignore as (negated, regex) rules; the last matching rule decides (Docker's semantics)."""
    path = context / ".dockerignore"
    if not path.exists():
        return []
    rules = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        negated = line.startswith("!")
        pattern = os.path.normpath(line.lstrip("!").strip()).lstrip("/")
        regex = _glob_regex(pattern)
        # A pattern matches the path itself or anything below it (a directory excludes its contents).
        rules.append((negated, re.compile(rf"^{regex}(/.*)?$")))
    return rules


def _glob_regex(pattern: str) -> str:
    """Docker's pattern language (Go filepath.Match plus `**`): `*` and `?` stay within one path segment."""
    out, i = [], 0
    while i < len(pattern):
        if pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return "".join(out)


def _ignored(relative: str, rules: list[tuple[bool, re.Pattern[str]]]) -> bool:
    ignored = False
    for negated, regex in rules:
        if regex.match(relative):
            ignored = not negated
    return ignored


def context_files(context: Path) -> list[str]:
    """Files the builder receives, relative to the context, sorted."""
    rules = _ignore_rules(context)
    files = []
    for root, dirs, names in os.walk(context):
        dirs.sort()
        for name in names:
            relative = (Path(root) / name).relative_to(context).as_posix()
            if not _ignored(relative, rules):
                files.append(relative)
    return sorted(files)


def context_digest(project_dir: Path, build: ImageBuild) -> str:
    """sha256 over the context's files (names, modes, contents) and the build's inputs."""
    context = project_dir / build.context
    digest = hashlib.sha256()
    for key, value in (
        ("dockerfile", build.dockerfile),
        ("target", build.target or ""),
        ("platform", build.platform),
        *sorted(("arg:" + k, v) for k, v in build.args.items()),
    ):
        digest.update(f"{key}={value}\0".encode())
    for relative in context_files(context):
        path = context / relative
        executable = os.access(path, os.X_OK)
        digest.update(f"file:{relative}:{'x' if executable else '-'}\0".encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    # Docker sends the Dockerfile even when .dockerignore lists it.
    digest.update(b"dockerfile-content\0" + hashlib.sha256((context / build.dockerfile).read_bytes()).digest())
    return digest.hexdigest()


def content_tag(project_dir: Path, build: ImageBuild) -> str:
    return TAG_PREFIX + context_digest(project_dir, build)[:TAG_HEX_LENGTH]
