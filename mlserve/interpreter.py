"""Interpreter settings for one-shot batch processes (``mlserve render`` and the benchmark's floor programs).

A render allocates millions of small objects that live until the end (registrations, their inputs, the SDK's
futures). CPython's default collector thresholds (700, 10, 10) make it walk that growing heap over and over for
garbage that is almost never there: at 1000 models that is a large share of the run. ``start()``, first thing in
the process, raises the thresholds for the imports too (importing the SDKs allocates about 160,000 long-lived
objects and almost no garbage: with the defaults the collector walked them again and again, about 0.1 s of a
default-catalog render). ``tune()``, once the SDKs are imported, moves everything allocated so far out of the
collector's view (``gc.freeze``; no full collection first: it found a few dozen garbage objects and took another
0.1 s), so young collections still reclaim short-lived cycles (asyncio tasks and futures) and full collections are
rare.

``exit_now()`` ends the process without interpreter teardown: once the output is written and flushed, freeing
every object one by one (and running the SDK's atexit handlers) is work nobody waits for.

The benchmark applies the same settings to the floor programs it compares the render with, so the comparison
stays fair (mlserve/bench.py).
"""

from __future__ import annotations

import contextlib
import gc
import os
import sys

#: Set by the ``mlserve`` console entry point (a one-shot process): the render then applies ``tune()``.
BATCH = False
#: Young-generation threshold (allocations minus deallocations) and the two older generations' multipliers.
THRESHOLDS = (50_000, 50, 1000)


def start() -> None:
    """First thing in a batch process, before the SDKs' imports: the batch collector thresholds."""
    gc.set_threshold(*THRESHOLDS)


def tune() -> None:
    """Collector settings for a batch run, once the SDKs are imported (idempotent)."""
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)


def checkpoint() -> None:
    """In a batch process, after a part of the work whose survivors live to the end of the run (the render: a
    model's registrations, once settled): collect the young generation (its cyclic garbage: the SDK's finished
    tasks and futures), then move what survived out of the collector's view, so that no later collection walks it
    again. Young collections then only ever see one part's objects: at 300 models, 305 of them took 0.66 CPU s
    against 24 taking 1.9 s, and peak RSS stayed the same (docs/benchmarks.md)."""
    gc.collect(0)
    gc.freeze()


def exit_now(code: int) -> None:
    """Flush stdout and stderr, then end the process with ``code`` at once (no teardown)."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(code)


def peak_rss_mb() -> float | None:
    """This process's peak resident set in MB (Linux ``VmHWM``). Unlike ``ru_maxrss``, it starts afresh at
    ``exec``: a child's figure never includes the memory of the process that started it."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except (OSError, ValueError):
        pass
    return None
