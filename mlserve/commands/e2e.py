"""``mlserve e2e``: the e2e stack under the real Pulumi engine against the local control plane (docs/e2e.md)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .. import cli

ORDER = 92
#: What the bin directory (tools/e2e/build.sh) must hold.
TOOLS = ("pulumi", "pulumi-resource-kubernetes", "kubectl")


def run(args: argparse.Namespace) -> int:
    from ..e2e_dry_run import Kubectl
    from ..e2e_run import PROJECT_DIR, E2EError, Harness
    from ..e2e_run import run as run_e2e

    bin_dir, state = Path(args.bin).resolve(), Path(args.state).resolve()
    if not state.is_relative_to(PROJECT_DIR):
        # The changed catalog of step 3 is written there and named by ml-serving:catalog, relative to the project.
        print(f"mlserve e2e: --state {state} must be inside the project {PROJECT_DIR}", file=sys.stderr)
        return cli.EXIT_INVALID
    missing = [t for t in TOOLS if not (bin_dir / t).is_file()]
    if missing:
        print(
            f"mlserve e2e: --bin {bin_dir} lacks {', '.join(missing)}; run `tools/e2e/build.sh kubernetes pulumi "
            "provider` (make e2e does)",
            file=sys.stderr,
        )
        return cli.EXIT_ENVIRONMENT
    kubectl = Kubectl(str(bin_dir / "kubectl"), str(state / "kubeconfig"))
    if not (state / "kubeconfig").is_file() or kubectl.run("get", "--raw", "/readyz", check=False).returncode:
        print(
            f"mlserve e2e: no control plane answers at {state / 'kubeconfig'}; run `make cluster-up` first",
            file=sys.stderr,
        )
        return cli.EXIT_ENVIRONMENT
    from pulumi.automation import CommandError

    try:
        run_e2e(Harness(state, bin_dir, kubectl))
    except (E2EError, CommandError) as exc:
        print(f"mlserve e2e: FAILED: {exc}", file=sys.stderr)
        return cli.EXIT_FINDINGS
    print("e2e: passed")
    return cli.EXIT_OK


def register(subparsers) -> None:
    parser = cli.add_parser(
        subparsers,
        "e2e",
        "the e2e stack under the real Pulumi engine against the local control plane: up, empty preview, change, "
        "destroy, rebuild",
        "Runs Pulumi.e2e.yaml with the pulumi CLI and Kubernetes provider built by tools/e2e/build.sh against the "
        "control plane of `make cluster-up`, stopping at the first surprise (docs/e2e.md).",
    )
    parser.add_argument(
        "--bin",
        required=True,
        help="directory with pulumi, pulumi-resource-kubernetes and kubectl (no default: "
        "`make e2e` passes tools/e2e/build.sh's)",
    )
    parser.add_argument("--state", default="build/e2e", help="the control plane's state directory (its kubeconfig)")
    parser.set_defaults(func=run)
