"""Offline render: the stack's real Pulumi program under mocks, written out for review."""

from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from model_catalog.environment import Environment, resolve_environment
from model_catalog.errors import ConfigurationError, Problem
from model_catalog.split import platform_of

from . import interpreter
from .mock_runtime import MockRun, StackOutputs, engine_config, run_program, settle
from .output import RenderSummary, write_render
from .output_dir import check_owned, owned_staging
from .progress import Progress
from .shards import SHARD_FILE, merge, run_shares, shard_models, shard_record

AMBIENT_CONFIG = "PULUMI_CONFIG"
AMBIENT_SECRET_KEYS = "PULUMI_CONFIG_SECRET_KEYS"
#: Models whose components the render constructs before it waits for their registrations (docs/benchmarks.md,
#: "Registrations in flight"). 0: construct every model first, then wait (what ``pulumi up`` does).
SETTLE_EVERY = 1


def ambient_config() -> tuple[dict[str, Any], set[str]]:
    """Config the environment hands a Pulumi program (``PULUMI_CONFIG``, JSON), as the program reads it beneath the
    stack file's keys; a malformed value is a located error rather than a traceback in the program."""
    found: list[tuple[str, Any]] = []
    for name, kind in ((AMBIENT_CONFIG, dict), (AMBIENT_SECRET_KEYS, list)):
        raw = os.environ.get(name)
        try:
            value = json.loads(raw) if raw is not None else kind()
        except (ValueError, RecursionError) as exc:
            problem = Problem(f"${name}", 1, 1, "", f"not valid JSON ({exc}); it must be a JSON {kind.__name__}")
            raise ConfigurationError([problem]) from None
        if not isinstance(value, kind):
            problem = Problem(f"${name}", 1, 1, "", f"must be a JSON {'object' if kind is dict else 'list'}")
            raise ConfigurationError([problem])
        found.append((name, value))
    config, secrets = found[0][1], found[1][1]
    return config, {str(key) for key in secrets}


def validate(project_dir: Path, stack: str, catalog: str | None = None) -> Environment:
    """Settings and catalog checks only (no Pulumi runtime), reading configuration exactly as ``render`` does: the
    ambient PULUMI_CONFIG beneath the stack file's keys."""
    ambient, ambient_secrets = ambient_config()
    config, secret_keys = engine_config(project_dir, stack)
    return resolve_environment(project_dir, stack, {**ambient, **config}, set(secret_keys) | ambient_secrets, catalog)


def platform_outputs(project_dir: Path, stack: str) -> dict[str, StackOutputs]:
    """For a team stack, its platform stack's outputs as the platform's own render exports them (rendered here,
    in this process, before the team: the offline answer to the team's StackReference); nothing for other stacks.
    An invalid platform stops the team's render with the platform's own located problems."""
    platform = platform_of(project_dir, stack)
    if platform is None:
        return {}
    run = run_stack(project_dir, platform)
    values = {key: value["value"] if key in run.secret_outputs else value for key, value in run.outputs.items()}
    return {platform: StackOutputs(values, run.secret_outputs)}


def run_stack(
    project_dir: Path,
    stack: str,
    catalog: str | None = None,
    progress: Progress | None = None,
    shard: tuple[int, int] | None = None,
) -> MockRun:
    """Run the stack's program under mocks and return what it registered; ``shard`` (K, N): only the K-th of N
    shares of its models, with all its shared resources (mlserve/shards.py)."""
    from components.model_service import TYPE as MODEL_SERVICE
    from stacks import program  # imports pulumi and the providers' SDKs; only needed here

    ambient_config()  # a malformed PULUMI_CONFIG is reported here, located, before the program reads it
    models = [0]  # ModelService components registered so far (counted as they come: no rescans)

    def on_register(run: MockRun) -> None:
        models[0] += run.registrations[-1].type == MODEL_SERVICE
        # The total is known once the program has validated the catalog and returned its environment.
        note = f"models {models[0]}/{len(run.environment.models)}" if run.environment else f"models {models[0]}"
        progress.update(len(run.registrations), note=note)

    if interpreter.BATCH:  # a one-shot `mlserve` process: after the SDKs' imports, before the work
        interpreter.tune()
    validate_s, settle_s = [0.0], [0.0]

    async def body() -> Environment:
        started = time.perf_counter()
        env = program.load_environment(catalog, project_dir)
        validate_s[0] = time.perf_counter() - started
        only = shard_models(list(env.models), *shard) if shard is not None else None
        # The same program as `pulumi up` runs, one model at a time: under the mock engine a registration completes
        # at once, so waiting for each model's before constructing the next keeps the SDK from queueing every
        # request of the stack (the render's peak memory); what is registered is the same.
        for built, _ in enumerate(program.build_steps(env, only), 1):
            if SETTLE_EVERY and built % SETTLE_EVERY == 0:
                waited = time.perf_counter()
                await settle()
                if interpreter.BATCH:
                    interpreter.checkpoint()
                settle_s[0] += time.perf_counter() - waited
        return env

    references = platform_outputs(project_dir, stack)
    run = run_program(project_dir, stack, body, on_register=on_register if progress else None, references=references)
    # The program's body, split: validating settings and catalog, registering (the components' constructors), and
    # the waits for registrations between models (counted with the wait at the end).
    run.phases = {
        "validate_s": validate_s[0],
        **run.phases,
        "program_s": run.phases["program_s"] - validate_s[0] - settle_s[0],
        "registrations_s": run.phases["registrations_s"] + settle_s[0],
    }
    return run


