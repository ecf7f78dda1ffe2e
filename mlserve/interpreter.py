"""Interpreter settings for one-shot batch processes (``mlserve render`` and the benchmark's floor programs).

A render allocates millions of small objects that live until the end (registrations, their inputs, the SDK's
futures). CPython's default collector thresholds (700, 10, 10) make it walk that growing heap over and over for
garbage that is almost never there: at 1000 models that is a large share of the run. ``tune()`` moves everything
allocated at start-up (the SDKs' modules) out of the collector's view (``gc.freeze``) and raises the thresholds,
so young collections still reclaim short-lived cycles (asyncio tasks and futures) and full collections are rare.

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


def tune() -> None:
    """Collector settings for a batch run (idempotent)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)


def exit_now(code: int) -> None:
    """Flush stdout and stderr, then end the process with ``code`` at once (no teardown)."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(code)
