"""``mlserve render``: the stack's real Pulumi program under mocks, written out for review."""

from __future__ import annotations

import argparse

from .. import cli

ORDER = 10


def run(args: argparse.Namespace) -> int:
    cli.read_inputs(args)
    from ..render import render

    summary = render(cli.project_dir(args), args.stack, cli.out_dir(args), args.catalog)
    print("\n".join(summary.lines(args.stack)))
    return cli.EXIT_OK


def register(subparsers) -> None:
    parser = cli.add_parser(
        subparsers,
        "render",
        "render a stack offline: one YAML file per Kubernetes object and resources.json",
        "Runs the stack's Pulumi program (stacks/program.py) under Pulumi's mock runtime: no Pulumi CLI, cluster or\n"
        "network. Writes <out>/manifests/ and <out>/resources.json; nothing is written when the input is invalid.",
    )
    cli.add_stack_options(parser, out=True)
    parser.set_defaults(func=run)
