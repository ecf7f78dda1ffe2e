"""``mlserve dev-images``: build the dev stack's images and load them into its kind cluster (docs/dev.md)."""

from __future__ import annotations

import argparse

from .. import cli

ORDER = 45


def run(args: argparse.Namespace) -> int:
    from ..dev_images import run as run_commands
    from ..render import validate

    return run_commands(validate(cli.project_dir(args), args.stack, args.catalog), args.dry_run)


def register(subparsers) -> None:
    parser = cli.add_parser(
        subparsers,
        "dev-images",
        "build the stack's images into the local Docker daemon and load them into its kind cluster",
        "The same content-addressed references the stack renders; needs docker and kind (exit 3 without them).",
    )
    cli.add_stack_options(parser)
    parser.add_argument("--dry-run", action="store_true", help="print the commands instead of running them")
    parser.set_defaults(func=run)
