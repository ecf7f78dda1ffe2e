"""Per-stack overrides: JSON Merge Patch on the base, validated merged, problems located where they were written."""

from model_catalog.catalog import merge_patch
from tests.helpers import load, problems

CATALOG = """
models:
  m:
    runtime: triton
    weights: {uri: "s3://bucket/m/", sizeGiB: 2}
    resources:
      cpu: "4"
      memory: 16Gi
      gpu: {accelerator: nvidia-l4}
    scaling: {minReplicas: 2, maxReplicas: 4}
    overrides:
      dev:
        resources: {gpu: null, cpu: "1"}
        scaling: {minReplicas: 1, maxReplicas: 1}
"""


def test_merge_patch_merges_mappings_replaces_the_rest_and_null_removes():
    base = {"a": {"b": 1, "c": [1, 2]}, "d": 1}
    assert merge_patch(base, {"a": {"c": [3], "e": None}, "d": None}) == {"a": {"b": 1, "c": [3]}}
    assert base == {"a": {"b": 1, "c": [1, 2]}, "d": 1}


def test_a_stack_with_an_override_gets_the_merged_model():
    dev = load(CATALOG).models_for("dev")["m"]
    assert dev.resources.gpu is None and dev.resources.cpu == "1" and dev.resources.memory == "16Gi"
    assert (dev.scaling.min_replicas, dev.scaling.max_replicas) == (1, 1)


def test_a_stack_without_an_override_gets_the_base_model():
    prod = load(CATALOG).models_for("prod")["m"]
    assert prod.resources.gpu is not None and prod.scaling.min_replicas == 2


def test_a_problem_an_override_causes_is_reported_at_the_override():
    (line,) = problems(CATALOG + "      prod:\n        scaling: {maxReplicas: 1}\n")
    assert line == (
        "models.yaml:15:32: models.m.overrides.prod.scaling.maxReplicas: 'minReplicas' (2) must be <= 'maxReplicas' (1)"
    )


def test_a_problem_in_the_base_is_reported_once_at_the_base():
    lines = problems(CATALOG.replace("maxReplicas: 4}", "maxReplicas: 4, bogus: 1}"))
    assert len(lines) == 1
    assert lines[0].startswith("models.yaml:9:47: models.m.scaling.bogus: unknown field 'bogus'")


def test_a_base_value_made_invalid_by_an_override_names_the_stack():
    # The base scales on GPU utilisation; dev and prod overrides take the GPU away, so the base's metric is wrong
    # there: reported at the base line, once per stack, naming the stack.
    text = CATALOG.replace("maxReplicas: 4}", "maxReplicas: 4, metric: gpu-utilization}")
    lines = problems(text + "      prod:\n        resources: {gpu: null}\n")
    message = "models.yaml:9:55: models.m.scaling.metric: 'gpu-utilization' needs 'resources.gpu'; scale a CPU model"
    assert lines == [
        f"{message} on another metric (in stack 'dev', with its overrides)",
        f"{message} on another metric (in stack 'prod', with its overrides)",
    ]


def test_overrides_must_name_existing_stacks():
    (line,) = problems(CATALOG.replace("      dev:\n", "      dve:\n"))
    assert line.startswith("models.yaml:11:7: models.m.overrides.dve: no stack named 'dve'")
    assert "did you mean 'dev'?" in line


def test_an_override_cannot_nest_overrides():
    (line,) = problems(CATALOG + "      prod:\n        overrides: {}\n")
    assert "models.m.overrides.prod.overrides: unknown field 'overrides'" in line


def test_enabled_false_in_an_override_keeps_the_model_out_of_that_stack_only():
    loaded = load(CATALOG + "      staging:\n        enabled: false\n")
    assert loaded.models_for("staging")["m"].enabled is False
    assert loaded.models_for("prod")["m"].enabled is True
