"""The benchmark's results document (mlserve/bench.py): what it reports for the default catalog. No timing here:
the figures are made up, the benchmark itself measures (``make bench``)."""

from mlserve import bench


def _sample(seconds: float, cpu_seconds: float) -> bench.Sample:
    return bench.Sample(seconds=seconds, cpu_seconds=cpu_seconds, peak_rss_mb=100.0, phases={})


def test_the_default_catalog_target_is_the_median_of_its_cpu_seconds():
    runs = [_sample(3.0, 1.9), _sample(2.5, 2.4), _sample(9.0, 1.8)]
    floor = [_sample(1.5, 1.2), _sample(1.4, 1.1), _sample(1.6, 1.3)]
    document = bench._document({}, runs, seed=1, repeat=1, load_before=(0.0, 0.0, 0.0), default_floor=floor)
    assert document["default_catalog_cpu_seconds"] == 1.9
    assert document["default_catalog_seconds"] == 3.0
    assert document["default_catalog_floor_cpu_seconds"] == 1.2
    assert document["default_catalog_runs"] == {
        "seconds": [3.0, 2.5, 9.0],
        "cpu_seconds": [1.9, 2.4, 1.8],
        "floor_cpu_seconds": [1.2, 1.1, 1.3],
    }
    assert (
        "default catalog (prod, warm): median 1.9 CPU s, 3.0 s wall; the typed floor of its resources: 1.2 CPU s"
        in (bench.table(document))
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
