"""Offline render: the stack's real Pulumi program under mocks, written out for review."""

from __future__ import annotations

from pathlib import Path

from model_catalog.environment import Environment, resolve_environment

from .mock_runtime import MockRun, engine_config, run_program
from .output import RenderSummary, write_render
from .progress import Progress


def validate(project_dir: Path, stack: str, catalog: str | None = None) -> Environment:
    """Settings and catalog checks only (no Pulumi runtime)."""
    config, secret_keys = engine_config(project_dir, stack)
    return resolve_environment(project_dir, stack, config, set(secret_keys), catalog)


def run_stack(project_dir: Path, stack: str, catalog: str | None = None, progress: Progress | None = None) -> MockRun:
    """Run the stack's program under mocks and return what it registered."""
    from components.model_service import TYPE as MODEL_SERVICE
    from stacks import program  # imports pulumi and the providers' SDKs; only needed here

    models = [0]  # ModelService components registered so far (counted as they come: no rescans)

    def on_register(run: MockRun) -> None:
        models[0] += run.registrations[-1].type == MODEL_SERVICE
        # The total is known once the program has validated the catalog and returned its environment.
        note = f"models {models[0]}/{len(run.environment.models)}" if run.environment else f"models {models[0]}"
        progress.update(len(run.registrations), note=note)

    return run_program(
        project_dir, stack, lambda: program.run(catalog, project_dir), on_register=on_register if progress else None
    )


def render(
    project_dir: Path, stack: str, out_dir: Path, catalog: str | None = None, progress: bool = True
) -> RenderSummary:
    """Render ``stack`` into ``out_dir``; raises ConfigurationError (and writes nothing) on invalid input.
    ``progress``: report resources registered and objects written on stderr (mlserve/progress.py)."""
    if not progress:
        return write_render(run_stack(project_dir, stack, catalog), out_dir)
    with Progress(f"render {stack}", unit="resources registered") as registering:
        run = run_stack(project_dir, stack, catalog, registering)
    with Progress(f"render {stack}", unit="objects written") as writing:
        return write_render(run, out_dir, progress=writing.update)
