"""The command line: every option documented with its default, installable `mlserve`, project found from any
directory of the checkout, --version, exit codes, which checkers ran."""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from mlserve import cli
from mlserve.__main__ import build_parser, main
from mlserve.version import requirement_pins
from tests.helpers import ROOT

EXPECTED_COMMANDS = {
    "render",
    "validate",
    "check-manifests",
    "capacity",
    "bench",
    "schema",
    "forecast",
    "diff",
    "policy",
    "promote",
}


def subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    (group,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(group.choices)


def test_every_make_entry_point_a_user_calls_is_a_subcommand():
    assert set(subcommands()) >= EXPECTED_COMMANDS


@pytest.mark.parametrize("name", sorted(subcommands()))
def test_every_option_of_every_command_has_help_text_and_shows_its_default(name, capsys):
    parser = subcommands()[name]
    options = [a for a in parser._actions if a.option_strings and not isinstance(a, argparse._HelpAction)]
    assert options, f"{name} has no options"
    with pytest.raises(SystemExit) as exited:
        main([name, "--help"])
    assert exited.value.code == 0
    text = " ".join(capsys.readouterr().out.split())  # unwrapped
    assert parser.description and parser.description.split(".")[0] in text
    for action in options:
        assert action.help and action.help is not argparse.SUPPRESS, f"{name} {action.option_strings[0]}: no help"
        assert action.option_strings[0] in text
        if action.default not in (None, False):
            shown = " ".join(map(str, action.default)) if isinstance(action.default, list) else str(action.default)
            assert f"(default: {shown})" in text, f"{name} {action.option_strings[0]}: default not shown"
        elif not isinstance(action, argparse._StoreTrueAction):
            # No value to show: the help must say what happens when the option is left out.
            assert "default" in action.help, f"{name} {action.option_strings[0]}: say what the default is"


def test_the_top_level_help_lists_every_command_and_the_exit_codes(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    for name in subcommands():
        assert name in out
    assert "3 environment problem" in " ".join(out.split())


def test_version_prints_the_project_version_and_the_pins(capsys):
    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    pins = requirement_pins(ROOT / "requirements.txt")
    assert out.splitlines()[0] == f"mlserve {version}"
    assert f"pulumi {pins['pulumi']}\n" in out and f"pulumi-kubernetes {pins['pulumi-kubernetes']}\n" in out
    assert re.search(r"^Kubernetes 1\.\d+-1\.\d+ ", out, re.M)
    assert "prod 1.33" in out


def test_pyproject_declares_the_console_script():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["scripts"]["mlserve"] == "mlserve.__main__:console"


def installed_mlserve() -> Path:
    script = Path(sys.executable).parent / "mlserve"
    assert script.is_file(), f"{script} missing: `make venv` installs the project (pip install -e .)"
    return script


def test_the_installed_command_works_from_a_subdirectory_of_the_checkout(tmp_path):
    out = tmp_path / "out"
    result = subprocess.run(
        [str(installed_mlserve()), "render", "--stack", "staging", "--out", str(out)],
        cwd=ROOT / "docs",
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert (out / "resources.json").is_file() and any((out / "manifests").glob("*--deployment--*.yaml"))


def test_validate_json_pipes_into_a_json_parser():
    validate = subprocess.run(
        [str(installed_mlserve()), "validate", "--stack", "prod", "--json"],
        cwd=ROOT / "tests",
        capture_output=True,
        check=False,
    )
    parsed = subprocess.run(["python3", "-m", "json.tool"], input=validate.stdout, capture_output=True, check=False)
    assert validate.returncode == 0 and parsed.returncode == 0, validate.stderr
    assert json.loads(parsed.stdout)["command"] == "validate"


def test_the_project_is_found_upward_from_the_current_directory_not_taken_from_it(tmp_path):
    assert cli.find_project_dir(ROOT / "components" / "scripts") == ROOT
    # Another checkout (or a copy) is found by its Pulumi.yaml...
    other = tmp_path / "copy"
    (other / "sub").mkdir(parents=True)
    (other / "Pulumi.yaml").write_text("name: ml-serving\nruntime: python\n")
    assert cli.find_project_dir(other / "sub") == other.resolve()
    # ...another Pulumi project is not, and outside any checkout it is the one mlserve is installed from.
    (tmp_path / "Pulumi.yaml").write_text("name: something-else\n")
    assert cli.find_project_dir(tmp_path) == cli.PACKAGE_PROJECT_DIR


def test_the_default_output_directory_is_in_the_project_not_the_current_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    args = argparse.Namespace(project_dir=ROOT, out=None, stack="prod")
    assert cli.out_dir(args) == ROOT / "build" / "prod"


@pytest.mark.parametrize(
    "argv",
    [["bench", "--sizes", "0"], ["bench", "--sizes", "two"], ["render", "--stakc", "dev"], ["nope"], []],
)
def test_bad_arguments_exit_2_with_a_usage_message(argv, capsys):
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == cli.EXIT_INVALID
    assert "usage: mlserve" in capsys.readouterr().err


def test_check_manifests_says_which_checkers_ran_and_exits_3_when_one_cannot_run(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("ML_SERVING_CRD_DIR", str(tmp_path / "no-crds"))
    code = main(
        ["check-manifests", "--stack", "dev", "--out", str(tmp_path / "out"), "--checkov", "/nonexistent/checkov"]
    )
    out = capsys.readouterr().out
    assert code == cli.EXIT_ENVIRONMENT
    assert re.search(r"^kubernetes-schemas: \d+ checked, 0 findings", out, re.M)
    assert "crd-schemas: SKIPPED, no CRD schemas found: run `make crds`" in out
    assert "checkov: SKIPPED, --checkov /nonexistent/checkov: no such file" in out
    assert "checkers run: kubernetes-schemas; skipped: crd-schemas, checkov; result: incomplete (exit 3)" in out


def test_check_manifests_without_checkov_says_it_was_not_requested(tmp_path, capsys, crds):
    code = main(["check-manifests", "--stack", "dev", "--out", str(tmp_path / "out")])
    out = capsys.readouterr().out
    assert code == cli.EXIT_OK, out
    assert "checkov: SKIPPED, not requested: pass --checkov PATH" in out
    assert re.search(r"^crd-schemas: \d+ checked, 0 findings", out, re.M)


def test_the_exit_code_table_in_the_docs_matches_the_code():
    text = (ROOT / "docs" / "cli.md").read_text()
    rows = dict(re.findall(r"^\| (\d) \| (\w+)", text, re.M))
    assert rows == {
        str(cli.EXIT_OK): "ok",
        str(cli.EXIT_FINDINGS): "findings",
        str(cli.EXIT_INVALID): "invalid",
        str(cli.EXIT_ENVIRONMENT): "environment",
    }
    assert "docs/cli.md#exit-codes" in (ROOT / "README.md").read_text()


def test_a_closed_output_pipe_ends_the_command_quietly():
    """`mlserve ... | head -1`: the reader goes away; no traceback, the status a shell gives SIGPIPE (141)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "mlserve", "validate", "--stack", "prod"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    process.stdout.close()
    errors = process.stderr.read().decode()
    process.stderr.close()
    assert process.wait() == 141
    assert errors == ""
