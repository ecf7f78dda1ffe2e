"""The benchmark's results document (mlserve/bench.py): what it reports for the default catalog. No timing here:
the figures are made up, the benchmark itself measures (``make bench``)."""

import json
import os
import sys

import pytest

from mlserve import bench, bench_floor
from tests.helpers import ROOT


def _sample(seconds: float, cpu_seconds: float) -> bench.Sample:
    return bench.Sample(seconds=seconds, cpu_seconds=cpu_seconds, peak_rss_mb=100.0, phases={})


def test_the_default_catalog_target_is_the_median_of_its_cpu_seconds():
    runs = [_sample(3.0, 1.9), _sample(2.5, 2.4), _sample(9.0, 1.8)]
    floor = [_sample(1.5, 1.2), _sample(1.4, 1.1), _sample(1.6, 1.3)]
    sdk_floor = [_sample(1.7, 1.5), _sample(1.6, 1.4), _sample(1.9, 1.6)]
    document = bench._document(
        {}, runs, seed=1, repeat=1, load_before=(0.0, 0.0, 0.0), default_floor=floor, default_sdk_floor=sdk_floor
    )
    assert document["default_catalog_cpu_seconds"] == 1.9
    assert document["default_catalog_seconds"] == 3.0
    assert document["default_catalog_floor_cpu_seconds"] == 1.2
    assert document["default_catalog_sdk_floor_cpu_seconds"] == 1.5
    assert document["default_catalog_runs"] == {
        "seconds": [3.0, 2.5, 9.0],
        "cpu_seconds": [1.9, 2.4, 1.8],
        "floor_cpu_seconds": [1.2, 1.1, 1.3],
        "sdk_floor_cpu_seconds": [1.5, 1.4, 1.6],
    }
    assert (
        "default catalog (prod, warm): median 1.9 CPU s, 3.0 s wall; the typed floor of its resources: 1.2 CPU s,"
        " 1.5 CPU s with the SDKs of its other providers imported" in bench.table(document)
    )
    (check,) = [c for c in document["targets"] if c["target"].startswith("default catalog")]
    assert check == {
        "target": "default catalog (prod), warm, CPU seconds",
        "value": 1.9,
        "limit": bench.TARGET_DEFAULT_SECONDS,
        "met": True,
    }


def test_the_warm_up_render_may_write_bytecode(monkeypatch, tmp_path):
    """The warm-up render runs without PYTHONDONTWRITEBYTECODE (so our modules' bytecode exists, as for any second
    run); the measured renders keep the caller's environment."""
    monkeypatch.setenv("PYTHONDONTWRITEBYTECODE", "1")
    seen = []

    def fake_run(command, cwd, env):
        seen.append(env.get("PYTHONDONTWRITEBYTECODE"))
        timings = command[command.index("--timings") + 1]
        (tmp_path / timings).write_text('{"resources": 1}', encoding="utf-8")
        return 1.0, 1.0, 10.0, ""

    monkeypatch.setattr(bench, "_run", fake_run)
    bench.render_sample(tmp_path / "models.yaml", tmp_path / "out", tmp_path, write_bytecode=True)
    bench.render_sample(tmp_path / "models.yaml", tmp_path / "out", tmp_path)
    assert seen == [None, "1"]


def test_a_split_render_is_reported_beside_the_single_process_and_held_to_the_5000_model_targets():
    def sample(seconds: float, processes: int = 1, rss: float = 900.0) -> bench.Sample:
        phases = {"resources": 58000, "objects": 47000, "validate_s": 1.5, "processes": processes}
        return bench.Sample(seconds=seconds, cpu_seconds=seconds, peak_rss_mb=rss, phases=phases)

    runs = {"ours": [sample(350.0)], "typed": [sample(200.0)], "raw": [sample(150.0)], "settled": [sample(210.0)]}
    runs["split"] = [sample(170.0, processes=2, rss=1800.0)]
    document = bench._document({5000: runs}, [], seed=1, repeat=1, load_before=(0.0, 0.0, 0.0))
    (row,) = document["sizes"]
    assert row["seconds"] == 350.0 and row["ratio"] == 1.75
    assert row["split"] == {
        "processes": 2,
        "seconds": 170.0,
        "cpu_seconds": 170.0,
        "peak_rss_mb": 1800,
        "runs": [170.0],
    }
    checks = {c["target"]: (c["value"], c["met"]) for c in document["targets"]}
    assert checks["5000 models: seconds, one process"] == (350.0, False)
    assert checks["5000 models: seconds, split across 2 processes"] == (170.0, True)
    assert checks["5000 models: peak RSS MB, all processes together"] == (1800, True)
    assert "5000 models split across 2 processes (mlserve render's default): 170.0 s wall" in bench.table(document)


