"""``mlserve diff``: what a change does to a stack, object by object, for review.

Renders the stack twice, offline and without credentials: at a git ref (``--base``, checked out into a temporary
git worktree that is always removed) and from the working tree. Each side runs its own code in a child process
(mlserve/diff_snapshot.py). Then, per object: added, removed or changed, with field-level changes (path, before,
after) computed by DeepDiff, grouped by model, and flags for what a reviewer must not miss:

- ``deletion``: an object or resource disappears (``pulumi up`` deletes it; a protected one blocks the update);
- ``replacement``: a change to a field Kubernetes or the provider cannot update in place (Deployment selector,
  Service clusterIP/type, PVC spec, Job template, immutable ConfigMaps/Secrets, anything listed in the resource's
  ``replaceOnChanges``): delete and create, with downtime or data loss;
- ``protected``: a change to a resource with ``protect``;
- ``image``: a model's container image changes (a rollout; a rollback shows the same way);
- ``capacity``: replicas, autoscaler bounds, GPU requests or node pool limits change; with the GPU capacity plan
  (GPUs at max replicas, pool limits, hourly cost) before and after;
- ``policy-exception``: a model's waived tier rules (annotation ``ml-serving.dev/policy-exceptions``) change, or an
  added object carries some.

Exit 0 no changes, 1 changes, 2 invalid input (unknown ref, invalid catalog or settings on either side).
"""

from __future__ import annotations

import contextlib
import difflib
import json
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from deepdiff import DeepDiff

from .manifest_checks import load_manifest

SNAPSHOT_SCRIPT = Path(__file__).resolve().with_name("diff_snapshot.py")
MODEL_COMPONENTS = (
    "ml-serving:models:ModelService",
    "ml-serving:monitoring:ModelMonitoring",
    "ml-serving:images:ModelImage",
)
MODEL_LABEL = "ml-serving.dev/model"
STACK_WIDE = "(stack-wide)"
FLAGS = ("deletion", "replacement", "protected", "image", "capacity", "policy-exception")
#: The annotation listing a model's tier-rule exceptions (model_catalog/tier_rules.py EXCEPTIONS_ANNOTATION).
EXCEPTIONS_ANNOTATION = "ml-serving.dev/policy-exceptions"
VALUE_WIDTH = 100

#: Fields whose change makes Kubernetes (or Pulumi's provider) replace the object rather than update it, by kind.
#: A changed path that starts with one of these is a replacement. Service ``type`` is listed because switching
#: a Service between ClusterIP, NodePort, LoadBalancer and ExternalName re-allocates its addresses.
IMMUTABLE_PATHS: dict[str, tuple[tuple[str, ...], ...]] = {
    "Deployment": (("spec", "selector"),),
    "ReplicaSet": (("spec", "selector"),),
    "DaemonSet": (("spec", "selector"),),
    "StatefulSet": (("spec", "selector"), ("spec", "serviceName"), ("spec", "volumeClaimTemplates")),
    "Service": (("spec", "clusterIP"), ("spec", "clusterIPs"), ("spec", "type")),
    "PersistentVolumeClaim": (("spec",),),
    "PersistentVolume": (("spec",),),
    "Job": (("spec", "template"), ("spec", "selector"), ("spec", "completions")),
    "StorageClass": (("provisioner",), ("parameters",), ("reclaimPolicy",), ("volumeBindingMode",)),
}
#: Inputs of non-Kubernetes resources whose change replaces the resource (the providers' schemas mark them so).
IMMUTABLE_INPUTS: dict[str, tuple[tuple[str, ...], ...]] = {
    "aws:ecr/repository:Repository": (("name",),),
    "random:index/randomPassword:RandomPassword": ((),),  # any input: a new password
}
#: Paths that size the fleet: a change is flagged ``capacity``.
CAPACITY_KEYS = {"replicas", "minReplicas", "maxReplicas", "minReplicaCount", "maxReplicaCount", "nvidia.com/gpu"}


