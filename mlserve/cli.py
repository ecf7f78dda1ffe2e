"""What every ``mlserve`` command shares: exit codes, the project directory, common options, help formatting,
the versioned JSON envelope.

Adding a command: a module in ``mlserve/commands/`` with ``ORDER`` (its place in ``mlserve --help``) and
``register(subparsers)``, which adds its parser (help text on every option) and sets ``func`` to a function
``(args) -> exit code``. ``mlserve/__main__.py`` discovers the modules; nothing else needs editing.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from model_catalog.errors import ConfigurationError

#: Exit codes of every command (docs/cli.md has the table; keep them in step).
EXIT_OK = 0
EXIT_FINDINGS = 1
"""The command ran and found something: failed checks, a diff with changes, a missed benchmark target."""
EXIT_INVALID = 2
"""Invalid input: command-line arguments, catalog, stack settings, files. Nothing was written or applied."""
EXIT_ENVIRONMENT = 3
"""The machine lacks something the command needs: a missing tool, CRD directory or unreadable path."""

#: Version of the ``--json`` envelope; bump it when a field is removed or changes meaning (adding one does not).
JSON_SCHEMA_VERSION = 1

PROJECT_FILE = "Pulumi.yaml"
PROJECT_NAME = "ml-serving"
PACKAGE_PROJECT_DIR = Path(__file__).resolve().parent.parent


class EnvironmentProblemError(Exception):
    """Something outside the user's input is missing or broken (exit 3): say what, and how to get it."""


def _is_project(directory: Path) -> bool:
    project = directory / PROJECT_FILE
    if not project.is_file():
        return False
    try:
        text = project.read_text(encoding="utf-8")
    except OSError:
        return False
    return any(line.split(":", 1)[1].strip() == PROJECT_NAME for line in text.splitlines() if line.startswith("name:"))


def find_project_dir(start: Path | None = None) -> Path:
    """The ml-serving checkout to work on: the nearest directory at or above ``start`` (default: the current
    directory) with an ml-serving ``Pulumi.yaml``, else the checkout this package was installed from."""
    here = (start or Path.cwd()).resolve()
    for directory in (here, *here.parents):
        if _is_project(directory):
            return directory
    return PACKAGE_PROJECT_DIR


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Descriptions keep their line breaks; every option's help ends with its default (unless it says one)."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if "default" in text or action.default in (None, False, argparse.SUPPRESS) or not action.option_strings:
            return text
        default = " ".join(map(str, action.default)) if isinstance(action.default, list) else action.default
        return f"{text} (default: {default})"


def add_parser(subparsers: Any, name: str, summary: str, description: str = "") -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        name,
        help=summary,
        description=f"{summary}.\n\n{description}".rstrip() if description else summary + ".",
        formatter_class=HelpFormatter,
    )
    parser.add_argument(
        "--project-dir",
        type=Path,
        default=None,
        help="the ml-serving checkout (default: the nearest directory upward with an ml-serving Pulumi.yaml, "
        "else the checkout mlserve is installed from)",
    )
    return parser


def add_stack_options(parser: argparse.ArgumentParser, out: bool = False) -> None:
    parser.add_argument("--stack", default="dev", help="stack (environment) to use: its Pulumi.<stack>.yaml")
    parser.add_argument(
        "--catalog",
        help="catalog file to use instead of the stack's, relative to the current directory "
        "(default: the stack's ml-serving:catalog, models.yaml)",
    )
    if out:
        parser.add_argument(
            "--out",
            type=Path,
            help="output directory, replaced by each render (default: build/<stack> in the project directory)",
        )


def positive_int(text: str) -> int:
    """argparse type: a whole number >= 1 (argparse turns the ValueError into a usage error, exit 2)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not >= 1")
    return value


def add_json_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--json",
        action="store_true",
        help=f"print one JSON document on stdout instead of text (schemaVersion {JSON_SCHEMA_VERSION}; "
        "shape in schema/cli/, docs/cli.md)",
    )


def project_dir(args: argparse.Namespace) -> Path:
    return args.project_dir.resolve() if args.project_dir else find_project_dir()


def out_dir(args: argparse.Namespace) -> Path:
    return args.out if args.out else project_dir(args) / "build" / args.stack


def read_inputs(args: argparse.Namespace) -> int:
    """Read the stack file and the catalog as YAML before a command imports the validation layer and Pulumi, so
    input that is not readable YAML (hostile aliases, nesting, tags, syntax) exits 2 at once (model_catalog/inputs.py).
    """
    from model_catalog.inputs import read_stack_inputs

    return read_stack_inputs(project_dir(args), args.stack, args.catalog)


def envelope(command: str, exit_code: int, **fields: Any) -> dict[str, Any]:
    """The versioned JSON document every ``--json`` command prints: schemaVersion, command, ok, exitCode first."""
    return {
        "schemaVersion": JSON_SCHEMA_VERSION,
        "command": command,
        "ok": exit_code == EXIT_OK,
        "exitCode": exit_code,
        **fields,
    }


def print_json(document: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(document, indent=2) + "\n")


def problems_json(error: ConfigurationError) -> list[dict[str, Any]]:
    return [
        {"file": p.file, "line": p.line, "column": p.column, "path": p.path, "message": p.message}
        for p in error.problems
    ]
