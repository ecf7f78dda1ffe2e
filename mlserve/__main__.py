"""Command line: ``python -m mlserve <command>``. Exit status: 0 ok, 2 invalid input, 1 anything else."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from model_catalog.errors import ConfigurationError
from platform_data.versions import SUPPORTED_KUBERNETES_MINORS

from .output_dir import OutputError

PROJECT_DIR = Path(__file__).resolve().parent.parent
EXIT_INVALID = 2


def _render(args: argparse.Namespace) -> int:
    from .render import render

    summary = render(args.project_dir, args.stack, Path(args.out or f"build/{args.stack}"), args.catalog)
    print("\n".join(summary.lines(args.stack)))
    return 0


def _validate(args: argparse.Namespace) -> int:
    from .render import validate

    env = validate(args.project_dir, args.stack, args.catalog)
    print(f"stack '{args.stack}': settings and catalog are valid; {len(env.models)} models enabled")
    return 0


def _capacity(args: argparse.Namespace) -> int:
    from .capacity import capacity_report
    from .render import validate

    env = validate(args.project_dir, args.stack, args.catalog)
    print("\n".join(capacity_report(env)))
    return 0


def _schema(args: argparse.Namespace) -> int:
    from .reference import write_or_check

    stale = write_or_check(PROJECT_DIR, check=args.check)
    if args.check and stale:
        print("stale generated files (run `make schema`):\n  " + "\n  ".join(stale), file=sys.stderr)
        return 1
    print("generated files are up to date" if args.check else "wrote schema/ and docs/ reference files")
    return 0


def _check_manifests(args: argparse.Namespace) -> int:
    from .manifest_checks import run_checkov, validate_manifests
    from .render import render

    out = Path(args.out or f"build/{args.stack}")
    summary = render(args.project_dir, args.stack, out, args.catalog)
    print("\n".join(summary.lines(args.stack)))
    schemas = validate_manifests(out / "manifests")
    print(
        f"schema validation: {schemas.checked} objects, Kubernetes {', '.join(SUPPORTED_KUBERNETES_MINORS)} "
        f"and CRDs: {len(schemas.failures)} errors"
    )
    for error in schemas.failures:
        print(f"  {error}")
    failures = len(schemas.failures)
    if args.checkov:
        report = run_checkov(out / "manifests", Path(args.checkov))
        print(f"checkov: {report.passed} passed, {len(report.failed)} failed, {len(report.skipped)} skipped")
        for line in report.failed:
            print(f"  FAILED {line}")
        for line in report.unknown:
            print(f"  not evaluable offline: {line}")
        for line in report.skipped:
            print(f"  skipped {line}")
        failures += len(report.failed)
    return 1 if failures else 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m mlserve", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    render = commands.add_parser("render", help="render a stack offline: manifests/ and resources.json")
    render.add_argument("--stack", default="dev", help="stack name (Pulumi.<stack>.yaml); default dev")
    render.add_argument("--catalog", help="catalog file instead of the stack's (default: its ml-serving:catalog)")
    render.add_argument("--out", help="output directory; default build/<stack>")
    render.add_argument("--project-dir", type=Path, default=PROJECT_DIR, help=argparse.SUPPRESS)
    render.set_defaults(func=_render)

    validate = commands.add_parser("validate", help="check a stack's settings and catalog, render nothing")
    validate.add_argument("--stack", default="dev")
    validate.add_argument("--catalog")
    validate.add_argument("--project-dir", type=Path, default=PROJECT_DIR, help=argparse.SUPPRESS)
    validate.set_defaults(func=_validate)

    check = commands.add_parser("check-manifests", help="render a stack, then schema-validate and checkov it")
    check.add_argument("--stack", default="dev")
    check.add_argument("--catalog")
    check.add_argument("--out")
    check.add_argument("--checkov", help="path to the checkov executable (its own virtualenv); omit to skip")
    check.add_argument("--project-dir", type=Path, default=PROJECT_DIR, help=argparse.SUPPRESS)
    check.set_defaults(func=_check_manifests)

    capacity = commands.add_parser(
        "capacity", help="GPUs a stack's catalog needs per accelerator, its node pool limits and hourly cost"
    )
    capacity.add_argument("--stack", default="dev")
    capacity.add_argument("--catalog")
    capacity.add_argument("--project-dir", type=Path, default=PROJECT_DIR, help=argparse.SUPPRESS)
    capacity.set_defaults(func=_capacity)

    schema = commands.add_parser("schema", help="regenerate the JSON Schemas and reference docs")
    schema.add_argument("--check", action="store_true", help="only report whether they are stale")
    schema.set_defaults(func=_schema)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except ConfigurationError as exc:
        print(exc.render(), file=sys.stderr)
        return EXIT_INVALID
    except OutputError as exc:
        print(f"{exc}", file=sys.stderr)
        return EXIT_INVALID


if __name__ == "__main__":
    sys.exit(main())
