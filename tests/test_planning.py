"""The capacity planner (`python -m mlserve plan`): exact optima on examples computed by hand, the seed's example,
the bound, spreading, time-slicing, spot, bad input and deterministic output."""

from __future__ import annotations

import dataclasses
import itertools
import json
import random

import numpy as np
import pytest
import yaml

from mlserve.__main__ import main
from mlserve.render import validate
from planning.cli import run_plan
from planning.naive import naive_plan
from planning.plan import assign, plan_document, plan_pools
from planning.problem import Demand, build_pools, make_pool
from planning.solver import ItemClass, NodeKind, UnplaceableError, _Pricer, _UpperBounds, fits, solve
from platform_data.accelerators import ACCELERATORS
from platform_data.cpu_instances import CPU_INSTANCE_TYPES
from platform_data.prices import hourly_usd
from tests.components.test_gpu_node_pool import CATALOG as GPU_POOL_CATALOG
from tests.components.test_gpu_node_pool import KARPENTER
from tests.helpers import ROOT, run_catalog, write_catalog

L4 = ACCELERATORS["nvidia-l4"].instance_types


def loads(solution, classes, kinds) -> list[tuple[str, list[int]]]:
    """Per node: its kind and the resources its replicas use."""
    by_name = {k.name: k for k in kinds}
    nodes = []
    for pattern, count in solution.nodes:
        used = [sum(classes[i].size[r] * a for i, a in pattern.counts) for r in range(len(kinds[0].capacity))]
        assert all(u <= c for u, c in zip(used, by_name[pattern.kind].capacity, strict=True))
        nodes += [(pattern.kind, used)] * count
    return nodes


def placed(solution, classes) -> list[int]:
    counts = [0] * len(classes)
    for pattern, count in solution.nodes:
        for i, a in pattern.counts:
            counts[i] += a * count
    return counts


# --- seed 001 §4.3: containers needing 2, 3 and 1 units, nodes offering 5 and 4 ---------------------------------
SEED_CONTAINERS = [ItemClass("C1", 1, (2,), ("N1", "N2")), ItemClass("C2", 1, (3,), ("N1", "N2"))]
SEED_CONTAINERS.append(ItemClass("C3", 1, (1,), ("N1", "N2")))


def test_seed_example_on_its_two_nodes_places_every_container_once_within_capacity():
    """The seed's setting: exactly one N1 (5 units) and one N2 (4 units). The containers need 6 units, more than
    either node, so the optimum uses both: cost 5 + 4 = 9, and the placement fits."""
    kinds = [NodeKind("N1", (5,), 5.0, limit=1), NodeKind("N2", (4,), 4.0, limit=1)]
    solution = solve(SEED_CONTAINERS, kinds)
    assert placed(solution, SEED_CONTAINERS) == [1, 1, 1]
    assert sorted(kind for kind, _ in loads(solution, SEED_CONTAINERS, kinds)) == ["N1", "N2"]
    assert solution.cost == pytest.approx(9.0)
    assert solution.proven_optimal and solution.bound == pytest.approx(9.0)


def test_seed_example_when_nodes_can_be_bought():
    """With as many nodes of each kind as wanted (priced by size), two N2 beat N1 + N2: {3, 1} and {2} each fit in
    4, cost 8 < 9 (N1 + N2) < 10 (two N1); one node never holds all 6 units. The LP relaxation takes half of each
    of three two-container nodes ({2, 3} on N1, {3, 1} and {2, 1} on N2): 6.5."""
    kinds = [NodeKind("N1", (5,), 5.0), NodeKind("N2", (4,), 4.0)]
    solution = solve(SEED_CONTAINERS, kinds)
    assert placed(solution, SEED_CONTAINERS) == [1, 1, 1]
    assert [kind for kind, _ in loads(solution, SEED_CONTAINERS, kinds)] == ["N2", "N2"]
    assert solution.cost == pytest.approx(8.0)
    assert solution.lp_bound == pytest.approx(6.5)
    assert solution.proven_optimal and solution.bound == pytest.approx(8.0)


