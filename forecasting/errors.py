"""Errors of the forecast command: bad input (exit 2, located) and failures of the outside world (exit 1)."""

from __future__ import annotations

from collections.abc import Iterable


class ForecastInputError(Exception):
    """Bad input: a malformed export, a bad option. Every message names where (file:line:column or the option)."""

    def __init__(self, messages: Iterable[str]):
        self.messages = list(messages)
        super().__init__("\n".join(self.messages))

    def render(self) -> str:
        count = len(self.messages)
        return "\n".join([*self.messages, f"{count} problem{'s' if count != 1 else ''} found; nothing was written."])


class ForecastError(Exception):
    """Something outside the input failed (Prometheus down, a query error, no data at all)."""
