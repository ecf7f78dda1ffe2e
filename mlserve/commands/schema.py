"""``mlserve schema``: regenerate the JSON Schemas and the reference docs generated from the models and tables."""

from __future__ import annotations

import argparse
import sys

from .. import cli

ORDER = 80


def run(args: argparse.Namespace) -> int:
    from ..reference import write_or_check

    stale = write_or_check(cli.project_dir(args), check=args.check)
    if args.check and stale:
        print("stale generated files (run `make schema`):\n  " + "\n  ".join(stale), file=sys.stderr)
        return cli.EXIT_FINDINGS
    print("generated files are up to date" if args.check else "wrote schema/ and docs/ reference files")
    return cli.EXIT_OK


def register(subparsers) -> None:
    parser = cli.add_parser(
        subparsers,
        "schema",
        "regenerate the JSON Schemas (schema/) and reference docs (docs/*-reference.md)",
        "Exit 1 with --check when a committed file differs from what the models and tables generate.",
    )
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if a generated file is stale")
    parser.set_defaults(func=run)
