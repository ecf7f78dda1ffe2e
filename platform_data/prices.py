"""Hourly prices of the GPU instance types, for the capacity report's cost estimate (never for provisioning).

Source: Karpenter's generated on-demand price table, aws/karpenter-provider-aws
``pkg/providers/pricing/zz_generated.pricing_aws.go`` (stored commit 031e72b6), header
``generated at 2026-01-19T13:23:24Z for us-east-1``: Linux on-demand USD per hour in us-east-1, after AWS's June 2025
GPU price cut. Other regions differ (eu-west-1 is typically a few percent higher) and spot is usually far cheaper, so
the report states the region and capacity type it assumes. Refresh by copying the rows from a newer commit of that
file; a test fails when an instance type of the accelerator table has no price here.
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
