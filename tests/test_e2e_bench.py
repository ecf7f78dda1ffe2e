"""The real-engine benchmark's catalogs (the timed run itself needs the control plane and the engine: `make e2e-bench`)."""

from __future__ import annotations

import yaml

from mlserve.e2e_bench import e2e_catalog
from mlserve.e2e_run import STACK
from mlserve.render import validate
from tests.helpers import ROOT


def test_the_bench_catalog_is_valid_for_the_e2e_stack(tmp_path):
    catalog = tmp_path / "bench-12.yaml"
    catalog.write_text(yaml.safe_dump(e2e_catalog(12), sort_keys=False), encoding="utf-8")
    env = validate(ROOT, STACK, str(catalog))
    assert len(env.models) == 12
    assert all(spec.image is None or spec.image.build is None for spec in env.models.values())


def test_every_model_of_the_bench_catalog_has_its_own_name_and_public_route():
    models = e2e_catalog(11)["models"]
    base = yaml.safe_load((ROOT / "models.yaml").read_text(encoding="utf-8"))["models"]
    assert len(models) == 11 and len(base) < 11  # the default catalog's entries are used more than once
    paths = [m["exposure"]["path"] for m in models.values() if "path" in (m.get("exposure") or {})]
    assert len(paths) == len(set(paths)) > 1


class _FakeKubectl:
    """kubectl's `get -o json` answers for a cluster of two nodes and three pods."""

    def __init__(self, items: dict):
        self.items = items

    def run(self, *args: str):
        import json
        import types

        return types.SimpleNamespace(stdout=json.dumps({"items": self.items[args[1]]}))


def _status(ready: bool, containers: list[bool] | None = None) -> dict:
    status: dict = {"conditions": [{"type": "Ready", "status": "True" if ready else "False"}]}
    if containers is not None:
        status["containerStatuses"] = [{"name": f"c{i}", "ready": r} for i, r in enumerate(containers)]
    return {"status": status}


def test_cluster_health_counts_pods_the_node_controller_marked_not_ready():
    from mlserve.e2e_bench import cluster_health

    kubectl = _FakeKubectl(
        {
            "nodes": [_status(True), _status(False)],
            "pods": [
                _status(True, [True, True]),
                _status(False, [True, True]),  # containers ready, pod not: marked by the node lifecycle controller
                _status(False, [True, False]),  # still starting
            ],
        }
    )
    assert cluster_health(kubectl) == {
        "nodes": 2,
        "nodes_not_ready": 1,
        "pods": 3,
        "pods_marked_not_ready": 1,
        "pods_not_ready": 2,
    }
