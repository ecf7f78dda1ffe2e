"""``mlserve e2e-nodes``: the fake nodes (kwok) of the local e2e control plane for a stack's models."""

from __future__ import annotations

import argparse

from .. import cli

ORDER = 90


def run(args: argparse.Namespace) -> int:
    import yaml

    from ..e2e_nodes import fake_nodes
    from ..render import validate

    env = validate(cli.project_dir(args), args.stack, args.catalog)
    print(yaml.safe_dump_all(fake_nodes(env), sort_keys=True), end="")
    return cli.EXIT_OK


def register(subparsers) -> None:
    parser = cli.add_parser(
        subparsers,
        "e2e-nodes",
        "fake nodes (kwok) for a stack's models: CPU nodes and the GPU nodes its node pools would launch",
        "YAML of Node objects on stdout; `make cluster-up` applies them (docs/e2e.md).",
    )
    cli.add_stack_options(parser)
    parser.set_defaults(func=run)