def test_spread_replicas_take_distinct_nodes_and_the_naive_plan_pays_more():
    """Two models of 3 replicas each, 3 units per replica, each model on distinct nodes. A big node (10 units, $9)
    holds one replica of each (2 replicas, $4.50 a replica); a small node (4 units, $4) holds one ($4 a replica).
    By hand: six small nodes, $24. First-fit decreasing on the big node needs three of them, $27."""
    kinds = [NodeKind("big", (10,), 9.0), NodeKind("small", (4,), 4.0)]
    classes = [ItemClass("a+b", 6, (3,), ("big", "small"), per_node=2)]
    solution = solve(classes, kinds)
    assert solution.cost == pytest.approx(24.0)
    assert [kind for kind, _ in loads(solution, classes, kinds)] == ["small"] * 6
    assert solution.proven_optimal


def test_an_l4_pool_by_hand_beats_the_naive_plan():
    """Three replicas of 1 L4, 2 CPU, 8Gi, no spreading. g6.xlarge is the cheapest L4 per GPU ($0.8048) and holds
    one (2920m CPU and 13138Mi left after reservations): three of them, $2.4144, and no plan with three GPUs costs
    less. The naive plan puts all three on the largest type, one g6.48xlarge at $13.3504."""
    demand = Demand("m", "nvidia-l4", 3, (2000, 8192, 1, 1), "on-demand", spread=False)
    pool = make_pool("nvidia-l4", L4, [demand])
    solution = solve(pool.classes, pool.kinds)
    nodes = assign(pool, solution)
    assert [(n.instance_type, n.count, n.replicas) for n in nodes] == [("g6.xlarge", 3, (("m", 1),))]
    assert solution.cost == pytest.approx(3 * 0.8048)
    assert solution.proven_optimal
    naive = naive_plan(pool)
    assert naive == {"instanceType": "g6.48xlarge", "nodes": {"on-demand": 1}, "hourlyUsd": 13.3504,
                     "monthlyUsd": 9745.792}  # fmt: skip
    assert naive["hourlyUsd"] > solution.cost


def test_time_slicing_packs_replicas_onto_slices_of_one_gpu():
    """Four slices per L4: four one-slice replicas of 500m and 2Gi share the GPU of one g6.xlarge ($0.8048)."""
    demand = Demand("small", "nvidia-l4", 4, (500, 2048, 1, 1), "on-demand", spread=False)
    pool = make_pool("nvidia-l4", L4, [demand], slices=4)
    solution = solve(pool.classes, pool.kinds)
    assert [(n.instance_type, n.count, n.replicas) for n in assign(pool, solution)] == [
        ("g6.xlarge", 1, (("small", 4),))
    ]
    without = make_pool("nvidia-l4", L4, [demand])
    assert solve(without.classes, without.kinds).cost == pytest.approx(4 * 0.8048)


def test_spot_fallback_takes_spot_and_on_demand_models_stay_on_demand():
    demands = [
        Demand("steady", "nvidia-l4", 1, (2000, 8192, 1, 1), "on-demand", spread=False),
        Demand("flexible", "nvidia-l4", 1, (2000, 8192, 1, 1), "spot-fallback", spread=False),
        Demand("cheap", "nvidia-l4", 1, (2000, 8192, 1, 1), "spot", spread=False),
    ]
    pool = make_pool("nvidia-l4", L4, demands)
    nodes = assign(pool, solve(pool.classes, pool.kinds))
    on = {m: n.capacity_type for n in nodes for m, _ in n.replicas}
    assert on == {"steady": "on-demand", "flexible": "spot", "cheap": "spot"}
    spot = hourly_usd("g6.xlarge", "spot")
    assert spot == pytest.approx(0.8048 * 0.51)
    assert sum(n.count * hourly_usd(n.instance_type, n.capacity_type) for n in nodes) == pytest.approx(
        0.8048 + 2 * spot
    )


def test_replicas_of_different_models_with_the_same_shape_are_one_class():
    demands = [Demand(f"m{i}", "cpu", 3, (1000, 2048, 0, 1), "on-demand", spread=True) for i in range(4)]
    demands.append(Demand("odd", "cpu", 2, (1000, 2048, 0, 1), "on-demand", spread=True))
    pool = make_pool("cpu", CPU_INSTANCE_TYPES, demands)
    # Four spread models of 3 replicas: one class, at most 4 of it per node; the one with 2 replicas apart.
    assert [(c.demand, c.per_node) for c in pool.classes] == [(2, 1), (12, 4)]
    nodes = assign(pool, solve(pool.classes, pool.kinds))
    for node in nodes:
        assert all(n == 1 for _, n in node.replicas)  # spread: one replica of a model per node
    totals = {}
    for node in nodes:
        for m, n in node.replicas:
            totals[m] = totals.get(m, 0) + n * node.count
    assert totals == {"m0": 3, "m1": 3, "m2": 3, "m3": 3, "odd": 2}


