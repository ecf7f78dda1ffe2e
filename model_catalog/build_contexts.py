"""What a Docker build context sends to the builder, and the rules that keep it from leaking.

Docker sends every file of the context that `.dockerignore` does not exclude. The rules here (checked before
anything is registered, with the catalog's location) keep that set safe:

- the Dockerfile resolves inside the context (not `../../etc/...`, not an absolute path, not a link out of it);
- a credential-looking file or directory (`.env*`, `*.pem`, `*.key`, `id_*`, `.aws/`, `.ssh/`, `.git/`, `.netrc`,
  ...) is excluded by `.dockerignore`, else it is an error naming the file;
- a symbolic link the builder would receive points inside the context and resolves; FIFOs, sockets and device
  files are errors. The scan never follows a link and never opens a special file, so it cannot hang or escape.

The scan is also what the image's content address hashes (components/build_context.py): links count by their
target path, never by what they point to.
"""

from __future__ import annotations

import fnmatch
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

#: Path segments (directories or files) that hold credentials.
CREDENTIAL_SEGMENTS = (".env*", ".aws", ".ssh", ".git", ".gnupg", ".docker", ".kube", ".azure", ".config/gcloud")
#: File names that hold credentials.
CREDENTIAL_NAMES = (
    "*.pem",
    "*.key",
    "*.p12",
    "*.pfx",
    "*.jks",
    "id_*",
    ".netrc",
    ".npmrc",
    ".pypirc",
    ".git-credentials",
    ".pgpass",
    "credentials",
    "credentials.json",
    "*.tfstate",
    "*.tfvars",
    ".pulumi",
)

IgnoreRules = list[tuple[bool, re.Pattern[str]]]


def ignore_rules(context: Path) -> IgnoreRules:
    """.dockerignore as (negated, regex) rules; the last matching rule decides (Docker's semantics)."""
    path = context / ".dockerignore"
    if not path.is_file():
        return []
    rules = []
    for raw in path.read_text(encoding="utf-8", errors="replace").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        negated = line.startswith("!")
        pattern = os.path.normpath(line.lstrip("!").strip()).lstrip("/")
        # A pattern matches the path itself or anything below it (a directory excludes its contents).
        rules.append((negated, re.compile(rf"^{_glob_regex(pattern)}(/.*)?$")))
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


def is_ignored(relative: str, rules: IgnoreRules) -> bool:
    ignored = False
    for negated, regex in rules:
        if regex.match(relative):
            ignored = not negated
    return ignored


def looks_like_credentials(relative: str) -> bool:
    """A path whose name says it holds credentials (a key, a token file, a cloud or VCS config directory)."""
    parts = PurePosixPath(relative).parts
    for i in range(len(parts)):
        for pattern in CREDENTIAL_SEGMENTS:
            depth = pattern.count("/") + 1
            if fnmatch.fnmatchcase("/".join(parts[i : i + depth]), pattern):
                return True
    return any(fnmatch.fnmatchcase(parts[-1], pattern) for pattern in CREDENTIAL_NAMES) if parts else False


@dataclass
class ContextScan:
    """What the builder receives from one context, and what is wrong with it."""

    files: list[str] = field(default_factory=list)
    """Regular files sent, relative, sorted."""
    links: dict[str, str] = field(default_factory=dict)
    """Symbolic links sent (relative path -> link target as written), each resolving inside the context."""
    problems: list[str] = field(default_factory=list)
    """One message per file that must not be sent (credentials, links out or dangling, special files)."""


def scan_context(context: Path) -> ContextScan:
    """Walk ``context`` without following links; classify every entry the builder would receive."""
    rules = ignore_rules(context)
    root = context.resolve()
    scan = ContextScan()
    credentials: list[str] = []
    for directory, dirs, names in os.walk(context, followlinks=False):
        dirs.sort()
        for name in sorted([*dirs, *names]):
            path = Path(directory) / name
            relative = path.relative_to(context).as_posix()
            if is_ignored(relative, rules):
                continue
            try:
                mode = os.lstat(path).st_mode
            except OSError as exc:
                scan.problems.append(f"'{relative}' cannot be read ({exc.strerror})")
                continue
            if stat.S_ISDIR(mode):
                continue
            if looks_like_credentials(relative):
                credentials.append(relative)
            if stat.S_ISLNK(mode):
                _link(path, relative, root, scan)
            elif stat.S_ISREG(mode):
                scan.files.append(relative)
            else:
                kind = "a FIFO" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode) else "a device file"
                scan.problems.append(
                    f"'{relative}' is {kind}; a build context holds regular files, directories and links inside it "
                    "only (exclude it in .dockerignore or move it out)"
                )
    for relative in credentials:
        scan.problems.append(
            f"'{relative}' looks like a credential file and the builder would receive it; list it in the "
            "context's .dockerignore (or remove it from the context)"
        )
    scan.files.sort()
    return scan


def _link(path: Path, relative: str, root: Path, scan: ContextScan) -> None:
    target = os.readlink(path)
    try:
        resolved = path.resolve(strict=True)
    except (OSError, RuntimeError):
        scan.problems.append(f"'{relative}' is a symbolic link to '{target}', which does not exist (a dangling link)")
        return
    if not resolved.is_relative_to(root):
        scan.problems.append(
            f"'{relative}' is a symbolic link to '{target}', outside the build context; copy what the image needs "
            "into the context instead"
        )
        return
    scan.links[relative] = target


def dockerfile_problem(context: Path, dockerfile: str, shown: str) -> str | None:
    """Why ``dockerfile`` (relative to ``context``, written ``shown`` in the catalog) cannot be used, or None."""
    if PurePosixPath(dockerfile).is_absolute() or Path(dockerfile).is_absolute():
        return f"got '{dockerfile}'; the Dockerfile is a path relative to the build context, inside it"
    path = context / dockerfile
    try:
        resolved = path.resolve(strict=False)
    except (OSError, RuntimeError):
        return f"'{dockerfile}' cannot be resolved (a link loop?)"
    if not resolved.is_relative_to(context.resolve()):
        return (
            f"got '{dockerfile}', which resolves outside the build context; the builder only sees the context, so "
            "keep the Dockerfile inside it"
        )
    if not path.is_file():
        return f"no '{dockerfile}' in '{shown}'"
    return None
