"""Docs that code points at: runbook sections for every alert, the monitoring doc's alert table, generated files."""

from __future__ import annotations

import re

from components.monitoring import alerts_for
from mlserve.reference import write_or_check
from mlserve.render import validate
from tests.helpers import ROOT, STACKS, settings, spec

RUNBOOKS = (ROOT / "docs" / "runbooks.md").read_text(encoding="utf-8")
MONITORING = (ROOT / "docs" / "monitoring.md").read_text(encoding="utf-8")


def every_alert() -> dict[str, set[str]]:
    """Alert name -> severities, over every model of every stack plus a GPU model scaled on GPU utilisation."""
    found: dict[str, set[str]] = {}
    cases = [
        (m, s, validate(ROOT, stack).settings) for stack in STACKS for m, s in validate(ROOT, stack).models.items()
    ]
    gpu = spec(
        resources={"cpu": "2", "memory": "8Gi", "gpu": {"accelerator": "nvidia-l4"}},
        scaling={"minReplicas": 1, "maxReplicas": 2, "metric": "gpu-utilization"},
    )
    for model, model_spec, stack_settings in [*cases, ("gpu", gpu, settings())]:
        for alert in alerts_for(model, model_spec, stack_settings):
            found.setdefault(alert.name, set()).add(alert.severity)
    return found


def test_every_alert_has_a_runbook_section_its_runbook_url_anchor_points_at():
    from components.canary import canary_rules
    from tests.components.test_canary import llm as canary_model
    from tests.components.test_canary import stack as canary_stack

    headings = {h.lower() for h in re.findall(r"^## (\w+)$", RUNBOOKS, re.MULTILINE)}
    alerts = every_alert()
    assert len(alerts) == 8
    canary = canary_rules("chat", canary_model(), canary_stack(), {})["spec"]["groups"][0]["rules"]
    for rule in canary:
        assert rule["annotations"]["runbook_url"].endswith("#" + rule["alert"].lower())
    assert {name.lower() for name in alerts} | {rule["alert"].lower() for rule in canary} == headings


def test_the_monitoring_docs_alert_table_lists_every_alert_with_its_severity():
    rows = dict(re.findall(r"^\| \[(\w+)\]\(runbooks\.md#\w+\) \| (\w+) \|", MONITORING, re.MULTILINE))
    assert rows == {name: severity for name, (severity,) in every_alert().items()}


def test_generated_schemas_and_reference_docs_are_up_to_date():
    assert write_or_check(ROOT, check=True) == [], "run `make schema` and commit the result"