def test_a_class_no_node_holds_is_an_error():
    with pytest.raises(UnplaceableError, match="huge"):
        solve([ItemClass("huge", 1, (11,), ("big",))], [NodeKind("big", (10,), 1.0)])


@pytest.mark.parametrize("seed", range(12))
def test_the_bound_never_exceeds_the_plan_and_every_replica_is_placed(seed):
    rng = random.Random(seed)
    kinds = [NodeKind(f"k{j}", (rng.randint(8, 20), rng.randint(8, 20)), rng.uniform(1, 5)) for j in range(3)]
    names = tuple(k.name for k in kinds)
    classes = [
        ItemClass(f"c{i}", rng.randint(1, 6), (rng.randint(1, 8), rng.randint(1, 8)), names, rng.choice((None, 1, 2)))
        for i in range(rng.randint(1, 6))
    ]
    solution = solve(classes, kinds, time_limit=10)
    assert solution.lp_bound <= solution.bound + 1e-9 <= solution.cost + 2e-9
    assert placed(solution, classes) == [c.demand for c in classes]
    for pattern, _ in solution.nodes:
        assert all(a <= (classes[i].per_node or a) for i, a in pattern.counts)
    loads(solution, classes, kinds)


# --- the command ----------------------------------------------------------------------------------------------

TOO_BIG = """
models:
  small:
    runtime: tensorflow-serving
    weights: {uri: "s3://bucket/small/", sizeGiB: 1}
    resources: {cpu: "1", memory: 2Gi}
  giant:
    runtime: tensorflow-serving
    weights: {uri: "s3://bucket/giant/", sizeGiB: 1}
    resources: {cpu: "8", memory: 600Gi}
"""


