"""mlserve: render, check and plan ml-serving stacks (Pulumi programs serving models.yaml on Kubernetes).

Every command finds the project from the current directory upward (the directory with the ml-serving
Pulumi.yaml), so it works from anywhere in the checkout; --project-dir overrides.

exit status: 0 ok, 1 findings or changes, 2 invalid input (nothing written), 3 environment problem (a missing
tool or directory). Details: docs/cli.md.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

from model_catalog.errors import ConfigurationError

from . import cli, commands
from .cli import EXIT_ENVIRONMENT, EXIT_INVALID
from .output_dir import OutputError


def command_modules() -> list:
    """Every module in mlserve/commands/ with a register(); ordered by ORDER, then name."""
    modules = [
        importlib.import_module(f"{commands.__name__}.{info.name}")
        for info in pkgutil.iter_modules(commands.__path__)
        if not info.name.startswith("_")
    ]
    modules = [m for m in modules if hasattr(m, "register")]
    return sorted(modules, key=lambda m: (getattr(m, "ORDER", 100), m.__name__))


class _VersionAction(argparse.Action):
    def __init__(self, option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS, help=None):
        super().__init__(option_strings=option_strings, dest=dest, default=default, nargs=0, help=help)

    def __call__(self, parser, namespace, values, option_string=None):
        from .version import version_lines

        print("\n".join(version_lines()))
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mlserve", description=__doc__, formatter_class=cli.HelpFormatter)
    parser.add_argument(
        "--version",
        action=_VersionAction,
        help="print the mlserve version and the pinned Pulumi, pulumi-kubernetes and Kubernetes versions, then exit",
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="<command>", title="commands")
    for module in command_modules():
        module.register(subparsers)
    return parser


#: ``mlserve`` when the reader of its output went away (a closed pipe): 128 + SIGPIPE, docs/cli.md.
EXIT_BROKEN_PIPE = 141


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except ConfigurationError as exc:
        if getattr(args, "json", False):
            cli.print_json(
                cli.envelope(
                    args.command, EXIT_INVALID, stack=getattr(args, "stack", None), problems=cli.problems_json(exc)
                )
            )
        print(exc.render(), file=sys.stderr)
        return EXIT_INVALID
    except OutputError as exc:  # an output directory the render does not own, or cannot write
        print(f"mlserve {args.command}: {exc}", file=sys.stderr)
        return EXIT_INVALID
    except cli.EnvironmentProblemError as exc:
        print(f"mlserve {args.command}: {exc}", file=sys.stderr)
        return EXIT_ENVIRONMENT
    except KeyboardInterrupt:
        print(f"mlserve {args.command}: interrupted", file=sys.stderr)
        return 130


def console() -> None:
    """The ``mlserve`` command (and ``python -m mlserve``): ``main()`` as a one-shot process, with the batch
    interpreter settings (mlserve/interpreter.py: collector thresholds for a render, no teardown once the output is
    written). Tests call ``main()`` in-process, with the interpreter's defaults."""
    from . import interpreter

    interpreter.BATCH = True
    interpreter.start()
    try:
        code = main()
    except BrokenPipeError:
        # The reader of the output went away (`mlserve render | head -1`): stop quietly, as `yes | head` does, with
        # the status a shell gives a process that SIGPIPE ended (128 + 13). What the command wrote stays written.
        code = EXIT_BROKEN_PIPE
    interpreter.exit_now(code)


if __name__ == "__main__":
    console()
