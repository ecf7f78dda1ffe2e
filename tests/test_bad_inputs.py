"""Every bad input exits 2 with located, readable messages, writes nothing, and never shows a traceback.

Each case is a file under tests/bad_inputs/ whose `# expect:` header lines are the exact messages expected
(``{file}`` stands for the file's path as the user passed it).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mlserve.__main__ import EXIT_INVALID, main
from mlserve.bench_inputs import HOSTILE
from model_catalog.yaml_source import MAX_VALUES
from tests.helpers import ROOT

CASES = ROOT / "tests" / "bad_inputs"
CATALOG_CASES = sorted((CASES / "catalogs").glob("*.yaml"))
STACK_CASES = sorted((CASES / "stacks").glob("*.yaml"))


def expectations(path: Path, file: str) -> list[str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    expected = [
        line.removeprefix("# expect: ").replace("{file}", file) for line in lines if line.startswith("# expect: ")
    ]
    assert expected, f"{path} has no '# expect:' line"
    return expected


def project_with_dev_stack(tmp_path: Path, stack_file: Path) -> Path:
    """A copy of the project's inputs in which Pulumi.dev.yaml is the bad one."""
    project = tmp_path / "project"
    project.mkdir()
    for name in ("models.yaml", "Pulumi.staging.yaml", "Pulumi.prod.yaml"):
        shutil.copy(ROOT / name, project / name)
    shutil.copy(stack_file, project / "Pulumi.dev.yaml")
    return project


@pytest.mark.parametrize("case", CATALOG_CASES, ids=lambda p: p.stem)
def test_bad_catalog_exits_2_with_located_messages_and_writes_nothing(case, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    shown = str(case.relative_to(ROOT))
    out = tmp_path / "out"
    assert main(["render", "--stack", "dev", "--catalog", shown, "--out", str(out)]) == EXIT_INVALID
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    for expected in expectations(case, shown):
        assert expected in lines, f"missing:\n  {expected}\ngot:\n  " + "\n  ".join(lines)
    assert lines[-1].endswith("found; nothing was rendered or deployed.")
    assert captured.out == ""
    assert not out.exists()


@pytest.mark.parametrize("case", STACK_CASES, ids=lambda p: p.stem)
def test_bad_stack_settings_exit_2_with_located_messages_and_write_nothing(case, tmp_path, capsys):
    project = project_with_dev_stack(tmp_path, case)
    out = tmp_path / "out"
    assert main(["render", "--stack", "dev", "--out", str(out), "--project-dir", str(project)]) == EXIT_INVALID
    lines = capsys.readouterr().err.splitlines()
    for expected in expectations(case, "Pulumi.dev.yaml"):
        assert expected in lines, f"missing:\n  {expected}\ngot:\n  " + "\n  ".join(lines)
    assert not out.exists()


def test_a_secret_value_is_never_echoed_back(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    main(["render", "--catalog", "tests/bad_inputs/catalogs/credential-in-env.yaml", "--out", str(tmp_path / "o")])
    main(["render", "--project-dir", str(project_with_dev_stack(tmp_path, CASES / "stacks" / "plaintext-secret.yaml"))])
    err = capsys.readouterr().err
    assert "sk-live-123" not in err and "hunter2" not in err


def test_an_unknown_stack_is_a_located_error(capsys):
    assert main(["validate", "--stack", "qa"]) == EXIT_INVALID
    assert (
        "Pulumi.qa.yaml:1:1: no stack 'qa': Pulumi.qa.yaml does not exist (stacks: 'dev', 'e2e', 'prod', 'staging');"
        in (capsys.readouterr().err)
    )


@pytest.mark.parametrize(
    "args",
    [
        ["render", "--catalog", "tests/bad_inputs/catalogs/unknown-runtime.yaml"],
        ["render", "--stack", "nope"],
    ],
)
def test_the_real_process_exits_2_without_a_traceback(args, tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "mlserve", *args, "--out", str(tmp_path / "out")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and result.stderr.strip()
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("name", HOSTILE)
def test_a_hostile_catalog_exits_2_in_the_real_process_with_its_located_message(name, tmp_path):
    """What the user runs: its own interpreter, no traceback, the case's located message, nothing written. (How long
    it takes is measured by `make bench-inputs`, not here.)"""
    shown = f"tests/bad_inputs/catalogs/{name}.yaml"
    result = subprocess.run(
        [sys.executable, "-m", "mlserve", "render", "--catalog", shown, "--out", str(tmp_path / "out")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == EXIT_INVALID, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.splitlines() == [*expectations(CASES / "catalogs" / f"{name}.yaml", shown)] + [
        "1 problem found; nothing was rendered or deployed."
    ]
    assert result.stdout == "" and not (tmp_path / "out").exists()


@pytest.mark.parametrize("command", ["validate", "render"])
def test_hostile_yaml_is_refused_before_the_validation_layer_and_pulumi_are_imported(command, tmp_path):
    """The reason bad input is refused in a fraction of a second: the CLI reads the files as YAML first
    (model_catalog/inputs.py): neither pydantic (the schema) nor the Pulumi SDK is imported for a file that does not
    read as YAML."""
    code = (
        "import sys\n"
        "from mlserve.__main__ import main\n"
        f"status = main([{command!r}, '--catalog', 'tests/bad_inputs/catalogs/billion-laughs.yaml'"
        + (f", '--out', {str(tmp_path / 'out')!r}" if command == "render" else "")
        + "])\n"
        "print(status, sorted(m for m in ('pydantic', 'pulumi', 'pulumi_kubernetes', 'stacks') if m in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.stdout.strip() == "2 []", result.stdout + result.stderr
    assert f"billion-laughs.yaml:15:12: aliases expand the document past {MAX_VALUES} values" in result.stderr
