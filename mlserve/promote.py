"""``mlserve promote MODEL --from staging --to prod``: pin the target stack to the exact image the source stack runs.

Reads the image reference (by digest) the source stack's render gives the model's server container, and writes it
as ``models.<model>.overrides.<to>.image.ref`` into the catalog, a reviewable change (``make diff STACK=prod
BASE=HEAD`` shows it as an image change of one Deployment). The catalog is edited with ruamel.yaml's round-trip
mode, so its comments, order and layout stay as they were. Rollback is the same command with ``--image`` and an
earlier reference, or a ``git revert`` of the promotion commit.

Only prebuilt images (``image.ref`` or a runtime preset) are promoted this way: a built image is rebuilt per stack
from the same context and runs by the same content tag everywhere, so there is nothing to copy. The new catalog is
validated for the target stack before anything is written; exit 0 (written, or nothing to change), 2 invalid
input (nothing written).
"""

from __future__ import annotations

import io
import sys
import tempfile
from pathlib import Path
from typing import Any

from model_catalog.errors import ConfigurationError
from platform_data.image_pinning import pinned_by_digest

from .output import is_kubernetes_object, manifest
from .render import run_stack, validate

SERVER_CONTAINER = "server"


class PromoteError(Exception):
    """Invalid input (exit 2): unknown model or stack, a model without a prebuilt image, an unpinned reference."""


def _yaml():
    from ruamel.yaml import YAML

    yaml = YAML()  # round-trip: comments, key order, flow/block style and quotes are kept
    yaml.preserve_quotes = True
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


def running_image(project_dir: Path, stack: str, model: str, catalog: str | None = None) -> str:
    """The image the stack's render gives the model's server container."""
    run = run_stack(project_dir, stack, catalog)
    for reg in run.registrations:
        if not is_kubernetes_object(reg):
            continue
        obj = manifest(reg)
        labels = obj["metadata"].get("labels") or {}
        if obj["kind"] == "Deployment" and labels.get("ml-serving.dev/model") == model:
            for c in obj["spec"]["template"]["spec"]["containers"]:
                if c["name"] == SERVER_CONTAINER:
                    return c["image"]
    raise PromoteError(f"stack '{stack}' runs no model '{model}' (disabled there, or not in its catalog)")


def set_override_image(text: str, model: str, stack: str, ref: str) -> str:
    """The catalog text with ``models.<model>.overrides.<stack>.image.ref`` set to ``ref``; everything else as it
    was (comments, order, layout)."""
    from ruamel.yaml.comments import CommentedMap

    yaml = _yaml()
    data = yaml.load(text)
    entry = data["models"][model]
    if "overrides" not in entry or entry["overrides"] is None:
        entry["overrides"] = CommentedMap()
    overrides = entry["overrides"]
    if stack not in overrides or overrides[stack] is None:
        overrides[stack] = CommentedMap()
    target = overrides[stack]
    if "image" not in target or not isinstance(target["image"], dict):
        target["image"] = CommentedMap()
    target["image"]["ref"] = ref
    out = io.StringIO()
    yaml.dump(data, out)
    return out.getvalue()


def promote(
    project_dir: Path, model: str, to_stack: str, from_stack: str | None = None, image: str | None = None
) -> tuple[str, str, str | None]:
    """Write the promotion into the catalog; returns (catalog path, new reference, previous reference or None when
    nothing changed)."""
    target_env = validate(project_dir, to_stack)
    catalog_path = project_dir / target_env.settings.catalog
    models = target_env.catalog.models_for(to_stack)
    if model not in models:
        raise PromoteError(f"no model '{model}' in {target_env.settings.catalog} (models: {', '.join(models)})")
    spec = models[model]
    if spec.image is not None and spec.image.build is not None:
        raise PromoteError(
            f"'{model}' is built from images/ (image.build): every stack builds the same context into the same "
            "content tag, so there is no image to promote; merge the change and deploy.yml rolls it out"
        )
    if image is None:
        if from_stack is None:
            raise PromoteError("give --from STACK (promote what it runs) or --image REF (e.g. a rollback)")
        image = running_image(project_dir, from_stack, model)
    if not pinned_by_digest(image):
        raise PromoteError(f"'{image}' is not pinned by digest (name[:tag]@sha256:<64 hex>); promote exact images")
    current = running_image(project_dir, to_stack, model)
    if current == image:
        return str(catalog_path), image, None
    text = catalog_path.read_text(encoding="utf-8")
    new_text = set_override_image(text, model, to_stack, image)
    with tempfile.TemporaryDirectory(prefix="mlserve-promote-") as scratch:
        candidate = Path(scratch) / catalog_path.name
        candidate.write_text(new_text, encoding="utf-8")
        try:
            validate(project_dir, to_stack, str(candidate))
        except ConfigurationError as exc:
            raise PromoteError(f"the promoted catalog would be invalid for '{to_stack}':\n{exc.render()}") from None
    catalog_path.write_text(new_text, encoding="utf-8")
    return str(catalog_path), image, current


def run_promote_command(args: Any) -> int:
    from . import cli

    field = f"models.{args.model}.overrides.{args.to_stack}.image.ref"
    fields = {"stack": args.to_stack, "model": args.model, "from": args.from_stack, "field": field}
    try:
        path, image, previous = promote(cli.project_dir(args), args.model, args.to_stack, args.from_stack, args.image)
    except (PromoteError, ConfigurationError) as exc:
        located = isinstance(exc, ConfigurationError)
        if args.json:
            problems = cli.problems_json(exc) if located else []
            extra = {} if located else {"error": str(exc)}
            cli.print_json(cli.envelope("promote", cli.EXIT_INVALID, stack=args.to_stack, problems=problems, **extra))
        print(exc.render() if located else f"mlserve promote: {exc}\nnothing was written.", file=sys.stderr)
        return cli.EXIT_INVALID
    if args.json:
        written = {"catalog": path, "image": image, "previous": previous, "written": previous is not None}
        cli.print_json(cli.envelope("promote", cli.EXIT_OK, **fields, **written))
        return cli.EXIT_OK
    if previous is None:
        print(f"'{args.to_stack}' already runs {image} for {args.model}; nothing to change")
        return cli.EXIT_OK
    print(
        f"{path}: {field} = {image}\n"
        f"  was {previous}\n"
        f"Review with `make diff STACK={args.to_stack} BASE=HEAD` (one image change of Deployment {args.model}), "
        "commit and open a pull request. Roll back with --image <previous reference> or `git revert`."
    )
    return cli.EXIT_OK
