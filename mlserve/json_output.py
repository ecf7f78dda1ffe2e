"""JSON Schemas of what ``--json`` prints (``schema/cli/<command>.schema.json``, written by ``make schema``).

Written out by hand, field by field, from the documented shape (docs/cli.md), not derived from the code that
prints the documents: tests/test_json_output.py validates real output against the committed files, so a change
of shape fails until it is made here too (and, if it removes or redefines a field, schemaVersion is bumped).
"""

from __future__ import annotations

from typing import Any

from .cli import JSON_SCHEMA_VERSION

DRAFT = "https://json-schema.org/draft/2020-12/schema"


def _object(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": properties,
        "required": sorted(properties) if required is None else required,
        "additionalProperties": False,
    }


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [schema, {"type": "null"}]}


STRINGS = {"type": "array", "items": {"type": "string"}}
COUNT = {"type": "integer", "minimum": 0}
MIN_MAX_INT = _object({"min": COUNT, "max": COUNT})
MIN_MAX_USD = _object({"min": {"type": "number", "minimum": 0}, "max": {"type": "number", "minimum": 0}})

PROBLEM = _object(
    {
        "file": {"type": "string"},
        "line": {"type": "integer", "minimum": 1},
        "column": {"type": "integer", "minimum": 1},
        "path": {"type": "string", "description": "field path, e.g. models.llama3.resources.gpu.count; may be empty"},
        "message": {"type": "string"},
    }
)


def envelope_schema(command: str, title: str, fields: dict[str, Any]) -> dict[str, Any]:
    """A command's document: the common envelope, then either its fields (exitCode != 2) or ``problems``."""
    common = {
        "schemaVersion": {"const": JSON_SCHEMA_VERSION},
        "command": {"const": command},
        "ok": {"type": "boolean", "description": "exitCode == 0"},
        "exitCode": {"enum": [0, 1, 2, 3], "description": "the process exit code (docs/cli.md#exit-codes)"},
        "stack": {"type": "string"},
    }
    invalid = _object(
        {**common, "exitCode": {"const": 2}, "ok": {"const": False}, "problems": {"type": "array", "items": PROBLEM}}
    )
    result = _object({**common, **fields})
    result["properties"]["exitCode"] = {"enum": [0, 1, 3], "description": common["exitCode"]["description"]}
    return {
        "$schema": DRAFT,
        "$id": f"cli/{command}.schema.json",
        "title": title,
        "description": f"`mlserve {command} --json`: the versioned envelope (docs/cli.md) and the command's fields; "
        "on invalid input (exit 2) the envelope and `problems` instead.",
        "oneOf": [result, invalid],
    }


def validate_schema() -> dict[str, Any]:
    return envelope_schema(
        "validate",
        "mlserve validate --json",
        {
            "catalog": {"type": "string", "description": "the catalog file read, as shown in messages"},
            "models": {**STRINGS, "description": "models enabled in this stack, sorted"},
            "disabledModels": {**STRINGS, "description": "catalog models disabled in this stack, sorted"},
            "secrets": {
                "type": "array",
                "description": "the Kubernetes Secrets the models need, sorted by name (docs/secrets.md)",
                "items": _object(
                    {
                        "name": {"type": "string"},
                        "keys": {**STRINGS, "description": "keys the models read"},
                        "source": {"enum": ["stack", "external"]},
                        "description": {"type": "string", "description": "where it comes from, in words"},
                        "readBy": {
                            "type": "array",
                            "items": _object({"model": {"type": "string"}, "use": {"type": "string"}}),
                        },
                    }
                ),
            },
            "problems": {"type": "array", "maxItems": 0},
        },
    )


def capacity_schema() -> dict[str, Any]:
    model = _object(
        {
            "model": {"type": "string"},
            "gpuUnitsPerReplica": {**COUNT, "description": "GPUs per replica, or time slices when shared"},
            "minReplicas": COUNT,
            "maxReplicas": COUNT,
            "instanceType": _nullable({"type": "string"}),
            "replicasPerNode": _nullable(COUNT),
            "nodeHourlyUsd": _nullable({"type": "number", "minimum": 0}),
        }
    )
    accelerator = _object(
        {
            "accelerator": {"type": "string"},
            "slicesPerGpu": {"type": "integer", "minimum": 1},
            "gpus": {**MIN_MAX_INT, "description": "physical GPUs at min and max replicas"},
            "poolLimit": _nullable(COUNT),
            "poolLimitGpus": _nullable(COUNT),
            "nodePool": _nullable({"type": "string"}),
            "instanceTypes": STRINGS,
            "nodes": _nullable(MIN_MAX_INT),
            "hourlyUsd": _nullable(MIN_MAX_USD),
            "models": {"type": "array", "items": model},
        }
    )
    return envelope_schema(
        "capacity",
        "mlserve capacity --json",
        {
            "provider": {"enum": ["karpenter", "existing", "none"]},
            "capacityType": _nullable({"enum": ["spot", "on-demand"]}),
            "headroomPercent": _nullable(COUNT),
            "prices": _nullable(
                _object({"region": {"type": "string"}, "date": {"type": "string"}, "capacityType": {"type": "string"}})
            ),
            "accelerators": {"type": "array", "items": accelerator},
            "pools": {
                "type": "array",
                "description": "Karpenter NodePools per accelerator and capacity type (components/capacity_pools.py)",
                "items": _object(
                    {
                        "nodePool": {"type": "string"},
                        "accelerator": {"type": "string"},
                        "capacityType": {"enum": ["on-demand", "spot"]},
                        "weight": _nullable(COUNT),
                        "limit": COUNT,
                        "models": STRINGS,
                    }
                ),
            },
            "hourlyUsdByCapacity": _nullable(
                _object(
                    {
                        which: _object(
                            {
                                "onDemand": {"type": "number", "minimum": 0},
                                "spot": {"type": "number", "minimum": 0},
                                "spotShort": {"type": "number", "minimum": 0},
                            }
                        )
                        for which in ("min", "max")
                    },
                )
            ),
        },
    )


