"""``mlserve policy``: the policy pack's rules (policy/rules.py) over a stack's offline render."""

from __future__ import annotations

import argparse

from .. import cli

ORDER = 47


def run(args: argparse.Namespace) -> int:
    cli.read_inputs(args)
    from ..policy_check import evaluate_stack, policy_data, policy_report

    status, violations, resources, context = evaluate_stack(cli.project_dir(args), args.stack, args.catalog)
    if args.json:
        cli.print_json(cli.envelope("policy", status, stack=args.stack, **policy_data(violations, resources, context)))
    else:
        print("\n".join(policy_report(violations, resources, context)))
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
    cli.add_json_option(parser)
    parser.set_defaults(func=run)
