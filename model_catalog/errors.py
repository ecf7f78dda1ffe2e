"""Problems a person can act on: where (file:line:column), which field, the bad value, what is allowed."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

PathElement = str | int
Path = tuple[PathElement, ...]

_PLAIN_KEY = re.compile(r"^[A-Za-z0-9_:/-]+$")


def format_path(path: Sequence[PathElement]) -> str:
    """``("models", "llama3", "args", 2)`` -> ``models.llama3.args[2]``; odd keys are quoted."""
    out = ""
    for element in path:
        if isinstance(element, int):
            out += f"[{element}]"
        elif _PLAIN_KEY.match(element):
            out += f".{element}" if out else element
        else:
            out += f'["{element}"]'
    return out


class _Hidden:
    """Stands in for a secret value wherever a message would quote the value."""

    def __repr__(self) -> str:
        return "a secret value (not shown)"

    __str__ = __repr__


HIDDEN: Any = _Hidden()


def describe_value(value: Any) -> str:
    """Quote a bad value the way it was written, with its YAML type when that is the point."""
    if value is HIDDEN:
        return str(value)
    if isinstance(value, bool):
        return f"{str(value).lower()} (a boolean)"
    if isinstance(value, str):
        shown = value if len(value) <= 60 else value[:57] + "..."
        return f"'{shown}' (a string)"
    if isinstance(value, (int, float)):
        return f"{value!r} (a number)"
    if value is None:
        return "null"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return repr(value)


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """`` did you mean 'x'?`` or the empty string."""
    matches = difflib.get_close_matches(str(word), list(choices), n=1, cutoff=0.6)
    return f" did you mean '{matches[0]}'?" if matches else ""


def allowed_list(choices: Iterable[str]) -> str:
    return ", ".join(f"'{c}'" for c in sorted(choices))


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with an input file, located precisely."""

    file: str
    line: int
    column: int
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:{self.column}"
        text = f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"
        return printable(text)


def printable(text: str) -> str:
    """One line whatever the input held: line breaks, control and other invisible characters (from keys and values
    in a file) are shown as escapes, so a message can neither span lines nor hide text."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in text)


class ConfigurationError(Exception):
    """Every problem found in a catalog or a stack's settings, raised once after all checks ran."""

    def __init__(self, problems: Iterable[Problem]):
        from .credentials import redact  # detect-secrets: loaded only when there is something to report

        # No message ever quotes a credential, whichever check wrote it.
        self.problems: list[Problem] = sorted({replace(p, message=redact(p.message)) for p in problems})
        super().__init__(self.render())

    def render(self) -> str:
        lines = [str(p) for p in self.problems]
        count = len(self.problems)
        lines.append(f"{count} problem{'s' if count != 1 else ''} found; nothing was rendered or deployed.")
        return "\n".join(lines)
