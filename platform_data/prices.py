"""Hourly prices of the instance types (GPU and CPU), for the capacity report and the planner (never for provisioning).

Source: Karpenter's generated on-demand price table, aws/karpenter-provider-aws
``pkg/providers/pricing/zz_generated.pricing_aws.go`` (stored commit 031e72b6), header
``generated at 2026-01-19T13:23:24Z for us-east-1``: Linux on-demand USD per hour in us-east-1, after AWS's June 2025
GPU price cut. Other regions differ (eu-west-1 is typically a few percent higher) and spot is usually far cheaper, so
the report states the region and capacity type it assumes. Refresh by copying the rows from a newer commit of that
file; a test fails when an instance type of the accelerator or CPU table has no price here.

Spot: AWS does not publish a spot price list; the Spot Instance Advisor feed (``spot-advisor-data.json``) publishes,
per region and instance type, the average saving of spot over on-demand (whole percent, "s") and an interruption
frequency band ("r": 0 <5%, 1 5-10%, 2 10-15%, 3 15-20%, 4 >20%). The rows below are its us-east-1 Linux figures as
embedded in alexei-led/spotinfo ``internal/spot/data/spot-advisor-data.json`` (commit 5eedf20a, 2025-06-28). A spot
price here is the on-demand price above times (1 - saving): an estimate of the average, not a quote; the saving was
recorded half a year before the on-demand prices. Spot prices move hourly: treat a plan's spot figures as such.
"""

from __future__ import annotations

PRICE_SOURCE = "aws/karpenter-provider-aws pkg/providers/pricing/zz_generated.pricing_aws.go"
PRICE_DATE = "2026-01-19"
PRICE_REGION = "us-east-1"
PRICE_CAPACITY_TYPE = "on-demand"

#: Instance type -> USD per hour, Linux on-demand, us-east-1.
ON_DEMAND_USD_PER_HOUR: dict[str, float] = {
    "g4dn.xlarge": 0.526,
    "g4dn.2xlarge": 0.752,
    "g4dn.4xlarge": 1.204,
    "g4dn.12xlarge": 3.912,
    "g5.xlarge": 1.006,
    "g5.2xlarge": 1.212,
    "g5.4xlarge": 1.624,
    "g5.12xlarge": 5.672,
    "g5.48xlarge": 16.288,
    "g6.xlarge": 0.8048,
    "g6.2xlarge": 0.9776,
    "g6.4xlarge": 1.3232,
    "g6.12xlarge": 4.6016,
    "g6.48xlarge": 13.3504,
    "p4d.24xlarge": 21.957642,
    "p4de.24xlarge": 27.44705,
    "p5.48xlarge": 55.04,
}

#: Instance type -> USD per hour, Linux on-demand, us-east-1: the CPU node types the planner may choose for CPU
#: models (platform_data/cpu_instances.py), same source and date as above.
ON_DEMAND_USD_PER_HOUR.update(
    {
        "c7i.large": 0.08925,
        "c7i.xlarge": 0.1785,
        "c7i.2xlarge": 0.357,
        "c7i.4xlarge": 0.714,
        "c7i.8xlarge": 1.428,
        "c7i.16xlarge": 2.856,
        "m7i.large": 0.1008,
        "m7i.xlarge": 0.2016,
        "m7i.2xlarge": 0.4032,
        "m7i.4xlarge": 0.8064,
        "m7i.8xlarge": 1.6128,
        "m7i.12xlarge": 2.4192,
        "m7i.16xlarge": 3.2256,
        "r7i.large": 0.1323,
        "r7i.xlarge": 0.2646,
        "r7i.2xlarge": 0.5292,
        "r7i.4xlarge": 1.0584,
        "r7i.8xlarge": 2.1168,
        "r7i.16xlarge": 4.2336,
    }
)

SPOT_SOURCE = "AWS Spot Instance Advisor feed (spot-advisor-data.json), as embedded in alexei-led/spotinfo 5eedf20a"
SPOT_DATE = "2025-06-28"

#: Instance type -> (average spot saving over on-demand in percent, interruption frequency band 0-4), us-east-1 Linux.
SPOT_ADVISOR: dict[str, tuple[int, int]] = {
    "g4dn.xlarge": (64, 3),
    "g4dn.2xlarge": (61, 4),
    "g4dn.4xlarge": (68, 4),
    "g4dn.12xlarge": (64, 2),
    "g5.xlarge": (59, 4),
    "g5.2xlarge": (58, 3),
    "g5.4xlarge": (60, 2),
    "g5.12xlarge": (58, 4),
    "g5.48xlarge": (71, 4),
    "g6.xlarge": (49, 4),
    "g6.2xlarge": (58, 4),
    "g6.4xlarge": (57, 4),
    "g6.12xlarge": (59, 4),
    "g6.48xlarge": (69, 4),
    "p4d.24xlarge": (67, 2),
    "p4de.24xlarge": (65, 0),
    "p5.48xlarge": (52, 4),
    "c7i.large": (66, 4),
    "c7i.xlarge": (61, 4),
    "c7i.2xlarge": (59, 4),
    "c7i.4xlarge": (61, 3),
    "c7i.8xlarge": (62, 2),
    "c7i.16xlarge": (63, 1),
    "m7i.large": (68, 3),
    "m7i.xlarge": (53, 3),
    "m7i.2xlarge": (62, 4),
    "m7i.4xlarge": (52, 1),
    "m7i.8xlarge": (53, 0),
    "m7i.12xlarge": (70, 4),
    "m7i.16xlarge": (60, 0),
    "r7i.large": (65, 2),
    "r7i.xlarge": (60, 3),
    "r7i.2xlarge": (59, 4),
    "r7i.4xlarge": (66, 4),
    "r7i.8xlarge": (79, 4),
    "r7i.16xlarge": (67, 0),
}

#: The interruption frequency bands of the advisor feed, by its "r" index.
SPOT_INTERRUPTION_BANDS = ("<5%", "5-10%", "10-15%", "15-20%", ">20%")


def hourly_usd(instance_type: str, capacity_type: str) -> float:
    """USD per hour of one node: the on-demand list price, or the spot estimate (on-demand x (1 - saving))."""
    on_demand = ON_DEMAND_USD_PER_HOUR[instance_type]
    if capacity_type == "on-demand":
        return on_demand
    if capacity_type == "spot":
        return round(on_demand * (100 - SPOT_ADVISOR[instance_type][0]) / 100, 6)
    raise ValueError(f"capacity type {capacity_type!r}: expected 'on-demand' or 'spot'")
