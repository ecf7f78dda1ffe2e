"""``mlserve plan``: read the stack, plan every pool, print the table (or JSON) and write the plan file."""

from __future__ import annotations

import json
from pathlib import Path

from model_catalog.environment import Environment
from model_catalog.errors import ConfigurationError, Problem

from .plan import DEFAULT_GAP, plan_document, plan_pools
from .problem import POINTS, PlanInputError, build_pools
from .report import plan_table

DEFAULT_TIME_LIMIT = 60.0


def read_replicas(path: str, env: Environment) -> dict[str, int]:
    """A replica file: a JSON object of model name to replica count (e.g. a forecast's p95)."""

    def bad(message: str, field: str = "") -> ConfigurationError:
        return ConfigurationError([Problem(path, 1, 1, field, message)])

    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise bad("no such file") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise bad(f"not a JSON file: {exc}") from None
    if not isinstance(data, dict):
        raise bad(f"expected a JSON object of model name to replicas, got {type(data).__name__}")
    problems = []
    for model, value in sorted(data.items()):
        if model not in env.models:
            allowed = ", ".join(sorted(env.models)) or "none"
            problems.append(Problem(path, 1, 1, model, f"no enabled model '{model}' in the stack; models: {allowed}"))
        elif isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 10_000:
            problems.append(Problem(path, 1, 1, model, f"got {value!r}; expected a whole number of replicas, 0-10000"))
    if problems:
        raise ConfigurationError(problems)
    return dict(data)


def run_plan(
    env: Environment,
    at: str,
    out: Path,
    as_json: bool,
    time_limit: float = DEFAULT_TIME_LIMIT,
    capacity: str | None = None,
    replicas_file: str | None = None,
    wrap=lambda doc: doc,
    gap: float = DEFAULT_GAP,
) -> tuple[dict, str]:
    """Plan the stack; write ``out`` (the JSON document, through ``wrap``: the CLI's envelope) and return the plan
    and what to print. Raises ConfigurationError for bad input, before anything is written."""
    if at not in POINTS:
        raise ValueError(f"--at {at!r}")
    replicas = read_replicas(replicas_file, env) if replicas_file else None
    try:
        pools = build_pools(env, at, capacity, replicas)
    except PlanInputError as exc:
        path = exc.path if exc.model is not None else ()
        raise ConfigurationError([env.catalog.problem(exc.model, env.stack, path, exc.message)]) from None
    doc = plan_document(env.stack, at, capacity, plan_pools(pools, time_limit, gap), gap)
    text = json.dumps(wrap(doc), indent=2, sort_keys=False) + "\n"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    printed = text if as_json else "\n".join([*plan_table(doc), "", f"wrote {out}"]) + "\n"
    return doc, printed
