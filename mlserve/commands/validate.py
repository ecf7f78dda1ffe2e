"""``mlserve validate``: a stack's settings and catalog, checked without rendering."""

from __future__ import annotations

import argparse

from .. import cli

ORDER = 20


def run(args: argparse.Namespace) -> int:
    cli.read_inputs(args)
    from ..render import validate

    env = validate(cli.project_dir(args), args.stack, args.catalog)
    if args.json:
        from ..secrets_report import secrets_data  # imports the components (pulumi_kubernetes): only once valid

        cli.print_json(
            cli.envelope(
                "validate",
                cli.EXIT_OK,
                stack=args.stack,
                catalog=env.catalog.source.file,
                models=sorted(env.models),
                disabledModels=sorted(set(env.catalog.catalog.models) - set(env.models)),
                secrets=secrets_data(env),
                problems=[],
            )
        )
    else:
        from ..secrets_report import secrets_report

        print(f"stack '{args.stack}': settings and catalog are valid; {len(env.models)} models enabled")
        print("\n".join(secrets_report(env)))
    return cli.EXIT_OK


def register(subparsers) -> None:
    parser = cli.add_parser(
        subparsers,
        "validate",
        "check a stack's settings and catalog, render nothing",
        "Every problem is reported with file:line:column, the field path, the bad value and what is allowed.",
    )
    cli.add_stack_options(parser)
    cli.add_json_option(parser)
    parser.set_defaults(func=run)
