"""Read a stack's input files as YAML first, before the validation layer (pydantic models, credential detection)
and the Pulumi SDK are imported.

Input that is not readable YAML (a syntax error, aliases that multiply, a recursive alias, nesting past the bound, an
over-long number, an explicit tag) is then reported in a fraction of a second, located, instead of after about two
seconds of imports. Only this module, ``yaml_source`` and ``errors`` are imported here. The parsed documents stay in
``yaml_source``'s cache, so the full read that follows does not parse valid files twice.

A file that cannot be read as YAML is reported on its own: the settings and catalog rules need the data, so they
run once both files read. A missing stack file or catalog is left to the full read, which names the stacks and
reports the settings' problems with it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from .errors import ConfigurationError, Problem
from .yaml_source import load_yaml

CATALOG_KEY = "ml-serving:catalog"
DEFAULT_CATALOG = "models.yaml"


def _configured_catalog(stack_data: object) -> str | None:
    """The catalog a stack names (its file's key first, then the ambient PULUMI_CONFIG beneath it), when written
    as plain text; anything else is the settings' problem, and the default catalog is read meanwhile."""
    config = stack_data.get("config") if isinstance(stack_data, dict) else None
    if isinstance(config, dict) and CATALOG_KEY in config:
        value = config[CATALOG_KEY]
        return value if isinstance(value, str) else None
    try:
        ambient = json.loads(os.environ.get("PULUMI_CONFIG") or "{}")
    except (ValueError, RecursionError):
        return None  # reported, located, by the full read
    value = ambient.get(CATALOG_KEY) if isinstance(ambient, dict) else None
    return value if isinstance(value, str) else None


def read_stack_inputs(project_dir: Path, stack: str, catalog: str | None = None) -> int:
    """Parse ``Pulumi.<stack>.yaml`` and the catalog it uses (``catalog``: the user's path, relative to the current
    directory, as ``--catalog`` gives it); raise ConfigurationError with every YAML problem of the two files. Returns
    how many models the catalog names (0 if it names none or was not read): an estimate of the stack's models, before
    they are validated (a render's process count, mlserve/shards.py)."""
    stack_file = f"Pulumi.{stack}.yaml"
    stack_path = project_dir / stack_file
    if not stack_path.exists():
        return 0
    problems: list[Problem] = []
    stack_data: object = None
    try:
        stack_data = load_yaml(stack_path, shown_as=stack_file).data
    except ConfigurationError as exc:
        problems.extend(exc.problems)
    if catalog is not None:
        shown, catalog_path = catalog, Path(catalog)
    else:
        shown = _configured_catalog(stack_data) or DEFAULT_CATALOG
        catalog_path = project_dir / shown
    try:
        exists = catalog_path.exists()
    except (OSError, ValueError):  # a path the full read reports, located
        exists = False
    named = 0
    if exists:
        try:
            catalog_data = load_yaml(catalog_path, shown_as=shown).data
        except ConfigurationError as exc:
            problems.extend(exc.problems)
        else:
            models = catalog_data.get("models") if isinstance(catalog_data, dict) else None
            named = len(models) if isinstance(models, dict) else 0
    if problems:
        raise ConfigurationError(problems)
    return named
