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


#: Requests/s one replica serves, assumed for the demo's models that do not scale on requests-per-second (their
#: catalog says nothing about it); passed as --replica-rps unless the caller passes its own.
DEMO_REPLICA_RPS = 10.0


def backfills(stack: str, project_dir, catalog: str | None = None):
    from components.monitoring import signals_for
    from mlserve.render import validate
    from model_catalog.checks import scaling_target

    from .local_prometheus import Backfill

    env = validate(project_dir, stack, catalog)
    end_hour = int(time.time()) // HOUR
    out = []
    assumed = []
    for model, spec in env.models.items():
        per_replica = scaling_target(spec) if spec.scaling.metric == "requests-per-second" else DEMO_REPLICA_RPS
        if spec.scaling.metric != "requests-per-second":
            assumed.append(model)
        level = per_replica * max(spec.scaling.max_replicas, 2) * 0.5
        seed = zlib.crc32(model.encode())
        rates = synthetic_rates(end_hour - HISTORY_HOURS, HISTORY_HOURS, level=level, seed=seed)
        query = signals_for(model, spec, env.settings.environment.namespace).requests(window="1h")
        out.append(Backfill(query, rates, reset_at_hour=HISTORY_HOURS // 2))
    return out, assumed


def main(argv: list[str]) -> int:
    from mlserve import cli
    from mlserve.__main__ import main as mlserve_main

    from . import local_prometheus

    stack = argv[argv.index("--stack") + 1] if "--stack" in argv else "dev"
    catalog = argv[argv.index("--catalog") + 1] if "--catalog" in argv else None
    series, assumed = backfills(stack, cli.find_project_dir(), catalog)
    if any(arg.startswith("--replica-rps") for arg in argv):
        assumed = []
    try:
        server = local_prometheus.start(series)
    except local_prometheus.PrometheusMissingError as exc:
        print(f"forecast-demo: {exc}", file=sys.stderr)
        return cli.EXIT_ENVIRONMENT
    with server:
        print(f"local Prometheus with 4 weeks of synthetic traffic at {server.url}")
        if assumed:
            print(f"assuming {DEMO_REPLICA_RPS:g} requests/s per replica for {', '.join(assumed)} (as --replica-rps)")
        rps = [f"--replica-rps={model}={DEMO_REPLICA_RPS:g}" for model in assumed]
        return mlserve_main(["forecast", "--prometheus", server.url, *argv, *rps])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
