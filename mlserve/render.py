"""Offline render: the stack's real Pulumi program under mocks, written out for review."""

from __future__ import annotations

from pathlib import Path

from model_catalog.environment import Environment, resolve_environment

from .mock_runtime import MockRun, engine_config, run_program
from .output import RenderSummary, write_render
from .output_dir import check_owned


def validate(project_dir: Path, stack: str, catalog: str | None = None) -> Environment:
    """Settings and catalog checks only (no Pulumi runtime)."""
    config, secret_keys = engine_config(project_dir, stack)
    return resolve_environment(project_dir, stack, config, set(secret_keys), catalog)


def run_stack(project_dir: Path, stack: str, catalog: str | None = None) -> MockRun:
    """Run the stack's program under mocks and return what it registered."""
    from stacks import program  # imports pulumi and the providers' SDKs; only needed here

    return run_program(project_dir, stack, lambda: program.run(catalog, project_dir))


def render(project_dir: Path, stack: str, out_dir: Path, catalog: str | None = None) -> RenderSummary:
    """Render ``stack`` into ``out_dir``; raises ConfigurationError or OutputError (and writes nothing) on invalid
    input or an output directory the render does not own."""
    check_owned(out_dir, project_dir)  # before the work: a refused directory is known at once
    run = run_stack(project_dir, stack, catalog)
    return write_render(run, out_dir, project_dir)
