"""Benchmark: render time and memory against fleet size, next to the Pulumi floor (``mlserve bench``, ``make bench``).

Per size, a realistic fleet (mlserve/fleet.py, deterministic by seed) is rendered for the prod stack by
``mlserve render`` in a fresh process, and the same resources (read back from that render) are registered by the
two floor programs of mlserve/bench_floor.py in fresh processes: ``typed`` (pulumi_kubernetes classes) and ``raw``
(plain ``pulumi.CustomResource``), under the same mock engine and interpreter settings, with none of our code.

The render waits for each model's registrations before constructing the next (bounded memory); so that this is not
mistaken for a gain over the floor, the typed floor is also run bounded the same way (``--settle``, every
resources-per-model resources) and reported beside it ("settled floor"); the targets keep the unbounded floor.

Runs are interleaved (repetition 1: every size's render, typed floor, raw floor, settled floor; then repetition 2,
...), so a drift of the host's speed hits all of them alike, and each figure is the median over the repetitions
(default 3). Ratios (ours over the floor, t(1000) over t(100)) are medians of the ratios within each repetition: on
a shared machine they are far steadier than the absolute times. Wall-clock seconds include interpreter start-up and
imports for every run; the floor's reading of its input file is subtracted. CPU seconds (user + system of the process) are
recorded too. Peak RSS is the process's own high-water mark (``VmHWM``, which, unlike ``ru_maxrss``, does not
carry over the parent's memory across ``exec``).

The default catalog (the project's models.yaml, prod) is measured beside them, warm: one render first writes the
bytecode of our modules, as any second run has it (``PYTHONDONTWRITEBYTECODE`` would otherwise make every run
compile them again), then DEFAULT_RUNS renders spread over the repetitions, each followed by the typed floor of the
same resources and by that floor with the SDK packages of the stack's other providers imported (docker, aws, random,
Helm: ``bench_floor --import-sdks``; the fleets' floors leave them out, which at their size makes no difference); its
target is the renders' median CPU seconds, both floors' medians beside it.

Results: ``build/bench/results.json`` and a table; targets (TARGETS, issue 16) are checked here, never in tests.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from .fleet import SEED, fleet
from .shards import shard_count

PROJECT_DIR = Path(__file__).resolve().parent.parent
SIZES = (10, 100, 1000)
REPEAT = 3
STACK = "prod"
#: The runs per size and repetition: our render, the typed and raw floors, the typed floor bounded as the render is;
#: and, for a fleet that ``mlserve render`` splits across processes by default, that split render.
KINDS = ("ours", "typed", "raw", "settled", "split")

#: The targets of issue 16 (2 cores): ratio to the typed floor, peak RSS, seconds, scaling between sizes.
TARGET_RATIO = {1000: 1.3}
TARGET_RSS_MB = {1000: 1024, 5000: 3072}
TARGET_SECONDS = {5000: 180.0}
TARGET_VALIDATE_SECONDS = {5000: 2.0}
TARGET_SCALING = ((100, 1000), 10.5)
TARGET_DEFAULT_SECONDS = 2.0
#: Renders of the default catalog measured in all (at least): spread over the repetitions, median of CPU seconds.
DEFAULT_RUNS = 7
#: ``mlserve bench --instructions`` counts the default catalog's instructions with this program (Debian: valgrind).
VALGRIND = "valgrind"


@dataclass
class Sample:
    seconds: float
    cpu_seconds: float
    peak_rss_mb: float
    phases: dict[str, float]


def _run(command: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float, float, str]:
    """Run ``command``; its wall seconds, CPU seconds and peak RSS (MB) from wait4, and its stderr."""
    with tempfile.TemporaryFile() as errors:
        started = time.perf_counter()
        process = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=errors)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        errors.seek(0)
        text = errors.read().decode(errors="replace")
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed (exit {process.returncode}):\n{text[-4000:]}")
    return seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, text


def same_files(a: Path, b: Path) -> bool:
    """Folders ``a`` and ``b`` hold the same files with the same bytes."""

    def files(root: Path) -> dict[Path, Path]:
        return {path.relative_to(root): path for path in root.rglob("*") if path.is_file()}

    left, right = files(a), files(b)
    return left.keys() == right.keys() and all(left[name].read_bytes() == right[name].read_bytes() for name in left)


def _environment() -> dict[str, str]:
    env = dict(os.environ)
    env["MLSERVE_PROGRESS"] = "0"
    env.pop("PULUMI_CONFIG", None)
    env.pop("PULUMI_CONFIG_SECRET_KEYS", None)
    return env


def render_command(catalog: Path, out: Path, timings: Path, stack: str = STACK, processes: int = 1) -> list[str]:
    """``mlserve render`` of ``catalog`` into ``out``, its phases into ``timings``, with ``--jobs processes``."""
    command = [sys.executable, "-m", "mlserve", "render", "--stack", stack, "--catalog", str(catalog)]
    return command + ["--out", str(out), "--timings", str(timings), "--jobs", str(processes)]


def floor_command(
    mode: str, floor_input: Path, timings: Path, stack: str = STACK, settle: int = 0, import_sdks: bool = False
) -> list[str]:
    """The floor program (mlserve/bench_floor.py) of the resources in ``floor_input``."""
    from model_catalog.settings import PROJECT

    command = [sys.executable, "-m", "mlserve.bench_floor", "--mode", mode, "--input", str(floor_input)]
    command += ["--timings", str(timings), "--stack", stack, "--project", PROJECT, "--settle", str(settle)]
    return command + (["--import-sdks"] if import_sdks else [])


def instruction_count(command: list[str], cwd: Path, env: dict[str, str]) -> int:
    """The instructions ``command`` runs, counted by valgrind's callgrind (``VALGRIND``), with ``PYTHONHASHSEED=0``:
    the same count every run, where CPU seconds of the same command drift by a quarter on a shared machine."""
    full = [VALGRIND, "--tool=callgrind", "--callgrind-out-file=/dev/null", *command]
    _, _, _, errors = _run(full, cwd, {**env, "PYTHONHASHSEED": "0"})
    counts = re.findall(r"Collected : (\d+)", errors)
    if not counts:
        raise SystemExit(f"{VALGRIND} reported no instruction count for {' '.join(command)}:\n{errors[-2000:]}")
    return int(counts[-1])


def default_instructions(catalog: Path, floor_input: Path, work: Path, project_dir: Path) -> dict[str, Any]:
    """Instruction counts of the default catalog's render, its typed floor and that floor with the stack's other
    SDKs imported (one run each), and the render's count over the latter's."""
    env = _environment()
    render = instruction_count(render_command(catalog, work / "counted", work / "counted.json"), project_dir, env)
    timings = work / "counted-floor.json"
    floor = instruction_count(floor_command("typed", floor_input, timings), project_dir, env)
    sdk_floor = instruction_count(floor_command("typed", floor_input, timings, import_sdks=True), project_dir, env)
    return {
        "render": render,
        "floor": floor,
        "sdk_floor": sdk_floor,
        "render_over_sdk_floor": round(render / sdk_floor, 2),
    }


def render_sample(
    catalog: Path,
    out: Path,
    project_dir: Path,
    stack: str = STACK,
    write_bytecode: bool = False,
    processes: int = 1,
) -> Sample:
    """``mlserve render`` in a fresh process; ``write_bytecode``: let it write the bytecode of the modules it
    imports (``__pycache__``), even where ``PYTHONDONTWRITEBYTECODE`` is set: the warm-up of a warm measurement.
    ``processes``: ``--jobs`` (1: one process, as the floors run; more: the models split across processes; the CPU
    seconds from wait4 include the processes the render waited for, and its timings' peak RSS adds theirs up)."""
    timings = out.parent / f"{out.name}.timings.json"
    command = render_command(catalog, out, timings, stack, processes)
    env = _environment()
    if write_bytecode:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
    seconds, cpu, rss, _ = _run(command, project_dir, env)
    phases = json.loads(timings.read_text(encoding="utf-8"))
    return Sample(seconds, cpu, phases.pop("peak_rss_mb", None) or rss, phases)


def floor_sample(
    mode: str, floor_input: Path, project_dir: Path, stack: str = STACK, settle: int = 0, import_sdks: bool = False
) -> Sample:
    """A floor program's run; ``settle``: wait for its registrations after every ``settle`` resources (0: never);
    ``import_sdks``: with the SDK packages of the resources' other providers imported (bench_floor.sdk_modules)."""
    timings = floor_input.parent / f"floor-{mode}.timings.json"
    command = floor_command(mode, floor_input, timings, stack, settle, import_sdks)
    seconds, cpu, rss, _ = _run(command, project_dir, _environment())
    phases = json.loads(timings.read_text(encoding="utf-8"))
    return Sample(seconds - phases["load_input_s"], cpu, phases.pop("peak_rss_mb", None) or rss, phases)


def machine() -> dict[str, Any]:
    """What the numbers were measured on: CPU, cores, memory, load, versions."""
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory_gb = None
    with contextlib.suppress(ValueError, OSError):
        memory_gb = round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1e9, 1)
    from importlib.metadata import version

    return {
        "cpu": model or platform.processor(),
        "cores": os.cpu_count(),
        "memory_gb": memory_gb,
        "python": platform.python_version(),
        "pulumi": version("pulumi"),
        "pulumi_kubernetes": version("pulumi-kubernetes"),
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def _phases(samples: list[Sample]) -> dict[str, float]:
    names = [k for k, v in samples[0].phases.items() if isinstance(v, float)]
    return {name: round(_median([s.phases[name] for s in samples]), 2) for name in names}


def summarize(
    size: int,
    ours: list[Sample],
    typed: list[Sample],
    raw: list[Sample],
    settled: list[Sample],
    split: list[Sample] | None = None,
) -> dict[str, Any]:
    first = ours[0].phases
    row = {
        "models": size,
        "resources": first["resources"],
        "objects": first["objects"],
        "seconds": round(_median([s.seconds for s in ours]), 2),
        "floor_seconds": round(_median([s.seconds for s in typed]), 2),
        "raw_floor_seconds": round(_median([s.seconds for s in raw]), 2),
        "ratio": round(_median([o.seconds / t.seconds for o, t in zip(ours, typed, strict=True)]), 2),
        "raw_ratio": round(_median([o.seconds / r.seconds for o, r in zip(ours, raw, strict=True)]), 2),
        "cpu_seconds": round(_median([s.cpu_seconds for s in ours]), 2),
        "floor_cpu_seconds": round(_median([s.cpu_seconds for s in typed]), 2),
        "raw_floor_cpu_seconds": round(_median([s.cpu_seconds for s in raw]), 2),
        "cpu_ratio": round(_median([o.cpu_seconds / t.cpu_seconds for o, t in zip(ours, typed, strict=True)]), 2),
        "peak_rss_mb": round(max(s.peak_rss_mb for s in ours)),
        "floor_peak_rss_mb": round(max(s.peak_rss_mb for s in typed)),
        "raw_floor_peak_rss_mb": round(max(s.peak_rss_mb for s in raw)),
        "phases": _phases(ours),
        "floor_phases": _phases(typed),
        "raw_floor_phases": _phases(raw),
        # The typed floor bounded as the render is (its registrations completed every resources-per-model
        # resources): not the floor of the targets, beside it so that the render's bound is not mistaken for
        # a gain over the floor.
        "settled_floor_seconds": round(_median([s.seconds for s in settled]), 2),
        "settled_floor_cpu_seconds": round(_median([s.cpu_seconds for s in settled]), 2),
        "settled_floor_peak_rss_mb": round(max(s.peak_rss_mb for s in settled)),
        "settled_cpu_ratio": round(
            _median([o.cpu_seconds / t.cpu_seconds for o, t in zip(ours, settled, strict=True)]), 2
        ),
        "runs": {
            "seconds": [round(s.seconds, 2) for s in ours],
            "floor_seconds": [round(s.seconds, 2) for s in typed],
            "raw_floor_seconds": [round(s.seconds, 2) for s in raw],
            "settled_floor_seconds": [round(s.seconds, 2) for s in settled],
        },
    }
    if split:
        # What `mlserve render` does by default with a fleet this size: its models split across processes
        # (mlserve/shards.py). Not compared with the floors, which run in one process.
        row["split"] = {
            "processes": split[0].phases["processes"],
            "seconds": round(_median([s.seconds for s in split]), 2),
            "cpu_seconds": round(_median([s.cpu_seconds for s in split]), 2),
            "peak_rss_mb": round(max(s.peak_rss_mb for s in split)),
            "runs": [round(s.seconds, 2) for s in split],
        }
    return row


def targets(
    rows: dict[int, dict[str, Any]],
    scaling: float | None,
    default_cpu_seconds: float | None,
    cpu_scaling: float | None = None,
) -> list[dict]:
    """Each target that applies to the sizes measured: what, the measured value, the limit, met or not."""
    checks: list[dict[str, Any]] = []

    def check(what: str, value: float | None, limit: float) -> None:
        if value is not None:
            checks.append({"target": what, "value": value, "limit": limit, "met": value <= limit})

    for size, limit in TARGET_RATIO.items():
        if size in rows:
            check(f"{size} models: render / typed floor", rows[size]["ratio"], limit)
    for size, limit in TARGET_RSS_MB.items():
        if size in rows:
            check(f"{size} models: peak RSS MB", rows[size]["peak_rss_mb"], limit)
    for size, limit in TARGET_SECONDS.items():
        if size in rows:
            check(f"{size} models: seconds, one process", rows[size]["seconds"], limit)
            if "split" in rows[size]:
                split = rows[size]["split"]
                check(f"{size} models: seconds, split across {split['processes']} processes", split["seconds"], limit)
                for limit_size, rss_limit in TARGET_RSS_MB.items():
                    if limit_size == size:
                        check(f"{size} models: peak RSS MB, all processes together", split["peak_rss_mb"], rss_limit)
    for size, limit in TARGET_VALIDATE_SECONDS.items():
        if size in rows:
            check(f"{size} models: validation seconds", rows[size]["phases"]["validate_s"], limit)
    (low, high), limit = TARGET_SCALING
    check(f"t({high}) / t({low}), paired", scaling, limit)
    check(f"CPU({high}) / CPU({low}), paired", cpu_scaling, limit)
    check("default catalog (prod), warm, CPU seconds", default_cpu_seconds, TARGET_DEFAULT_SECONDS)
    return checks


def run_bench(
    sizes: list[int],
    repeat: int = REPEAT,
    project_dir: Path = PROJECT_DIR,
    out_dir: Path | None = None,
    seed: int = SEED,
    log: Any = None,
    instructions: bool = False,
) -> dict[str, Any]:
    """Measure every size ``repeat`` times, interleaved; return (and write) the results document. ``instructions``:
    also count the default catalog's instructions (``default_instructions``; needs ``VALGRIND``)."""

    def say(text: str) -> None:
        if log is not None:
            print(text, file=log, flush=True)

    out_dir = out_dir or project_dir / "build" / "bench"
    out_dir.mkdir(parents=True, exist_ok=True)
    load_before = os.getloadavg()
    samples: dict[int, dict[str, list[Sample]]] = {n: {k: [] for k in KINDS} for n in sizes}
    default_runs: list[Sample] = []
    default_floor: list[Sample] = []
    default_sdk_floor: list[Sample] = []
    with tempfile.TemporaryDirectory(prefix="mlserve-bench-") as tmp:
        work = Path(tmp)
        catalogs = {}
        for size in sizes:
            catalogs[size] = work / f"fleet-{size}.yaml"
            catalogs[size].write_text(yaml.safe_dump(fleet(size, seed), sort_keys=False), encoding="utf-8")
        from .bench_floor import floor_input

        default_catalog = project_dir / "models.yaml"
        # Warm: the file cache, and the bytecode of our modules, as any second run has it (unless
        # PYTHONDONTWRITEBYTECODE is set: then every run compiles the ~100 modules of ours it imports again).
        render_sample(default_catalog, work / "default", project_dir, write_bytecode=True)
        default_floor_file = work / "floor-default.json"
        default_floor_file.write_text(json.dumps(floor_input(work / "default")), encoding="utf-8")
        counts = None
        if instructions:
            say("default catalog: instruction counts (valgrind): render, typed floor, with the other SDKs")
            counts = default_instructions(default_catalog, default_floor_file, work, project_dir)
        for rep in range(repeat):
            for _ in range(-(-DEFAULT_RUNS // repeat)):
                say(f"repetition {rep + 1}/{repeat}: default catalog: render, typed floor, with the other SDKs")
                default_runs.append(render_sample(default_catalog, work / "default", project_dir))
                default_floor.append(floor_sample("typed", default_floor_file, project_dir))
                default_sdk_floor.append(floor_sample("typed", default_floor_file, project_dir, import_sdks=True))
            for size in sizes:
                say(f"repetition {rep + 1}/{repeat}: {size} models: render")
                out = work / f"render-{size}"
                samples[size]["ours"].append(render_sample(catalogs[size], out, project_dir))
                floor_file = work / f"floor-{size}.json"
                if rep == 0:
                    floor_file.write_text(json.dumps(floor_input(out)), encoding="utf-8")
                processes = shard_count(size, None)
                if processes > 1:
                    say(f"repetition {rep + 1}/{repeat}: {size} models: render split across {processes} processes")
                    split = render_sample(catalogs[size], work / f"split-{size}", project_dir, processes=processes)
                    # The bytes of the split render are the single process's (mlserve/shards.py).
                    if rep == 0 and not same_files(out, work / f"split-{size}"):
                        raise SystemExit(f"the split render of {size} models differs from the single process's")
                    shutil.rmtree(work / f"split-{size}", ignore_errors=True)
                    samples[size]["split"].append(split)
                shutil.rmtree(out, ignore_errors=True)
                for mode in ("typed", "raw"):
                    say(f"repetition {rep + 1}/{repeat}: {size} models: {mode} floor")
                    samples[size][mode].append(floor_sample(mode, floor_file, project_dir))
                per_model = max(1, round(samples[size]["ours"][-1].phases["resources"] / size))
                say(f"repetition {rep + 1}/{repeat}: {size} models: typed floor, settled every {per_model}")
                samples[size]["settled"].append(floor_sample("typed", floor_file, project_dir, settle=per_model))
                (out_dir / "results.json").write_text(
                    json.dumps(
                        _document(
                            samples, default_runs, seed, rep + 1, load_before, default_floor, default_sdk_floor, counts
                        ),
                        indent=2,
                    )
                    + "\n",
                    encoding="utf-8",
                )  # after every run: an interrupted benchmark keeps what it measured
    return _document(samples, default_runs, seed, repeat, load_before, default_floor, default_sdk_floor, counts)


def _document(
    samples: dict[int, dict[str, list[Sample]]],
    default_runs: list[Sample],
    seed: int,
    repeat: int,
    load_before: tuple[float, float, float],
    default_floor: list[Sample] | None = None,
    default_sdk_floor: list[Sample] | None = None,
    default_instructions: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The results document; ``default_runs``: renders of the default catalog, ``default_floor``: the typed floor's
    runs of the same resources, interleaved with them, ``default_sdk_floor``: the same with the SDK packages of the
    other providers (docker, aws, random, Helm) imported, as a typed program of those resources imports them;
    ``default_instructions``: their instruction counts (``mlserve bench --instructions``), None when not counted."""
    default_floor = default_floor or []
    default_sdk_floor = default_sdk_floor or []
    done = {size: s for size, s in samples.items() if s["settled"]}
    rows = {size: summarize(size, *(s[kind] for kind in KINDS)) for size, s in done.items()}
    (low, high), _ = TARGET_SCALING
    scaling = cpu_scaling = None
    if low in done and high in done:
        pairs = zip(done[high]["ours"], done[low]["ours"][: len(done[high]["ours"])], strict=True)
        pairs = list(pairs)
        scaling = round(_median([h.seconds / lo.seconds for h, lo in pairs]), 2)
        cpu_scaling = round(_median([h.cpu_seconds / lo.cpu_seconds for h, lo in pairs]), 2)
    default_seconds = round(_median([s.seconds for s in default_runs]), 2) if default_runs else None
    default_cpu_seconds = round(_median([s.cpu_seconds for s in default_runs]), 2) if default_runs else None
    document = {
        "stack": STACK,
        "seed": seed,
        "repeat": repeat,
        "machine": {**machine(), "load_before": [round(x, 2) for x in load_before]},
        "sizes": [rows[size] for size in sorted(rows)],
        "scaling": {f"t({high})/t({low})": scaling, f"cpu({high})/cpu({low})": cpu_scaling},
        "default_catalog_seconds": default_seconds,
        "default_catalog_cpu_seconds": default_cpu_seconds,
        "default_catalog_floor_cpu_seconds": (
            round(_median([s.cpu_seconds for s in default_floor]), 2) if default_floor else None
        ),
        "default_catalog_sdk_floor_cpu_seconds": (
            round(_median([s.cpu_seconds for s in default_sdk_floor]), 2) if default_sdk_floor else None
        ),
        "default_catalog_runs": {
            "seconds": [round(s.seconds, 2) for s in default_runs],
            "cpu_seconds": [round(s.cpu_seconds, 2) for s in default_runs],
            "floor_cpu_seconds": [round(s.cpu_seconds, 2) for s in default_floor],
            "sdk_floor_cpu_seconds": [round(s.cpu_seconds, 2) for s in default_sdk_floor],
        },
        "default_catalog_instructions": default_instructions,
    }
    document["machine"]["load_after"] = [round(x, 2) for x in os.getloadavg()]
    document["targets"] = targets(rows, scaling, default_cpu_seconds, cpu_scaling)
    return document


COLUMNS = [
    ("models", "models"),
    ("resources", "resources"),
    ("objects", "objects"),
    ("seconds", "s"),
    ("floor_seconds", "floor s"),
    ("raw_floor_seconds", "raw floor s"),
    ("settled_floor_seconds", "settled floor s"),
    ("ratio", "ratio"),
    ("cpu_ratio", "CPU ratio"),
    ("peak_rss_mb", "peak RSS MB"),
    ("floor_peak_rss_mb", "floor peak MB"),
    ("settled_floor_peak_rss_mb", "settled floor peak MB"),
]
PHASES = ["validate_s", "program_s", "registrations_s", "record_s", "write_s"]


def table(document: dict[str, Any], markdown: bool = False) -> str:
    """The results as a text (or markdown) table, then the phases and the targets."""
    heads = [head for _, head in COLUMNS] + [p.removesuffix("_s") + " s" for p in PHASES]
    rows = [
        [str(row[key]) for key, _ in COLUMNS] + [str(row["phases"].get(p, "")) for p in PHASES]
        for row in document["sizes"]
    ]
    lines = []
    if markdown:
        lines.append("| " + " | ".join(heads) + " |")
        lines.append("|" + "---|" * len(heads))
        lines.extend("| " + " | ".join(r) + " |" for r in rows)
    else:
        widths = [max([len(h), *(len(r[i]) for r in rows)]) for i, h in enumerate(heads)]
        lines.append("  ".join(h.rjust(w) for h, w in zip(heads, widths, strict=True)))
        lines.extend("  ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)) for r in rows)
    lines.append("")
    if document.get("default_catalog_cpu_seconds") is not None:
        lines.append(
            f"default catalog (prod, warm): median {document['default_catalog_cpu_seconds']} CPU s, "
            f"{document['default_catalog_seconds']} s wall; the typed floor of its resources: "
            f"{document.get('default_catalog_floor_cpu_seconds')} CPU s"
            + (
                f", {document['default_catalog_sdk_floor_cpu_seconds']} CPU s with the SDKs of its other providers"
                " imported"
                if document.get("default_catalog_sdk_floor_cpu_seconds") is not None
                else ""
            )
        )
    counted = document.get("default_catalog_instructions")
    if counted:
        lines.append(
            f"default catalog, instructions (valgrind, one run each): render {counted['render'] / 1e9:.2f} G, typed "
            f"floor {counted['floor'] / 1e9:.2f} G, {counted['sdk_floor'] / 1e9:.2f} G with the SDKs of its other "
            f"providers imported: {counted['render_over_sdk_floor']}x that"
        )
    for row in document["sizes"]:
        if "split" in row:
            split = row["split"]
            lines.append(
                f"{row['models']} models split across {split['processes']} processes (mlserve render's default): "
                f"{split['seconds']} s wall, {split['cpu_seconds']} CPU s, {split['peak_rss_mb']} MB peak RSS "
                "(all processes)"
            )
    for check in document["targets"]:
        mark = "met" if check["met"] else "MISSED"
        lines.append(f"{'- ' if markdown else ''}{check['target']}: {check['value']} (<= {check['limit']}): {mark}")
    return "\n".join(lines)
