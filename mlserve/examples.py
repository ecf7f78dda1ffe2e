"""The example catalogs under ``examples/``: each one a catalog and prod stack settings, rendered and checked.

An example is a directory ``examples/<name>/`` with ``models.yaml``, ``Pulumi.prod.yaml`` (stack settings of the
same shape as the project's own) and a ``README.md`` saying what it shows. To render it, the runner assembles a
project directory under ``build/examples/.projects/<name>/`` from the project's ``Pulumi.yaml`` and copies of the
example's files (render output directories are replaced whole, so the project cannot live inside one), then
renders stack ``prod`` into ``build/examples/<name>/`` and runs the same checks as ``make check-manifests`` and
``make policy``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from model_catalog.environment import known_stacks
from model_catalog.split import split_of, stack_file_config
from model_catalog.yaml_source import load_yaml

from .cli import PROJECT_FILE

EXAMPLES = "examples"
STACK = "prod"
REQUIRED = ("models.yaml", f"Pulumi.{STACK}.yaml", "README.md")
#: A split environment's example (docs/team-stacks.md): stack prod is its platform, each team stack names its catalog.
SPLIT_REQUIRED = (f"Pulumi.{STACK}.yaml", "README.md")


class ExampleError(Exception):
    """An example directory that is not complete, or a name that is not an example."""


def example_names(project_dir: Path) -> list[str]:
    root = project_dir / EXAMPLES
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))


def example_dir(project_dir: Path, name: str) -> Path:
    names = example_names(project_dir)
    if name not in names:
        raise ExampleError(f"no example '{name}' under {EXAMPLES}/ (examples: {', '.join(names) or 'none'})")
    directory = project_dir / EXAMPLES / name
    required = required_files(directory)
    missing = [f for f in required if not (directory / f).is_file()]
    if missing:
        raise ExampleError(f"{EXAMPLES}/{name}/ lacks {', '.join(missing)} (an example needs {', '.join(required)})")
    return directory


def is_split(directory: Path) -> bool:
    """Whether the example is a split environment: its stack prod is a platform stack."""
    path = directory / f"Pulumi.{STACK}.yaml"
    if not path.is_file():
        return False
    config, _ = stack_file_config(load_yaml(path, shown_as=path.name))
    return split_of(config).get("role") == "platform"


def required_files(directory: Path) -> tuple[str, ...]:
    return SPLIT_REQUIRED if is_split(directory) else REQUIRED


def example_stacks(directory: Path) -> list[str]:
    """The stacks an example renders: prod; for a split environment prod (its platform) first, then every other
    stack of the example (its teams)."""
    if not is_split(directory):
        return [STACK]
    return [STACK, *(s for s in known_stacks(directory) if s != STACK)]


def out_dir(project_dir: Path, name: str, stack: str | None = None) -> Path:
    """build/examples/<name>/, or build/examples/<name>/<stack>/ for the stacks of a split environment."""
    base = project_dir / "build" / EXAMPLES / name
    return base if stack is None else base / stack


def prepare(project_dir: Path, name: str) -> Path:
    """A project directory for the example: the project's Pulumi.yaml and copies of the example's files.

    The directory is ours alone (under build/examples/.projects/), so it is replaced whole on every run."""
    source = example_dir(project_dir, name)
    target = project_dir / "build" / EXAMPLES / ".projects" / name
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(source, target, symlinks=False)
    shutil.copy2(project_dir / PROJECT_FILE, target / PROJECT_FILE)
    return target
