"""Real-engine benchmark: `pulumi preview` and `pulumi up` wall time for catalogs of 10, 100 and 500 models against
the local control plane (`make cluster-up` first; `make e2e-bench`).

Each size uses the synthetic catalog of ``make bench`` (the real models.yaml entries repeated under new names), adds
the fake nodes those models need, previews and ups the e2e stack with it, then destroys it. Timings are the
Automation API calls' wall time (engine, provider, API server and the program in the same process).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

import yaml

from .bench import synthetic_catalog
from .e2e_dry_run import Kubectl, install_crds
from .e2e_run import PROJECT_DIR, Harness, _config_value, open_stack

SIZES = (10, 100, 500)


def add_nodes(h: Harness, catalog: Path) -> int:
    nodes = subprocess.run(
        [sys.executable, "-m", "mlserve", "e2e-nodes", "--stack", "e2e", "--catalog", str(catalog)],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    path = catalog.with_suffix(".nodes.yaml")
    path.write_text(nodes, encoding="utf-8")
    h.kubectl.run("apply", "--server-side", "--field-manager=ml-serving-e2e", "-f", str(path))
    h.kubectl.run("wait", "--for=condition=Ready", "--timeout=300s", "-f", str(path))
    return nodes.count("kind: Node")


def measure(h: Harness, size: int) -> dict:
    catalog = h.state / f"bench-{size}.yaml"
    catalog.write_text(yaml.safe_dump(synthetic_catalog(size), sort_keys=False), encoding="utf-8")
    nodes = add_nodes(h, catalog)
    stack = open_stack(h)
    stack.set_config("ml-serving:catalog", _config_value(str(catalog.relative_to(PROJECT_DIR))))
    started = time.perf_counter()
    preview = stack.preview(color="never")
    preview_s = time.perf_counter() - started
    started = time.perf_counter()
    up = stack.up(color="never")
    up_s = time.perf_counter() - started
    resources = sum(up.summary.resource_changes.values())
    started = time.perf_counter()
    stack.destroy(color="never")
    destroy_s = time.perf_counter() - started
    stack.remove_config("ml-serving:catalog")
    del preview
    return {
        "models": size,
        "resources": resources,
        "nodes": nodes,
        "preview_s": round(preview_s, 1),
        "up_s": round(up_s, 1),
        "destroy_s": round(destroy_s, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mlserve.e2e_bench")
    parser.add_argument("--state", default="build/e2e")
    parser.add_argument("--sizes", type=int, nargs="*", default=list(SIZES))
    args = parser.parse_args(argv)
    state = Path(args.state).resolve()
    bin_dir = Path((state / "bin").read_text().strip())
    h = Harness(state, bin_dir, Kubectl(str(bin_dir / "kubectl"), str(state / "kubeconfig")))
    install_crds(h.kubectl)
    if h.kubectl.run("get", "namespace", "monitoring", check=False).returncode != 0:
        h.kubectl.run("create", "namespace", "monitoring")
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