def render(
    project_dir: Path,
    stack: str,
    out_dir: Path,
    catalog: str | None = None,
    progress: bool = True,
    processes: int = 1,
    shard: tuple[int, int] | None = None,
) -> RenderSummary:
    """Render ``stack`` into ``out_dir``; raises ConfigurationError or OutputError (and writes nothing) on invalid
    input or an output directory the render does not own. ``progress``: report resources registered and objects
    written on stderr (mlserve/progress.py). ``processes`` > 1: split the models across that many processes and
    merge their renders (the same bytes: mlserve/shards.py); ``shard`` (K, N): render only the K-th share (what each
    of those processes does), with what the merge needs (shards.SHARD_FILE)."""
    check_owned(out_dir, project_dir)  # before the work: a refused directory is known at once
    if processes > 1:
        return render_split(project_dir, stack, out_dir, catalog, processes, progress)
    if not progress:
        run = run_stack(project_dir, stack, catalog, shard=shard)
        started = time.perf_counter()
        summary = write_render(run, out_dir, project_dir)
    else:
        with Progress(f"render {stack}", unit="resources registered") as registering:
            run = run_stack(project_dir, stack, catalog, registering, shard)
        started = time.perf_counter()
        with Progress(f"render {stack}", unit="objects written") as writing:
            summary = write_render(run, out_dir, project_dir, progress=writing.update)
    if shard is not None:
        record = {**shard_record(run.registrations), "notes": list(summary.notes)}
        (out_dir / SHARD_FILE).write_text(json.dumps(record) + "\n", encoding="utf-8")
    return replace(summary, phases={**run.phases, "write_s": time.perf_counter() - started})


def render_split(
    project_dir: Path, stack: str, out_dir: Path, catalog: str | None, processes: int, progress: bool
) -> RenderSummary:
    """``render`` in ``processes`` processes, each rendering a share of the models into a folder of the new output's
    staging directory (mlserve/output_dir.py, under the render lock), merged there: the manifests are moved, not
    written again. A process that fails stops the others and raises ShareFailedError (nothing is written)."""
    started = time.perf_counter()
    with owned_staging(out_dir, project_dir) as staging:
        work = staging / ".shares"
        work.mkdir()
        running = Progress(f"render {stack}", unit=f"processes done (models split across {processes})")
        running.enabled = running.enabled and progress
        with running:
            running.update(0, processes)
            timings = run_shares(project_dir, stack, catalog, processes, work, running.update)
        shares_done = time.perf_counter()
        shares = [work / str(index) for index in range(processes)]
        merged = merge(stack, shares)
        record = json.loads((shares[0] / SHARD_FILE).read_text(encoding="utf-8"))
        (staging / "manifests").mkdir()
        for name, path in merged.manifests.items():
            path.rename(staging / name)
        (staging / "resources.json").write_text(merged.resources_json, encoding="utf-8")
        shutil.rmtree(work)
    phases = {
        "shares_s": shares_done - started,
        "merge_s": time.perf_counter() - shares_done,
        "shares_peak_rss_mb": sum(share.get("peak_rss_mb") or 0.0 for share in timings),
        # The slowest share's phases: the split render's critical path.
        **{
            name: max(share[name] for share in timings)
            for name in timings[0]
            if name.endswith("_s") and all(isinstance(share.get(name), float) for share in timings)
        },
    }
    return RenderSummary(
        out_dir=out_dir,
        resources=merged.resources,
        objects=merged.objects,
        others=merged.others,
        notes=tuple(record["notes"]),
        phases=phases,
    )
