"""The catalog schema: strict, closed, and its errors say where, what and what is allowed."""

import pytest

from model_catalog.schema import Catalog, ModelSpec
from tests.helpers import load, problems, spec

GOOD = """
models:
  m:
    runtime: triton
    weights: {uri: "s3://bucket/m/", sizeGiB: 2}
    resources: {cpu: "2", memory: 8Gi}
"""


def test_a_minimal_model_gets_the_documented_defaults():
    model = load(GOOD).models_for("dev")["m"]
    assert model.enabled is True
    assert model.scaling.min_replicas == 1 and model.scaling.max_replicas == 1 and model.scaling.metric == "cpu"
    assert model.resources.ephemeral_storage == "2Gi" and model.resources.gpu is None
    assert model.exposure.type == "internal" and model.exposure.clients == []
    assert model.max_request_seconds == 60
    assert model.image is None and model.server is None


@pytest.mark.parametrize(
    ("snippet", "expected"),
    [
        ("    replicas: 2\n", "models.yaml:6:5: models.m.replicas: unknown field 'replicas';"),
        (
            "    scaling: {minReplica: 2}\n",
            "models.m.scaling.minReplica: unknown field 'minReplica'; did you mean 'minReplicas'? allowed fields: "
            "minReplicas, maxReplicas, metric, target",
        ),
    ],
)
def test_unknown_fields_are_rejected_with_a_suggestion(snippet, expected):
    (line,) = problems(GOOD + snippet)
    assert expected in line


@pytest.mark.parametrize(
    ("snippet", "expected"),
    [
        (
            '    scaling: {maxReplicas: "4"}\n',
            "must be an integer, got '4' (a string) (write the number without quotes)",
        ),
        ("    scaling: {maxReplicas: 4.0}\n", "must be an integer, got 4.0 (a number)"),
        ("    enabled: 'yes'\n", "must be true or false, got 'yes' (a string)"),
        ("    env: {FLAG: true}\n", "must be a string, got true (a boolean) (YAML reads true and false as booleans"),
        ("    maxRequestSeconds: [1]\n", "must be an integer, got a list"),
    ],
)
def test_values_are_never_coerced(snippet, expected):
    (line,) = problems(GOOD + snippet)
    assert expected in line


def test_quantities_must_be_quoted_strings():
    (line,) = problems(GOOD.replace('cpu: "2"', "cpu: 2"))
    assert line == "models.yaml:5:22: models.m.resources.cpu: must be a string, got 2 (a number) (put it in quotes)"


def test_a_malformed_quantity_says_what_a_quantity_looks_like():
    (line,) = problems(GOOD.replace("memory: 8Gi", "memory: 8GB"))
    assert "models.m.resources.memory: got '8GB' (a string); must be a byte quantity as a quoted string" in line


@pytest.mark.parametrize(
    ("snippet", "expected"),
    [
        ("    scaling: {maxReplicas: 0}\n", "models.m.scaling.maxReplicas: got 0 (a number); must be >= 1"),
        ("    maxRequestSeconds: 99999\n", "models.m.maxRequestSeconds: got 99999 (a number); must be <= 3600"),
        ("    scaling: {target: 0}\n", "models.m.scaling.target: got 0 (a number); must be > 0"),
    ],
)
def test_out_of_range_values_name_the_bound(snippet, expected):
    (line,) = problems(GOOD + snippet)
    assert expected in line


def test_an_unknown_runtime_lists_the_runtimes_and_suggests_one():
    (line,) = problems(GOOD.replace("runtime: triton", "runtime: tritonn"))
    assert line == (
        "models.yaml:3:14: models.m.runtime: got 'tritonn' (a string); allowed: 'custom', 'tensorflow-serving', "
        "'torchserve', 'triton', 'vllm'. did you mean 'triton'?"
    )


