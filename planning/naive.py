"""The naive plan, for comparison: first-fit decreasing on the pool's largest instance type, roughly what one node
pool per accelerator gets when every node is the big one. Replicas go largest first (by their largest share of the
node), each onto the first node with room (and, for a spread model, without one of its replicas already); spot and
spot-fallback models on spot nodes, on-demand models on on-demand nodes."""

from __future__ import annotations

from platform_data.prices import hourly_usd

from .problem import Pool

HOURS_PER_MONTH = 730


def naive_plan(pool: Pool) -> dict:
    largest = max(pool.instance_types, key=lambda t: (t.gpus, t.vcpu, t.memory_gib))
    capacity = next(k.capacity for k in pool.kinds if k.name.startswith(f"{largest.name}/"))
    counts: dict[str, int] = {}
    for capacity_type in ("on-demand", "spot"):
        demands = [
            d
            for d in pool.demands.values()
            if d.replicas > 0 and (d.capacity == "on-demand") == (capacity_type == "on-demand")
        ]
        demands.sort(key=lambda d: (-max(s / c for s, c in zip(d.size, capacity, strict=True) if c), d.model))
        nodes: list[tuple[list[int], set[str]]] = []
        for d in demands:
            for _ in range(d.replicas):
                for free, models in nodes:
                    if all(f >= s for f, s in zip(free, d.size, strict=True)) and not (d.spread and d.model in models):
                        break
                else:
                    free, models = list(capacity), set()
                    nodes.append((free, models))
                for r, s in enumerate(d.size):
                    free[r] -= s
                models.add(d.model)
        if nodes:
            counts[capacity_type] = len(nodes)
    hourly = sum(n * hourly_usd(largest.name, c) for c, n in counts.items())
    return {
        "instanceType": largest.name,
        "nodes": dict(sorted(counts.items())),
        "hourlyUsd": round(hourly, 4),
        "monthlyUsd": round(hourly * HOURS_PER_MONTH, 4),
    }
