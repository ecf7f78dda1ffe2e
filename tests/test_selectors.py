"""Selectors never change: they are immutable on Deployments (and a changed Service or NetworkPolicy selector
silently drops traffic), so labels may be added to objects but never to what selects them.

``tests/selectors.json`` is, for every golden object, the selectors that pick its own pods (a workload's, Service's,
PDB's, PodMonitor's or NetworkPolicy's ``selector``/``podSelector``, and the pod template's affinity and spread
``labelSelector``s) as they were reviewed. An object whose own selector differs from it fails here; new objects may
appear. A NetworkPolicy's peers (``ingress``/``egress`` rules) and namespace selectors are policy, free to change.
Every selector, peers included, must use only stable labels. Update the snapshot only for a deliberate migration:
``.venv/bin/python -m tests.test_selectors --update``.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from components.labels import INSTANCE_LABEL, VERSION_LABEL
from tests.helpers import ROOT, read_yaml

GOLDEN = ROOT / "tests" / "golden"
SNAPSHOT = ROOT / "tests" / "selectors.json"
SELECTOR_KEYS = ("selector", "podSelector", "labelSelector", "namespaceSelector")
#: Labels whose value changes over a model's life (a new version, another stack): never in a selector.
UNSTABLE_LABELS = (INSTANCE_LABEL, VERSION_LABEL)


def selectors(obj: Any, path: str = "") -> dict[str, Any]:
    """Every selector in a manifest, by its field path."""
    found: dict[str, Any] = {}
    if isinstance(obj, dict):
        for key, value in obj.items():
            where = f"{path}.{key}" if path else key
            if key in SELECTOR_KEYS and isinstance(value, dict):
                found[where] = value
            else:
                found |= selectors(value, where)
    elif isinstance(obj, list):
        for i, value in enumerate(obj):
            found |= selectors(value, f"{path}[{i}]")
    return found


def own(found: dict[str, Any]) -> dict[str, Any]:
    """The selectors that pick the object's own pods (not a policy's peers, not namespaces)."""
    return {
        where: selector
        for where, selector in found.items()
        if not where.endswith("namespaceSelector") and "ingress[" not in where and "egress[" not in where
    }


def golden_selectors(only_own: bool = True) -> dict[str, dict[str, Any]]:
    out = {}
    for path in sorted(GOLDEN.glob("*/manifests/*.yaml")):
        found = selectors(read_yaml(path))
        if only_own:
            found = own(found)
        if found:
            out[f"{path.parent.parent.name}/{path.name}"] = found
    return out


def test_there_are_selectors_to_compare():
    current = golden_selectors()
    assert sum("--deployment--" in name for name in current) >= 3
    assert json.loads(SNAPSHOT.read_text())


def test_no_selector_of_a_reviewed_object_changed():
    snapshot = json.loads(SNAPSHOT.read_text())
    current = golden_selectors()
    changed = {
        name: {"was": snapshot[name], "now": current[name]}
        for name in sorted(set(snapshot) & set(current))
        if snapshot[name] != current[name]
    }
    assert changed == {}, json.dumps(changed, indent=2)


def test_selectors_use_only_stable_labels():
    def keys(selector: dict[str, Any]) -> set[str]:
        expressions = {e["key"] for e in selector.get("matchExpressions", [])}
        plain = {k for k, v in selector.items() if isinstance(v, str)}  # Service selectors are a plain map
        return set(selector.get("matchLabels", {})) | expressions | plain

    unstable = {
        f"{name} {where}": sorted(keys(selector) & set(UNSTABLE_LABELS))
        for name, found in golden_selectors(only_own=False).items()
        for where, selector in found.items()
        if keys(selector) & set(UNSTABLE_LABELS)
    }
    assert unstable == {}


if __name__ == "__main__":
    if sys.argv[1:] != ["--update"]:
        sys.exit("usage: python -m tests.test_selectors --update  (rewrites tests/selectors.json from the goldens)")
    SNAPSHOT.write_text(json.dumps(golden_selectors(), indent=2, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {SNAPSHOT.relative_to(ROOT)}")
