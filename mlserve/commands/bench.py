"""``mlserve bench``: render time and peak memory against catalog size, checked against the targets."""

from __future__ import annotations

import argparse

from .. import cli

ORDER = 70


def run(args: argparse.Namespace) -> int:
    from ..bench import SIZES, TARGET_RSS_MIB, TARGET_SECONDS, measure
    from ..progress import Progress

    sizes = sorted(args.sizes or SIZES)
    print(f"{'models':>7} {'resources':>10} {'seconds':>8} {'peak RSS MiB':>13}  target", flush=True)
    failed = False
    with Progress("bench", unit="catalog sizes", total=len(sizes)) as progress:
        for index, size in enumerate(sizes):
            progress.update(index, note=f"rendering {size} models for stack {args.stack}")
            row = measure(size, args.stack, cli.project_dir(args))
            target = ""
            if size in TARGET_SECONDS:
                ok = row["seconds"] <= TARGET_SECONDS[size] and row["peak_rss_mib"] <= TARGET_RSS_MIB[size]
                failed |= not ok
                target = f"<= {TARGET_SECONDS[size]:g} s, <= {TARGET_RSS_MIB[size]} MiB: {'ok' if ok else 'MISSED'}"
            print(
                f"{row['models']:>7} {row['resources']:>10} {row['seconds']:>8} {row['peak_rss_mib']:>13}  {target}",
                flush=True,
            )
    return cli.EXIT_FINDINGS if failed else cli.EXIT_OK


def register(subparsers) -> None:
    parser = cli.add_parser(
        subparsers,
        "bench",
        "render time and peak memory for synthetic catalogs of several sizes, against the targets",
        "Each size renders a catalog of the real models.yaml entries repeated under new names, in a fresh process.\n"
        "Exit 1 when a target (mlserve/bench.py: 200 models in <= 60 s and <= 2048 MiB) is missed.",
    )
    parser.add_argument("--stack", default="prod", help="stack to render")
    parser.add_argument(
        "--sizes",
        type=cli.positive_int,
        nargs="+",
        help="catalog sizes in models (default: 5 50 200)",
    )
    parser.set_defaults(func=run)
