"""Benchmark of the capacity planner (``make bench-plan``): time and gap against catalog size.

Catalogs: the realistic fleets of mlserve/fleet.py (shared with ``make bench``; deterministic by seed): mixed
runtimes, CPU and GPU models, T-shirt sizes of cpu and memory, replica bounds, GPU count, accelerator and
tensor-parallel degree. The prod stack plans them at max replicas, in this process.

Targets (checked here, never in the test suite; 2 cores): 200 models within 1% of the bound in under 10 s (of CPU
time, which other jobs on the machine do not inflate; wall time is printed beside it);
1000 models under the time limit (default 60 s) with the gap reported as it is. plan_s is wall-clock time,
plan_cpu_s the planner's CPU time (on a shared machine the two differ); lp_gap is against the LP relaxation, gap
against the best proven bound (the LP bound rounded up to a whole number of nodes' prices).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import yaml

from mlserve.fleet import SEED, fleet
from mlserve.render import validate

from .plan import DEFAULT_GAP, plan_document, plan_pools
from .problem import build_pools

PROJECT_DIR = Path(__file__).resolve().parent.parent
SIZES = (20, 200, 1000)
TARGETS = {200: (10.0, 0.01)}


def measure(models: int, stack: str, time_limit: float, gap: float = DEFAULT_GAP) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        catalog = Path(tmp) / "models.yaml"
        catalog.write_text(yaml.safe_dump(fleet(models, SEED), sort_keys=False), encoding="utf-8")
        started = time.perf_counter()
        env = validate(PROJECT_DIR, stack, str(catalog))
        loaded = time.perf_counter()
        cpu_started = time.process_time()
        pools = build_pools(env, "max")
        results = plan_pools(pools, time_limit, gap)
        doc = plan_document(stack, "max", None, results, gap)
        planned = time.perf_counter()
        cpu_seconds = time.process_time() - cpu_started
    total = doc["total"]
    return {
        "models": models,
        "replicas": sum(m["replicas"] for m in doc["models"].values()),
        "classes": sum(len(p.classes) for p in pools),
        "columns": sum(s.columns for _, s, _, _ in results),
        "catalog_s": round(loaded - started, 2),
        "plan_s": round(planned - loaded, 2),
        "plan_cpu_s": round(cpu_seconds, 2),
        "cost": total["hourlyUsd"],
        "lp_bound": total["lpBoundHourlyUsd"],
        "lp_gap": total["lpGap"],
        "gap": total["gap"],
        "pool_gaps": {p["name"]: p["gap"] for p in doc["pools"]},
        "optimal_pools": f"{sum(1 for p in doc['pools'] if p['optimal'])}/{len(doc['pools'])}",
        "naive": total["naiveHourlyUsd"],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m planning.bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--stack", default="prod", help="stack to plan; default prod")
    parser.add_argument("--sizes", type=int, nargs="*", default=list(SIZES), help="catalog sizes; default 20 200 1000")
    parser.add_argument("--time-limit", type=float, default=60.0, help="planner time limit in seconds; default 60")
    parser.add_argument(
        "--gap", type=float, default=DEFAULT_GAP, help="the planner's --gap (a fraction); default 0.001"
    )
    args = parser.parse_args(argv)
    columns = ["models", "replicas", "classes", "columns", "catalog_s", "plan_s", "plan_cpu_s", "cost", "lp_bound"]
    columns += ["lp_gap", "gap"]
    columns += ["optimal_pools", "naive"]
    print("  ".join(f"{c:>13}" for c in columns) + "  target")
    failed = False
    for size in sorted(args.sizes):
        row = measure(size, args.stack, args.time_limit, args.gap)
        target = ""
        if size in TARGETS:
            seconds, gap = TARGETS[size]
            # Judged on CPU time: on a machine other jobs share, wall time measures them too (both are printed).
            ok = row["plan_cpu_s"] < seconds and row["gap"] <= gap
            failed |= not ok
            target = f"< {seconds:g} s CPU, <= {gap:.0%} of the bound: {'ok' if ok else 'MISSED'}"
            if row["plan_s"] >= seconds:
                target += f" (wall {row['plan_s']} s >= {seconds:g} s: load average {os.getloadavg()[0]:.1f})"
        elif size >= 1000:
            ok = row["plan_s"] <= args.time_limit * 1.1
            failed |= not ok
            target = f"within the {args.time_limit:g} s limit: {'ok' if ok else 'MISSED'}"
        cells = [f"{row[c]:.2%}" if c.endswith("gap") else str(row[c]) for c in columns]
        print("  ".join(f"{c:>13}" for c in cells) + "  " + target, flush=True)
        print("    gap per pool: " + ", ".join(f"{p} {g:.2%}" for p, g in row["pool_gaps"].items()), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