def test_sizes_too_small_to_split_have_no_split_row():
    sample = bench.Sample(seconds=1.0, cpu_seconds=1.0, peak_rss_mb=1.0, phases={"resources": 1, "objects": 1})
    runs = {"ours": [sample], "typed": [sample], "raw": [sample], "settled": [sample], "split": []}
    document = bench._document({10: runs}, [], seed=1, repeat=1, load_before=(0.0, 0.0, 0.0))
    assert "split" not in document["sizes"][0]


FAKE_VALGRIND = """#!/bin/sh
# A stand-in for valgrind: skips its options, runs the command, then reports a count as callgrind does.
while [ "${1#--}" != "$1" ]; do shift; done
"$@"
status=$?
echo "==1== Collected : ${FAKE_COUNT:-4242}" >&2
exit $status
"""


def _fake_valgrind(tmp_path, monkeypatch, script: str = FAKE_VALGRIND) -> None:
    tools = tmp_path / "tools"
    tools.mkdir()
    (tools / bench.VALGRIND).write_text(script, encoding="utf-8")
    (tools / bench.VALGRIND).chmod(0o755)
    monkeypatch.setenv("PATH", f"{tools}:{os.environ['PATH']}")


def test_an_instruction_count_is_callgrinds_collected_figure_with_a_fixed_hash_seed(tmp_path, monkeypatch):
    """``instruction_count`` runs the command under valgrind with PYTHONHASHSEED=0 (the count is then the same every
    run) and reads callgrind's "Collected" figure; a failing command or a missing figure stops the benchmark."""
    _fake_valgrind(tmp_path, monkeypatch)
    env = dict(os.environ, PYTHONHASHSEED="random")
    seed_is_zero = [sys.executable, "-c", "import os, sys; sys.exit(os.environ['PYTHONHASHSEED'] != '0')"]
    assert bench.instruction_count(seed_is_zero, tmp_path, env) == 4242
    with pytest.raises(SystemExit, match="failed"):
        bench.instruction_count([sys.executable, "-c", "raise SystemExit(4)"], tmp_path, env)
    (tmp_path / "tools" / bench.VALGRIND).write_text('#!/bin/sh\nwhile [ "${1#--}" != "$1" ]; do shift; done\n"$@"\n')
    with pytest.raises(SystemExit, match="no instruction count"):
        bench.instruction_count([sys.executable, "-c", "pass"], tmp_path, env)


def test_the_default_catalogs_instruction_counts_are_reported(tmp_path, monkeypatch):
    """``mlserve bench --instructions``: the render, the typed floor and the floor with the stack's other SDKs, one
    count each (here a stand-in valgrind's, the commands themselves run for real), and the render over the latter."""
    _fake_valgrind(tmp_path, monkeypatch)
    counts = iter(["5730000000", "3670000000", "4200000000"])
    real_run = bench._run

    def counted_run(command, cwd, env):
        return real_run(command, cwd, {**env, "FAKE_COUNT": next(counts)})

    monkeypatch.setattr(bench, "_run", counted_run)
    work = tmp_path / "work"
    work.mkdir()
    out = work / "default"
    from mlserve.__main__ import main

    assert main(["render", "--stack", "prod", "--out", str(out)]) == 0
    floor_file = work / "floor.json"
    floor_file.write_text(json.dumps(bench_floor.floor_input(out)), encoding="utf-8")
    counted = bench.default_instructions(ROOT / "models.yaml", floor_file, work, ROOT)
    assert counted == {
        "render": 5730000000,
        "floor": 3670000000,
        "sdk_floor": 4200000000,
        "render_over_sdk_floor": 1.36,
    }
    assert bench.same_files(out, work / "counted")  # the counted render is the project's prod render
    document = bench._document({}, [], seed=1, repeat=1, load_before=(0.0, 0.0, 0.0), default_instructions=counted)
    assert document["default_catalog_instructions"] == counted
    assert (
        "default catalog, instructions (valgrind, one run each): render 5.73 G, typed floor 3.67 G, 4.20 G with the"
        " SDKs of its other providers imported: 1.36x that" in bench.table(document)
    )


def test_bench_instructions_without_valgrind_is_an_environment_problem(tmp_path, monkeypatch, capsys):
    """Without valgrind on PATH, ``mlserve bench --instructions`` says what is missing and how to get it, exits 3,
    and measures nothing."""
    from mlserve.__main__ import main

    monkeypatch.setattr(bench.shutil, "which", lambda name: None)
    monkeypatch.setattr(bench, "run_bench", lambda *a, **k: pytest.fail("measured without valgrind"))
    assert main(["bench", "--instructions", "--sizes", "10", "--out", str(tmp_path / "out")]) == 3
    assert "not on PATH (Debian: apt-get install valgrind); nothing was measured" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
