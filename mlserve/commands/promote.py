"""``mlserve promote``: pin a stack to the exact image another stack runs (logic in mlserve/promote.py)."""

from __future__ import annotations

import argparse

from .. import cli

ORDER = 48


def run(args: argparse.Namespace) -> int:
    from ..promote import run_promote_command

    return run_promote_command(args)


def register(subparsers) -> None:
    parser = cli.add_parser(
        subparsers,
        "promote",
        "pin a stack to the exact image (by digest) another stack runs, as a reviewable models.yaml change",
        "Writes models.<model>.overrides.<to>.image.ref with ruamel.yaml round-trip (comments and layout kept),\n"
        "after validating the result for the target stack. Roll back with --image and the earlier reference, or\n"
        "`git revert`. Exit 0 written or nothing to change, 2 invalid input (nothing written).",
    )
    parser.add_argument("model", help="catalog name of the model")
    parser.add_argument("--from", dest="from_stack", help="stack whose image to promote, e.g. staging (default: none)")
    parser.add_argument("--to", dest="to_stack", required=True, help="stack to pin, e.g. prod (required, no default)")
    parser.add_argument(
        "--image", help="an exact image reference by digest instead of --from, e.g. to roll back (default: none)"
    )
    cli.add_json_option(parser)
    parser.set_defaults(func=run)
