"""The plan of a stack: per pool the cheapest nodes (planning/solver.py), which models each runs, the bound and the
gap, and the naive plan beside it. Everything here is plain data, sorted, so the JSON is byte-identical for the same
inputs whatever the catalog's order."""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

from platform_data.prices import (
    PRICE_DATE,
    PRICE_REGION,
    PRICE_SOURCE,
    SPOT_ADVISOR,
    SPOT_DATE,
    SPOT_INTERRUPTION_BANDS,
    SPOT_SOURCE,
    hourly_usd,
)

from .naive import naive_plan
from .problem import CPU_POOL, Pool
from .solver import Solution, solve

HOURS_PER_MONTH = 730
#: Every pool gets at least this share of the time limit, whatever its size.
MIN_POOL_SECONDS = 1.0
#: A pool's plan is good enough once its cost is within this share of its proven lower bound (``--gap``); every pool
#: within it puts the whole plan within it too. 0.1%, not 1%: at 1% the 1000-model benchmark's GPU pools stopped at
#: 0.4-0.9% each (0.54% in all) where 0.1% reaches 0.05% within the time limit, and the 200-model plan takes the same
#: time either way (its CPU pool reaches neither; docs/benchmarks.md).
DEFAULT_GAP = 0.001
#: Share of the time limit kept for naming every node's replicas and the naive plans, after the pools' solves.
ASSIGN_SHARE = 0.05


@dataclass(frozen=True)
class Node:
    """Identical nodes: instance type, capacity type, how many, and the replicas each runs."""

    instance_type: str
    capacity_type: str
    count: int
    replicas: tuple[tuple[str, int], ...]


def assign(pool: Pool, solution: Solution) -> list[Node]:
    """Name the replicas on each node: a class's slots go to its models, spread models never twice on one node
    (each node takes the models with most replicas still to place, which always succeeds for a class of models with
    equal replica counts)."""
    remaining = {m: pool.demands[m].replicas for members in pool.members for m in members}
    kinds = {k.name: k for k in pool.kinds}
    grouped: dict[tuple[str, str, tuple[tuple[str, int], ...]], int] = {}
    for pattern, count in solution.nodes:
        for _ in range(count):
            on_node: dict[str, int] = {}
            for i, slots in pattern.counts:
                members = pool.members[i]
                if pool.classes[i].per_node is not None:  # spread: distinct models
                    chosen = sorted((m for m in members if remaining[m] > 0), key=lambda m: (-remaining[m], m))
                    if len(chosen) < slots:
                        raise AssertionError(f"pool {pool.name}: cannot spread class {pool.classes[i].name}")
                    for m in chosen[:slots]:
                        on_node[m] = 1
                        remaining[m] -= 1
                else:
                    for m in members:
                        take = min(slots, remaining[m])
                        if take:
                            on_node[m] = on_node.get(m, 0) + take
                            remaining[m] -= take
                            slots -= take
            instance, capacity = kinds[pattern.kind].name.rsplit("/", 1)
            key = (instance, capacity, tuple(sorted(on_node.items())))
            grouped[key] = grouped.get(key, 0) + 1
    if any(remaining.values()):
        raise AssertionError(
            f"pool {pool.name}: replicas left unplaced: {sorted(m for m, r in remaining.items() if r)}"
        )
    order = {t.name: j for j, t in enumerate(pool.instance_types)}
    return [
        Node(instance, capacity, count, replicas)
        for (instance, capacity, replicas), count in sorted(
            grouped.items(), key=lambda kv: (kv[0][1], order[kv[0][0]], kv[0][2])
        )
    ]


def _usd(value: float) -> float:
    return round(value, 4)


