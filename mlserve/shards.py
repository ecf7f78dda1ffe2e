"""One stack's render split across processes: each renders the stack's shared resources and a share of its models,
and the shares are merged into the render a single process writes, byte for byte.

A render is one Python process's work per resource: at 5000 models that is about six minutes on one core, however
fast our own code gets (docs/benchmarks.md). The models of a stack are independent of each other once the shared
resources exist (namespace, secrets, registry, node pools, monitoring: each share registers them all, from the whole
catalog), so ``mlserve render --jobs N`` gives each of N processes every N-th model and merges what they wrote:

- resources.json: the union of the shares' resources, sorted by URN as a single render sorts them; a resource that
  several shares registered (the shared ones) must be recorded identically by each, and is written once;
- manifests/: every share's files; a file that several shares wrote must be byte-identical;
- the stack's outputs: the same in every share, except per-model mappings (the built images), which are the union.

Any disagreement is a bug, reported as one instead of a silently different render; tests/test_shards.py renders
fleets both ways and compares the bytes.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .output_dir import owned_staging
from .progress import Progress
from .summary import RenderSummary

#: Fewer models per process than this and the split costs more (each process imports the SDKs and registers the
#: shared resources) than it saves.
MIN_MODELS_PER_SHARD = 250
SHARD_FILE = "shard.json"


class ShareFailedError(Exception):
    """A share's process failed: its exit code and what it printed on stderr."""

    def __init__(self, code: int, stderr: str):
        super().__init__(stderr)
        self.code = code
        self.stderr = stderr