@dataclass
class Item:
    """One object or resource on one side."""

    key: str
    label: str
    urn: str | None
    model: str
    body: Any
    options: dict[str, Any]
    kind: str


@dataclass
class FieldChange:
    path: str
    before: Any
    after: Any
    flags: list[str] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    """For a multi-line text value: the changed lines (unified diff), since before/after are too long to show."""


@dataclass
class Change:
    status: str  # added | removed | changed
    item: Item
    fields: list[FieldChange] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)


@dataclass
class StackDiff:
    stack: str
    base: str
    changes: list[Change]
    capacity_before: dict[str, Any]
    capacity_after: dict[str, Any]

    @property
    def capacity_changed(self) -> bool:
        return self.capacity_before != self.capacity_after

    def counts(self) -> dict[str, int]:
        out = {s: sum(1 for c in self.changes if c.status == s) for s in ("added", "removed", "changed")}
        for flag in FLAGS:
            out[flag] = sum(1 for c in self.changes if flag in c.flags)
        if self.capacity_changed and not out["capacity"]:
            out["capacity"] = 1
        return out

    @property
    def empty(self) -> bool:
        return not self.changes and not self.capacity_changed


# --- rendering both sides ------------------------------------------------------------------------------------------


class DiffInputError(Exception):
    """Invalid input for the diff (exit 2): an unknown ref or stack, or a side whose catalog or settings are invalid."""


def _invalid(message: str) -> DiffInputError:
    return DiffInputError(message)


def _git(repo: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=False)


