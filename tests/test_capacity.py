"""`mlserve capacity`: per accelerator, GPUs at min and max replicas, the pool limit and the hourly cost."""

from __future__ import annotations

import re

from mlserve.__main__ import main
from mlserve.capacity import capacity_report
from model_catalog.environment import resolve_environment
from tests.helpers import BASE_SETTINGS, ROOT, engine_config, write_catalog

SMALL = """
models:
  detector:
    runtime: triton
    weights: {uri: "s3://bucket/detector/", sizeGiB: 1}
    resources: {cpu: "4", memory: 16Gi, gpu: {accelerator: nvidia-l4}}
    scaling: {minReplicas: 2, maxReplicas: 6}
  captioner:
    runtime: triton
    weights: {uri: "pvc://models/captioner", accessMode: ReadOnlyMany}
    resources: {cpu: 500m, memory: 2Gi, gpu: {accelerator: nvidia-t4}}
    scaling: {minReplicas: 1, maxReplicas: 3}
"""
KARPENTER = {"provider": "karpenter", "nodeRole": "role", "headroomPercent": 25}


def report(tmp_path, text=SMALL, **settings) -> list[str]:
    catalog = write_catalog(tmp_path / "models.yaml", text)
    env = resolve_environment(ROOT, "dev", engine_config({**BASE_SETTINGS, **settings}), set(), str(catalog))
    return capacity_report(env)


def row(lines: list[str], first: str) -> list[str]:
    (found,) = [line.split() for line in lines if line.startswith(first + " ")]
    return found


def test_a_small_catalog_by_hand(tmp_path):
    lines = report(tmp_path, gpuNodePool=KARPENTER)
    # detector: 1 L4, 4 CPU / 16Gi -> g6.2xlarge ($0.9776), 1 per node; 2-6 replicas -> 2-6 GPUs and nodes.
    # limit = max(ceil(6 x 1.25) = 8, (6 + 1 surge) nodes x 1 GPU = 7) = 8. $/h 2 x 0.9776, 6 x 0.9776.
    assert row(lines, "nvidia-l4") == ["nvidia-l4", "2", "6", "8", "2", "6", "1.96", "5.87"]
    # captioner: 1 T4, 1 CPU / 2Gi -> g4dn.xlarge ($0.526), 1 per node (one GPU); 1-3 replicas.
    # limit = max(ceil(3 x 1.25) = 4, (3 + 1) nodes x 1 GPU = 4) = 4. $/h 0.526, 3 x 0.526 = 1.578.
    assert row(lines, "nvidia-t4") == ["nvidia-t4", "1", "3", "4", "1", "3", "0.53", "1.58"]
    assert row(lines, "total") == ["total", "3", "9", "12", "3", "9", "2.48", "7.44"]
    assert "  captioner  1 GPU per replica, 1-3 replicas, on g4dn.xlarge (1 per node, $0.53/hour)" in lines
    assert lines[0] == "GPU capacity, stack 'dev' (Karpenter, on-demand, headroom 25%)"


def test_the_report_names_its_price_source_and_method(tmp_path):
    text = " ".join(" ".join(report(tmp_path, gpuNodePool={**KARPENTER, "capacityType": "spot"})).split())
    assert "on-demand list prices in us-east-1 of 2026-01-19" in text
    assert "zz_generated.pricing_aws.go" in text
    assert "cheapest allowed instance type that fits a replica" in text
    assert "so this is an upper bound" in text


def test_time_sliced_gpus_report_slices_in_the_limit(tmp_path):
    # captioner alone on T4 shared 4 ways: 500m / 2Gi, no fetcher; g4dn.xlarge holds 4 replicas.
    # GPUs ceil(1/4) = 1 and ceil(3/4) = 1; limit max(ceil(1 x 1.25) = 2, 1 node x 1 GPU) = 2 GPUs = 8 slices.
    pools = {**KARPENTER, "sharing": {"nvidia-t4": {"timeSlicingReplicas": 4}}}
    lines = report(tmp_path, gpuNodePool=pools)
    assert row(lines, "nvidia-t4")[:6] == ["nvidia-t4", "1", "1", "8", "slices", "(2"]
    assert any("1 slice of a GPU shared 4 ways per replica" in line for line in lines)


