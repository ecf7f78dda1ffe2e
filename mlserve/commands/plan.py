"""``mlserve plan``: the cheapest node mix for a stack's catalog, solved exactly, with its bound and gap."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .. import cli

ORDER = 45
POINTS = ("min", "max", "p95")
CAPACITIES = ("on-demand", "spot", "spot-fallback")
DEFAULT_TIME_LIMIT = 60.0
DEFAULT_GAP = 0.001  # planning.plan.DEFAULT_GAP (not imported here: highspy may be missing)


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number of seconds") from None
    if not 1 <= value <= 86_400:
        raise argparse.ArgumentTypeError(f"{value:g} is not between 1 and 86400 seconds")
    return value


def _gap(text: str) -> float:
    try:
        value = float(text[:-1]) / 100 if text.endswith("%") else float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"'{text}' is not a gap (a fraction such as 0.01, or a percentage: 1%)"
        ) from None
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"{text} is not a gap between 0 (prove optimal) and 1 (100%)")
    return value


def run(args: argparse.Namespace) -> int:
    try:
        from planning.cli import run_plan
    except ModuleNotFoundError as exc:  # highspy (requirements.txt) missing from a hand-made environment
        if exc.name not in ("highspy", "numpy"):
            raise
        raise cli.EnvironmentProblemError(f"{exc}; install the pinned dependencies: make venv") from None

    cli.read_inputs(args)
    from ..render import validate

    project = cli.project_dir(args)
    env = validate(project, args.stack, args.catalog)
    out = args.out or project / "build" / args.stack / "plan.json"
    _, printed = run_plan(
        env,
        args.at,
        out,
        args.json,
        args.time_limit,
        args.capacity,
        args.replicas,
        wrap=lambda doc: cli.envelope("plan", cli.EXIT_OK, **doc),
        gap=args.gap,
    )
    sys.stdout.write(printed)
    return cli.EXIT_OK


def register(subparsers) -> None:
    parser = cli.add_parser(
        subparsers,
        "plan",
        "cheapest node mix for a stack's catalog (exact MILP), with its lower bound, gap and the naive plan",
        "Places every replica at the chosen point on nodes of each pool (per accelerator, and CPU), choosing instance\n"
        "and capacity types: column generation and a MILP in HiGHS. Writes the plan as JSON (docs/capacity-planning.md).",
    )
    cli.add_stack_options(parser)
    parser.add_argument(
        "--at", choices=POINTS, default="max", help="replicas to place: minReplicas, maxReplicas, or p95 (--replicas)"
    )
    parser.add_argument(
        "--replicas",
        help="JSON file of model name to replica count (e.g. a forecast's p95); overrides --at for those models "
        "(default: none, every model at --at)",
    )
    parser.add_argument(
        "--capacity", choices=CAPACITIES, help="what-if: plan every model on this capacity (default: each model's)"
    )
    parser.add_argument("--time-limit", type=_seconds, default=DEFAULT_TIME_LIMIT, help="seconds for the whole plan")
    parser.add_argument(
        "--gap",
        type=_gap,
        default=DEFAULT_GAP,
        help="stop improving a pool's plan once it is within this share of its proven lower bound: a fraction, or a "
        "percentage such as 1%% (0: until proven optimal or out of time)",
    )
    parser.add_argument(
        "--out", type=Path, help="plan file to write (default: build/<stack>/plan.json in the project directory)"
    )
    cli.add_json_option(parser)
    parser.set_defaults(func=run)