def resolve_ref(project_dir: Path, ref: str) -> str:
    """The commit id of ``ref``; exit-2 error when it is not a commit of this repository."""
    if ref.startswith("-"):
        raise _invalid(f"--base: {ref!r} is not a git ref")
    top = _git(project_dir, "rev-parse", "--show-toplevel")
    if top.returncode != 0:
        raise _invalid(f"--base needs a git checkout; {project_dir} is not inside one ({top.stderr.strip()})")
    commit = _git(project_dir, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    if commit.returncode != 0:
        raise _invalid(f"--base: unknown git ref {ref!r} (a branch, tag or commit of this repository, e.g. main, HEAD)")
    return commit.stdout.strip()


@contextlib.contextmanager
def base_checkout(project_dir: Path, commit: str) -> Iterator[Path]:
    """A temporary, detached git worktree of ``commit``; removed (and pruned from git's list) on every exit."""
    repo_top = Path(_git(project_dir, "rev-parse", "--show-toplevel").stdout.strip())
    prefix = _git(project_dir, "rev-parse", "--show-prefix").stdout.strip()
    scratch = Path(tempfile.mkdtemp(prefix="mlserve-diff-"))
    tree = scratch / "base"
    try:
        added = _git(repo_top, "worktree", "add", "--detach", "--quiet", str(tree), commit)
        if added.returncode != 0:
            raise RuntimeError(f"git worktree add failed: {added.stderr.strip()}")
        yield tree / prefix
    finally:
        _git(repo_top, "worktree", "remove", "--force", str(tree))
        shutil.rmtree(scratch, ignore_errors=True)
        _git(repo_top, "worktree", "prune")


def _start_snapshot(checkout: Path, stack: str, out: Path, catalog: str | None) -> subprocess.Popen:
    # Executed by path with the checkout as the working directory (first on sys.path): each side runs its own code.
    code = (
        f"import os, runpy, sys; ns = runpy.run_path({str(SNAPSHOT_SCRIPT)!r}, run_name='mlserve_diff_snapshot'); "
        "code = ns['main'](sys.argv[1:]); sys.stdout.flush(); sys.stderr.flush(); os._exit(code)"
    )
    out.mkdir(parents=True, exist_ok=True)
    return subprocess.Popen(
        [sys.executable, "-c", code, stack, str(out), catalog or ""],
        cwd=checkout,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _finish(proc: subprocess.Popen, side: str) -> None:
    stdout, stderr = proc.communicate()
    if proc.returncode == 2:
        raise _invalid(f"{side}: the stack does not render:\n{stderr.strip()}")
    if proc.returncode != 0:
        raise RuntimeError(f"{side}: render failed (exit {proc.returncode}):\n{(stderr or stdout).strip()[-3000:]}")


# --- loading a render ----------------------------------------------------------------------------------------------


def _model_of(urn: str | None, entries: dict[str, dict[str, Any]], labels: dict[str, Any]) -> str:
    seen = 0
    while urn and urn in entries and seen < 64:
        entry = entries[urn]
        if entry["type"] in MODEL_COMPONENTS:
            return entry["name"]
        urn, seen = entry.get("parent"), seen + 1
    return labels.get(MODEL_LABEL) or STACK_WIDE


def load_side(render_dir: Path) -> dict[str, Item]:
    """Objects (keyed by manifest file) and non-Kubernetes resources (keyed by URN) of one render."""
    document = json.loads((render_dir / "resources.json").read_text(encoding="utf-8"))
    entries = {r["urn"]: r for r in document["resources"]}
    by_manifest: dict[str, dict[str, Any]] = {}
    for entry in document["resources"]:
        inputs = entry.get("inputs") or {}
        if "manifest" in entry:
            by_manifest[Path(entry["manifest"]).name] = entry
        elif entry["type"].startswith("kubernetes:") and {"apiVersion", "kind", "metadata"} <= set(inputs):
            # resources.json before it stopped repeating manifests: match by the manifest's file name.
            meta = inputs["metadata"]
            name = f"{meta.get('namespace') or '_cluster'}--{inputs['kind'].lower()}--{meta.get('name')}.yaml"
            by_manifest[name] = entry
    items: dict[str, Item] = {}
    for path in sorted((render_dir / "manifests").glob("*.yaml")):
        obj = load_manifest(path)
        meta = obj.get("metadata") or {}
        entry = by_manifest.get(path.name, {})
        namespace = meta.get("namespace")
        label = f"{obj['kind']} {namespace + '/' if namespace else ''}{meta.get('name')}"
        urn = entry.get("urn")
        items[path.name] = Item(
            key=path.name,
            label=label,
            urn=urn,
            model=_model_of(urn, entries, meta.get("labels") or {}),
            body=obj,
            options=entry.get("options") or {},
            kind=obj["kind"],
        )
    manifest_urns = {e["urn"] for e in by_manifest.values()}
    for entry in document["resources"]:
        # Component resources hold nothing deployable; Kubernetes objects are compared through their manifests.
        if not entry.get("custom") or entry["urn"] in manifest_urns:
            continue
        items[entry["urn"]] = Item(
            key=entry["urn"],
            label=f"{entry['type']} {entry['name']}",
            urn=entry["urn"],
            model=_model_of(entry["urn"], entries, {}),
            body=entry.get("inputs") or {},
            options=entry.get("options") or {},
            kind=entry["type"],
        )
    return items


# --- comparing -----------------------------------------------------------------------------------------------------


JSON_IN_TEXT = "{json}"
"""Path element between a text field and the JSON document it holds (a Grafana dashboard in a ConfigMap)."""
TEXT_DIFF_LINES = 24


def format_path(parts: list[Any]) -> str:
    out = ""
    for part in parts:
        if part == JSON_IN_TEXT:
            out += JSON_IN_TEXT
        elif isinstance(part, int):
            out += f"[{part}]"
        elif isinstance(part, str) and part.replace("-", "").replace("_", "").isalnum():
            out += f".{part}" if out else part
        else:
            out += f"[{json.dumps(part)}]"
    return out or "(whole object)"


_MISSING = "(absent)"


def _json_document(text: Any) -> Any:
    if isinstance(text, str) and text.lstrip().startswith(("{", "[")):
        with contextlib.suppress(ValueError):
            return json.loads(text)
    return None


def field_changes(before: Any, after: Any) -> list[tuple[list[Any], Any, Any]]:
    """Leaf-level changes between two documents, as (path parts, before, after), sorted by path. A text field that
    holds JSON on both sides (a dashboard) is compared as JSON, below a ``{json}`` path element."""
    diff = DeepDiff(before, after, ignore_order=False, verbose_level=2, view="tree", threshold_to_diff_deeper=0)
    out: list[tuple[list[Any], Any, Any]] = []
    for report, levels in diff.items():
        for level in levels:
            parts = level.path(output_format="list")
            if report in ("dictionary_item_added", "iterable_item_added", "attribute_added"):
                out.append((parts, _MISSING, level.t2))
            elif report in ("dictionary_item_removed", "iterable_item_removed", "attribute_removed"):
                out.append((parts, level.t1, _MISSING))
            else:
                old, new = _json_document(level.t1), _json_document(level.t2)
                if old is not None and new is not None:
                    out += [([*parts, JSON_IN_TEXT, *p], b, a) for p, b, a in field_changes(old, new)]
                else:
                    out.append((parts, level.t1, level.t2))
    return sorted(out, key=lambda change: [str(p) for p in change[0]])


def text_lines_changed(before: Any, after: Any) -> list[str]:
    """Changed lines of a multi-line text value (unified diff without context), at most TEXT_DIFF_LINES."""
    if not (isinstance(before, str) and isinstance(after, str) and ("\n" in before or "\n" in after)):
        return []
    diff = [
        line
        for line in difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)
        if not line.startswith(("---", "+++"))
    ]
    if len(diff) > TEXT_DIFF_LINES:
        diff = [*diff[:TEXT_DIFF_LINES], f"... {len(diff) - TEXT_DIFF_LINES} more diff lines"]
    return diff


def _starts_with(parts: list[Any], prefixes: tuple[tuple[str, ...], ...]) -> bool:
    return any(tuple(parts[: len(p)]) == p for p in prefixes)


def _replace_on_changes(options: dict[str, Any]) -> tuple[tuple[str, ...], ...]:
    paths = []
    for spec in options.get("replaceOnChanges") or []:
        paths.append(() if spec == "*" else tuple(spec.replace("[*]", "").split(".")))
    return tuple(paths)


def _field_flags(item: Item, parts: list[Any], before: Any, after: Any = None) -> list[str]:
    flags = []
    immutable = IMMUTABLE_PATHS.get(item.kind, ()) + IMMUTABLE_INPUTS.get(item.kind, ())
    immutable += _replace_on_changes(item.options)
    if item.kind in ("ConfigMap", "Secret") and isinstance(item.body, dict) and item.body.get("immutable"):
        immutable += (("data",), ("stringData",), ("binaryData",))
    if _starts_with(parts, immutable):
        flags.append("replacement")
    if parts and parts[-1] == "image" and any(p in ("containers", "initContainers") for p in parts):
        flags.append("image")
    if any(p in CAPACITY_KEYS for p in parts if isinstance(p, str)) or (
        item.kind == "NodePool" and parts[:2] == ["spec", "limits"]
    ):
        flags.append("capacity")
    if EXCEPTIONS_ANNOTATION in parts or (
        parts[-1:] == ["annotations"] and (_has_exceptions(before) or _has_exceptions(after))
    ):
        flags.append("policy-exception")
    return flags


def _has_exceptions(value: Any) -> bool:
    return isinstance(value, dict) and EXCEPTIONS_ANNOTATION in value


def _added_flags(item: Item) -> list[str]:
    flags = ["capacity"] if item.kind == "NodePool" else []
    metadata = item.body.get("metadata") if isinstance(item.body, dict) else None
    if isinstance(metadata, dict) and _has_exceptions(metadata.get("annotations")):
        flags.append("policy-exception")
    return flags


def compare(before: dict[str, Item], after: dict[str, Item]) -> list[Change]:
    changes: list[Change] = []
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key), after.get(key)
        if old is None:
            changes.append(Change("added", new, flags=_added_flags(new)))
            continue
        if new is None:
            flags = ["deletion"] + (["protected"] if old.options.get("protect") else [])
            if old.kind == "NodePool":
                flags.append("capacity")
            changes.append(Change("removed", old, flags=flags))
            continue
        fields = []
        for parts, b, a in field_changes(old.body, new.body):
            fields.append(
                FieldChange(format_path(parts), b, a, _field_flags(new, parts, b, a), text_lines_changed(b, a))
            )
        for parts, b, a in field_changes(old.options, new.options):
            fields.append(FieldChange("options." + format_path(parts), b, a))
        if not fields:
            continue
        flags = sorted({f for fc in fields for f in fc.flags}, key=FLAGS.index)
        if old.options.get("protect") or new.options.get("protect"):
            flags.append("protected")
        changes.append(Change("changed", new, fields, flags))
    return changes