def test_existing_nodes_show_demand_without_limit_or_cost(tmp_path):
    pools = {
        "provider": "existing",
        "existing": {"nvidia-l4": {"labels": {"gpu": "l4"}}, "nvidia-t4": {"labels": {"gpu": "t4"}}},
    }
    lines = report(tmp_path, gpuNodePool=pools)
    assert row(lines, "nvidia-l4") == ["nvidia-l4", "2", "6", "-", "-", "-", "-", "-"]
    assert "nvidia-l4: existing nodes labelled gpu=l4" in lines
    assert not [line for line in lines if line.startswith("total")]


def test_a_stack_without_gpus_says_so(capsys):
    assert main(["capacity", "--stack", "dev"]) == 0
    assert capsys.readouterr().out.strip() == (
        "GPU capacity, stack 'dev': no GPUs needed (gpuNodePool.provider is 'none'); no node pools, no device plugin."
    )


def test_prod_prints_a_row_per_accelerator_matching_its_rendered_pools(capsys):
    assert main(["capacity", "--stack", "prod"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"^nvidia-h100 +4 +8 +16 +2 +2 +110\.08 +110\.08$", out, re.M)
    assert re.search(r"^nvidia-l4 +2 +6 +8 +2 +6 +1\.96 +5\.87$", out, re.M)
    assert "nvidia-h100: NodePool ml-prod-nvidia-h100, instance types p5.48xlarge" in out


def test_an_invalid_catalog_is_reported_not_costed(tmp_path, capsys):
    catalog = write_catalog(tmp_path / "models.yaml", SMALL)
    assert main(["capacity", "--stack", "dev", "--catalog", str(catalog)]) == 2
    assert "stack 'dev' offers no GPUs" in capsys.readouterr().err


SPOT_FALLBACK = """
models:
  detector:
    runtime: triton
    capacity: spot-fallback
    weights: {uri: "s3://bucket/detector/", sizeGiB: 1}
    resources: {cpu: "4", memory: 16Gi, gpu: {accelerator: nvidia-l4}}
    scaling: {minReplicas: 2, maxReplicas: 6, metric: gpu-utilization}
"""


def test_a_spot_fallback_model_shows_both_pools_and_both_prices(tmp_path):
    lines = report(tmp_path, SPOT_FALLBACK, gpuNodePool=KARPENTER, monitoring={"enabled": True})
    # Pools: on-demand holds the whole model (floor plus fallback), limit 8 as in the plain report; spot the 4
    # replicas above the floor: max(ceil(4 x 1.25) = 5, (4 + 1 surge) nodes x 1 GPU = 5) = 5.
    assert row(lines, "ml-test-nvidia-l4")[:5] == ["ml-test-nvidia-l4", "on-demand", "10", "8", "detector"]
    assert row(lines, "ml-test-nvidia-l4-spot")[:5] == ["ml-test-nvidia-l4-spot", "spot", "100", "5", "detector"]
    # g6.2xlarge: $0.9776 on-demand, spot saving 58% -> $0.410592. min: 2 floor nodes on-demand, none on spot.
    # max: 2 floor + 4 spot nodes = 1.9552 + 1.642368 = 3.597568; spot short: 6 x 0.9776 = 5.8656.
    assert row(lines, "at min") == ["at", "min", "replicas", "1.96", "0.00", "1.96", "1.96"]
    assert row(lines, "at max") == ["at", "max", "replicas", "1.96", "1.64", "3.60", "5.87"]
    text = " ".join(" ".join(lines).split())
    assert "On-demand floors: detector keeps 2 on on-demand, up to 4 more on spot." in text
    assert "Spot Instance Advisor" in text


def test_an_on_demand_stack_shows_no_spot_section(tmp_path):
    lines = report(tmp_path, gpuNodePool=KARPENTER)
    assert not any(line.startswith("Node pools per capacity type") for line in lines)
