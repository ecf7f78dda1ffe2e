"""``mlserve render``: the stack's real Pulumi program under mocks, written out for review."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from .. import cli

ORDER = 10


def run(args: argparse.Namespace) -> int:
    from ..render import render

    summary = render(cli.project_dir(args), args.stack, cli.out_dir(args), args.catalog)
    print("\n".join(summary.lines(args.stack)))
    if args.timings is not None:
        timings = {"resources": summary.resources, "objects": sum(summary.objects.values()), **summary.phases}
        args.timings.write_text(json.dumps(timings, indent=2) + "\n", encoding="utf-8")
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
    parser.add_argument(
        "--timings",
        type=Path,
        metavar="FILE",
        help="also write the seconds each phase took (validate, program, registrations, record, write) to FILE, "
        "as JSON (make bench reads it)",
    )
    parser.set_defaults(func=run)
