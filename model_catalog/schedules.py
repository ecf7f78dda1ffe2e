"""Time zones and cron schedules checked by the libraries that know them: the IANA database (``zoneinfo``, with the
``tzdata`` package where the system has none) and ``croniter``, restricted to the 5-field syntax KEDA's cron
scaler accepts (robfig/cron's standard parser: numbers, names, ``*``, ``,``, ``-``, ``/``, ``?``)."""

from __future__ import annotations

import re
import zoneinfo
from functools import cache
from typing import Annotated

from pydantic import AfterValidator, StringConstraints

from .errors import did_you_mean

_FIELDS = ("minute", "hour", "day of month", "month", "day of week")
_FIELD_SYNTAX = (
    re.compile(r"[0-9*/,-]+"),
    re.compile(r"[0-9*/,-]+"),
    re.compile(r"[0-9*/,?-]+"),
    re.compile(r"([0-9*/,-]|JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC)+", re.IGNORECASE),
    re.compile(r"([0-9*/,?-]|SUN|MON|TUE|WED|THU|FRI|SAT)+", re.IGNORECASE),
)


@cache
def time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def check_time_zone(name: str) -> str:
    if name not in time_zones():
        raise ValueError(f"not an IANA time zone;{did_you_mean(name, time_zones())} e.g. 'Europe/Berlin' or 'UTC'")
    return name


def check_cron(expression: str) -> str:
    fields = expression.split()
    if len(fields) != 5:
        raise ValueError(f"a cron schedule has 5 fields ({', '.join(_FIELDS)}), got {len(fields)}")
    for name, field, syntax in zip(_FIELDS, fields, _FIELD_SYNTAX, strict=True):
        if not syntax.fullmatch(field):
            raise ValueError(f"{name} field '{field}' uses syntax KEDA's cron scaler does not accept")
    from croniter import croniter  # here, not at import: only a stack with a cron schedule needs it (~15 ms)

    try:
        valid = croniter.is_valid(expression)
    except Exception:  # croniter raises its own errors for some malformed input
        valid = False
    if not valid:
        raise ValueError(
            f"not a valid cron schedule ({', '.join(_FIELDS)}: minute 0-59, hour 0-23, day 1-31, month 1-12, "
            "weekday 0-6)"
        )
    return expression


TimeZone = Annotated[str, StringConstraints(max_length=64), AfterValidator(check_time_zone)]
CronSchedule = Annotated[str, StringConstraints(pattern=r"^\S+( \S+){4}$", max_length=100), AfterValidator(check_cron)]
