"""``mlserve check-manifests``: render a stack, then run every offline checker on its objects and say which ran."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from .. import cli

ORDER = 30

SCHEMAS = "kubernetes-schemas"
CRDS = "crd-schemas"
CHECKOV = "checkov"


def _checkov_problem(path: Path) -> str | None:
    if not path.exists():
        return f"--checkov {path}: no such file; `make check-manifests` installs checkov into .venv-checkov"
    if not os.access(path, os.X_OK):
        return f"--checkov {path}: not executable"
    return None


def run(args: argparse.Namespace) -> int:
    cli.read_inputs(args)
    from platform_data.versions import SUPPORTED_KUBERNETES_MINORS

    from ..crds import MISSING
    from ..manifest_checks import crd_dir, run_checkov, validate_manifests
    from ..progress import Progress
    from ..render import render

    checkov = Path(args.checkov) if args.checkov else None
    checkov_problem = _checkov_problem(checkov) if checkov else None
    out = cli.out_dir(args)
    summary = render(cli.project_dir(args), args.stack, out, args.catalog)
    text: list[str] = [] if args.json else summary.lines(args.stack)
    if not args.json:
        print("\n".join(text))

    with Progress("schema validation", unit="objects") as progress:
        schemas = validate_manifests(out / "manifests", progress=progress.update)
    minors = ", ".join(SUPPORTED_KUBERNETES_MINORS)
    checkers: list[dict[str, Any]] = [
        {
            "name": SCHEMAS,
            "ran": True,
            "description": f"built-in kinds, strict, Kubernetes {minors} (kubernetes-validate)",
            "checked": schemas.checked - schemas.custom,
            "findings": [e for e in schemas.errors if "(Kubernetes " in e],
        }
    ]
    crd_findings = [e for e in schemas.errors if "(Kubernetes " not in e]
    if schemas.unchecked_custom:
        checkers.append(
            {
                "name": CRDS,
                "ran": False,
                "description": "custom resources against their upstream CRDs, unknown fields rejected",
                "skipped": f"{MISSING}; {len(schemas.unchecked_custom)} custom resources not checked",
                "environmentProblem": True,
            }
        )
    else:
        checkers.append(
            {
                "name": CRDS,
                "ran": True,
                "description": f"custom resources against their upstream CRDs in {crd_dir()}, unknown fields rejected",
                "checked": schemas.custom,
                "findings": crd_findings,
            }
        )
    if checkov is None:
        checkers.append(
            {
                "name": CHECKOV,
                "ran": False,
                "description": "checkov --framework kubernetes (security and best practice policies)",
                "skipped": "not requested: pass --checkov PATH (`make check-manifests` installs it and passes it)",
                "environmentProblem": False,
            }
        )
    elif checkov_problem:
        checkers.append(
            {
                "name": CHECKOV,
                "ran": False,
                "description": "checkov --framework kubernetes (security and best practice policies)",
                "skipped": checkov_problem,
                "environmentProblem": True,
            }
        )
    else:
        with Progress("checkov", unit="", total=None) as progress:
            report = run_checkov(out / "manifests", checkov)
        checkers.append(
            {
                "name": CHECKOV,
                "ran": True,
                "description": "checkov --framework kubernetes (security and best practice policies)",
                "checked": report.passed + len(report.failed) + len(report.unknown),
                "passed": report.passed,
                "findings": report.failed,
                "notEvaluableOffline": report.unknown,
                "suppressed": report.skipped,
            }
        )

    findings = sum(len(c.get("findings", [])) for c in checkers)
    if any(c.get("environmentProblem") for c in checkers):
        exit_code = cli.EXIT_ENVIRONMENT
    elif findings:
        exit_code = cli.EXIT_FINDINGS
    else:
        exit_code = cli.EXIT_OK
    if args.json:
        cli.print_json(
            cli.envelope(
                "check-manifests",
                exit_code,
                stack=args.stack,
                out=str(out),
                resources=summary.resources,
                objects=sum(summary.objects.values()),
                findings=findings,
                checkers=checkers,
            )
        )
        return exit_code
    for checker in checkers:
        if not checker["ran"]:
            print(f"{checker['name']}: SKIPPED, {checker['skipped']}")
            continue
        line = f"{checker['name']}: {checker['checked']} checked, {len(checker['findings'])} findings"
        if checker["name"] == CHECKOV:
            line += f", {checker['passed']} passed, {len(checker['suppressed'])} suppressed"
        print(f"{line} ({checker['description']})")
        for finding in checker["findings"]:
            print(f"  FAILED {finding}")
        for note in checker.get("notEvaluableOffline", []):
            print(f"  not evaluable offline: {note}")
        for note in checker.get("suppressed", []):
            print(f"  suppressed {note}")
    ran = [c["name"] for c in checkers if c["ran"]]
    skipped = [c["name"] for c in checkers if not c["ran"]]
    verdict = {cli.EXIT_OK: "ok", cli.EXIT_FINDINGS: f"{findings} findings", cli.EXIT_ENVIRONMENT: "incomplete"}
    print(
        f"checkers run: {', '.join(ran)}; skipped: {', '.join(skipped) or 'none'}; result: {verdict[exit_code]}"
        f" (exit {exit_code})"
    )
    return exit_code


def register(subparsers) -> None:
    parser = cli.add_parser(
        subparsers,
        "check-manifests",
        "render a stack, then check every object offline: Kubernetes schemas, CRD schemas, checkov",
        "Reports each checker as run or skipped (with the reason). Exit 1 on findings; exit 3 when a requested\n"
        "checker cannot run here (no CRD directory, --checkov not executable). Without --checkov, checkov is\n"
        "skipped and said so; `make check-manifests` installs it into .venv-checkov and passes it.",
    )
    cli.add_stack_options(parser, out=True)
    parser.add_argument(
        "--checkov",
        help="path to the checkov executable, in its own virtualenv (default: none, checkov is skipped)",
    )
    cli.add_json_option(parser)
    parser.set_defaults(func=run)
