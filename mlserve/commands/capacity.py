"""``mlserve capacity``: per accelerator, the GPUs a stack's catalog needs, its node pool's limit and hourly cost."""

from __future__ import annotations

import argparse

from .. import cli

ORDER = 40


def run(args: argparse.Namespace) -> int:
    cli.read_inputs(args)
    from ..capacity import capacity_data, capacity_report
    from ..render import validate

    env = validate(cli.project_dir(args), args.stack, args.catalog)
    if args.json:
        cli.print_json(cli.envelope("capacity", cli.EXIT_OK, stack=args.stack, **capacity_data(env)))
    else:
        print("\n".join(capacity_report(env)))
    return cli.EXIT_OK


def register(subparsers) -> None:
    parser = cli.add_parser(
        subparsers,
        "capacity",
        "GPUs a stack's catalog needs per accelerator, its node pool limits, nodes and hourly cost",
        "Reads the same plan the GPU node pools are built from; settings and catalog only, no render.",
    )
    cli.add_stack_options(parser)
    cli.add_json_option(parser)
    parser.set_defaults(func=run)
