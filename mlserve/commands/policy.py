"""``mlserve policy``: the policy pack's rules (policy/rules.py) over a stack's offline render."""

from __future__ import annotations

import argparse

from .. import cli

ORDER = 47


def run(args: argparse.Namespace) -> int:
    cli.read_inputs(args)
    from ..policy_check import check_policy

    status, lines = check_policy(cli.project_dir(args), args.stack, args.catalog)
    print("\n".join(lines))
    return status


def register(subparsers) -> None:
    parser = cli.add_parser(
        subparsers,
        "policy",
        "run the policy pack's rules over a stack's offline render",
        "The same rule functions `pulumi preview --policy-pack policy` runs (policy/rules.py). Each violation\n"
        "names its rule and the resource's URN. Exit 1 on a mandatory violation (advisory ones are listed only).",
    )
    cli.add_stack_options(parser)
    parser.set_defaults(func=run)
