"""The benchmark's results document (mlserve/bench.py): what it reports for the default catalog. No timing here:
the figures are made up, the benchmark itself measures (``make bench``)."""

from mlserve import bench


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
