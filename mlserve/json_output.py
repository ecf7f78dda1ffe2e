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


def cli_schemas() -> dict[str, dict[str, Any]]:
    """Committed path -> schema."""
    return {
        "schema/cli/validate.schema.json": validate_schema(),
        "schema/cli/capacity.schema.json": capacity_schema(),
        "schema/cli/check-manifests.schema.json": check_manifests_schema(),
    }
