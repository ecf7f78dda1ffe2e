"""Property-based fuzzing of the catalog and stack settings readers (hypothesis).

Mutated copies of the real models.yaml and Pulumi.<stack>.yaml (fields dropped, duplicated and retyped, random
unicode, huge numbers, nulls, lists for maps, explicit tags, anchors, aliases and merges) go through `validate` and
`render`. The invariant: exit 0, or exit 2 with every message located (`file:line:column: `); never a traceback,
never anything written on failure. `make test` runs a few examples; `make fuzz` runs many more (FUZZ_EXAMPLES) and
saves every failing input under tests/fuzz_cases/, which `make test` then replays as regression cases.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlserve.__main__ import EXIT_INVALID, main
from tests.helpers import ROOT

CASES = ROOT / "tests" / "fuzz_cases"
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "12"))
SAVE = os.environ.get("FUZZ_SAVE") == "1"
RENDER_VALID = SAVE  # `make fuzz` renders every valid input too
LOCATED = re.compile(r"^[^\s:][^:]*:\d+:\d+: ")
SUMMARY = re.compile(r"^\d+ problems? found; nothing was rendered or deployed\.$")

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**40), max_value=10**40),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.sampled_from(["010", "0x1F", "1:30", "no", "yes", "~", "2026-01-01", "9" * 5000, "-", "<<"]),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=10), inner, max_size=3)),
    max_leaves=6,
)
TAGS = ["!!python/str", "!!python/object/apply:os.system", "!!int", "!!bool", "!!timestamp", "!custom", "!!str", "!"]


def paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from paths(item, (*prefix, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from paths(item, (*prefix, i))


def set_at(data, path, value):
    target = data
    for element in path[:-1]:
        target = target[element]
    if value is _DROP:
        del target[path[-1]]
    else:
        target[path[-1]] = value


_DROP = object()


@st.composite
def mutated_yaml(draw, source: Path) -> str:
    data = yaml.safe_load(source.read_text(encoding="utf-8"))
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        candidates = [p for p in paths(data) if p]
        if not candidates:
            break
        path = draw(st.sampled_from(candidates))
        value = draw(st.one_of(st.just(_DROP), VALUES))
        set_at(data, path, value)
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=1000)
    lines = text.splitlines()
    for _ in range(draw(st.integers(min_value=0, max_value=2))):
        i = draw(st.integers(min_value=0, max_value=len(lines) - 1))
        line = lines[i]
        op = draw(st.sampled_from(["duplicate", "tag", "anchor", "merge", "unicode", "indent"]))
        key, sep, rest = line.partition(": ")
        if op == "duplicate":
            lines.insert(i, line)
        elif op == "tag" and sep:
            lines[i] = f"{key}: {draw(st.sampled_from(TAGS))} {rest}"
        elif op == "anchor" and sep:
            lines[i] = f"{key}: &a {rest}"
            j = draw(st.integers(min_value=i, max_value=len(lines) - 1))
            k, s2, _ = lines[j].partition(": ")
            if s2 and j != i:
                lines[j] = f"{k}: *a"
        elif op == "merge" and line.endswith(":"):
            indent = len(line) - len(line.lstrip()) + 2
            lines.insert(i + 1, " " * indent + draw(st.sampled_from(["<<: *a", "<<: [1, 2]", "<<: {x: 1}"])))
        elif op == "unicode":
            lines[i] = line + draw(st.text(max_size=5))
        elif op == "indent":
            lines[i] = " " + line
    return "\n".join(lines) + "\n"


def check(argv: list[str], out: Path | None, capsys) -> bool:
    """exit 0 (True), or exit 2 with located messages and nothing written (False); any exception fails the test."""
    code = main(argv)
    err = capsys.readouterr().err.splitlines()
    assert code in (0, EXIT_INVALID), f"exit {code}:\n" + "\n".join(err)
    if code == EXIT_INVALID:
        assert err and SUMMARY.match(err[-1]), err
        assert all(LOCATED.match(line) for line in err[:-1]), err
        assert out is None or not out.exists()
    return code == 0


def project(tmp: Path, catalog: str | None = None, stack: str | None = None) -> Path:
    tmp.mkdir(parents=True, exist_ok=True)
    for name in ("models.yaml", "Pulumi.dev.yaml", "Pulumi.staging.yaml", "Pulumi.prod.yaml"):
        shutil.copy(ROOT / name, tmp / name)
    if catalog is not None:
        (tmp / "models.yaml").write_text(catalog, encoding="utf-8")
    if stack is not None:
        (tmp / "Pulumi.prod.yaml").write_text(stack, encoding="utf-8")
    if not (tmp / "images").exists():
        shutil.copytree(ROOT / "images", tmp / "images")  # build contexts (a symlink would point outside)
    return tmp


def save(kind: str, text: str) -> None:
    if SAVE:
        CASES.mkdir(exist_ok=True)
        name = f"{kind}-{hashlib.sha256(text.encode()).hexdigest()[:16]}.yaml"
        (CASES / name).write_text(text, encoding="utf-8")


def run_case(kind: str, text: str, tmp: Path, capsys, render_valid: bool) -> None:
    """validate, then render: always when validate refused (render must refuse too, writing nothing), and for a
    valid input only when ``render_valid`` (a full render takes seconds: `make fuzz` does it, `make test` not)."""
    proj = project(tmp, catalog=text if kind == "catalog" else None, stack=text if kind == "stack" else None)
    out = tmp / "out"
    argv = ["--stack", "prod", "--project-dir", str(proj)]
    try:
        valid = check(["validate", *argv], None, capsys)
        if render_valid or not valid:
            rendered = check(["render", *argv, "--out", str(out)], out, capsys)
            assert rendered == valid, "validate and render disagree"
    except BaseException:
        save(kind, text)
        raise


FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,  # speed is for `make fuzz` to report, not for a loaded test machine to flake on
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.data_too_large],
    derandomize=os.environ.get("FUZZ_SAVE") != "1",
)


@FUZZ
@given(text=mutated_yaml(ROOT / "models.yaml"))
def test_a_mutated_catalog_is_valid_or_a_located_error(text, tmp_path_factory, capsys):
    run_case("catalog", text, tmp_path_factory.mktemp("fuzz"), capsys, RENDER_VALID)


@FUZZ
@given(text=mutated_yaml(ROOT / "Pulumi.prod.yaml"))
def test_mutated_stack_settings_are_valid_or_a_located_error(text, tmp_path_factory, capsys):
    run_case("stack", text, tmp_path_factory.mktemp("fuzz"), capsys, RENDER_VALID)


@pytest.mark.parametrize("case", sorted(CASES.glob("*.yaml")), ids=lambda p: p.stem)
def test_every_input_the_fuzzer_ever_found_stays_handled(case, tmp_path, capsys):
    kind = case.name.split("-", 1)[0]
    run_case(kind, case.read_text(encoding="utf-8"), tmp_path, capsys, render_valid=True)
