"""The plan as a table for people (the JSON document is the same data)."""

from __future__ import annotations

import textwrap

from mlserve.capacity import text_table


def _pct(value: float) -> str:
    return f"{100 * value:.1f}%"


def _usd(value: float) -> str:
    return f"{value:,.2f}"


def plan_table(doc: dict) -> list[str]:
    total = doc["total"]
    lines = [f"Capacity plan, stack '{doc['stack']}', replicas at {doc['at']}"]
    if doc["capacityOverride"]:
        lines[0] += f", every model on {doc['capacityOverride']} capacity"
    if not doc["pools"]:
        return [*lines, "", "No enabled model with replicas at this point: nothing to place."]
    header = ["pool", "nodes", "GPUs used/idle", "cpu", "memory", "$/hour", "$/month", "bound $/h", "gap", "naive $/h"]
    rows = []
    for p in doc["pools"]:
        gpus = f"{p['gpus']['used']}/{p['gpus']['idle']}" if "gpus" in p else "-"
        rows.append(
            [
                p["name"],
                str(p["nodeCount"]),
                gpus,
                _pct(p["cpuUtilisation"]),
                _pct(p["memoryUtilisation"]),
                _usd(p["hourlyUsd"]),
                _usd(p["monthlyUsd"]),
                _usd(p["boundHourlyUsd"]),
                _pct(p["gap"]) + ("" if p["optimal"] else "*"),
                _usd(p["naive"]["hourlyUsd"]),
            ]
        )
    rows.append(
        [
            "total",
            str(sum(p["nodeCount"] for p in doc["pools"])),
            "",
            "",
            "",
            _usd(total["hourlyUsd"]),
            _usd(total["monthlyUsd"]),
            _usd(total["boundHourlyUsd"]),
            _pct(total["gap"]),
            _usd(total["naiveHourlyUsd"]),
        ]
    )
    lines += ["", *text_table(header, rows), ""]
    for p in doc["pools"]:
        lines.append(f"{p['name']}: " + ", ".join(f"{n} x {t}" for t, n in p["nodes"].items()))
        for g in p["nodeGroups"]:
            replicas = ", ".join(f"{m} x{n}" if n > 1 else m for m, n in g["replicas"].items())
            lines.append(f"  {g['count']} x {g['instanceType']} {g['capacityType']}: {replicas}")
    spot = {m: v for m, v in doc["models"].items() if v["capacity"] != "on-demand"}
    if spot:
        lines += ["", "Spot share per model (capacity spot or spot-fallback):"]
        lines += [
            f"  {m}: {v['spotReplicas']}/{v['replicas']} replicas on spot ({v['capacity']})" for m, v in spot.items()
        ]
    notes = [
        f"Saving against the naive plan (first-fit decreasing on each pool's largest instance type): "
        f"${_usd(total['savingHourlyUsd'])}/hour, ${_usd(total['savingMonthlyUsd'])}/month.",
        f"Bound: no plan of these replicas costs less (the LP relaxation over all node patterns, "
        f"${_usd(total['lpBoundHourlyUsd'])}/hour, or better where every pattern was enumerated); gap = (cost - "
        "bound) / cost. A pool marked * is not proven optimal: its plan is within the gap of the optimum. A pool's "
        f"plan is not improved further once its gap is at most {doc['gapTarget']:.2%} (--gap).",
        f"Prices: on-demand {doc['prices']['onDemand']['region']} list prices of {doc['prices']['onDemand']['date']}; "
        f"spot estimated from the AWS Spot Instance Advisor's average saving of {doc['prices']['spot']['date']}; "
        f"a month is {doc['prices']['hoursPerMonth']} hours.",
    ]
    if total["hourlyUsdIfSpotIsShort"] != total["hourlyUsd"]:
        notes.append(
            f"If spot is short and every spot node runs on-demand instead: ${_usd(total['hourlyUsdIfSpotIsShort'])}"
            "/hour."
        )
    lines.append("")
    for note in notes:
        lines += textwrap.wrap(note, width=116, subsequent_indent="  ")
    return lines
