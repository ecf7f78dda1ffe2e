"""``mlserve e2e-dry-run``: server-side dry-run of stacks' rendered manifests against a running API server."""

from __future__ import annotations

import argparse
from pathlib import Path

from .. import cli

ORDER = 91


def run(args: argparse.Namespace) -> int:
    from ..e2e_dry_run import dry_run

    results = dry_run(cli.project_dir(args), args.stack, args.kubectl, args.kubeconfig, Path(args.out))
    for result in results:
        print(result.line())
        for line in result.errors + result.pod_security_warnings + result.other_warnings:
            print(f"  {line}")
        if result.created_namespaces:
            print(f"  namespaces used but not rendered, created empty: {', '.join(result.created_namespaces)}")
    return cli.EXIT_OK if all(r.ok for r in results) else cli.EXIT_FINDINGS


def register(subparsers) -> None:
    parser = cli.add_parser(
        subparsers,
        "e2e-dry-run",
        "server-side dry-run of stacks' rendered manifests against a running API server",
        "Renders each stack, installs the CRDs, creates its namespaces, then `kubectl apply --server-side "
        "--dry-run=server` of every object; fails on any error or Pod Security warning (docs/e2e.md).",
    )
    parser.add_argument(
        "--stack", action="append", required=True, help="a stack to check (repeatable; no default: at least one)"
    )
    parser.add_argument(
        "--kubectl", required=True, help="kubectl executable (no default: `make e2e-dry-run` passes the built one)"
    )
    parser.add_argument(
        "--kubeconfig",
        required=True,
        help="kubeconfig of the target (no default: the e2e control plane's build/e2e/kubeconfig)",
    )
    parser.add_argument("--out", default="build/e2e-dry-run", help="where the renders go")
    parser.set_defaults(func=run)