def diff_stack(project_dir: Path, stack: str, base_tree: Path, base_label: str, catalog: str | None) -> StackDiff:
    with tempfile.TemporaryDirectory(prefix=f"mlserve-diff-{stack}-") as scratch:
        out = Path(scratch)
        procs = [
            (_start_snapshot(base_tree, stack, out / "base", None), f"{stack} at {base_label}"),
            (_start_snapshot(project_dir, stack, out / "head", catalog), f"{stack} in the working tree"),
        ]
        errors: list[Exception] = []
        for proc, side in procs:
            try:
                _finish(proc, side)
            except (DiffInputError, RuntimeError) as exc:
                errors.append(exc)
        if errors:
            raise errors[0]
        changes = compare(load_side(out / "base" / "render"), load_side(out / "head" / "render"))
        capacity = [json.loads((out / side / "capacity.json").read_text()) for side in ("base", "head")]
    return StackDiff(stack, base_label, changes, capacity[0], capacity[1])


def run_diff(project_dir: Path, stacks: list[str], base: str, catalog: str | None = None) -> list[StackDiff]:
    commit = resolve_ref(project_dir, base)
    label = f"{base} ({commit[:12]})" if not commit.startswith(base) else commit[:12]
    with base_checkout(project_dir, commit) as tree:
        return [diff_stack(project_dir, stack, tree, label, catalog) for stack in stacks]


