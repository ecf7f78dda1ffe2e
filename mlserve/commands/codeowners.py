"""``mlserve codeowners``: write or check the CODEOWNERS section of a split environment's team stacks."""

from __future__ import annotations

import argparse
import difflib
import sys
from pathlib import Path

from .. import cli

ORDER = 34


def run(args: argparse.Namespace) -> int:
    from ..codeowners import DEFAULT_FILE, section, updated

    project = cli.project_dir(args)
    target = args.file if args.file is not None else project / DEFAULT_FILE
    lines = section(project)  # ConfigurationError (exit 2) for an invalid team stack or platform
    if target.exists() and not target.is_file():
        print(f"mlserve codeowners: {target} is not a file", file=sys.stderr)
        return cli.EXIT_INVALID
    current = target.read_text(encoding="utf-8") if target.exists() else ""
    wanted = updated(current, lines)
    if args.check:
        if current == wanted:
            print(f"{target}: the team stacks' section is up to date ({max(len(lines) - 2, 0)} owned files)")
            return cli.EXIT_OK
        diff = difflib.unified_diff(current.splitlines(), wanted.splitlines(), str(target), "wanted", lineterm="")
        print("\n".join(diff))
        print(f"{target}: the team stacks' section is out of date; run: mlserve codeowners", file=sys.stderr)
        return cli.EXIT_FINDINGS
    if not lines and not current:
        print("no team stacks (ml-serving:split.role team): nothing to own; nothing written")
        return cli.EXIT_OK
    if wanted != current:
        target.write_text(wanted, encoding="utf-8")
    print(f"{target}: {max(len(lines) - 2, 0)} files owned by their teams")
    return cli.EXIT_OK


def register(subparsers) -> None:
    parser = cli.add_parser(
        subparsers,
        "codeowners",
        "write (or --check) the CODEOWNERS lines giving each team stack's catalog and file to its owners",
        "The owners come from the platform stack's split.teams.<team>.owners (docs/team-stacks.md). Only the\n"
        "section between the '# BEGIN ml-serving team stacks' and '# END ml-serving team stacks' lines is\n"
        "written; the rest of the file is left as it is. Exit 1 with --check when the section is out of date.",
    )
    parser.add_argument("--file", type=Path, help="the CODEOWNERS file (default: CODEOWNERS in the project)")
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if the section is out of date")
    parser.set_defaults(func=run)
