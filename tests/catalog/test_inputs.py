"""The CLI's first read (model_catalog/inputs.py): the stack file and the catalog it uses, as YAML only."""

from __future__ import annotations

from pathlib import Path

import pytest

from model_catalog.errors import ConfigurationError
from model_catalog.inputs import read_stack_inputs
from model_catalog.yaml_source import MAX_VALUES, load_yaml

BOMB = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{c}: &{c} [{', '.join([f'*{p}'] * 10)}]\n" for p, c in zip("abcdef", "bcdefg", strict=True)
)


def project(tmp_path: Path, stack_text: str, files: dict[str, str]) -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "Pulumi.dev.yaml").write_text(stack_text, encoding="utf-8")
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
    return tmp_path


def problems(call) -> list[str]:
    with pytest.raises(ConfigurationError) as info:
        call()
    return [str(p) for p in info.value.problems]


def test_reads_the_catalog_the_stack_file_names(tmp_path):
    root = project(tmp_path, "config:\n  ml-serving:catalog: teams/a.yaml\n", {"teams/a.yaml": BOMB})
    (found,) = problems(lambda: read_stack_inputs(root, "dev"))
    assert found.startswith("teams/a.yaml:7:")
    assert f"aliases expand the document past {MAX_VALUES} values" in found


def test_reports_both_files_problems_together(tmp_path):
    root = project(tmp_path, "config: [\n", {"models.yaml": "models:\n  m: !!python/str x\n"})
    found = problems(lambda: read_stack_inputs(root, "dev"))
    assert [line.split(":")[0] for line in found] == ["Pulumi.dev.yaml", "models.yaml"]
    assert "YAML syntax error" in found[0] and "explicit tag '!!python/str' is not allowed" in found[1]


def test_an_explicit_catalog_is_relative_to_the_current_directory(tmp_path, monkeypatch):
    root = project(tmp_path / "p", "config: {}\n", {"models.yaml": "version: 1\n"})
    (tmp_path / "mine.yaml").write_text("m: &m [*m]\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    (found,) = problems(lambda: read_stack_inputs(root, "dev", "mine.yaml"))
    assert found.startswith("mine.yaml:1:") and "recursive alias" in found


def test_leaves_what_the_full_read_explains_better_to_it(tmp_path):
    """A missing stack (the full read lists the stacks), a missing catalog or a catalog setting that is not text
    (reported with the settings' other problems): nothing raised here."""
    read_stack_inputs(tmp_path, "nope")
    root = project(tmp_path, "config:\n  ml-serving:catalog: gone.yaml\n", {})
    read_stack_inputs(root, "dev")
    root = project(tmp_path, "config:\n  ml-serving:catalog: [1]\n", {"models.yaml": "version: 1\n"})
    read_stack_inputs(root, "dev")


def test_valid_files_are_parsed_once_and_an_edited_file_again(tmp_path):
    path = tmp_path / "f.yaml"
    path.write_text("a: 1\n", encoding="utf-8")
    first = load_yaml(path, shown_as="f.yaml")
    assert load_yaml(path, shown_as="f.yaml") is first
    path.write_text("a: 2\n", encoding="utf-8")
    assert load_yaml(path, shown_as="f.yaml").data == {"a": 2}
    assert load_yaml(path, shown_as="other.yaml").file == "other.yaml"