# --- output --------------------------------------------------------------------------------------------------------


def show(value: Any, width: int = VALUE_WIDTH) -> str:
    if value is _MISSING:
        return _MISSING
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    if isinstance(value, str) and ("\n" in value or len(value) > width):
        lines = value.count("\n") + 1
        head = value.splitlines()[0] if value else ""
        return json.dumps(head[:40] + "…") + f" ({lines} lines, {len(value)} chars)"
    if len(text) > width:
        return text[: width - 1] + "…"
    return text


def _groups(changes: list[Change]) -> list[tuple[str, list[Change]]]:
    models = sorted({c.item.model for c in changes}, key=lambda m: (m == STACK_WIDE, m))
    order = {"removed": 0, "changed": 1, "added": 2}
    return [
        (m, sorted((c for c in changes if c.item.model == m), key=lambda c: (order[c.status], c.item.label)))
        for m in models
    ]


SIGN = {"added": "+", "removed": "-", "changed": "~"}


def _figure(value: Any) -> str:
    if value is None:
        return "-"
    return f"{value:,.2f}" if isinstance(value, float) else str(value)


def _capacity_rows(d: StackDiff) -> list[list[str]]:
    """Per accelerator whose plan changed: before -> after of each figure that changed."""
    if "unavailable" in d.capacity_before or "unavailable" in d.capacity_after:
        reason = d.capacity_before.get("unavailable") or d.capacity_after.get("unavailable")
        return [["(capacity plan unavailable)", reason, ""]]
    before, after = d.capacity_before.get("accelerators", {}), d.capacity_after.get("accelerators", {})
    rows = []
    names = {
        "gpusMax": "GPUs at max replicas",
        "gpusMin": "GPUs at min replicas",
        "poolLimit": "node pool GPU limit",
        "nodesMax": "nodes at max replicas",
        "usdPerHourMin": "$/hour at min replicas",
        "usdPerHourMax": "$/hour at max replicas",
    }
    for acc in sorted(set(before) | set(after)):
        b, a = before.get(acc, {}), after.get(acc, {})
        if b == a:
            continue
        # Every figure of a changed accelerator, so the cost is always shown beside the GPUs that caused it.
        for key, name in names.items():
            if b.get(key) is None and a.get(key) is None and (acc in before or acc in after):
                continue
            mark = "" if b.get(key) == a.get(key) else " *"
            rows.append([f"{acc}: {name}{mark}", _figure(b.get(key)), _figure(a.get(key))])
    for key in ("usdPerHourMin", "usdPerHourMax"):
        tb = sum(v.get(key) or 0 for v in before.values())
        ta = sum(v.get(key) or 0 for v in after.values())
        if round(tb, 2) != round(ta, 2) and len(set(before) | set(after)) > 1:
            rows.append([f"total: {names[key]}", f"{tb:.2f}", f"{ta:.2f}"])
    return rows


