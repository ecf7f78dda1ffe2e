"""The example catalogs under examples/: each is complete, renders for prod and passes the policy pack; the runner
refuses incomplete examples and names the example when its catalog is invalid. (`make examples` adds the schema,
CRD and checkov checks; CI runs it.)"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from mlserve.__main__ import main
from mlserve.examples import example_names, example_stacks, prepare, required_files
from mlserve.policy_check import check_policy

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = example_names(ROOT)


def test_there_are_examples():
    assert EXAMPLES, "examples/ holds no example"


@pytest.mark.parametrize("name", EXAMPLES)
def test_each_example_is_complete_renders_and_passes_the_policy_pack(name):
    for required in required_files(ROOT / "examples" / name):
        assert (ROOT / "examples" / name / required).is_file(), f"examples/{name}/{required} is missing"
    project = prepare(ROOT, name)
    for stack in example_stacks(project):  # prod; a split environment's platform, then its team stacks
        status, lines = check_policy(project, stack)
        assert status == 0, "\n".join(lines)
        assert "0 mandatory violations" in lines[0]


def _project_with_example(tmp_path: Path, name: str) -> Path:
    project = tmp_path / "project"
    project.mkdir()
    shutil.copy2(ROOT / "Pulumi.yaml", project / "Pulumi.yaml")
    shutil.copytree(ROOT / "examples" / EXAMPLES[0], project / "examples" / name)
    return project


def test_an_incomplete_example_is_refused_with_what_it_lacks(tmp_path, capsys):
    project = _project_with_example(tmp_path, "broken")
    (project / "examples" / "broken" / "README.md").unlink()
    assert main(["examples", "--project-dir", str(project)]) == 2
    err = capsys.readouterr().err
    assert "examples/broken/ lacks README.md" in err
    assert not (project / "build" / "examples" / "broken").exists()


def test_an_unknown_example_name_lists_the_examples(tmp_path, capsys):
    project = _project_with_example(tmp_path, "only")
    assert main(["examples", "--project-dir", str(project), "--name", "nope"]) == 2
    assert "no example 'nope' under examples/ (examples: only)" in capsys.readouterr().err


def test_an_invalid_example_catalog_is_a_located_error_naming_the_example(tmp_path, capsys):
    project = _project_with_example(tmp_path, "typo")
    catalog = project / "examples" / "typo" / "models.yaml"
    catalog.write_text(catalog.read_text().replace("runtime: ", "runtim: ", 1))
    assert main(["examples", "--project-dir", str(project)]) == 2
    out, err = capsys.readouterr()
    assert "examples/typo/: invalid" in err
    assert "models.yaml:" in err and "runtim" in err
    assert "examples: typo exit 2" in out
    assert not (project / "build" / "examples" / "typo" / "manifests").exists()
