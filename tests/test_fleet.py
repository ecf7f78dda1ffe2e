"""The benchmarks' fleet generator (mlserve/fleet.py) and floor programs (mlserve/bench_floor.py)."""

from __future__ import annotations

import importlib
import json
import random
from collections import Counter

import yaml

from mlserve import bench_floor
from mlserve import render as render_module
from mlserve.__main__ import main
from mlserve.fleet import fleet, model
from mlserve.mock_runtime import run_program, settle
from mlserve.render import validate
from tests.helpers import ROOT
from tests.test_render import shuffled, tree


def test_a_fleet_is_deterministic_and_each_size_extends_the_smaller():
    assert fleet(40) == fleet(40)
    small, large = fleet(40)["models"], fleet(60)["models"]
    assert list(large)[:40] == list(small) and all(large[name] == small[name] for name in small)
    assert fleet(40, seed=1) != fleet(40)
    assert model(7) == model(7) and model(7)[0].endswith("-0007")


def test_a_fleet_has_the_realistic_mix():
    models = fleet(300)["models"].values()
    assert set(Counter(m["runtime"] for m in models)) == {
        "tensorflow-serving",
        "torchserve",
        "triton",
        "vllm",
        "custom",
    }
    metrics = Counter(m["scaling"]["metric"] for m in models)
    assert set(metrics) == {"cpu", "memory", "gpu-utilization", "requests-per-second", "concurrency"}
    gpus = [m["resources"]["gpu"] for m in models if "gpu" in m["resources"]]
    assert 0.25 < len(gpus) / 300 < 0.6
    assert any(g.get("tensorParallelism", 1) > 1 for g in gpus)
    assert sum(m.get("exposure", {}).get("type") == "public" for m in models) > 30
    assert any("build" in m.get("image", {}) for m in models)


def test_a_fleet_is_a_valid_prod_catalog(tmp_path):
    catalog = tmp_path / "models.yaml"
    catalog.write_text(yaml.safe_dump(fleet(120), sort_keys=False), encoding="utf-8")
    env = validate(ROOT, "prod", str(catalog))
    assert len(env.models) == 120


def test_the_floor_programs_register_the_resources_of_the_render(tmp_path, capsys):
    """Both floors register exactly what the render registered: the same URNs (types, names, parents)."""
    catalog = tmp_path / "models.yaml"
    catalog.write_text(yaml.safe_dump(fleet(12), sort_keys=False), encoding="utf-8")
    out = tmp_path / "out"
    assert main(["render", "--stack", "prod", "--catalog", str(catalog), "--out", str(out)]) == 0
    rendered = json.loads((out / "resources.json").read_text())["resources"]
    registered = {r["urn"] for r in rendered if "read" not in r.get("options", {})}
    resources = bench_floor.floor_input(out)
    assert {r["urn"] for r in resources} == registered
    for mode in ("typed", "raw"):
        run = run_program(ROOT, "prod", lambda mode=mode: bench_floor.register_all(resources, mode), config={})
        assert {r.urn for r in run.registrations} == registered, mode
        kinds = {r.urn: r.inputs.get("kind") for r in run.registrations if r.type.startswith("kubernetes:")}
        assert all(kinds[u] == r["object"]["kind"] for r in resources if "object" in r for u in [r["urn"]]), mode


def test_waiting_for_each_models_registrations_changes_nothing_rendered(tmp_path, monkeypatch):
    """The render constructs one model, waits for its registrations, then the next (``SETTLE_EVERY``; bounded
    memory); constructing every model first, as ``pulumi up`` does, writes the same bytes, and so does the same
    fleet in another order."""
    document = fleet(12)
    catalog, reordered = tmp_path / "models.yaml", tmp_path / "reordered.yaml"
    catalog.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    reordered.write_text(yaml.safe_dump(shuffled(document, random.Random(3)), sort_keys=False), encoding="utf-8")
    settled: list[int] = []
    real_settle = render_module.settle

    async def counted_settle() -> None:
        settled.append(1)
        await real_settle()

    monkeypatch.setattr(render_module, "settle", counted_settle)
    outputs = {}
    for name, every, source in (("paced", 1, catalog), ("unpaced", 0, catalog), ("reordered", 1, reordered)):
        monkeypatch.setattr(render_module, "SETTLE_EVERY", every)
        before = len(settled)
        render_module.render(ROOT, "prod", tmp_path / name, str(source), progress=False)
        assert len(settled) - before == (12 if every else 0), name
        outputs[name] = tree(tmp_path / name)
    assert outputs["paced"] == outputs["unpaced"] == outputs["reordered"]


def test_the_settled_floor_registers_what_the_floor_registers(tmp_path):
    """``bench_floor --settle N`` (the floor bounded as the render is) waits for the registrations so far after every
    N resources, and registers the same resources with the same inputs."""
    catalog = tmp_path / "models.yaml"
    catalog.write_text(yaml.safe_dump(fleet(6), sort_keys=False), encoding="utf-8")
    out = tmp_path / "out"
    assert main(["render", "--stack", "prod", "--catalog", str(catalog), "--out", str(out)]) == 0
    resources = bench_floor.floor_input(out)
    completed_at_waits: list[int] = []

    async def settled_floor():
        for count, _ in enumerate(bench_floor.register_steps(resources, "typed"), 1):
            if count % 10 == 0:
                await settle()
                completed_at_waits.append(len(registered))

    registered: list[str] = []
    run = run_program(
        ROOT, "prod", settled_floor, config={}, on_register=lambda r: registered.append(r.registrations[-1].urn)
    )
    unsettled = run_program(ROOT, "prod", lambda: bench_floor.register_all(resources, "typed"), config={})
    assert completed_at_waits == [10 * (i + 1) for i in range(len(resources) // 10)]
    as_data = [[(r.urn, r.parent, r.dependencies, r.inputs) for r in x.registrations] for x in (run, unsettled)]
    assert as_data[0] == as_data[1]


def test_the_sdk_modules_are_those_of_the_resources_other_providers(tmp_path):
    """``bench_floor --import-sdks`` imports what a typed program of the resources imports besides the Kubernetes
    objects' classes: each other provider's package and its module (``aws:ecr/...``: pulumi_aws.ecr), and the Helm
    module of a Helm chart or release; the project's prod stack builds an image (docker), pushes to ECR (aws) and installs
    charts, and every module named is importable."""
    out = tmp_path / "out"
    assert main(["render", "--stack", "prod", "--out", str(out)]) == 0
    modules = bench_floor.sdk_modules(bench_floor.floor_input(out))
    assert modules == [
        "pulumi_aws",
        "pulumi_aws.ecr",
        "pulumi_docker",
        "pulumi_kubernetes",
        "pulumi_kubernetes.helm.v4",
        "pulumi_random",
    ]
    for module in modules:
        importlib.import_module(module)
    objects_only = [
        {"type": "kubernetes:apps/v1:Deployment", "custom": True, "object": {}},
        {"type": "ml-serving:models:ModelService", "custom": False},
    ]
    assert bench_floor.sdk_modules(objects_only) == []
    helm_v3 = [{"type": "kubernetes:helm.sh/v3:Release", "custom": True}]
    assert bench_floor.sdk_modules(helm_v3) == ["pulumi_kubernetes.helm.v3"]
