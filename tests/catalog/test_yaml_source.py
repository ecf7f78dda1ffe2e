"""YAML with positions: every value located, duplicate keys rejected, anchors and merges understood."""

import pytest

from model_catalog.errors import ConfigurationError
from model_catalog.yaml_source import load_yaml, parse_yaml


def test_records_the_line_and_column_of_every_key_and_value():
    doc = parse_yaml("a:\n  b: [1, 2]\n  c: x\n", "f.yaml")
    assert doc.data == {"a": {"b": [1, 2], "c": "x"}}
    assert doc.value_marks[("a", "b", 1)] == (2, 10)
    assert doc.key_marks[("a", "c")] == (3, 3)
    assert doc.locate(("a", "c")) == (3, 6)
    assert doc.locate(("a", "c"), at_key=True) == (3, 3)


def test_locates_a_missing_path_at_its_nearest_existing_parent():
    doc = parse_yaml("a:\n  b: 1\n", "f.yaml")
    assert doc.locate(("a", "missing", "deeper")) == doc.value_marks[("a",)]


def test_duplicate_keys_are_an_error_not_last_wins():
    with pytest.raises(ConfigurationError) as info:
        parse_yaml("models:\n  a: 1\n  b: 2\n  a: 3\n", "f.yaml")
    (problem,) = info.value.problems
    assert (problem.line, problem.column, problem.path) == (4, 3, "models.a")
    assert "duplicate key 'a' (first defined on line 2)" in problem.message


def test_syntax_errors_are_located():
    with pytest.raises(ConfigurationError) as info:
        parse_yaml("models:\n  a: [1, 2\n", "f.yaml")
    (problem,) = info.value.problems
    assert problem.file == "f.yaml" and problem.line == 3
    assert problem.message.startswith("YAML syntax error:")


def test_explicit_keys_win_over_merged_ones_and_keep_their_own_position():
    doc = parse_yaml("base: &b\n  cpu: '1'\n  mem: 2Gi\nm:\n  <<: *b\n  cpu: '2'\n", "f.yaml")
    assert doc.data["m"] == {"cpu": "2", "mem": "2Gi"}
    assert doc.value_marks[("m", "cpu")] == (6, 8)
    assert doc.value_marks[("m", "mem")] == (3, 8)


def test_keys_keep_the_text_as_written():
    assert parse_yaml("1: a\ntrue: b\n", "f.yaml").data == {"1": "a", "true": "b"}


def test_more_than_one_document_is_an_error():
    with pytest.raises(ConfigurationError, match="single document"):
        parse_yaml("a: 1\n---\nb: 2\n", "f.yaml")


def test_a_missing_file_is_a_located_problem(tmp_path):
    with pytest.raises(ConfigurationError) as info:
        load_yaml(tmp_path / "nope.yaml", shown_as="nope.yaml")
    assert str(info.value.problems[0]) == "nope.yaml:1:1: file not found"
