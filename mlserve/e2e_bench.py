"""Real-engine benchmark: `pulumi preview` and `pulumi up` wall time for catalogs of 10, 100 and 500 models against the
local control plane (`make cluster-up` first; `make e2e-bench`).

Each size uses a catalog of the real models.yaml entries repeated under new names (``e2e_catalog``: the e2e stack
has the default catalog's accelerators and no registry to build into, so ``make bench``'s realistic fleets, which
need more accelerators and image builds, do not fit it) on the e2e stack, adds the fake nodes those models need (``mlserve e2e-nodes``), then times a preview of the empty stack,
the ``up`` that creates everything (the provider awaits every Deployment available) and the ``destroy``. Timings are
the Automation API calls' wall time (engine, provider, API server and the program in this process, together) and CPU
time (the program in this process, the pulumi CLI and its provider plugin; not the control plane's), with the load
average, in a table and in ``<state>/bench.json``.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import yaml

from .bench import machine
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


def cluster_health(kubectl: Kubectl) -> dict:
    """What the fake cluster looks like: nodes not Ready, pods not Ready, and pods whose containers are all ready but
    whose Ready condition is not (the node lifecycle controller's mark on the pods of a node it took for gone: kwok
    readies only Pending pods, so such a pod stays NotReady and an ``up`` waiting for its Deployment never ends)."""
    nodes = json.loads(kubectl.run("get", "nodes", "-o", "json").stdout)["items"]
    pods = json.loads(kubectl.run("get", "pods", "--all-namespaces", "-o", "json").stdout)["items"]

    def ready(obj: dict) -> bool:
        conditions = obj.get("status", {}).get("conditions") or []
        return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)

    def containers_ready(pod: dict) -> bool:
        statuses = pod.get("status", {}).get("containerStatuses") or []
        return bool(statuses) and all(c.get("ready") for c in statuses)

    return {
        "nodes": len(nodes),
        "nodes_not_ready": sum(not ready(n) for n in nodes),
        "pods": len(pods),
        "pods_not_ready": sum(not ready(p) for p in pods),
        "pods_marked_not_ready": sum(containers_ready(p) and not ready(p) for p in pods),
    }


def _progress(size: int, message: str) -> None:
    print(
        f"  {size} models: {message} ({time.strftime('%H:%M:%S')}, load {os.getloadavg()[0]:.1f})",
        file=sys.stderr,
        flush=True,
    )


def _cpu() -> float:
    """CPU seconds of this process (the inline program) and of its reaped children (the pulumi CLI, which reaps the
    provider plugin): what the operations cost whatever the machine's load."""
    me, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + children.ru_utime + children.ru_stime


def _timed(operation) -> tuple[object, float, float]:
    wall, cpu = time.perf_counter(), _cpu()
    result = operation()
    return result, time.perf_counter() - wall, _cpu() - cpu


def measure(h: Harness, size: int, checkpoints: str, destroy: bool = True) -> dict:
    from pulumi import automation as auto

    catalog = h.state / f"bench-{size}.yaml"
    catalog.write_text(yaml.safe_dump(e2e_catalog(size), sort_keys=False), encoding="utf-8")
    nodes = add_nodes(h, catalog)
    _progress(size, f"{nodes} nodes Ready")
    # The file backend writes the whole state after every step (Pulumi Cloud journals instead); PULUMI_SKIP_CHECKPOINTS
    # writes it once, at the end (a crash mid-update then loses the update's record): the two modes of this bench.
    os.environ.pop("PULUMI_SKIP_CHECKPOINTS", None)
    if checkpoints == "final":
        os.environ["PULUMI_SKIP_CHECKPOINTS"] = "true"
    stack = open_stack(h)
    stack.set_config(f"{PROJECT}:catalog", auto.ConfigValue(value=str(catalog.relative_to(PROJECT_DIR))))
    _, preview_s, preview_cpu = _timed(lambda: stack.preview(on_event=Events(), color="never"))
    _progress(size, f"preview {preview_s:.1f} s wall, {preview_cpu:.1f} CPU s")
    try:
        up, up_s, up_cpu = _timed(lambda: stack.up(color="never"))
    except Exception:
        _progress(size, f"up failed; the cluster: {cluster_health(h.kubectl)}")
        raise
    _progress(size, f"up {up_s:.1f} s wall, {up_cpu:.1f} CPU s; the cluster: {cluster_health(h.kubectl)}")
    destroy_s = destroy_cpu = None
    if destroy:
        _, destroy_s, destroy_cpu = _timed(lambda: stack.destroy(color="never"))
        _progress(size, f"destroy {destroy_s:.1f} s wall, {destroy_cpu:.1f} CPU s")
    # Kept objects go with the control plane (`make cluster-down`); their record goes with the stack.
    stack.workspace.remove_stack(STACK, force=not destroy)
    os.environ.pop("PULUMI_SKIP_CHECKPOINTS", None)
    return {
        "models": size,
        "checkpoints": checkpoints,
        "resources": sum(up.summary.resource_changes.values()),  # type: ignore[attr-defined]
        "nodes": nodes,
        "preview_s": round(preview_s, 1),
        "up_s": round(up_s, 1),
        "destroy_s": None if destroy_s is None else round(destroy_s, 1),
        "preview_cpu_s": round(preview_cpu, 1),
        "up_cpu_s": round(up_cpu, 1),
        "destroy_cpu_s": None if destroy_cpu is None else round(destroy_cpu, 1),
        "load_average": round(os.getloadavg()[0], 1),
    }


COLUMNS = (
    "models",
    "checkpoints",
    "resources",
    "nodes",
    "preview_s",
    "up_s",
    "destroy_s",
    "preview_cpu_s",
    "up_cpu_s",
    "destroy_cpu_s",
    "load_average",
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mlserve.e2e_bench", description=__doc__)
    parser.add_argument("--bin", required=True, help="tools/e2e/build.sh's bin directory")
    parser.add_argument("--state", default="build/e2e", help="the control plane's state directory")
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES), help="catalog sizes (models)")
    parser.add_argument(
        "--checkpoints",
        nargs="+",
        choices=("every-step", "final"),
        default=["every-step"],
        help="state writes of the file backend: after every step (Pulumi's default) or only at the end "
        "(PULUMI_SKIP_CHECKPOINTS=true); each mode runs every size",
    )
    parser.add_argument(
        "--keep-last",
        action="store_true",
        help="do not destroy the last (largest) catalog: `make cluster-down` removes its objects with the cluster",
    )
    args = parser.parse_args(argv)
    state, bin_dir = Path(args.state).resolve(), Path(args.bin).resolve()
    # The catalogs are read relative to the project (ml-serving:catalog): the state must be inside it.
    if not state.is_relative_to(PROJECT_DIR):
        parser.error(f"--state {state} must be inside the project {PROJECT_DIR}")
    h = Harness(state, bin_dir, Kubectl(str(bin_dir / "kubectl"), str(state / "kubeconfig")))
    prepare_cluster(h, "monitoring")
    results = []
    print(" ".join(f"{c:>13}" for c in COLUMNS), flush=True)
    for checkpoints in args.checkpoints:
        for size in sorted(args.sizes):
            last = checkpoints == args.checkpoints[-1] and size == max(args.sizes)
            results.append(measure(h, size, checkpoints, destroy=not (args.keep_last and last)))
            print(" ".join(f"{results[-1][c]!s:>13}" for c in COLUMNS), flush=True)
            out = state / "bench.json"
            out.write_text(json.dumps({"machine": machine(), "results": results}, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
