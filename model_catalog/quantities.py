"""Kubernetes resource quantities: the subset the catalog accepts, and exact arithmetic on them."""

from __future__ import annotations

import functools
import re
from decimal import Decimal
from fractions import Fraction

_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40}
_DECIMAL = {"k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12}

#: cpu: whole or decimal cores ("2", "0.5") or millicores ("500m").
CPU_PATTERN = r"^([1-9][0-9]*m|[0-9]+(\.[0-9]{1,3})?)$"
#: memory and storage: bytes with an optional binary (Ki, Mi, Gi, Ti) or decimal (k, M, G, T) suffix.
BYTES_PATTERN = r"^[0-9]+(\.[0-9]+)?(Ki|Mi|Gi|Ti|k|M|G|T)?$"

_CPU_RE = re.compile(CPU_PATTERN)
_BYTES_RE = re.compile(BYTES_PATTERN)


# Memoized: a fleet repeats a few sizes thousands of times (validation, capacity, the workloads' requests).
@functools.lru_cache(maxsize=4096)
def cpu_millicores(quantity: str) -> int:
    if not _CPU_RE.match(quantity):
        raise ValueError(f"not a cpu quantity: {quantity!r}")
    if quantity.endswith("m"):
        return int(quantity[:-1])
    return int(Decimal(quantity) * 1000)


@functools.lru_cache(maxsize=4096)
def byte_count(quantity: str) -> int:
    match = _BYTES_RE.match(quantity)
    if not match:
        raise ValueError(f"not a byte quantity: {quantity!r}")
    suffix = match.group(2) or ""
    number = Fraction(quantity[: len(quantity) - len(suffix)])
    return int(number * _BINARY.get(suffix, _DECIMAL.get(suffix, 1)))


def format_mebibytes(count_bytes: int) -> str:
    """Bytes as a whole-Mi quantity, rounded up (Kubernetes accepts any integer Mi)."""
    return f"{-(-count_bytes // 2**20)}Mi"
