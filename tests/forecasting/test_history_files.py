"""`mlserve forecast --history FILE`: exports, CSVs, bad files (exit 2, located), short, flat and gappy series."""

from __future__ import annotations

import difflib
import json
import re
from pathlib import Path

import pytest

from forecasting.history import HOUR, WEEK_HOURS
from forecasting.synthetic import counter_samples, synthetic_rates
from mlserve.__main__ import main

START_HOUR = 490_000
FAST = ["--folds", "2", "--horizon", "24h"]


def _csv(path: Path, rows: list[tuple[float, float]], column: str = "requests_per_second") -> Path:
    path.write_text(f"timestamp,{column}\n" + "".join(f"{int(ts)},{v:.6f}\n" for ts, v in rows), encoding="utf-8")
    return path


def _rates(hours: int, seed: int = 3) -> list[tuple[float, float]]:
    s = synthetic_rates(START_HOUR, hours, level=60.0, seed=seed)
    return [(int(h) * HOUR, float(r)) for h, r in zip(s.hours, s.rates, strict=True)]


def _run(tmp_path: Path, history: Path, *extra: str) -> int:
    return main(
        [
            "forecast",
            "--stack",
            "dev",
            "--model",
            "review-sentiment",
            "--history",
            str(history),
            "--out",
            str(tmp_path / "out"),
            *FAST,
            *extra,
        ]
    )


BAD_FILES = {
    "syntax.json": (
        '{"status": "success",\n  "data": {"resultType": "matrix", "result": [}\n}',
        r"syntax.json:2:\d+: invalid JSON",
    ),
    "vector.json": (
        json.dumps({"status": "success", "data": {"resultType": "vector", "result": []}}),
        r"vector.json: data.resultType: got 'vector'; expected 'matrix'",
    ),
    "value.json": (
        json.dumps(
            {
                "status": "success",
                "data": {
                    "resultType": "matrix",
                    "result": [{"metric": {"ml_model": "review-sentiment"}, "values": [[1, "2"], [2, "x"], [3]]}],
                },
            }
        ),
        r"value.json: data.result\[0\].values\[1\]: got \[2, \"x\"\]; expected \[unix_seconds, \"number\"\]",
    ),
    "header.csv": ("time,requests_per_second\n1,2\n", r"header.csv:1:1: header: no 'timestamp' column"),
    "when.csv": ("timestamp,requests_per_second\n0,1\nyesterday,2\n", r"when.csv:3:1: timestamp: got 'yesterday'"),
    "negative.csv": (
        "timestamp,requests_per_second\n0,1\n3600,-4\n",
        r"negative.csv:3:6: requests_per_second: got '-4'; expected a number >= 0",
    ),
    "history.txt": ("1 2\n", r"unknown format '.txt'"),
}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_malformed_exports_exit_2_with_a_located_message_and_write_nothing(name, tmp_path, capsys):
    text, expected = BAD_FILES[name]
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    assert _run(tmp_path, path) == 2
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    assert re.search(expected, captured.err), captured.err
    assert "nothing was written" in captured.err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--horizon", "7days"], "--horizon: got '7days'; expected a whole number of hours, days or weeks"),
        (["--headroom", "-5"], "--headroom: got -5; a percentage from 0 to 500"),
        (["--replica-rps", "fast"], "--replica-rps: got 'fast'; the requests/s one replica serves"),
        (["--replica-rps", "nope=3"], "--replica-rps: 'nope' is not an enabled model"),
    ],
)
def test_bad_options_exit_2(args, expected, tmp_path, capsys):
    path = _csv(tmp_path / "h.csv", _rates(48))
    assert _run(tmp_path, path, *args) == 2
    assert expected in capsys.readouterr().err


def test_a_prometheus_address_that_is_not_a_url_exits_2(tmp_path, capsys):
    assert main(["forecast", "--prometheus", "localhost:9090", "--out", str(tmp_path / "out")]) == 2
    assert "--prometheus: got 'localhost:9090'; expected a URL such as http://localhost:9090" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_unknown_model_exits_2(tmp_path, capsys):
    path = _csv(tmp_path / "h.csv", _rates(48))
    assert main(["forecast", "--stack", "dev", "--model", "llama3-70b", "--history", str(path)]) == 2
    assert "--model: 'llama3-70b' is not an enabled model of stack 'dev'" in capsys.readouterr().err


