"""One side of ``mlserve diff``: render a stack of the checkout in the current directory, and its GPU capacity plan.

Run by ``mlserve diff`` in a child process whose working directory is the checkout to render (the base commit's
temporary worktree, or the working tree), so each side runs its own code: ``python -c`` puts the current directory
first on ``sys.path``, and this file is executed by path (``runpy.run_path``), not imported from the checkout.
It uses only interfaces that older commits have too (``mlserve.render.render`` / ``validate`` and
``components.gpu_capacity.plan_capacity``); when the capacity plan is not available it says so instead of failing.

Writes ``<out>/render/`` (manifests/ and resources.json) and ``<out>/capacity.json``. Exit 0, or 2 with the
located problems on stderr when the checkout's catalog or settings are invalid.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def capacity_summary(project_dir: Path, stack: str, catalog: str | None) -> dict:
    """Per accelerator: GPUs at min and max replicas, the node pool limit, nodes and hourly cost at min and max."""
    from components.gpu_capacity import plan_capacity
    from mlserve.render import validate
    from stacks.program import planned_limits

    env = validate(project_dir, stack, catalog)
    karpenter = env.settings.gpu_node_pool.provider == "karpenter"
    pools = {}
    for name, plan in plan_capacity(env.settings, env.models, planned_limits(env)).items():
        pools[name] = {
            "gpusMin": plan.gpus_at("min"),
            "gpusMax": plan.gpus_at("max"),
            "poolLimit": plan.gpu_limit if karpenter else None,
            "nodesMin": plan.nodes_at("min") if karpenter else None,
            "nodesMax": plan.nodes_at("max") if karpenter else None,
            "usdPerHourMin": round(plan.hourly_usd_at("min"), 2) if karpenter else None,
            "usdPerHourMax": round(plan.hourly_usd_at("max"), 2) if karpenter else None,
        }
    return {"provider": env.settings.gpu_node_pool.provider, "accelerators": pools}


def main(argv: list[str]) -> int:
    stack, out, catalog = argv[0], Path(argv[1]), (argv[2] or None) if len(argv) > 2 else None
    project_dir = Path.cwd()
    try:  # a one-shot process: the checkout's batch interpreter settings, as `mlserve render` (older commits: none)
        from mlserve import interpreter
    except ImportError:
        pass
    else:
        interpreter.BATCH = True
        interpreter.start()
    from mlserve.render import render
    from model_catalog.errors import ConfigurationError

    try:
        render(project_dir, stack, out / "render", catalog)
    except ConfigurationError as exc:
        print(exc.render(), file=sys.stderr)
        return 2
    try:
        capacity = capacity_summary(project_dir, stack, catalog)
    except (ImportError, AttributeError, TypeError) as exc:  # an older commit without this plan interface
        capacity = {"unavailable": f"{type(exc).__name__}: {exc}"}
    (out / "capacity.json").write_text(json.dumps(capacity, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
