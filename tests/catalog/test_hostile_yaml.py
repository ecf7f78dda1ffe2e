"""Hostile and careless YAML: bounded, located errors, never a hang, a traceback or unbounded memory.

The files under tests/bad_inputs/catalogs/ (billion-laughs, recursive-alias, deep-nesting, huge-integer, the tag
cases) are run through the CLI by tests/test_bad_inputs.py; these tests pin the reader's rules one by one.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from mlserve.bench_inputs import HOSTILE  # the hostile shapes, also timed by make bench-inputs
from model_catalog import yaml_source
from model_catalog.errors import ConfigurationError
from model_catalog.yaml_source import MAX_DEPTH, MAX_VALUES, load_yaml, parse_yaml
from tests.helpers import ROOT


def only_problem(text: str) -> str:
    with pytest.raises(ConfigurationError) as info:
        parse_yaml(text, "f.yaml")
    (problem,) = info.value.problems
    return str(problem)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("v: no", "no"),
        ("v: yes", "yes"),
        ("v: on", "on"),
        ("v: 1:30", "1:30"),
        ("v: true", True),
        ("v: False", False),
        ("v: ~", None),
        ("v:", None),
        ("v: 0", 0),
        ("v: -12", -12),
        ("v: 1.5", 1.5),
        ("v: 1e3", 1000.0),
        ("v: '010'", "010"),
        ('v: "0x1F"', "0x1F"),
        ("v: 2026-01-01", "2026-01-01"),
    ],
)
def test_plain_scalars_follow_the_yaml_1_2_core_schema(text, value):
    assert parse_yaml(text, "f.yaml").data == {"v": value}


@pytest.mark.parametrize("number", ["010", "0x1F", "0o17", "0b101", "1_000", "-007"])
def test_numbers_yaml_readers_disagree_on_are_errors(number):
    message = only_problem(f"a:\n  v: {number}\n")
    assert message.startswith(f"f.yaml:2:6: a.v: '{number}' is read as a number by some YAML readers")
    assert "write a plain decimal number, or quote it for text" in message


@pytest.mark.parametrize("number", [".inf", "-.Inf", ".nan", "1e999"])
def test_infinite_numbers_are_errors(number):
    assert only_problem(f"v: {number}\n").startswith("f.yaml:1:4: v: '")


def test_an_over_long_integer_is_an_error_not_a_crash():
    message = only_problem("v: " + "9" * 5000 + "\n")
    assert message == "f.yaml:1:4: v: an integer of 5000 digits; numbers here have at most 30 digits"


@pytest.mark.parametrize(
    ("text", "tag"),
    [
        ("v: !!python/str x", "!!python/str"),
        ("v: !!python/object/apply:os.system [ls]", "!!python/object/apply:os.system"),
        ("v: !!int abc", "!!int"),
        ("v: !!bool maybe", "!!bool"),
        ("v: !!timestamp foo", "!!timestamp"),
        ("v: !!str x", "!!str"),
        ("v: !custom x", "!custom"),
        ("v: !!map {a: 1}", "!!map"),
        ("v: !!seq [1]", "!!seq"),
    ],
)
def test_every_explicit_tag_is_a_located_error(text, tag):
    assert only_problem(text) == (
        f"f.yaml:1:4: v: explicit tag '{tag}' is not allowed; write the value without a tag (quote it for text)"
    )


def test_a_tag_on_a_key_is_an_error():
    assert "explicit tag '!!str' is not allowed on a key" in only_problem("!!str k: v\n")


def test_billion_laughs_is_refused_at_the_alias_naming_its_anchor():
    lines = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 10)]
    message = only_problem("\n".join(lines) + "\n")
    assert message.startswith(f"f.yaml:10:10: aliases expand the document past {MAX_VALUES} values: '*a8' alone")
    assert "of the anchor '&a8' (line 9, column 5)" in message


def test_aliases_within_the_bound_still_work_and_are_counted():
    doc = parse_yaml("base: &b {cpu: '1', mem: 2Gi}\nm: [*b, *b]\n", "f.yaml")
    assert doc.data["m"] == [{"cpu": "1", "mem": "2Gi"}] * 2


def test_too_many_values_without_any_alias_is_a_located_error_not_a_crash(monkeypatch):
    # (The alias check found no alias to blame and crashed on it: a ValueError traceback.) A smaller bound, same rule.
    monkeypatch.setattr(yaml_source, "MAX_VALUES", 1000)
    text = "a: [" + ",".join(["1"] * 1000) + "]\n"
    # The mapping and the list are values 1 and 2: item 998 (at column 5 + 2 * 998) is value 1001.
    assert only_problem(text) == "f.yaml:1:2001: the document has more than 1000 values"


def test_merges_count_against_the_bound():
    lines = ["b0: &b0 {" + ", ".join(f"k{j}: x" for j in range(40)) + "}"]
    lines += [f"b{i}: &b{i} [" + ", ".join([f"*b{i - 1}"] * 40) + "]" for i in range(1, 4)]
    lines.append("m: {<<: *b0}")
    lines.append("n: {<<: [*b0, *b0], k: *b3}")
    assert "aliases expand the document past" in only_problem("\n".join(lines) + "\n")


def test_a_recursive_alias_is_an_error():
    assert only_problem("a: &x\n  b: *x\n") == (
        "f.yaml:2:6: alias '*x' is inside the value anchored as '&x' (line 1, column 4): a recursive alias would "
        "repeat it forever"
    )
    assert "recursive alias" in only_problem("a: &x [1, [2, *x]]\n")


def test_an_undefined_alias_is_an_error():
    assert "alias '*nope' refers to no anchor defined before it" in only_problem("a: *nope\n")


@pytest.mark.parametrize(
    "text",
    [
        "v: " + "[" * 3000 + "]" * 3000 + "\n",
        "v: " + "{a: " * 3000 + "1" + "}" * 3000 + "\n",
        "".join("  " * i + f"k{i}:\n" for i in range(200)),
        "".join("  " * i + "- \n" for i in range(200)),
    ],
    ids=["flow-lists", "flow-maps", "block-maps", "block-lists"],
)
def test_deep_nesting_is_refused_at_the_level_past_the_bound(text):
    assert f"nested more than {MAX_DEPTH} levels deep" in only_problem(text)


def test_a_long_chain_of_aliases_is_bounded_not_a_recursion_error():
    lines = ["a0: &a0 [x]"] + [f"a{i}: &a{i} [*a{i - 1}]" for i in range(1, 100)]
    assert "levels deep" in only_problem("\n".join(lines) + "\n")


def test_a_long_chain_of_merges_is_bounded_not_a_recursion_error():
    lines = ["m0: &m0 {k: x}"] + [f"m{i}: &m{i} {{<<: *m{i - 1}}}" for i in range(1, 100)]
    assert "merges ('<<') nested more than" in only_problem("\n".join(lines) + "\n")


def test_an_oversized_file_is_refused_unread(tmp_path, monkeypatch):
    monkeypatch.setattr(yaml_source, "MAX_BYTES", 1000)
    path = tmp_path / "big.yaml"
    path.write_text("a: " + "x" * 2000 + "\n")
    with pytest.raises(ConfigurationError, match="big.yaml:1:1: the file is larger than"):
        load_yaml(path, shown_as="big.yaml")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes need a POSIX system")
def test_a_named_pipe_is_refused_not_read_forever(tmp_path):
    fifo = tmp_path / "models.yaml"
    os.mkfifo(fifo)
    with pytest.raises(ConfigurationError, match="models.yaml:1:1: not a regular file"):
        load_yaml(fifo, shown_as="models.yaml")


def test_a_directory_is_refused(tmp_path):
    with pytest.raises(ConfigurationError, match="not a regular file"):
        load_yaml(tmp_path, shown_as="d")


@pytest.mark.parametrize("command", ["validate", "render"])
def test_hostile_catalogs_exit_2_in_a_real_process_without_a_traceback(command, tmp_path):
    """One process per command runs every case; the timeout only guards against a hang (speed is not asserted in
    tests: the reader's bounds make each case a few milliseconds of parsing)."""
    script = (
        "import sys\nfrom mlserve.__main__ import main\n"
        "codes = [main([sys.argv[1], '--catalog', f'tests/bad_inputs/catalogs/{c}.yaml'] + sys.argv[3:]) "
        "for c in sys.argv[2].split(',')]\nsys.exit(0 if set(codes) == {2} else 1)\n"
    )
    extra = ["--out", str(tmp_path / "out")] if command == "render" else []
    result = subprocess.run(
        [sys.executable, "-c", script, command, ",".join(HOSTILE), *extra],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    assert result.stderr.count("nothing was rendered or deployed.") == len(HOSTILE)
    assert not (tmp_path / "out").exists()
