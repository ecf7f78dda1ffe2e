"""``mlserve render``: the stack's real Pulumi program under mocks, written out for review."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from .. import cli
from ..shards import MIN_MODELS_PER_SHARD

ORDER = 10


def run(args: argparse.Namespace) -> int:
    if args.all:
        return render_all(args)
    args.stack = args.stack or "dev"
    named = cli.read_inputs(args)
    from ..render import render
    from ..shards import ShareFailedError, shard_count

    processes = 1 if args.shard is not None else shard_count(named, args.jobs)
    try:
        summary = render(
            cli.project_dir(args), args.stack, cli.out_dir(args), args.catalog, processes=processes, shard=args.shard
        )
    except ShareFailedError as failed:  # one of the processes of a split render: what it said, as if said here
        sys.stderr.write(failed.stderr)
        return failed.code
    print("\n".join(summary.lines(args.stack)))
    if args.timings is not None:
        from ..interpreter import peak_rss_mb

        phases = dict(summary.phases)
        # A split render's processes run at once: their peaks add up (an upper bound of what it used together).
        shares_rss = phases.pop("shares_peak_rss_mb", 0.0)
        timings = {"resources": summary.resources, "objects": sum(summary.objects.values()), **phases}
        timings["processes"] = processes
        timings["peak_rss_mb"] = (peak_rss_mb() or 0.0) + shares_rss
        args.timings.write_text(json.dumps(timings, indent=2) + "\n", encoding="utf-8")
    return cli.EXIT_OK


def render_all(args: argparse.Namespace) -> int:
    """Every stack of the project, each in its own process (at most ``--jobs`` at a time), into
    ``<out>/<stack>`` (default build/<stack>), a split environment's platform stack before its team stacks; each
    stack's report in stack order, the worst exit code."""
    from model_catalog.environment import known_stacks
    from model_catalog.split import platform_of

    for option, value in (
        ("--stack", args.stack),
        ("--catalog", args.catalog),
        ("--timings", args.timings),
        ("--shard", args.shard),
    ):
        if value is not None:
            args.parser.error(f"--all renders every stack with its own settings and catalog; drop {option}")
    project = cli.project_dir(args)
    stacks = known_stacks(project)
    # A team stack of a split environment starts once its platform stack's render is done (docs/team-stacks.md).
    after = {stack: platform_of(project, stack) for stack in stacks}
    base = args.out or project / "build"
    jobs = args.jobs or os.cpu_count() or 1
    env = {**os.environ, "MLSERVE_PROGRESS": "0"}
    pending = list(stacks)
    running: dict[str, subprocess.Popen] = {}
    results: dict[str, tuple[int, str, str, float]] = {}
    started: dict[str, float] = {}
    while pending or running:
        while len(running) < jobs:
            ready = [s for s in pending if after[s] is None or after[s] in results or after[s] not in stacks]
            if not ready and (running or not pending):
                break
            # (Nothing ready and nothing running: stacks naming each other; their own validation says what is wrong.)
            ready = ready or pending[:1]
            stack = ready[0]
            pending.remove(stack)
            platform = after[stack]
            if platform is not None and platform in results and results[platform][0] != cli.EXIT_OK:
                note = f"mlserve render: stack '{stack}' not rendered: its platform stack '{platform}' failed\n"
                results[stack] = (cli.EXIT_INVALID, "", note, 0.0)
                continue
            command = [sys.executable, "-m", "mlserve", "render", "--project-dir", str(project), "--stack", stack]
            command += ["--out", str(base / stack)]
            started[stack] = time.perf_counter()
            running[stack] = subprocess.Popen(
                command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
            )
        for stack, process in list(running.items()):
            if process.poll() is not None:
                out, err = process.communicate()
                results[stack] = (process.returncode, out, err, time.perf_counter() - started[stack])
                del running[stack]
        if running:
            time.sleep(0.05)
    worst = cli.EXIT_OK
    for stack in stacks:
        code, out, err, seconds = results[stack]
        sys.stdout.write(out)
        sys.stderr.write(err)
        print(f"  ({seconds:.1f} s, exit {code})")
        worst = max(worst, code)
    return worst


def _shard(text: str) -> tuple[int, int]:
    from ..shards import parse_shard

    try:
        return parse_shard(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def register(subparsers) -> None:
    parser = cli.add_parser(
        subparsers,
        "render",
        "render a stack offline: one YAML file per Kubernetes object and resources.json",
        "Runs the stack's Pulumi program (stacks/program.py) under Pulumi's mock runtime: no Pulumi CLI, cluster or\n"
        "network. Writes <out>/manifests/ and <out>/resources.json; nothing is written when the input is invalid.\n"
        "--all renders every stack (Pulumi.<stack>.yaml) in parallel processes into <out>/<stack>.",
    )
    cli.add_stack_options(parser, out=True)
    parser.set_defaults(stack=None)  # dev, unless --all
    parser._option_string_actions[
        "--stack"
    ].help = "stack (environment) to use: its Pulumi.<stack>.yaml (default: dev; not with --all)"
    parser.add_argument(
        "--all",
        action="store_true",
        help="render every stack of the project, in parallel processes, each into <out>/<stack> (default "
        "build/<stack>); exit with the worst stack's code",
    )
    parser.add_argument(
        "--jobs",
        type=cli.positive_int,
        help="with --all: stacks rendered at once (default: the number of CPUs); for one stack: processes its models "
        f"are split across (default: the number of CPUs, at most one per {MIN_MODELS_PER_SHARD} models; 1: a "
        "single process; the output is the same bytes either way)",
    )
    parser.add_argument(
        "--shard",
        type=_shard,
        metavar="K/N",
        help="internal (what each process of a split render runs, mlserve/shards.py): render only every N-th model "
        "from the K-th on, with all the stack's shared resources, plus what the merge needs (default: every model)",
    )
    parser.add_argument(
        "--timings",
        type=Path,
        metavar="FILE",
        help="also write the seconds each phase took (validate, program, registrations, record, write) to FILE, "
        "as JSON (make bench reads it; default: not written)",
    )
    parser.set_defaults(func=run, parser=parser)