def test_an_unknown_accelerator_lists_the_table():
    (line,) = problems(GOOD + "    overrides: {prod: {resources: {gpu: {accelerator: nvidia-l40}}}}\n")
    assert "models.m.overrides.prod.resources.gpu.accelerator: got 'nvidia-l40'" in line
    assert "'nvidia-h100'" in line and "did you mean 'nvidia-l4'?" in line


@pytest.mark.parametrize("name", ["Resnet", "1model", "my_model", "model-", "a" * 41])
def test_model_names_must_be_dns_1035_labels_of_at_most_40_characters(name):
    (line,) = problems(GOOD.replace("  m:\n", f"  {name}:\n").replace("models.m", f"models.{name}"))
    assert line.startswith(f"models.yaml:2:3: models.{name}: name")


def test_an_empty_document_is_an_error():
    assert problems("") == ["models.yaml:1:1: the catalog is empty; it needs a 'models' mapping"]


@pytest.mark.parametrize(("text", "what"), [("- a\n- b\n", "a list"), ("just text\n", "'just text' (a string)")])
def test_a_document_that_is_not_a_mapping_is_an_error(text, what):
    assert problems(text) == [f"models.yaml:1:1: the catalog must be a mapping with a 'models' key, got {what}"]


def test_an_empty_models_map_is_an_error():
    assert problems("models: {}\n") == ["models.yaml:1:9: models: must have at least 1 entry"]


def test_a_missing_required_field_is_reported_at_its_parent():
    (line,) = problems("models:\n  m:\n    runtime: triton\n    resources: {cpu: '1', memory: 1Gi}\n")
    assert line == "models.yaml:3:5: models.m.weights: required field 'weights' is missing"


def test_every_problem_is_reported_at_once():
    lines = problems(GOOD.replace("runtime: triton", "runtime: x").replace('cpu: "2"', "cpu: 2") + "    bogus: 1\n")
    assert len(lines) == 3


def test_the_schema_classes_reject_unknown_fields_themselves():
    with pytest.raises(ValueError):
        ModelSpec.model_validate({"runtime": "vllm", "weights": {"baked": True}, "resources": {}, "x": 1})
    with pytest.raises(ValueError):
        Catalog.model_validate({"models": {}, "extra": 1})


def test_spec_helper_builds_a_valid_model():
    assert spec().runtime == "tensorflow-serving"


def test_a_metric_name_that_prometheus_would_reject_is_explained_without_a_regex():
    text = """
    models:
      app:
        runtime: custom
        image: {ref: registry.example.com/app:1}
        weights: {baked: true}
        resources: {cpu: "1", memory: 1Gi}
        server: {metrics: {requestsTotal: 2xx-requests}}
    """
    (line,) = problems(text)
    assert "models.app.server.metrics.requestsTotal: got '2xx-requests'" in line
    assert "a Prometheus metric name: letters, digits, '_' and ':', not starting with a digit" in line


@pytest.mark.parametrize("tag", ["v1-\u00e9t\u00e9", "\u0661\u0662\u0663", "x" * 129, ".v1", "-v1"])
def test_an_image_tag_is_dockers_ascii_grammar(tag):
    """Docker's tag grammar `[\\w][\\w.-]{0,127}` means ASCII word characters (Go's and JSON Schema's `\\w`); a tag
    with other letters, too long, or starting with '.' or '-' is refused at validation, not by the registry."""
    (line,) = problems(GOOD + f'    image: {{ref: "registry.example.com/app:{tag}"}}\n')
    assert "models.m.image.ref: got 'registry.example.com/app:" in line
    assert "(a string); must be an image reference 'registry/repository[:tag][@sha256:<64 hex>]'" in line


@pytest.mark.parametrize("tag", ["v1", "_v1.2-rc_3", "A" * 128])
def test_an_ascii_image_tag_of_up_to_128_characters_is_accepted(tag):
    ref = f"registry.example.com/app:{tag}"
    assert load(GOOD + f'    image: {{ref: "{ref}"}}\n').models_for("")["m"].image.ref == ref
