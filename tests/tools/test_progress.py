"""Progress on stderr: redrawn in place on a terminal, plain periodic lines elsewhere, silent for short work."""

from __future__ import annotations

import io
import time

from mlserve.progress import Progress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_plain_lines_in_a_pipe_and_none_for_work_that_ends_sooner():
    quick = io.StringIO()
    with Progress("render dev", unit="objects written", stream=quick, interval=5) as p:
        p.update(3, 10)
    assert quick.getvalue() == ""

    slow = io.StringIO()
    with Progress("render dev", unit="objects written", stream=slow, interval=0.05) as p:
        p.update(3, 10, note="models 1/2")
        time.sleep(0.3)
    lines = slow.getvalue().splitlines()
    assert len(lines) >= 2 and "\r" not in slow.getvalue()
    assert lines[0].startswith("render dev: 3/10 objects written, models 1/2, ")


def test_a_terminal_line_is_redrawn_and_erased_at_the_end():
    tty = Terminal()
    with Progress("checkov", stream=tty, interval=0.05):
        time.sleep(0.2)
    out = tty.getvalue()
    assert out.startswith("\rcheckov: running, ") and "\n" not in out
    assert out.endswith("\r")  # the last redraw is blanked out, so the command's own output starts clean


def test_it_can_be_turned_off(monkeypatch):
    monkeypatch.setenv("MLSERVE_PROGRESS", "0")
    stream = io.StringIO()
    with Progress("bench", stream=stream, interval=0.01):
        time.sleep(0.1)
    assert stream.getvalue() == ""
