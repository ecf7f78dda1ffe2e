"""How fast bad input is refused: ``mlserve validate`` and ``mlserve render`` on each hostile YAML case of
tests/bad_inputs/catalogs/, and on the default catalog for comparison (``make bench-inputs``).

Each command runs as its own process (what a user waits for: interpreter start, imports, reading, the message),
``RUNS`` times; the table shows the median wall and CPU seconds and the peak RSS. Target (issue 9): every hostile
case exits 2 with a located message within 2 s; exit 1 if one misses it or exits otherwise. The process is single
threaded and waits for no I/O, so on an idle core its wall time is its CPU time: the target is checked against CPU
seconds, and the load average is printed, because on a shared machine wall time measures the neighbours. The tests
check the exit codes and messages (tests/test_bad_inputs.py), never the time.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: The hostile YAML shapes issue 9 names (tests/bad_inputs/catalogs/<name>.yaml); the tests run the same list.
HOSTILE = (
    "billion-laughs",
    "recursive-alias",
    "deep-nesting",
    "huge-integer",
    "python-tag",
    "int-tag",
    "bool-tag",
    "timestamp-tag",
    "custom-tag",
)
RUNS = 3
TARGET_SECONDS = 2.0


def measure(args: list[str]) -> tuple[int, str, float, float, float]:
    """(exit code, stderr, wall s, CPU s, peak RSS MiB) of one ``mlserve`` process (its own rusage: os.wait4)."""
    with tempfile.TemporaryFile("w+") as err:
        start = time.perf_counter()
        process = subprocess.Popen(
            [sys.executable, "-m", "mlserve", *args], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=err, text=True
        )
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        return process.returncode, err.read(), wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def main() -> int:
    rows = []
    missed = []
    with tempfile.TemporaryDirectory() as scratch:
        cases = [(name, f"tests/bad_inputs/catalogs/{name}.yaml", 2) for name in HOSTILE]
        cases.append(("default catalog", None, 0))
        for name, catalog, expected in cases:
            for command in ("validate", "render"):
                args = [command, "--stack", "dev"] + (["--catalog", catalog] if catalog else [])
                if command == "render":
                    args += ["--out", str(Path(scratch) / "out")]
                runs = [measure(args) for _ in range(RUNS)]
                code, err = runs[0][0], runs[0][1]
                wall = statistics.median(r[2] for r in runs)
                cpu = statistics.median(r[3] for r in runs)
                located = expected == 0 or (err.startswith(catalog + ":") and "Traceback" not in err)
                ok = code == expected and located and (expected == 0 or cpu <= TARGET_SECONDS)
                if not ok:
                    missed.append(f"{name} ({command}): exit {code}, {cpu:.2f} s CPU; {err.strip()[:200]}")
                rows.append((name, command, code, wall, cpu, max(r[4] for r in runs), "yes" if ok else "NO"))
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"median of {RUNS} runs each on {os.cpu_count()} cores, load average {load}; target for the hostile cases:")
    print(f"exit 2 with a located message in <= {TARGET_SECONDS:g} s (CPU s: wall s on an idle core)")
    print("| input | command | exit | wall s | CPU s | peak RSS MiB | ok |")
    print("|---|---|---|---|---|---|---|")
    for name, command, code, wall, cpu, rss, ok in rows:
        print(f"| {name} | {command} | {code} | {wall:.2f} | {cpu:.2f} | {rss:.0f} | {ok} |")
    for line in missed:
        print(f"missed: {line}", file=sys.stderr)
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
