"""Real-engine benchmark: `pulumi preview` and `pulumi up` wall time for catalogs of 10, 100 and 500 models against the
local control plane (`make cluster-up` first; `make e2e-bench`).

Each size uses a catalog of the real models.yaml entries repeated under new names (``e2e_catalog``: the e2e stack
has the default catalog's accelerators and no registry to build into, so ``make bench``'s realistic fleets, which
need more accelerators and image builds, do not fit it) on the e2e stack, adds the fake nodes those models need (``mlserve e2e-nodes``), then times a preview of the empty stack,
the ``up`` that creates everything (the provider awaits every Deployment available) and the ``destroy``. Timings are
the Automation API calls' wall time: engine, provider, API server and the program in this process, together.
"""

from __future__ import annotations

import argparse
import copy
import subprocess
import sys
import time
from pathlib import Path

import yaml

from .e2e_dry_run import Kubectl
from .e2e_run import PROJECT, PROJECT_DIR, STACK, Events, Harness, open_stack, prepare_cluster

SIZES = (10, 100, 500)


def e2e_catalog(models: int, base: Path = PROJECT_DIR / "models.yaml") -> dict:
    """A catalog of ``models`` models for the e2e stack: the entries of ``base`` in turn, each under a new name
    (``<name>-<i>``) and, when public, at its own path (one public route per model)."""
    entries = list(yaml.safe_load(base.read_text(encoding="utf-8"))["models"].items())
    catalog: dict = {"version": 1, "models": {}}
    for i in range(models):
        name, entry = entries[i % len(entries)]
        new_name, entry = f"{name[:30]}-{i}", copy.deepcopy(entry)
        if isinstance(entry.get("exposure"), dict) and "path" in entry["exposure"]:
            entry["exposure"]["path"] = f"/v1/models/{new_name}"
        catalog["models"][new_name] = entry
    return catalog


def add_nodes(h: Harness, catalog: Path) -> int:
    """The fake nodes the catalog's models need on the e2e stack, applied and Ready; returns how many."""
    nodes = subprocess.run(
        [sys.executable, "-m", "mlserve", "e2e-nodes", "--stack", STACK, "--catalog", str(catalog)],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    path = catalog.with_suffix(".nodes.yaml")
    path.write_text(nodes, encoding="utf-8")
    subprocess.run(
        [str(PROJECT_DIR / "tools/e2e/cluster.sh"), "nodes", str(path)],
        check=True,
        env={**h.kubectl.env, "E2E_STATE": str(h.state)},
    )
    return sum(1 for doc in yaml.safe_load_all(nodes) if doc and doc.get("kind") == "Node")


def measure(h: Harness, size: int) -> dict:
    from pulumi import automation as auto

    catalog = h.state / f"bench-{size}.yaml"
    catalog.write_text(yaml.safe_dump(e2e_catalog(size), sort_keys=False), encoding="utf-8")
    nodes = add_nodes(h, catalog)
    stack = open_stack(h)
    stack.set_config(f"{PROJECT}:catalog", auto.ConfigValue(value=str(catalog.relative_to(PROJECT_DIR))))
    events = Events()
    started = time.perf_counter()
    stack.preview(on_event=events, color="never")
    preview_s = time.perf_counter() - started
    started = time.perf_counter()
    up = stack.up(color="never")
    up_s = time.perf_counter() - started
    started = time.perf_counter()
    stack.destroy(color="never")
    destroy_s = time.perf_counter() - started
    stack.workspace.remove_stack(STACK)
    return {
        "models": size,
        "resources": sum(up.summary.resource_changes.values()),
        "nodes": nodes,
        "preview_s": round(preview_s, 1),
        "up_s": round(up_s, 1),
        "destroy_s": round(destroy_s, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mlserve.e2e_bench", description=__doc__)
    parser.add_argument("--bin", required=True, help="tools/e2e/build.sh's bin directory")
    parser.add_argument("--state", default="build/e2e", help="the control plane's state directory")
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES), help="catalog sizes (models)")
    args = parser.parse_args(argv)
    state, bin_dir = Path(args.state).resolve(), Path(args.bin).resolve()
    # The catalogs are read relative to the project (ml-serving:catalog): the state must be inside it.
    if not state.is_relative_to(PROJECT_DIR):
        parser.error(f"--state {state} must be inside the project {PROJECT_DIR}")
    h = Harness(state, bin_dir, Kubectl(str(bin_dir / "kubectl"), str(state / "kubeconfig")))
    prepare_cluster(h, "monitoring")
    print(f"{'models':>7} {'resources':>10} {'nodes':>6} {'preview s':>10} {'up s':>8} {'destroy s':>10}", flush=True)
    for size in sorted(args.sizes):
        r = measure(h, size)
        print(
            f"{r['models']:>7} {r['resources']:>10} {r['nodes']:>6} {r['preview_s']:>10} {r['up_s']:>8} "
            f"{r['destroy_s']:>10}",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