def text_report(diffs: list[StackDiff]) -> str:
    lines: list[str] = []
    for d in diffs:
        counts = d.counts()
        if d.empty:
            lines.append(f"stack '{d.stack}': no changes against {d.base}")
            continue
        summary = ", ".join(f"{counts[s]} {s}" for s in ("changed", "added", "removed"))
        flagged = ", ".join(f"{f} {counts[f]}" for f in FLAGS if counts[f])
        lines.append(f"stack '{d.stack}': {summary} against {d.base}" + (f"  [review: {flagged}]" if flagged else ""))
        for model, changes in _groups(d.changes):
            lines.append(f"  model {model}" if model != STACK_WIDE else f"  {STACK_WIDE}")
            for c in changes:
                flags = f"  [{', '.join(c.flags)}]" if c.flags else ""
                lines.append(f"    {SIGN[c.status]} {c.item.label}{flags}")
                for fc in c.fields:
                    fflags = f"  [{', '.join(fc.flags)}]" if fc.flags else ""
                    if fc.lines:
                        lines.append(f"        {fc.path}: text changed{fflags}")
                        lines += [f"          {line}" for line in fc.lines]
                    else:
                        lines.append(f"        {fc.path}: {show(fc.before)} -> {show(fc.after)}{fflags}")
        if d.capacity_changed:
            lines.append("  GPU capacity (before -> after; * changed):")
            for name, b, a in _capacity_rows(d):
                lines.append(f"    {name}: {b} -> {a}")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def _md(value: Any) -> str:
    text = show(value, 80).replace("|", "\\|").replace("`", "'")
    return f"`{text}`"


def markdown_report(diffs: list[StackDiff]) -> str:
    """A pull-request comment: a summary table of every stack, then per stack, per model, a collapsible section per
    object with its field changes."""
    out = ["<!-- mlserve-diff -->", "## Infrastructure changes (offline render, `mlserve diff`)", ""]
    header = ["stack", "changed", "added", "removed", *FLAGS]
    out += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for d in diffs:
        c = d.counts()
        cells = [f"`{d.stack}`", *(str(c[k]) for k in ("changed", "added", "removed"))]
        cells += [f"**{c[f]}**" if c[f] else "0" for f in FLAGS]
        out.append("| " + " | ".join(cells) + " |")
    out.append("")
    for d in diffs:
        if d.empty:
            out += [f"### `{d.stack}`: no changes against {d.base}", ""]
            continue
        out += [f"### `{d.stack}` against {d.base}", ""]
        must = [c for c in d.changes if c.flags]
        if must:
            out.append("**Review before merging:**")
            for c in must:
                out.append(f"- {', '.join(c.flags)}: {SIGN[c.status]} `{c.item.label}` (model {c.item.model})")
            out.append("")
        if d.capacity_changed:
            out += ["GPU capacity:", "", "| | before | after |", "|---|---|---|"]
            out += [f"| {n} | {b} | {a} |" for n, b, a in _capacity_rows(d)]
            out.append("")
        for model, changes in _groups(d.changes):
            out += [f"#### {'model `' + model + '`' if model != STACK_WIDE else STACK_WIDE}", ""]
            for c in changes:
                flags = f" ({', '.join(c.flags)})" if c.flags else ""
                out.append(
                    f"<details><summary>{SIGN[c.status]} {c.status} <code>{c.item.label}</code>{flags}</summary>"
                )
                out.append("")
                if c.item.urn:
                    out += [f"URN `{c.item.urn}`", ""]
                if c.fields:
                    out += ["| field | before | after |", "|---|---|---|"]
                    out += [f"| `{fc.path}` | {_md(fc.before)} | {_md(fc.after)} |" for fc in c.fields]
                    out.append("")
                for fc in (fc for fc in c.fields if fc.lines):
                    out += [f"`{fc.path}`:", "", "```diff", *fc.lines, "```", ""]
                out += ["</details>", ""]
    return "\n".join(out).rstrip() + "\n"


