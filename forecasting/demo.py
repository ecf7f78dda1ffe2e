"""``make forecast-demo``: the forecast against a local Prometheus backfilled with four weeks of synthetic traffic.

For every enabled model of the stack, a request counter under the name and labels its request-rate query reads
(the metric table's expression, so the demo exercises the real queries), with traffic at a level the model's
catalog bounds can serve. Then ``mlserve forecast --prometheus <that server>`` with any further options, and the
server is stopped. Needs the Debian ``prometheus`` package.
"""

from __future__ import annotations

import sys
import time
import zlib

from .history import HOUR, WEEK_HOURS
from .synthetic import synthetic_rates

HISTORY_HOURS = 4 * WEEK_HOURS


def backfills(stack: str, project_dir, catalog: str | None = None):
    from components.monitoring import signals_for
    from mlserve.render import validate
    from model_catalog.checks import scaling_target

    from .local_prometheus import Backfill

    env = validate(project_dir, stack, catalog)
    end_hour = int(time.time()) // HOUR
    out = []
    for model, spec in env.models.items():
        per_replica = scaling_target(spec) if spec.scaling.metric == "requests-per-second" else 10.0
        level = per_replica * max(spec.scaling.max_replicas, 2) * 0.5
        seed = zlib.crc32(model.encode())
        rates = synthetic_rates(end_hour - HISTORY_HOURS, HISTORY_HOURS, level=level, seed=seed)
        query = signals_for(model, spec, env.settings.environment.namespace).requests(window="1h")
        out.append(Backfill(query, rates, reset_at_hour=HISTORY_HOURS // 2))
    return out


def main(argv: list[str]) -> int:
    from mlserve.__main__ import main as mlserve_main
    from mlserve.cli import find_project_dir

    from . import local_prometheus

    stack = argv[argv.index("--stack") + 1] if "--stack" in argv else "dev"
    catalog = argv[argv.index("--catalog") + 1] if "--catalog" in argv else None
    try:
        server = local_prometheus.start(backfills(stack, find_project_dir(), catalog))
    except local_prometheus.PrometheusMissingError as exc:
        print(f"forecast-demo: {exc}", file=sys.stderr)
        return 1
    with server:
        print(f"local Prometheus with 4 weeks of synthetic traffic at {server.url}")
        return mlserve_main(["forecast", "--prometheus", server.url, *argv])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
