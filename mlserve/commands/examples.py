"""``mlserve examples``: render every example catalog under examples/ for prod and check it."""

from __future__ import annotations

import argparse
import sys

from model_catalog.errors import ConfigurationError

from .. import cli

ORDER = 32


def run(args: argparse.Namespace) -> int:
    from ..examples import ExampleError, example_dir, example_names, example_stacks, out_dir, prepare
    from . import check_manifests, codeowners, policy

    project = cli.project_dir(args)
    names = args.name or example_names(project)
    if not names:
        print("mlserve examples: no examples under examples/", file=sys.stderr)
        return cli.EXIT_INVALID
    try:
        for name in names:
            example_dir(project, name)
    except ExampleError as exc:
        print(f"mlserve examples: {exc}", file=sys.stderr)
        return cli.EXIT_INVALID

    results: dict[str, int] = {}
    for name in names:
        example_project = prepare(project, name)
        stacks = example_stacks(example_project)
        results[name] = cli.EXIT_OK
        for stack in stacks:
            # A split environment's stacks (platform first, then its teams) each into build/examples/<name>/<stack>/.
            out = out_dir(project, name, stack if len(stacks) > 1 else None)
            shown = out.relative_to(project) if out.is_relative_to(project) else out
            print(f"== example {name} (examples/{name}/, stack {stack}) -> {shown}/manifests/")
            common = {"project_dir": example_project, "stack": stack, "catalog": None, "json": False}
            try:
                checked = check_manifests.run(argparse.Namespace(**common, out=out, checkov=args.checkov))
                judged = policy.run(argparse.Namespace(**common))
            except ConfigurationError as exc:
                # File names in the problems are relative to the example's directory.
                print(f"examples/{name}/: invalid\n{exc.render()}", file=sys.stderr)
                results[name] = cli.EXIT_INVALID
                break
            results[name] = max(results[name], checked, judged)
        if len(stacks) > 1 and results[name] != cli.EXIT_INVALID:
            # A split environment's CODEOWNERS gives each team its catalog (mlserve codeowners).
            from ..codeowners import DEFAULT_FILE

            owners = argparse.Namespace(project_dir=example_project, file=example_project / DEFAULT_FILE, check=True)
            results[name] = max(results[name], codeowners.run(owners))

    print("examples: " + ", ".join(f"{name} {'ok' if code == 0 else f'exit {code}'}" for name, code in results.items()))
    worst = max(results.values())
    return worst


def register(subparsers) -> None:
    parser = cli.add_parser(
        subparsers,
        "examples",
        "render each example under examples/ for prod and check it (schemas, CRDs, checkov, policy)",
        "Each example directory holds models.yaml, Pulumi.prod.yaml and README.md. Output goes to\n"
        "build/examples/<name>/manifests/. Exit 1 when a check finds something, 2 when an example is invalid,\n"
        "3 when a requested checker cannot run here.",
    )
    parser.add_argument(
        "--name", action="append", help="an example's directory name; repeat for several (default: every example)"
    )
    parser.add_argument(
        "--checkov",
        help="path to the checkov executable, in its own virtualenv (default: none, checkov is skipped)",
    )
    parser.set_defaults(func=run)