def _summary(pool: Pool, nodes: Sequence[Node]) -> dict:
    types = {t.name: t for t in pool.instance_types}
    by_type: dict[str, int] = {}
    cpu_used = cpu_total = mem_used = mem_total = gpus = gpus_used = 0
    hourly = fallback = 0.0
    for node in nodes:
        t = types[node.instance_type]
        by_type[f"{node.instance_type} {node.capacity_type}"] = (
            by_type.get(f"{node.instance_type} {node.capacity_type}", 0) + node.count
        )
        hourly += node.count * hourly_usd(node.instance_type, node.capacity_type)
        fallback += node.count * hourly_usd(node.instance_type, "on-demand")
        cpu_total += node.count * t.pod_cpu_millicores
        mem_total += node.count * (t.pod_memory_bytes // 2**20)
        units = 0
        for model, n in node.replicas:
            size = pool.demands[model].size
            cpu_used += node.count * n * size[0]
            mem_used += node.count * n * size[1]
            units += n * size[2]
        gpus += node.count * t.gpus
        gpus_used += node.count * math.ceil(units / pool.slices_per_gpu)
    summary = {
        "nodes": dict(sorted(by_type.items())),
        "nodeCount": sum(n.count for n in nodes),
        "cpuUtilisation": round(cpu_used / cpu_total, 4) if cpu_total else 0.0,
        "memoryUtilisation": round(mem_used / mem_total, 4) if mem_total else 0.0,
        "hourlyUsd": _usd(hourly),
        "monthlyUsd": _usd(hourly * HOURS_PER_MONTH),
        "hourlyUsdIfSpotIsShort": _usd(fallback),
    }
    if pool.name != CPU_POOL:
        summary["gpus"] = {"total": gpus, "used": gpus_used, "idle": gpus - gpus_used}
    return summary


def plan_pools(
    pools: Sequence[Pool], time_limit: float, gap: float = DEFAULT_GAP
) -> list[tuple[Pool, Solution, list[Node], dict]]:
    """Solve every pool within the time limit (shared by class count) until its plan is within ``gap`` of its
    bound, assign, and plan naively beside it."""
    started = time.perf_counter()
    results = []
    for j, pool in enumerate(pools):
        left = max(MIN_POOL_SECONDS, time_limit * (1 - ASSIGN_SHARE) - (time.perf_counter() - started))
        weight = len(pool.classes) / max(1, sum(len(p.classes) for p in pools[j:]))
        solution = solve(pool.classes, pool.kinds, max(MIN_POOL_SECONDS, left * weight), gap)
        results.append((pool, solution, assign(pool, solution), naive_plan(pool)))
    return results


def plan_document(
    stack: str,
    at: str,
    capacity: str | None,
    results: Sequence[tuple[Pool, Solution, list[Node], dict]],
    gap: float = DEFAULT_GAP,
) -> dict:
    """The plan as JSON-ready data (no timings: the same inputs give the same document)."""
    pools = []
    models: dict[str, dict] = {}
    totals = {"hourlyUsd": 0.0, "bound": 0.0, "lpBound": 0.0, "naiveHourlyUsd": 0.0, "hourlyUsdIfSpotIsShort": 0.0}
    for pool, solution, nodes, naive in results:
        summary = _summary(pool, nodes)
        pools.append(
            {
                "name": pool.name,
                "slicesPerGpu": pool.slices_per_gpu,
                "daemonSetsPerNode": list(pool.daemonsets),
                **summary,
                "lpBoundHourlyUsd": _usd(solution.lp_bound),
                "boundHourlyUsd": _usd(solution.bound),
                "gap": round(solution.gap, 6),
                "lpGap": round(solution.lp_gap, 6),
                "optimal": solution.proven_optimal,
                "naive": naive,
                "nodeGroups": [
                    {
                        "instanceType": n.instance_type,
                        "capacityType": n.capacity_type,
                        "count": n.count,
                        "hourlyUsdEach": _usd(hourly_usd(n.instance_type, n.capacity_type)),
                        "replicas": dict(n.replicas),
                    }
                    for n in nodes
                ],
            }
        )
        totals["hourlyUsd"] += summary["hourlyUsd"]
        totals["bound"] += solution.bound
        totals["lpBound"] += solution.lp_bound
        totals["naiveHourlyUsd"] += naive["hourlyUsd"]
        totals["hourlyUsdIfSpotIsShort"] += summary["hourlyUsdIfSpotIsShort"]
        for model, demand in sorted(pool.demands.items()):
            spot = sum(n.count * dict(n.replicas).get(model, 0) for n in nodes if n.capacity_type == "spot")
            models[model] = {
                "pool": pool.name,
                "capacity": demand.capacity,
                "replicas": demand.replicas,
                "spread": demand.spread,
                "spotReplicas": spot,
                "spotShare": round(spot / demand.replicas, 4) if demand.replicas else 0.0,
            }
    hourly = totals["hourlyUsd"]
    return {
        "stack": stack,
        "at": at,
        "capacityOverride": capacity,
        "gapTarget": gap,
        "prices": {
            "onDemand": {"source": PRICE_SOURCE, "date": PRICE_DATE, "region": PRICE_REGION},
            "spot": {
                "source": SPOT_SOURCE,
                "date": SPOT_DATE,
                "region": PRICE_REGION,
                "method": "on-demand price x (1 - the advisor's average saving)",
            },
            "hoursPerMonth": HOURS_PER_MONTH,
        },
        "total": {
            "hourlyUsd": _usd(hourly),
            "monthlyUsd": _usd(hourly * HOURS_PER_MONTH),
            "boundHourlyUsd": _usd(totals["bound"]),
            "lpBoundHourlyUsd": _usd(totals["lpBound"]),
            "gap": round((hourly - totals["bound"]) / hourly, 6) if hourly else 0.0,
            "lpGap": round((hourly - totals["lpBound"]) / hourly, 6) if hourly else 0.0,
            "naiveHourlyUsd": _usd(totals["naiveHourlyUsd"]),
            "savingHourlyUsd": _usd(totals["naiveHourlyUsd"] - hourly),
            "savingMonthlyUsd": _usd((totals["naiveHourlyUsd"] - hourly) * HOURS_PER_MONTH),
            "hourlyUsdIfSpotIsShort": _usd(totals["hourlyUsdIfSpotIsShort"]),
        },
        "pools": pools,
        "models": dict(sorted(models.items())),
        "spotInterruption": {
            t: SPOT_INTERRUPTION_BANDS[SPOT_ADVISOR[t][1]]
            for t in sorted({n["instanceType"] for p in pools for n in p["nodeGroups"] if n["capacityType"] == "spot"})
        },
    }