def _json_field(fc: FieldChange) -> dict[str, Any]:
    """A field change; ``before`` or ``after`` is left out where the field is absent on that side."""
    out: dict[str, Any] = {"path": fc.path}
    if fc.before is not _MISSING:
        out["before"] = fc.before
    if fc.after is not _MISSING:
        out["after"] = fc.after
    out["flags"] = fc.flags
    if fc.lines:
        out["lines"] = fc.lines
    return out


def json_stack(d: StackDiff) -> dict[str, Any]:
    """One stack's diff for ``--json`` (schema/cli/diff.schema.json): counts, every change with its fields and flags,
    grouped order as in the text report, and the GPU capacity plan before and after."""
    changes = [
        {
            "status": c.status,
            "object": c.item.label,
            "kind": c.item.kind,
            "model": c.item.model,
            "urn": c.item.urn,
            "flags": c.flags,
            "fields": [_json_field(fc) for fc in c.fields],
        }
        for _, group in _groups(d.changes)
        for c in group
    ]
    rows = [{"figure": n, "before": b, "after": a} for n, b, a in _capacity_rows(d)] if d.capacity_changed else []
    return {
        "stack": d.stack,
        "base": d.base,
        "changed": not d.empty,
        "counts": d.counts(),
        "changes": changes,
        "capacity": {
            "changed": d.capacity_changed,
            "before": d.capacity_before,
            "after": d.capacity_after,
            "rows": rows,
        },
    }


# --- command line --------------------------------------------------------------------------------------------------


def run_diff_command(args: Any) -> int:
    from model_catalog.environment import known_stacks

    from . import cli

    project_dir = cli.project_dir(args)
    stacks = args.stack or list(known_stacks(project_dir))

    def invalid(message: str) -> int:
        if args.json:
            cli.print_json(cli.envelope("diff", cli.EXIT_INVALID, stacks=stacks, problems=[], error=message))
        print(f"mlserve diff: {message}\nnothing was compared.", file=sys.stderr)
        return cli.EXIT_INVALID

    unknown = [s for s in stacks if s not in known_stacks(project_dir)]
    if unknown:
        return invalid(f"--stack: no stack {unknown[0]!r} (stacks: {', '.join(known_stacks(project_dir))})")
    catalog = args.catalog
    if catalog is not None and not Path(catalog).is_file():
        return invalid(f"--catalog: no such file {catalog!r}")
    catalog = str(Path(catalog).resolve()) if catalog else None
    try:
        diffs = run_diff(project_dir, stacks, args.base, catalog)
    except (DiffInputError, RuntimeError) as exc:
        return invalid(str(exc))
    report = markdown_report(diffs) if args.format == "markdown" else text_report(diffs)
    if args.output:
        Path(args.output).write_text(report, encoding="utf-8")
    status = cli.EXIT_OK if all(d.empty for d in diffs) else cli.EXIT_FINDINGS
    if args.json:
        cli.print_json(cli.envelope("diff", status, stacks=stacks, diffs=[json_stack(d) for d in diffs]))
    else:
        sys.stdout.write(report)
    return status
