"""Label keys and values, annotation keys and CIDRs, checked exactly as the Kubernetes API server checks them.

A small transcription of k8s.io/apimachinery/pkg/util/validation (IsQualifiedName, IsValidLabelValue,
IsDNS1123Subdomain, the annotation size limit) with the same messages, so an object that would be rejected at apply
time is rejected here, located in the file. No library ships these rules for Python (kubernetes-validate checks the
OpenAPI schemas, which leave label keys and values free-form).
"""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated

from pydantic import AfterValidator, StringConstraints

QUALIFIED_NAME_MAX = 63
LABEL_VALUE_MAX = 63
DNS1123_SUBDOMAIN_MAX = 253
ANNOTATIONS_TOTAL_MAX = 256 * 1024

_QUALIFIED_NAME = re.compile(r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]")
_LABEL_VALUE = re.compile(r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?")
_DNS1123_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
_QUALIFIED_NAME_MSG = (
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"
)


def dns1123_subdomain_errors(value: str) -> list[str]:
    errors = []
    if len(value) > DNS1123_SUBDOMAIN_MAX:
        errors.append(f"must be no more than {DNS1123_SUBDOMAIN_MAX} characters")
    if not _DNS1123_SUBDOMAIN.fullmatch(value):
        errors.append(
            "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and "
            "must start and end with an alphanumeric character"
        )
    return errors


def qualified_name_errors(value: str) -> list[str]:
    """apimachinery IsQualifiedName: ``[prefix/]name``, prefix a DNS subdomain, name at most 63 characters."""
    parts = value.split("/")
    if len(parts) == 1:
        name, errors = parts[0], []
    elif len(parts) == 2:
        prefix, name = parts
        errors = (
            ["prefix part must be non-empty"]
            if not prefix
            else [f"prefix part {e}" for e in dns1123_subdomain_errors(prefix)]
        )
    else:
        return [
            f"a qualified name {_QUALIFIED_NAME_MSG}, with an optional DNS subdomain prefix and '/' (e.g. "
            "'example.com/MyName')"
        ]
    if not name:
        errors.append("name part must be non-empty")
    elif len(name) > QUALIFIED_NAME_MAX:
        errors.append(f"name part must be no more than {QUALIFIED_NAME_MAX} characters")
    if name and not _QUALIFIED_NAME.fullmatch(name):
        errors.append(f"name part {_QUALIFIED_NAME_MSG}")
    return errors


def label_value_errors(value: str) -> list[str]:
    errors = []
    if len(value) > LABEL_VALUE_MAX:
        errors.append(f"must be no more than {LABEL_VALUE_MAX} characters")
    if not _LABEL_VALUE.fullmatch(value):
        errors.append(f"a valid label must be an empty string or {_QUALIFIED_NAME_MSG.removeprefix('must ')}")
    return errors


def label_errors(labels: dict[str, str]) -> list[str]:
    found = [f"label key '{k}': {e}" for k in sorted(labels) for e in qualified_name_errors(k)]
    found += [f"label '{k}' value '{v}': {e}" for k, v in sorted(labels.items()) for e in label_value_errors(v)]
    return found


def annotation_errors(annotations: dict[str, str]) -> list[str]:
    found = [f"annotation key '{k}': {e}" for k in sorted(annotations) for e in qualified_name_errors(k.lower())]
    total = sum(len(k) + len(v) for k, v in annotations.items())
    if total > ANNOTATIONS_TOTAL_MAX:
        found.append(f"annotations total {total} bytes; must have at most {ANNOTATIONS_TOTAL_MAX} bytes")
    return found


def cidr_errors(value: str) -> list[str]:
    """A network in CIDR notation, e.g. 10.0.0.0/16 (as NetworkPolicy's ipBlock takes it)."""
    if "/" not in value:
        return ["must be a valid CIDR, e.g. 10.0.0.0/16 (an address and a prefix length)"]
    try:
        ipaddress.ip_network(value, strict=False)
    except ValueError as exc:
        return [f"must be a valid CIDR, e.g. 10.0.0.0/16 ({exc})"]
    return []


def _checked(errors_of):
    def check(value):
        errors = errors_of(value)
        if errors:
            raise ValueError("; ".join(errors))
        return value

    return check


#: Pydantic types: a mapping of labels, of annotations, and a CIDR (the pattern keeps the JSON Schema useful).
CHECK_LABELS = AfterValidator(_checked(label_errors))
Labels = Annotated[dict[str, str], CHECK_LABELS]
Annotations = Annotated[dict[str, str], AfterValidator(_checked(annotation_errors))]
Cidr = Annotated[str, StringConstraints(pattern=r"^[0-9.]+/[0-9]{1,2}$"), AfterValidator(_checked(cidr_errors))]
