"""``mlserve diff``: what a change does to stacks, per object, against a git ref (logic in mlserve/diff.py)."""

from __future__ import annotations

import argparse

from .. import cli

ORDER = 45


def run(args: argparse.Namespace) -> int:
    from ..diff import run_diff_command

    return run_diff_command(args)


def register(subparsers) -> None:
    parser = cli.add_parser(
        subparsers,
        "diff",
        "what the working tree changes in each stack against a git ref, object by object",
        "Renders the stack at --base (a temporary git worktree, always removed) and from the working tree, offline\n"
        "and without credentials, and prints per object: added, removed or changed with field changes (path,\n"
        "before, after), grouped by model. Flags deletions, replacements (immutable fields, replaceOnChanges),\n"
        "protected resources, image changes and capacity changes (with the GPU plan's cost before and after).\n"
        "Exit 0 no changes, 1 changes, 2 invalid input (unknown ref or stack, a side that does not render).\n"
        "--json prints the changes as one document instead (--output still writes the text or markdown report).",
    )
    parser.add_argument(
        "--stack",
        action="append",
        help="stack to compare (Pulumi.<stack>.yaml); repeat for several (default: every stack)",
    )
    parser.add_argument("--base", default="main", help="git ref to compare against: a branch, tag or commit")
    parser.add_argument(
        "--catalog", help="catalog file for the working-tree side (default: the stack's ml-serving:catalog)"
    )
    parser.add_argument(
        "--format", choices=("text", "markdown"), default="text", help="text, or markdown for a PR comment"
    )
    parser.add_argument("--output", help="also write the report to this file, e.g. a PR comment body (default: none)")
    cli.add_json_option(parser)
    parser.set_defaults(func=run)