def test_history_shorter_than_two_seasons_is_refused_with_the_reason(tmp_path, capsys):
    path = _csv(tmp_path / "short.csv", _rates(9 * 24))
    assert _run(tmp_path, path) == 1
    out = capsys.readouterr().out
    assert "review-sentiment: no forecast: history covers 216 h (9.0 days)" in out
    assert "need two of them (336 h)" in out and "Refusing to extrapolate" in out
    assert not (tmp_path / "out" / "review-sentiment.png").exists()


def test_flat_series_forecasts_the_constant(tmp_path, capsys):
    path = _csv(tmp_path / "flat.csv", [(START_HOUR * HOUR + i * HOUR, 30.0) for i in range(3 * WEEK_HOURS)])
    assert _run(tmp_path, path) == 0
    out = capsys.readouterr().out
    assert "review-sentiment: constant" in out and "flat series (every hour 30 requests/s)" in out
    # 30 req/s with 20% headroom at 40 per replica: one replica at the trough and at the peak
    assert "minReplicas 0 -> 1, maxReplicas 1 -> 1" in out
    assert (tmp_path / "out" / "review-sentiment.png").stat().st_size > 10_000


def test_counter_with_a_reset_and_a_gap_is_cleaned_and_reported(tmp_path, capsys):
    series = synthetic_rates(START_HOUR, 3 * WEEK_HOURS, level=60.0, seed=5)
    samples = counter_samples(series, reset_at_hour=200)
    gap = (START_HOUR + 300) * HOUR, (START_HOUR + 310) * HOUR  # ten hours without scrapes
    kept = [(ts, v) for ts, v in samples if not gap[0] < ts <= gap[1]]
    path = _csv(tmp_path / "counter.csv", kept, column="requests_total")
    assert _run(tmp_path, path) == 0
    out = capsys.readouterr().out
    assert "1 counter reset (restarts) handled" in out
    assert "10 missing hours in 1 gap (longest 10 h)" in out
    assert "replicas: minReplicas" in out

    from forecasting.history import load_history_file

    history = load_history_file(path, ["review-sentiment"], "review-sentiment")["review-sentiment"]
    assert len(history) == 3 * WEEK_HOURS
    exact = [i for i in range(len(history)) if not 300 <= i <= 310]  # the hour after the gap spans it
    assert history.values[exact] == pytest.approx(series.rates[exact], rel=1e-6)
    # the ten missing hours come from the same hours a week earlier
    assert history.values[301] == pytest.approx(history.values[301 - WEEK_HOURS])


def test_mostly_missing_history_is_refused(tmp_path, capsys):
    rows = _rates(3 * WEEK_HOURS)
    path = _csv(tmp_path / "sparse.csv", rows[:50] + rows[-50:])
    assert _run(tmp_path, path) == 2
    assert (
        "sparse.csv: model 'review-sentiment': 404 of 504 hours have no data (more than 25%)" in capsys.readouterr().err
    )


def test_write_adds_a_per_stack_override_and_keeps_everything_else(tmp_path, capsys):
    from tests.helpers import ROOT

    catalog = tmp_path / "models.yaml"
    original = (ROOT / "models.yaml").read_text(encoding="utf-8")
    catalog.write_text(original, encoding="utf-8")
    path = _csv(tmp_path / "h.csv", _rates(3 * WEEK_HOURS))
    args = [
        "forecast",
        "--stack",
        "staging",
        "--model",
        "review-sentiment",
        "--catalog",
        str(catalog),
        "--history",
        str(path),
        "--out",
        str(tmp_path / "out"),
        *FAST,
        "--write",
    ]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "wrote overrides.staging.scaling for 1 model" in out
    edited = catalog.read_text(encoding="utf-8")
    new_lines = edited.splitlines()
    # only lines were added, every original line (comments included) is still there in order
    it = iter(new_lines)
    assert all(any(line == candidate for candidate in it) for line in original.splitlines())
    added = [line[2:] for line in difflib.ndiff(original.splitlines(), new_lines) if line.startswith("+ ")]
    assert len(added) == 2 and added[0] == "      staging:"
    assert re.fullmatch(r"        scaling: \{minReplicas: \d+, maxReplicas: \d+\}", added[1]), added
    assert main(["validate", "--stack", "staging", "--catalog", str(catalog)]) == 0
    capsys.readouterr()
    assert main(args) == 0
    assert "already has these bounds; nothing written" in capsys.readouterr().out
    assert catalog.read_text(encoding="utf-8") == edited