def check_manifests_schema() -> dict[str, Any]:
    ran = _object(
        {
            "name": {"type": "string"},
            "ran": {"const": True},
            "description": {"type": "string"},
            "checked": COUNT,
            "findings": STRINGS,
            "passed": COUNT,
            "notEvaluableOffline": STRINGS,
            "suppressed": STRINGS,
        },
        required=["name", "ran", "description", "checked", "findings"],
    )
    skipped = _object(
        {
            "name": {"type": "string"},
            "ran": {"const": False},
            "description": {"type": "string"},
            "skipped": {"type": "string", "description": "why it did not run"},
            "environmentProblem": {"type": "boolean", "description": "true: it was asked for but cannot run here"},
        }
    )
    return envelope_schema(
        "check-manifests",
        "mlserve check-manifests --json",
        {
            "out": {"type": "string", "description": "the render checked"},
            "resources": COUNT,
            "objects": COUNT,
            "findings": COUNT,
            "checkers": {"type": "array", "items": {"oneOf": [ran, skipped]}},
        },
    )


def plan_schema() -> dict[str, Any]:
    usd = {"type": "number", "minimum": 0}
    share = {"type": "number", "minimum": 0, "maximum": 1}
    capacity = {"enum": ["on-demand", "spot", "spot-fallback"]}
    source = _object({"source": {"type": "string"}, "date": {"type": "string"}, "region": {"type": "string"}})
    spot_source = _object({**source["properties"], "method": {"type": "string"}})
    naive = _object(
        {
            "instanceType": {"type": "string", "description": "the pool's largest instance type"},
            "nodes": {"type": "object", "additionalProperties": COUNT, "description": "capacity type -> nodes"},
            "hourlyUsd": usd,
            "monthlyUsd": usd,
        }
    )
    group = _object(
        {
            "instanceType": {"type": "string"},
            "capacityType": {"enum": ["on-demand", "spot"]},
            "count": {"type": "integer", "minimum": 1},
            "hourlyUsdEach": usd,
            "replicas": {"type": "object", "additionalProperties": COUNT, "description": "model -> replicas per node"},
        }
    )
    pool_fields = {
        "name": {"type": "string", "description": "an accelerator, or cpu"},
        "slicesPerGpu": {"type": "integer", "minimum": 1},
        "daemonSetsPerNode": STRINGS,
        "nodes": {"type": "object", "additionalProperties": COUNT, "description": "'<type> <capacity>' -> nodes"},
        "nodeCount": COUNT,
        "cpuUtilisation": share,
        "memoryUtilisation": share,
        "hourlyUsd": usd,
        "monthlyUsd": usd,
        "hourlyUsdIfSpotIsShort": usd,
        "gpus": _object({"total": COUNT, "used": COUNT, "idle": COUNT}),
        "lpBoundHourlyUsd": usd,
        "boundHourlyUsd": usd,
        "gap": share,
        "lpGap": share,
        "optimal": {"type": "boolean", "description": "proven optimal (gap 0)"},
        "naive": naive,
        "nodeGroups": {"type": "array", "items": group},
    }
    pool = _object(pool_fields, required=sorted(set(pool_fields) - {"gpus"}))
    model = _object(
        {
            "pool": {"type": "string"},
            "capacity": capacity,
            "replicas": COUNT,
            "spread": {"type": "boolean"},
            "spotReplicas": COUNT,
            "spotShare": share,
        }
    )
    total = _object(
        {
            name: share if name.endswith("ap") else {"type": "number"}
            for name in (
                "hourlyUsd",
                "monthlyUsd",
                "boundHourlyUsd",
                "lpBoundHourlyUsd",
                "gap",
                "lpGap",
                "naiveHourlyUsd",
                "savingHourlyUsd",
                "savingMonthlyUsd",
                "hourlyUsdIfSpotIsShort",
            )
        }
    )
    return envelope_schema(
        "plan",
        "mlserve plan --json",
        {
            "at": {"enum": ["min", "max", "p95"]},
            "capacityOverride": _nullable(capacity),
            "prices": _object({"onDemand": source, "spot": spot_source, "hoursPerMonth": COUNT}),
            "total": total,
            "pools": {"type": "array", "items": pool},
            "models": {"type": "object", "additionalProperties": model},
            "spotInterruption": {
                "type": "object",
                "additionalProperties": {"type": "string"},
                "description": "spot instance type in the plan -> the advisor's interruption frequency band",
            },
        },
    )


def cli_schemas() -> dict[str, dict[str, Any]]:
    """Committed path -> schema."""
    return {
        "schema/cli/validate.schema.json": validate_schema(),
        "schema/cli/capacity.schema.json": capacity_schema(),
        "schema/cli/check-manifests.schema.json": check_manifests_schema(),
        "schema/cli/plan.schema.json": plan_schema(),
    }
