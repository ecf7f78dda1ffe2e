"""The floor a render is compared with (``make bench``): the same resources, registered with none of our code.

``python -m mlserve.bench_floor --mode typed|raw --input FILE --timings FILE`` reads the resources a render
registered (``floor_input()`` below, written by the benchmark from that render's resources.json and manifests/)
and registers exactly those under Pulumi's mock runtime (``pulumi.runtime.set_mocks``, the mocks echoing inputs as
the render's do, on the same monitor: mlserve/echo_monitor.py), with the same component tree (parents), providers and dependencies:

- ``typed``: every Kubernetes object through its typed pulumi_kubernetes class (``apps.v1.Deployment(...)``,
  ``apiextensions.CustomResource`` for custom resources), as a hand-written program would;
- ``raw``: every resource as a plain ``pulumi.CustomResource`` with its type token and inputs.

``--settle N`` waits for the registrations so far after every N resources, as the render waits after each model
(docs/benchmarks.md; the benchmark passes the fleet's resources per model): the floor with the render's bound on
the registrations in flight, reported apart. (The floor registers in dependency order, kind by kind across the
models, not model by model, so a count is its nearest equivalent of "one model".)

Components are plain ``pulumi.ComponentResource`` of the same type, other resources (image builds, cloud resources,
Helm charts, providers) plain resources of their type in both modes. The process applies the same interpreter
settings as ``mlserve render`` (mlserve/interpreter.py), so the comparison is fair.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from . import interpreter

#: Kubernetes API groups whose module in pulumi_kubernetes is not the group's first label.
_GROUP_MODULES = {"core": "core", "rbac.authorization.k8s.io": "rbac"}


def floor_input(render_dir: Path) -> list[dict[str, Any]]:
    """The resources of a render (resources.json and its manifests), in an order that registers every parent and
    dependency first: what the floor programs register."""
    from .manifest_checks import load_manifest  # here: the floor programs themselves never read manifests

    document = json.loads((render_dir / "resources.json").read_text(encoding="utf-8"))
    entries = {entry["urn"]: entry for entry in document["resources"]}
    ordered: list[dict[str, Any]] = []
    state: dict[str, int] = {}
    for urn in entries:  # depth-first topological order over parents and dependencies
        stack = [(urn, False)]
        while stack:
            current, expanded = stack.pop()
            if expanded:
                if state.get(current) != 2:
                    state[current] = 2
                    ordered.append(entries[current])
                continue
            if state.get(current) or current not in entries:
                continue
            state[current] = 1
            stack.append((current, True))
            entry = entries[current]
            before = [entry.get("parent"), entry.get("provider"), *entry.get("dependencies", ())]
            stack.extend((u, False) for u in before if u and u in entries and not state.get(u))
    result = []
    for entry in ordered:
        if "options" in entry and "read" in entry["options"]:
            continue  # a read of an existing object (the cluster guard): nothing registered
        item = {k: entry.get(k) for k in ("urn", "type", "name", "parent", "custom", "provider")}
        item["dependencies"] = entry.get("dependencies", [])
        if "manifest" in entry:
            item["object"] = load_manifest(render_dir / entry["manifest"])
        else:
            item["inputs"] = entry.get("inputs", {})
        result.append(item)
    return result


def _typed_class(type_token: str) -> Any | None:
    """The pulumi_kubernetes class of a type token (``kubernetes:apps/v1:Deployment``), None for custom resources."""
    _, group_version, kind = type_token.split(":")
    group, _, version = group_version.rpartition("/")
    module = _GROUP_MODULES.get(group, group.split(".")[0])
    try:
        return getattr(importlib.import_module(f"pulumi_kubernetes.{module}.{version}"), kind)
    except (ImportError, AttributeError):
        return None


def sdk_modules(resources: list[dict[str, Any]]) -> list[str]:
    """The Python SDK modules a typed program of ``resources`` imports besides pulumi_kubernetes' Kubernetes objects:
    the package of every other provider (``docker:index/image:Image``: pulumi_docker; ``aws:ecr/repository:...``:
    pulumi_aws and pulumi_aws.ecr; ``pulumi:providers:aws``: pulumi_aws) and pulumi_kubernetes' Helm module of a
    Helm resource, component or custom (``kubernetes:helm.sh/v4:Chart``, ``kubernetes:helm.sh/v3:Release``). What
    ``--import-sdks`` imports (the floor itself registers these resources as plain resources of their type)."""
    modules: set[str] = set()
    for item in resources:
        type_token = item["type"]
        package, module, _ = type_token.split(":")
        if package == "pulumi" and module == "providers":
            modules.add(f"pulumi_{type_token.rsplit(':', 1)[1]}")
        elif package == "kubernetes":
            if "object" not in item and "/" in module:
                group, _, version = module.rpartition("/")
                if group.endswith("helm.sh"):
                    modules.add(f"pulumi_kubernetes.helm.{version}")
        elif item["custom"]:
            modules.add(f"pulumi_{package}")
            first = module.split("/")[0]
            if first != "index":
                modules.add(f"pulumi_{package}.{first}")
    return sorted(modules)


def register_all(resources: list[dict[str, Any]], mode: str) -> None:
    """The floor program: register ``resources`` (floor_input's order) as a program with none of our code would."""
    for _ in register_steps(resources, mode):
        pass


def register_steps(resources: list[dict[str, Any]], mode: str) -> Iterator[str]:
    """``register_all``, yielding the URN of each resource after constructing it (where ``--settle`` may wait)."""
    import pulumi
    import pulumi_kubernetes as k8s
    from pulumi_kubernetes import _tables

    created: dict[str, pulumi.Resource] = {}
    classes: dict[str, Any] = {}
    for item in resources:
        opts = pulumi.ResourceOptions(
            parent=created.get(item["parent"]) if item["parent"] else None,
            provider=created.get(item["provider"]) if item["provider"] else None,
            depends_on=[created[u] for u in item["dependencies"] if u in created and u != item["parent"]] or None,
        )
        type_token, name = item["type"], item["name"]
        if type_token.startswith("pulumi:providers:"):
            resource = pulumi.ProviderResource(type_token.rsplit(":", 1)[1], name, item["inputs"], opts)
        elif not item["custom"]:
            resource = pulumi.ComponentResource(type_token, name, None, opts)
        elif "object" in item and mode == "typed":
            obj = dict(item["object"])
            if type_token not in classes:
                classes[type_token] = _typed_class(type_token)
            cls = classes[type_token]
            api_version, kind = obj.pop("apiVersion"), obj.pop("kind")
            if cls is None:
                resource = k8s.apiextensions.CustomResource(name, api_version, kind, opts=opts, **obj)
            else:
                kwargs = {_tables.CAMEL_TO_SNAKE_CASE_TABLE.get(k, k): v for k, v in obj.items()}
                resource = cls(name, opts, **kwargs)
        else:
            resource = pulumi.CustomResource(type_token, name, item.get("object", item.get("inputs")), opts)
        created[item["urn"]] = resource
        yield item["urn"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mlserve.bench_floor", description=__doc__.split("\n\n")[0])
    parser.add_argument("--mode", choices=("typed", "raw"), required=True)
    parser.add_argument("--input", type=Path, required=True, help="floor_input() as JSON")
    parser.add_argument("--timings", type=Path, required=True, help="where to write the phase times (JSON)")
    parser.add_argument("--stack", default="prod")
    parser.add_argument("--project", default="ml-serving", help="the Pulumi project's name (Pulumi.yaml)")
    parser.add_argument(
        "--settle",
        type=int,
        default=0,
        metavar="N",
        help="wait for the registrations so far after every N resources (the render waits after each model)",
    )
    parser.add_argument(
        "--import-sdks",
        action="store_true",
        help="also import the SDK packages of the resources' other providers (docker, aws, random, Helm), as a"
        " typed program of the same resources would",
    )
    args = parser.parse_args(argv)

    import pulumi
    import pulumi_kubernetes  # noqa: F401 - imported before the clock starts, as the render's imports are
    from pulumi.runtime.stack import run_pulumi_func, wait_for_rpcs
    from pulumi.runtime.sync_await import _sync_await

    from .echo_monitor import EchoMonitor, engine_calls

    started = time.perf_counter()
    resources = json.loads(args.input.read_text(encoding="utf-8"))
    loaded = time.perf_counter()
    if args.import_sdks:  # after the clock's load phase, as the render imports them while it runs
        for module in sdk_modules(resources):
            importlib.import_module(module)
    interpreter.tune()

    class EchoMocks(pulumi.runtime.Mocks):
        def new_resource(self, mock_args):
            return f"{mock_args.name}-id", dict(mock_args.inputs)

        def call(self, mock_args):
            return {}, []

    echo = EchoMocks()
    pulumi.runtime.set_mocks(echo, project=args.project, stack=args.stack, preview=False, monitor=EchoMonitor(echo))
    phases: dict[str, float] = {"load_input_s": loaded - started}

    async def body() -> None:
        begun, waited = time.perf_counter(), 0.0
        for count, _ in enumerate(register_steps(resources, args.mode), 1):
            if args.settle and count % args.settle == 0:  # as mlserve/mock_runtime.py settle(), with the SDK alone
                started = time.perf_counter()
                await asyncio.sleep(0)
                await wait_for_rpcs(await_all_outstanding_tasks=False)
                interpreter.checkpoint()  # as the render after each model
                waited += time.perf_counter() - started
        phases["program_s"] = time.perf_counter() - begun - waited

    begun = time.perf_counter()
    with engine_calls():  # the render's engine settings (mlserve/echo_monitor.py)
        _sync_await(run_pulumi_func(body))
    phases["registrations_s"] = time.perf_counter() - begun - phases["program_s"]  # with the waits of --settle
    phases["resources"] = len(resources)
    phases["peak_rss_mb"] = interpreter.peak_rss_mb()
    args.timings.write_text(json.dumps(phases, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    interpreter.start()
    interpreter.exit_now(main())
