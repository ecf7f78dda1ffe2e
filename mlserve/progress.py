"""Signs of life for long work, on stderr: a redrawn status line on a terminal, plain periodic lines otherwise.

On a terminal the line is redrawn about five times a second and erased when the work ends (the command's own
summary follows). Elsewhere (CI logs, pipes) one plain line is printed every ``interval`` seconds, and nothing
at all for work that ends sooner, so short commands stay quiet. ``MLSERVE_PROGRESS=0`` turns both off.

Hand-written rather than tqdm/rich: both redraw with carriage returns in a pipe too (CI logs fill with partial
lines), and neither is otherwise needed; this is a thread and a format string.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from typing import TextIO

TTY_REFRESH_SECONDS = 0.2
PLAIN_INTERVAL_SECONDS = 10.0


class Progress:
    """``with Progress("render", unit="resources") as p: ... p.update(done, total, note)``; total may be None."""

    def __init__(
        self,
        label: str,
        unit: str = "",
        total: int | None = None,
        stream: TextIO | None = None,
        interval: float | None = None,
    ):
        self.label = label
        self.unit = unit
        self.total = total
        self.done = 0
        self.note = ""
        self.stream = stream or sys.stderr
        self.enabled = os.environ.get("MLSERVE_PROGRESS", "1") != "0"
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.interval = (
            interval if interval is not None else (TTY_REFRESH_SECONDS if self.tty else PLAIN_INTERVAL_SECONDS)
        )
        self._started = time.monotonic()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._drawn = 0

    def update(self, done: int, total: int | None = None, note: str = "") -> None:
        self.done = done
        if total is not None:
            self.total = total
        self.note = note

    def status(self) -> str:
        elapsed = time.monotonic() - self._started
        count = f"{self.done}/{self.total}" if self.total else (str(self.done) if self.done else "")
        parts = [f"{self.label}:"]
        if count:
            parts.append(f"{count} {self.unit}".rstrip())
        if self.note:
            parts.append(self.note)
        parts.append(f"{elapsed:.0f} s" if count or self.note else f"running, {elapsed:.0f} s")
        return " ".join(parts[:1]) + " " + ", ".join(parts[1:])

    def _emit(self) -> None:
        line = self.status()
        if self.tty:
            self.stream.write("\r" + line.ljust(self._drawn))
            self._drawn = len(line)
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._emit()

    def __enter__(self) -> Progress:
        if self.enabled:
            self._thread = threading.Thread(target=self._run, name=f"progress-{self.label}", daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        if self.tty and self._drawn:
            self.stream.write("\r" + " " * self._drawn + "\r")
            self.stream.flush()
