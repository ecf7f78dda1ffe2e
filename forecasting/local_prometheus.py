"""A throwaway Prometheus on loopback whose TSDB is backfilled with synthetic request counters.

For the tests and ``make forecast-demo``: writes OpenMetrics for each model's request counter (the series its
runtime exposes, labelled like the platform's PodMonitor does), turns it into TSDB blocks with
``promtool tsdb create-blocks-from openmetrics``, and starts ``prometheus`` on 127.0.0.1 with an ephemeral port, a
temporary data directory, no scrape targets and retention long enough to keep the backfill. ``stop()`` ends that
process (only it) and removes the directory. Needs the Debian ``prometheus`` package (prometheus and promtool).
"""

from __future__ import annotations

import json
import re
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

from .synthetic import Synthetic, counter_samples, openmetrics

STARTUP_SECONDS = 60


class PrometheusMissingError(RuntimeError):
    """prometheus or promtool is not installed."""


def binaries() -> tuple[str, str]:
    prometheus, promtool = shutil.which("prometheus"), shutil.which("promtool")
    if not prometheus or not promtool:
        missing = " and ".join(n for n, p in (("prometheus", prometheus), ("promtool", promtool)) if not p)
        raise PrometheusMissingError(f"{missing} not on PATH (Debian: apt-get install prometheus)")
    return prometheus, promtool


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class LocalPrometheus:
    url: str
    process: subprocess.Popen
    directory: Path
    log: Path
    stopped: bool = field(default=False)

    def stop(self) -> None:
        if self.stopped:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        shutil.rmtree(self.directory, ignore_errors=True)
        self.stopped = True

    def __enter__(self) -> LocalPrometheus:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


_MATCHER = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)(=~|=)"((?:[^"\\]|\\.)*)"')
_FIRST_ALTERNATIVE = re.compile(r"\(([^|()]*)\|[^()]*\)")


def counter_series(requests_query: str) -> tuple[str, dict[str, str]]:
    """The counter a filled request-rate query reads first (``rate(<name>{...}``) and labels a sample needs to
    match its selector: equality matchers as they are, a regex matcher as its first alternative."""
    start = requests_query.index("rate(") + len("rate(")
    brace = requests_query.index("{", start)
    name = requests_query[start:brace]
    selector = requests_query[brace + 1 : requests_query.index("}", brace)]
    labels = {}
    for label, op, value in _MATCHER.findall(selector):
        labels[label] = _FIRST_ALTERNATIVE.sub(r"\1", value) if op == "=~" else value
    return name, labels


@dataclass(frozen=True)
class Backfill:
    """One model's request counter: the query that will read it, its synthetic rates, an optional restart."""

    query: str
    rates: Synthetic
    reset_at_hour: int | None = None


def start(backfills: list[Backfill]) -> LocalPrometheus:
    prometheus, promtool = binaries()
    directory = Path(tempfile.mkdtemp(prefix="mlserve-prometheus-"))
    data = directory / "data"
    families: dict[str, dict[str, list[tuple[int, float]]]] = {}
    for backfill in backfills:
        metric, labels = counter_series(backfill.query)
        labels = {**labels, "pod": "replica-0"}
        rendered = ",".join(f"{k}={json.dumps(v)}" for k, v in sorted(labels.items()))
        families.setdefault(metric, {})[rendered] = counter_samples(backfill.rates, backfill.reset_at_hour)
    for metric, by_labels in sorted(families.items()):
        source = directory / f"{metric.replace(':', '_')}.om"
        source.write_text(openmetrics(metric, by_labels), encoding="utf-8")
        # Blocks of up to 8 days (the default 2h blocks would be hundreds of directories for four weeks).
        done = subprocess.run(
            [
                promtool,
                "tsdb",
                "create-blocks-from",
                "openmetrics",
                "--max-block-duration=192h",
                str(source),
                str(data),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            shutil.rmtree(directory, ignore_errors=True)
            raise RuntimeError(f"promtool create-blocks-from openmetrics failed: {done.stderr.strip()[-800:]}")
    config = directory / "prometheus.yml"
    config.write_text("global:\n  scrape_interval: 1m\nscrape_configs: []\n", encoding="utf-8")
    port = _free_port()
    log = directory / "prometheus.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                prometheus,
                f"--config.file={config}",
                f"--storage.tsdb.path={data}",
                "--storage.tsdb.retention.time=3650d",
                f"--web.listen-address=127.0.0.1:{port}",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    server = LocalPrometheus(f"http://127.0.0.1:{port}", process, directory, log)
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            text = log.read_text(errors="replace")[-800:]
            server.stop()
            raise RuntimeError(f"prometheus exited with {process.returncode}: {text}")
        try:
            if requests.get(f"{server.url}/-/ready", timeout=2).status_code == 200:
                return server
        except requests.exceptions.RequestException:
            pass
        time.sleep(0.3)
    server.stop()
    raise RuntimeError(f"prometheus did not become ready within {STARTUP_SECONDS}s")
