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


def envelope_schema(command: str, title: str, fields: dict[str, Any], stacks: bool = False) -> dict[str, Any]:
    """A command's document: the common envelope, then either its fields (exitCode != 2) or ``problems`` (located
    problems of the inputs; empty when the error is not in a file) and, for such an error, ``error``. ``stacks``:
    the command takes several stacks (a list of names) rather than one."""
    common = {
        "schemaVersion": {"const": JSON_SCHEMA_VERSION},
        "command": {"const": command},
        "ok": {"type": "boolean", "description": "exitCode == 0"},
        "exitCode": {"enum": [0, 1, 2, 3], "description": "the process exit code (docs/cli.md#exit-codes)"},
    }
    if stacks:
        common["stacks"] = {**STRINGS, "description": "the stacks compared, as given or every stack"}
    else:
        common["stack"] = {"type": "string"}
    invalid_fields = {
        **common,
        "exitCode": {"const": 2},
        "ok": {"const": False},
        "problems": {"type": "array", "items": PROBLEM},
        "error": {"type": "string", "description": "an invalid input that is not in a file (a git ref, a model name)"},
    }
    invalid = _object(invalid_fields, required=sorted(set(invalid_fields) - {"error"}))
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
            "gapTarget": {
                "type": "number",
                "minimum": 0,
                "maximum": 1,
                "description": "--gap: a pool's plan was not improved further once within this share of its bound",
            },
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


def diff_schema() -> dict[str, Any]:
    flags = {"type": "array", "items": {"enum": ["deletion", "replacement", "protected", "image", "capacity"]}}
    field = _object(
        {
            "path": {"type": "string", "description": "e.g. spec.maxReplicaCount; {json} marks JSON inside a text"},
            "before": {"description": "the value before; absent when the field is new"},
            "after": {"description": "the value after; absent when the field was removed"},
            "flags": flags,
            "lines": {**STRINGS, "description": "a multi-line text's changed lines (unified diff, no context)"},
        },
        required=["path", "flags"],
    )
    change = _object(
        {
            "status": {"enum": ["added", "removed", "changed"]},
            "object": {"type": "string", "description": "kind namespace/name, or a non-Kubernetes type and name"},
            "kind": {"type": "string"},
            "model": {"type": "string", "description": "the model it belongs to, or (stack-wide)"},
            "urn": _nullable({"type": "string"}),
            "flags": flags,
            "fields": {"type": "array", "items": field, "description": "empty for an added or removed object"},
        }
    )
    capacity = _object(
        {
            "changed": {"type": "boolean"},
            "before": {"type": "object", "description": "the GPU capacity plan at the base (per accelerator)"},
            "after": {"type": "object", "description": "the GPU capacity plan in the working tree"},
            "rows": {
                "type": "array",
                "description": "each figure of a changed accelerator, as the text report shows it",
                "items": _object(
                    {"figure": {"type": "string"}, "before": {"type": "string"}, "after": {"type": "string"}}
                ),
            },
        }
    )
    stack_diff = _object(
        {
            "stack": {"type": "string"},
            "base": {"type": "string", "description": "the ref and its commit"},
            "changed": {"type": "boolean"},
            "counts": {
                "type": "object",
                "additionalProperties": COUNT,
                "description": "added, removed, changed, and objects per flag",
            },
            "changes": {"type": "array", "items": change},
            "capacity": capacity,
        }
    )
    return envelope_schema(
        "diff", "mlserve diff --json", {"diffs": {"type": "array", "items": stack_diff}}, stacks=True
    )


def policy_schema() -> dict[str, Any]:
    return envelope_schema(
        "policy",
        "mlserve policy --json",
        {
            "tier": {"enum": ["dev", "staging", "prod"]},
            "resources": {**COUNT, "description": "resources judged (created by the stack, not read)"},
            "rules": {
                "type": "array",
                "items": _object({"name": {"type": "string"}, "mandatory": {"type": "boolean"}}),
            },
            "mandatoryViolations": COUNT,
            "advisoryViolations": COUNT,
            "violations": {
                "type": "array",
                "items": _object(
                    {
                        "rule": {"type": "string"},
                        "mandatory": {"type": "boolean"},
                        "urn": {"type": "string"},
                        "message": {"type": "string"},
                    }
                ),
            },
        },
    )


def promote_schema() -> dict[str, Any]:
    return envelope_schema(
        "promote",
        "mlserve promote --json",
        {
            "model": {"type": "string"},
            "from": _nullable({"type": "string"}),
            "field": {
                "type": "string",
                "description": "the catalog field written: models.<m>.overrides.<stack>.image.ref",
            },
            "catalog": {"type": "string", "description": "the catalog file"},
            "image": {"type": "string", "description": "the reference the stack runs now (by digest)"},
            "previous": _nullable({"type": "string", "description": "what it ran before; null: nothing changed"}),
            "written": {"type": "boolean", "description": "false when the stack already ran that image"},
        },
    )


def cli_schemas() -> dict[str, dict[str, Any]]:
    """Committed path -> schema."""
    return {
        "schema/cli/validate.schema.json": validate_schema(),
        "schema/cli/capacity.schema.json": capacity_schema(),
        "schema/cli/check-manifests.schema.json": check_manifests_schema(),
        "schema/cli/plan.schema.json": plan_schema(),
        "schema/cli/diff.schema.json": diff_schema(),
        "schema/cli/policy.schema.json": policy_schema(),
        "schema/cli/promote.schema.json": promote_schema(),
    }