def test_a_replica_larger_than_every_instance_is_an_error_naming_the_model_and_the_largest_instance(tmp_path, capsys):
    catalog = write_catalog(tmp_path / "models.yaml", TOO_BIG)
    out = tmp_path / "plan.json"
    assert main(["plan", "--stack", "staging", "--catalog", str(catalog), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "models.yaml:" in err and "models.giant.resources" in err
    assert "'giant'" in err and "r7i.16xlarge" in err and "Traceback" not in err
    assert not out.exists()


def test_p95_without_replica_counts_is_an_error(tmp_path, capsys):
    assert main(["plan", "--stack", "prod", "--at", "p95", "--out", str(tmp_path / "p.json")]) == 2
    assert "--at p95 needs" in capsys.readouterr().err


def test_a_replica_file_sets_replicas_and_unknown_models_are_errors(tmp_path, capsys):
    good = tmp_path / "p95.json"
    good.write_text(json.dumps({"resnet50": 5, "object-detector": 3}))
    out = tmp_path / "plan.json"
    assert main(["plan", "--stack", "prod", "--at", "p95", "--replicas", str(good), "--out", str(out)]) == 2
    assert "this model has none" in capsys.readouterr().err  # the other models have no p95
    assert main(["plan", "--stack", "prod", "--at", "max", "--replicas", str(good), "--out", str(out)]) == 0
    doc = json.loads(out.read_text())
    assert doc["models"]["resnet50"]["replicas"] == 5 and doc["models"]["object-detector"]["replicas"] == 3
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"nope": 2, "resnet50": "3"}))
    assert main(["plan", "--stack", "prod", "--replicas", str(bad), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "no enabled model 'nope'" in err and "got '3'" in err


def test_make_plan_for_prod_prints_cost_bound_and_gap_and_writes_the_plan(tmp_path, capsys):
    out = tmp_path / "build" / "prod" / "plan.json"
    assert main(["plan", "--stack", "prod", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "bound $/h" in printed and "gap" in printed and "naive $/h" in printed
    doc = json.loads(out.read_text())
    assert [p["name"] for p in doc["pools"]] == ["nvidia-h100", "nvidia-l4", "cpu"]
    total = doc["total"]
    assert total["lpBoundHourlyUsd"] <= total["boundHourlyUsd"] <= total["hourlyUsd"] <= total["naiveHourlyUsd"]
    for name, model in doc["models"].items():
        on_nodes = sum(g["count"] * g["replicas"].get(name, 0) for p in doc["pools"] for g in p["nodeGroups"])
        assert on_nodes == model["replicas"], name
        if model["spread"]:
            assert all(g["replicas"].get(name, 0) <= 1 for p in doc["pools"] for g in p["nodeGroups"])
    # llama3-70b: 4 replicas of 2 H100s, spread: four p5.48xlarge, on-demand in prod.
    (h100,) = [p for p in doc["pools"] if p["name"] == "nvidia-h100"]
    assert h100["nodes"] == {"p5.48xlarge on-demand": 4} and h100["gpus"] == {"total": 32, "used": 8, "idle": 24}
    assert h100["optimal"]


@pytest.mark.parametrize("gap", ["1.5", "-0.1", "abc", "200%"])
def test_a_bad_gap_is_an_error_and_nothing_is_written(tmp_path, capsys, gap):
    out = tmp_path / "plan.json"
    with pytest.raises(SystemExit) as exited:
        main(["plan", "--stack", "prod", "--gap", gap, "--out", str(out)])
    assert exited.value.code == 2
    assert "--gap" in capsys.readouterr().err and not out.exists()


def test_the_gap_target_stops_a_pool_within_it_and_the_bound_stays_a_bound():
    """--gap: each pool stops improving once within the target of its bound (recorded as gapTarget); with 0 it goes
    on to the optimum. The bound is the same either way: the target never touches it."""
    demands = [
        Demand(f"m{i}", "cpu", 2 + i % 4, (500 + 500 * (i % 5), 1024 * (1 + i % 3), 0, 1), "on-demand", spread=True)
        for i in range(9)
    ]
    pool = make_pool("cpu", CPU_INSTANCE_TYPES, demands)
    loose = solve(pool.classes, pool.kinds, time_limit=20, gap=0.05)
    exact = solve(pool.classes, pool.kinds, time_limit=20, gap=0.0)
    assert loose.gap <= 0.05 and exact.proven_optimal
    assert loose.bound <= exact.cost + 1e-9 and exact.bound <= exact.cost <= loose.cost + 1e-9
    doc = plan_document("s", "max", None, [], 0.05)
    assert doc["gapTarget"] == 0.05


def test_the_plan_is_deterministic_whatever_the_catalog_order(tmp_path):
    catalog = yaml.safe_load((ROOT / "models.yaml").read_text())
    reordered = dict(reversed(list(catalog["models"].items())))
    (tmp_path / "reordered.yaml").write_text(yaml.safe_dump({"version": 1, "models": reordered}, sort_keys=False))
    texts = []
    for name in (ROOT / "models.yaml", ROOT / "models.yaml", tmp_path / "reordered.yaml"):
        env = validate(ROOT, "staging", str(name))
        out = tmp_path / f"plan-{len(texts)}.json"
        run_plan(env, "max", out, as_json=True)
        texts.append(out.read_bytes())
    assert texts[0] == texts[1] == texts[2]


def test_capacity_what_if_and_spot_share():
    env = validate(ROOT, "prod")
    on_demand = plan_document("s", "max", None, plan_pools(build_pools(env, "max"), 30))
    spot = plan_document("s", "max", "spot", plan_pools(build_pools(env, "max", "spot"), 30))
    assert all(m["spotShare"] == 0 for m in on_demand["models"].values())
    assert all(m["spotShare"] == 1 for m in spot["models"].values() if m["replicas"])
    assert spot["total"]["hourlyUsd"] < on_demand["total"]["hourlyUsd"]
    assert spot["total"]["hourlyUsdIfSpotIsShort"] >= on_demand["total"]["hourlyUsd"]


SPOT_CATALOG = """
models:
  steady:
    runtime: tensorflow-serving
    weights: {uri: "s3://bucket/steady/", sizeGiB: 1}
    resources: {cpu: "2", memory: 4Gi}
    scaling: {minReplicas: 2, maxReplicas: 2}
    capacity: on-demand
  batchy:
    runtime: tensorflow-serving
    weights: {uri: "s3://bucket/batchy/", sizeGiB: 1}
    resources: {cpu: "2", memory: 4Gi}
    scaling: {minReplicas: 2, maxReplicas: 2}
    capacity: spot
"""


def test_the_catalogs_capacity_field_puts_a_model_on_spot(tmp_path):
    catalog = write_catalog(tmp_path / "models.yaml", SPOT_CATALOG)
    out = tmp_path / "plan.json"
    assert main(["plan", "--stack", "staging", "--catalog", str(catalog), "--out", str(out)]) == 0
    models = json.loads(out.read_text())["models"]
    assert (models["batchy"]["capacity"], models["batchy"]["spotShare"]) == ("spot", 1.0)
    assert (models["steady"]["capacity"], models["steady"]["spotShare"]) == ("on-demand", 0.0)
    bad = write_catalog(tmp_path / "bad.yaml", SPOT_CATALOG.replace("capacity: spot", "capacity: cheap"))
    assert main(["plan", "--stack", "staging", "--catalog", str(bad), "--out", str(out)]) == 2


# --- gpuNodePool.limits: plan ------------------------------------------------------------------------------------

# The GPU node pool tests' catalog: detector (4 CPU, 16Gi, one L4; 2-6 replicas), chat (16 CPU, 200Gi, two H100s;
# 2 replicas), a disabled T4 model and a CPU model.
LIMITS_CATALOG = GPU_POOL_CATALOG


def pool_limits(run) -> dict[str, int]:
    return {
        r.inputs["metadata"]["name"]: r.inputs["spec"]["limits"]["nvidia.com/gpu"]
        for r in run.registrations
        if r.custom and r.inputs.get("kind") == "NodePool"
    }


def test_limits_plan_sets_each_pool_limit_to_the_planned_gpus(tmp_path):
    catalog = run_catalog(tmp_path, LIMITS_CATALOG, gpuNodePool=KARPENTER)
    planned = run_catalog(tmp_path, LIMITS_CATALOG, gpuNodePool={**KARPENTER, "limits": "plan"})
    # The catalog's arithmetic: detector ceil(6 x 1.25) = 8; chat's two replicas on two p5.48xlarge (16 GPUs).
    assert pool_limits(catalog) == {"ml-test-nvidia-h100": 16, "ml-test-nvidia-l4": 8}
    # The plan: detector's 6 spread replicas need 6 nodes, each with one L4 used (g6.2xlarge, the cheapest that fits
    # 4 CPU); the rollout's seventh pod needs a seventh GPU, cheapest as a seventh g6.2xlarge: 7 GPUs. chat's surge
    # fits beside a replica on one of the two p5.48xlarge: 16 GPUs.
    assert pool_limits(planned) == {"ml-test-nvidia-h100": 16, "ml-test-nvidia-l4": 7}


def test_limits_plan_is_the_planner_at_max_replicas_plus_the_rollout_surge(tmp_path):
    from planning.limits import planned_gpus

    write_catalog(tmp_path / "models.yaml", LIMITS_CATALOG.replace("maxReplicas: 6", "maxReplicas: 9"))
    env = validate(ROOT, "staging", str(tmp_path / "models.yaml"))
    assert planned_gpus(env) is None  # staging does not opt in
    opted = dataclasses.replace(
        env,
        settings=env.settings.model_copy(
            update={"gpu_node_pool": env.settings.gpu_node_pool.model_copy(update={"limits": "plan"})}
        ),
    )
    assert planned_gpus(opted) == {"nvidia-h100": 16, "nvidia-l4": 10}
    # Deterministic: no time limit, work limits only; the same numbers again.
    assert planned_gpus(opted) == planned_gpus(opted)


@pytest.mark.parametrize("seed", range(40))
def test_pricing_bounds_hold_against_every_pattern(seed):
    """The pricing problem by brute force over every pattern of one node: the exact pricing finds the best value,
    the greedy never claims more, and the cheap upper bound (which column generation's bound and stopping rest
    on) is never below it."""
    rng = random.Random(seed)
    resources = rng.randint(1, 4)
    kind = NodeKind("k", tuple(rng.randint(5, 30) for _ in range(resources)), 1.0)
    classes = [
        ItemClass(
            f"c{i}",
            rng.randint(1, 5),
            tuple(rng.randint(0 if r else 1, min(8, kind.capacity[r])) for r in range(resources)),
            ("k",),
            rng.choice((None, 1, 2)),
        )
        for i in range(rng.randint(1, 6))
    ]
    bounds = {i: min(fits(c.size, kind.capacity), c.demand, c.per_node or c.demand) for i, c in enumerate(classes)}
    pricer = _Pricer(kind, classes, bounds)
    duals = np.array([rng.uniform(-0.2, 1) for _ in classes])
    index = sorted(bounds)
    best = 0.0
    for counts in itertools.product(*[range(bounds[i] + 1) for i in index]):
        used = [sum(classes[i].size[r] * a for i, a in zip(index, counts, strict=True)) for r in range(resources)]
        if all(u <= c for u, c in zip(used, kind.capacity, strict=True)):
            best = max(best, sum(max(duals[i], 0.0) * a for i, a in zip(index, counts, strict=True)))
    assert pricer.table is not None  # small capacities: the dynamic programme
    value, counts = pricer.best(duals)
    assert value == pytest.approx(best)
    assert all(sum(classes[i].size[r] * a for i, a in counts) <= kind.capacity[r] for r in range(resources)) and all(
        a <= bounds[i] for i, a in counts
    )
    assert max(value for value, _ in pricer.greedy(duals)) <= best + 1e-9
    # Beside another kind that holds none of the first class: the bound of each kind holds on its own.
    other = NodeKind("o", tuple(max(1, c // 2) for c in kind.capacity), 0.5)
    other_bounds = {
        i: b
        for i, b in (
            (i, min(fits(c.size, other.capacity), c.demand, c.per_node or c.demand)) for i, c in enumerate(classes)
        )
        if b > 0 and i > 0
    }
    pricers = [_Pricer(kind, classes, bounds), _Pricer(other, classes, other_bounds) if other_bounds else None]
    assert _UpperBounds(pricers, len(classes))(duals)[0] >= best - 1e-9
    # The HiGHS model, for pricing problems too large for the table, finds the same value.
    pricer.table = None
    pricer._highs_model(kind, classes, bounds)
    assert pricer.best(duals)[0] == pytest.approx(best)


# SPOT_CATALOG's steady model, autoscaled 2-4, spot-fallback, with a canary of two replicas.
CANARY_CATALOG = (
    SPOT_CATALOG.split("  batchy:")[0]
    .replace("maxReplicas: 2", "maxReplicas: 4")
    .replace("capacity: on-demand", "capacity: spot-fallback")
    + '    rollout:\n      canary: {args: ["--enable_batching"], replicas: 2}\n'
)


@pytest.mark.parametrize("at", ["min", "max"])
def test_a_canary_runs_its_replicas_at_every_point_on_on_demand_for_a_spot_fallback_model(tmp_path, at):
    """The canary Deployment runs its fixed replicas whenever the catalog has one (components/canary.py), so the plan
    places them at min and at max, spread like the model's pods, and (spot-fallback model) on on-demand nodes."""
    catalog = write_catalog(tmp_path / "models.yaml", CANARY_CATALOG)
    out = tmp_path / "plan.json"
    assert main(["plan", "--stack", "staging", "--at", at, "--catalog", str(catalog), "--out", str(out)]) == 0
    doc = json.loads(out.read_text())
    canary = doc["models"]["steady-canary"]
    assert (canary["replicas"], canary["capacity"], canary["spotReplicas"], canary["spread"]) == (
        2,
        "on-demand",
        0,
        True,
    )
    assert doc["models"]["steady"]["replicas"] == (2 if at == "min" else 4)
    groups = [g for p in doc["pools"] for g in p["nodeGroups"]]
    on_canary_nodes = [g for g in groups if "steady-canary" in g["replicas"]]
    assert all(g["capacityType"] == "on-demand" for g in on_canary_nodes)
    assert sum(g["count"] * g["replicas"]["steady-canary"] for g in on_canary_nodes) == 2
    assert all(g["replicas"]["steady-canary"] == 1 for g in on_canary_nodes)  # spread: one per node
    # Without the canary, two fewer replicas to place.
    plain = write_catalog(tmp_path / "plain.yaml", CANARY_CATALOG.split("    rollout:")[0])
    assert main(["plan", "--stack", "staging", "--at", at, "--catalog", str(plain), "--out", str(out)]) == 0
    assert "steady-canary" not in json.loads(out.read_text())["models"]
