"""``mlserve bench``: render time and memory of realistic fleets next to the Pulumi floor, against the targets."""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from .. import cli

ORDER = 70


def run(args: argparse.Namespace) -> int:
    from ..bench import REPEAT, SIZES, VALGRIND, run_bench, table

    if args.instructions and shutil.which(VALGRIND) is None:
        raise cli.EnvironmentProblemError(
            f"--instructions counts instructions with {VALGRIND}, which is not on PATH (Debian: apt-get install"
            f" {VALGRIND}); nothing was measured"
        )
    sizes = sorted(set(args.sizes or SIZES))
    project_dir = cli.project_dir(args)
    document = run_bench(
        sizes, args.repeat or REPEAT, project_dir, args.out, log=sys.stderr, instructions=args.instructions
    )
    print(table(document))
    print(f"-> {(args.out or project_dir / 'build' / 'bench') / 'results.json'}")
    return cli.EXIT_OK if all(check["met"] for check in document["targets"]) else cli.EXIT_FINDINGS


def register(subparsers) -> None:
    parser = cli.add_parser(
        subparsers,
        "bench",
        "render time and memory of realistic fleets, next to the Pulumi floor, against the targets",
        "Per size, a deterministic realistic fleet (mlserve/fleet.py) is rendered for prod in a fresh process, and\n"
        "the same resources are registered by two floor programs with none of our code (typed pulumi_kubernetes\n"
        "classes; plain pulumi.CustomResource), interleaved, median of --repeat runs. Writes\n"
        "build/bench/results.json and a table. Exit 1 when a target (mlserve/bench.py) is missed.",
    )
    parser.add_argument(
        "--sizes",
        type=cli.positive_int,
        nargs="+",
        help="fleet sizes in models (default: 10 100 1000; add 5000 for the large-fleet targets)",
    )
    parser.add_argument("--repeat", type=cli.positive_int, help="runs per size and program (default: 3)")
    parser.add_argument("--out", type=Path, help="results directory (default: build/bench)")
    parser.add_argument(
        "--instructions",
        action="store_true",
        help="also count the default catalog's instructions (render, typed floor, with the other SDKs) with valgrind:"
        " the same every run, where CPU seconds drift (about 6 minutes more)",
    )
    parser.set_defaults(func=run)