def shard_count(models: int, jobs: int | None) -> int:
    """Processes for a render of ``models`` models: ``jobs`` if given, else as many as there are CPUs, and at most
    one per MIN_MODELS_PER_SHARD models (``jobs`` is still an upper bound)."""
    if jobs is not None:
        return max(1, min(jobs, models))
    return max(1, min(os.cpu_count() or 1, models // MIN_MODELS_PER_SHARD))


def shard_models(models: list[str], index: int, count: int) -> frozenset[str]:
    """Share ``index`` of ``count``: every count-th model of the stack's sorted models (neighbours in name order
    tend to be alike in size, so taking every count-th balances the shares better than contiguous slices)."""
    return frozenset(models[index::count])


def parse_shard(text: str) -> tuple[int, int]:
    """``K/N`` (0 <= K < N): the internal ``--shard`` option of the processes a split render starts."""
    index, _, count = text.partition("/")
    if not (index.isdigit() and count.isdigit() and int(index) < int(count)):
        raise ValueError(f"--shard must be K/N with 0 <= K < N, not '{text}'")
    return int(index), int(count)


def shard_record(registrations: list[Any]) -> dict[str, Any]:
    """What the merge needs beyond resources.json and manifests/ (written as SHARD_FILE): each Kubernetes object's
    kind and each resource outside manifests/ by type, by URN, so resources several shares registered count once."""
    from .output import _outside_manifests, is_kubernetes_object

    return {
        "objects": {reg.urn: reg.inputs["kind"] for reg in registrations if is_kubernetes_object(reg)},
        "others": {reg.urn: reg.type for reg in registrations if _outside_manifests(reg)},
    }


def merge_outputs(merged: Any, value: Any, path: str = "outputs") -> Any:
    """Two shares' stack outputs: equal, or mappings whose common keys agree (their union, keys sorted)."""
    if merged == value:
        return merged
    if isinstance(merged, dict) and isinstance(value, dict):
        keys = sorted(set(merged) | set(value))
        return {
            key: merge_outputs(merged[key], value[key], f"{path}.{key}")
            if key in merged and key in value
            else (merged[key] if key in merged else value[key])
            for key in keys
        }
    raise RuntimeError(f"the render's shares disagree on {path}: {merged!r} against {value!r}")


@dataclass
class Merged:
    """The merged render: resources.json's text, manifests/<name> -> the share's file (in name order), the counts,
    and the notes of the summary (the same in every share: the first one's)."""

    resources_json: str
    manifests: dict[str, Path]
    resources: int
    objects: Counter
    others: Counter
    notes: tuple[str, ...] = ()


def merge(stack: str, shares: list[Path]) -> Merged:
    """The shares' renders (each a directory ``mlserve render --shard`` wrote) as one."""
    entries: dict[str, dict[str, Any]] = {}
    manifests: dict[str, Path] = {}
    outputs: Any = None
    objects: dict[str, str] = {}
    others: dict[str, str] = {}
    notes: tuple[str, ...] | None = None
    for share in shares:
        document = json.loads((share / "resources.json").read_text(encoding="utf-8"))
        if document["stack"] != stack:
            raise RuntimeError(f"a share of stack '{stack}' rendered stack '{document['stack']}'")
        outputs = document["outputs"] if outputs is None else merge_outputs(outputs, document["outputs"])
        for entry in document["resources"]:
            urn = entry["urn"]
            seen = entries.setdefault(urn, entry)
            name = entry.get("manifest")
            if seen is not entry:
                if seen != entry:
                    raise RuntimeError(f"the render's shares recorded {urn} differently")
                if name is not None and (share / name).read_bytes() != manifests[name].read_bytes():
                    raise RuntimeError(f"the render's shares wrote different {name}")
                continue
            if name is not None:
                if name in manifests:
                    raise RuntimeError(f"two objects render to {name}; object names must be unique per kind")
                manifests[name] = share / name
        record = json.loads((share / SHARD_FILE).read_text(encoding="utf-8"))
        objects.update(record["objects"])
        others.update(record["others"])
        notes = tuple(record["notes"]) if notes is None else notes
    document = {"stack": stack, "outputs": outputs, "resources": [entries[urn] for urn in sorted(entries)]}
    return Merged(
        resources_json=json.dumps(document, indent=2, sort_keys=False) + "\n",
        manifests={name: manifests[name] for name in sorted(manifests)},
        resources=len(entries),
        objects=Counter(objects.values()),
        others=Counter(others.values()),
        notes=notes or (),
    )


def run_shares(
    project_dir: Path,
    stack: str,
    catalog: str | None,
    count: int,
    work: Path,
    progress: Callable[[int, int], None] | None = None,
) -> list[dict[str, Any]]:
    """Start ``count`` share processes rendering into ``work``/<k>, wait for all; each one's timings. The first
    to fail stops the others and raises ShareFailedError with its exit code and stderr."""
    env = {**os.environ, "MLSERVE_PROGRESS": "0"}
    running: dict[int, tuple[subprocess.Popen, Any]] = {}

    def stop_the_rest() -> None:
        for process, _ in running.values():
            process.kill()
            process.wait()

    with contextlib.ExitStack() as resources:
        resources.callback(stop_the_rest)
        for index in range(count):
            command = [sys.executable, "-m", "mlserve", "render", "--project-dir", str(project_dir)]
            command += ["--stack", stack, "--out", str(work / str(index)), "--shard", f"{index}/{count}"]
            command += ["--timings", str(work / f"{index}.timings.json")]
            if catalog is not None:
                command += ["--catalog", catalog]
            errors = resources.enter_context(tempfile.TemporaryFile(dir=work))
            running[index] = (subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=errors), errors)
        finished = 0
        while running:
            time.sleep(0.05)
            for index, (process, errors) in list(running.items()):
                if process.poll() is None:
                    continue
                del running[index]
                if process.returncode != 0:
                    errors.seek(0)
                    raise ShareFailedError(process.returncode, errors.read().decode(errors="replace"))
                finished += 1
                if progress is not None:
                    progress(finished, count)
    return [json.loads((work / f"{index}.timings.json").read_text(encoding="utf-8")) for index in range(count)]


def render_split(
    project_dir: Path, stack: str, out_dir: Path, catalog: str | None, processes: int, progress: bool
) -> RenderSummary:
    """``mlserve.render.render`` in ``processes`` processes, each rendering a share of the models into a folder of
    the new output's staging directory (mlserve/output_dir.py, under the render lock), merged there: the manifests
    are moved, not written again. A process that fails stops the others and raises ShareFailedError (nothing is written)."""
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
        notes=merged.notes,
        phases=phases,
    )
