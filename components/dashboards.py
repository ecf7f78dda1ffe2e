"""Grafana dashboards as data: one per model and one fleet overview per stack.

Every query comes from ``components.monitoring.signals_for`` (the metric table), the same expressions the alerts and
autoscalers use. Each dashboard ships as a ConfigMap labelled for Grafana's dashboard sidecar, in the monitoring
namespace. Panel ids are assigned in order, so they are unique by construction.
"""

from __future__ import annotations

import hashlib
import json
import string
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from json.encoder import INFINITY, encode_basestring_ascii
from typing import Any

from model_catalog.checks import WHOLE_MODEL_METRICS, scaling_target
from model_catalog.schema import ModelSpec
from model_catalog.settings import StackSettings
from platform_data import metrics as table
from platform_data.metrics import fill, promql_string

from .labels import platform_labels
from .monitoring import (
    ALERT_WINDOW,
    DASHBOARD_LABEL_KEY,
    DASHBOARD_LABEL_VALUE,
    ModelSignals,
    latency_threshold_seconds,
    signals_for,
    uses_keda,
)
from .routing.peers import routed_by_gateway
from .workload import has_autoscaler

Manifest = dict[str, Any]

#: Grafana's Prometheus datasource as kube-prometheus-stack provisions it (grafana.sidecar.datasources.uid).
DATASOURCE = {"type": "prometheus", "uid": "prometheus"}
FLEET_UID = "ml-serving-overview"
SCHEMA_VERSION = 39
PANEL_WIDTH, PANEL_HEIGHT, COLUMNS = 12, 8, 2


@dataclass(frozen=True)
class Target:
    legend: str
    expr: str


@dataclass(frozen=True)
class PanelSpec:
    title: str
    unit: str
    targets: tuple[Target, ...]
    description: str = ""
    kind: str = field(default="timeseries")


def _ref_ids() -> Iterator[str]:
    letters = string.ascii_uppercase
    yield from letters
    for first in letters:
        for second in letters:
            yield first + second


def _panel(panel_id: int, spec: PanelSpec, x: int, y: int) -> Manifest:
    return {
        "id": panel_id,
        "type": spec.kind,
        "title": spec.title,
        "description": spec.description,
        "datasource": DATASOURCE,
        "gridPos": {"h": PANEL_HEIGHT, "w": PANEL_WIDTH, "x": x, "y": y},
        "fieldConfig": {"defaults": {"unit": spec.unit}, "overrides": []},
        "options": {
            "legend": {"displayMode": "list", "placement": "bottom", "showLegend": True},
            "tooltip": {"mode": "multi", "sort": "desc"},
        },
        "targets": [
            {"refId": ref, "datasource": DATASOURCE, "expr": t.expr, "legendFormat": t.legend}
            for ref, t in zip(_ref_ids(), spec.targets, strict=False)
        ],
    }


def _dashboard(uid: str, title: str, description: str, tags: list[str], panels: list[PanelSpec]) -> Manifest:
    return {
        "uid": uid,
        "title": title,
        "description": description,
        "tags": tags,
        "editable": False,
        "schemaVersion": SCHEMA_VERSION,
        "timezone": "utc",
        "refresh": "30s",
        "time": {"from": "now-6h", "to": "now"},
        "panels": [
            _panel(i, spec, (i - 1) % COLUMNS * PANEL_WIDTH, (i - 1) // COLUMNS * PANEL_HEIGHT)
            for i, spec in enumerate(panels, start=1)
        ],
    }


def _constant(legend: str, value: float) -> Target:
    return Target(legend, f"vector({value:g})")


# --- one model ------------------------------------------------------------------------------------------------------


def model_panels(model: str, spec: ModelSpec, settings: StackSettings) -> list[PanelSpec]:
    s = signals_for(model, spec, settings.environment.namespace)
    scaling = spec.scaling
    panels = [
        PanelSpec("Requests per second", "reqps", (Target("requests/s", s.requests()),)),
        PanelSpec(
            "Server errors",
            "percentunit",
            (
                Target("errors / requests", s.error_ratio()),
                _constant("alert threshold", spec.alerts.error_rate_percent / 100),
            ),
            "Share of requests failing on the server's side.",
        ),
        _latency_panel(s, latency_threshold_seconds(spec)),
        PanelSpec(
            "Replicas: available vs desired",
            "short",
            (
                Target("available", s.replicas_available()),
                Target("desired", s.replicas_desired()),
                _constant("maximum", scaling.max_replicas),
                _constant("minimum", scaling.min_replicas),
            ),
            "Desired is what the autoscaler asks for." if has_autoscaler(spec) else "A fixed number of replicas.",
        ),
    ]
    if uses_keda(spec) and scaling.metric in WHOLE_MODEL_METRICS:
        panels.append(
            PanelSpec(
                f"Scaling signal ({scaling.metric})",
                "s",
                (Target(scaling.metric, s.scaling_signal(scaling.metric)), _constant("target", scaling_target(spec))),
                "What KEDA scales on (a latency of the whole model), against the catalog's target.",
            )
        )
    elif uses_keda(spec):
        panels.append(
            PanelSpec(
                f"Scaling signal per replica ({scaling.metric})",
                "short",
                (
                    Target(
                        scaling.metric,
                        f"({s.scaling_signal(scaling.metric)}) / clamp_min({s.replicas_available()}, 1)",
                    ),
                    _constant("target", scaling_target(spec)),
                ),
                "What KEDA scales on, per available replica, against the catalog's target.",
            )
        )
    load = [Target("in the server (executing + queued)", s.in_flight())]
    queue = s.queue_depth()
    if queue is not None:
        load.append(Target("queued", queue))
    panels.append(PanelSpec("Requests in flight and queued", "short", tuple(load), s.row.in_flight_note))
    kv_cache = s.kv_cache_usage()
    if kv_cache is not None:
        panels.append(PanelSpec("KV-cache usage (fullest replica)", "percentunit", (Target("KV cache", kv_cache),)))
    if s.gpu:
        panels.append(PanelSpec("GPU utilisation", "percent", (Target("mean over GPUs", s.gpu_utilization()),)))
        panels.append(
            PanelSpec("GPU memory used (fullest GPU)", "percentunit", (Target("frame buffer", s.gpu_memory_used()),))
        )
    panels += [
        PanelSpec("CPU cores used", "short", (Target("server containers", s.cpu_cores_used()),)),
        PanelSpec(
            "Memory used / limit (fullest replica)", "percentunit", (Target("working set", s.memory_used_ratio()),)
        ),
        PanelSpec("Container restarts (1h)", "short", (Target("restarts", s.restarts()),)),
    ]
    panels += [
        PanelSpec(g.title, g.unit, (Target(g.title, fill(g.expr, **s.selectors, w=ALERT_WINDOW)),))
        for g in s.row.extra_graphs
    ]
    panels += adapter_panels(model, spec, settings, s)
    return panels


def adapter_panels(model: str, spec: ModelSpec, settings: StackSettings, s: ModelSignals) -> list[PanelSpec]:
    """Per LoRA adapter: how many replicas are running its requests (vLLM's `vllm:lora_requests_info`, whose
    `running_lora_adapters` label lists them), and with gateway routing the request rate per served name as the
    endpoint picker counts it (`inference_objective_request_total` by `model_name`: the base model or an adapter)."""
    if not spec.adapters:
        return []
    sel = s.selectors["sel"]
    running = tuple(
        Target(
            name,
            f"count(vllm:lora_requests_info{{{sel},running_lora_adapters=~{promql_string(f'(.*,)?{name}(,.*)?')}}})"
            " or vector(0)",
        )
        for name in sorted(spec.adapters)
    )
    panels = [
        PanelSpec(
            "LoRA adapters: replicas running each",
            "short",
            running,
            "Replicas with requests of the adapter in their running batch (vLLM reports adapters, not per-adapter "
            "request counts).",
        )
    ]
    if routed_by_gateway(spec, settings):
        expr = f"sum by (model_name) (rate(inference_objective_request_total{{{sel}}}[{ALERT_WINDOW}]))"
        panels.append(
            PanelSpec(
                "Requests per second by served name (endpoint picker)",
                "reqps",
                (Target("{{model_name}}", expr),),
                "The base model and each adapter, as the request's `model` names them.",
            )
        )
    return panels


def _latency_panel(s: ModelSignals, threshold: float) -> PanelSpec:
    targets = [Target(f"p{round(q * 100)}", expr) for q in (0.5, 0.9, 0.99) if (expr := s.latency(q)) is not None]
    if not targets:
        targets = [Target("mean", s.latency_mean())]
    targets.append(_constant("alert threshold", threshold))
    note = "" if s.latency_statistic == "p99" else "This runtime has no latency histogram: the mean."
    return PanelSpec("Request latency", "s", tuple(targets), note)


def model_dashboard(model: str, spec: ModelSpec, settings: StackSettings) -> Manifest:
    return _dashboard(
        uid=dashboard_uid(model, settings),
        title=f"{model} ({spec.runtime})",
        description=spec.description or "",
        tags=["ml-serving", spec.runtime, settings.environment.namespace],
        panels=model_panels(model, spec, settings),
    )


# --- the fleet ------------------------------------------------------------------------------------------------------


def fleet_panels(models: Mapping[str, ModelSpec], settings: StackSettings) -> list[PanelSpec]:
    namespace = settings.environment.namespace
    signals = [signals_for(model, spec, namespace) for model, spec in sorted(models.items())]

    def per_model(title: str, unit: str, expr, description: str = "") -> PanelSpec:
        return PanelSpec(title, unit, tuple(Target(s.model, expr(s)) for s in signals), description)

    panels = [
        per_model("Requests per second by model", "reqps", lambda s: s.requests()),
        per_model("Server error ratio by model", "percentunit", lambda s: s.error_ratio()),
        per_model(
            "Latency by model (p99; mean where the runtime has no histogram)",
            "s",
            lambda s: s.latency_for_alert(),
        ),
        PanelSpec(
            "Replicas available / desired",
            "short",
            tuple(
                t
                for s in signals
                for t in (
                    Target(f"{s.model} available", s.replicas_available()),
                    Target(f"{s.model} desired", s.replicas_desired()),
                )
            ),
        ),
        PanelSpec(
            "Firing alerts",
            "short",
            (
                Target(
                    "{{model}} {{alertname}} ({{severity}})",
                    fill(table.FIRING_ALERTS, ns=f"namespace={promql_string(namespace)}"),
                ),
            ),
        ),
    ]
    gpu = [s for s in signals if s.gpu]
    if gpu:
        panels.append(
            PanelSpec("GPU utilisation by model", "percent", tuple(Target(s.model, s.gpu_utilization()) for s in gpu))
        )
        panels.append(
            PanelSpec(
                "GPU utilisation by node",
                "percent",
                (Target("{{node}}", table.GPU_UTILIZATION_BY_NODE),),
                "Every GPU node the DCGM exporter runs on; either spelling of its node label (Hostname, hostname).",
            )
        )
    return panels


def fleet_dashboard(models: Mapping[str, ModelSpec], settings: StackSettings) -> Manifest:
    return _dashboard(
        uid=dashboard_uid(FLEET_UID, settings),
        title=f"ML serving overview ({settings.environment.namespace})",
        description="Every model of the stack: traffic, errors, latency, replicas, alerts and GPUs.",
        tags=["ml-serving", settings.environment.namespace],
        panels=fleet_panels(models, settings),
    )


#: Grafana's limit on a dashboard UID.
UID_MAX = 40


def dashboard_uid(base: str, settings: StackSettings) -> str:
    """A dashboard's UID: its own name in the stack's own Grafana (monitoring mode managed); qualified by the stack's
    namespace in a Grafana other stacks share (mode existing), shortened with a digest to Grafana's 40 characters."""
    if settings.monitoring.mode == "managed":
        return base
    uid = f"{settings.environment.namespace}-{base}"
    if len(uid) <= UID_MAX:
        return uid
    digest = hashlib.sha256(uid.encode()).hexdigest()[:8]
    return f"{uid[: UID_MAX - 9]}-{digest}"


def dashboard_config_map(
    name: str, dashboard: Manifest, settings: StackSettings, extra_labels: dict[str, str] | None = None
) -> Manifest:
    """The ConfigMap Grafana's sidecar loads ``dashboard`` from: in the stack's monitoring namespace, or, in a
    namespace other stacks share (mode existing), named after the stack's namespace too. ``extra_labels``: a
    model's release labels."""
    if settings.monitoring.mode == "existing":
        name = f"{settings.environment.namespace}-{name}"
    labels = {
        **platform_labels("dashboard", settings.environment.labels),
        **(extra_labels or {}),
        DASHBOARD_LABEL_KEY: DASHBOARD_LABEL_VALUE,
    }
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": settings.monitoring.namespace, "labels": labels},
        "data": {f"{dashboard['uid']}.json": indented_json(dashboard) + "\n"},
    }


class _NotPlainError(Exception):
    """A value ``indented_json`` leaves to the json module (a key that is not text, a type other than JSON's own)."""


def indented_json(value: Any) -> str:
    """``json.dumps(value, indent=2, sort_keys=True)``: the same text, more than twice as fast. The json module
    writes indented text with its pure-Python encoder (its C encoder has no indentation), a generator per level; a
    dashboard of every model is tens of kilobytes of it (tests/components/test_indented_json.py compares the two)."""
    out: list[str] = []
    try:
        _indented(value, "\n", out)
    except _NotPlainError:
        return json.dumps(value, indent=2, sort_keys=True)
    return "".join(out)


def _indented(value: Any, newline: str, out: list[str]) -> None:
    kind = type(value)
    if kind is str:
        out.append(encode_basestring_ascii(value))
    elif kind is dict:
        if not value:
            out.append("{}")
            return
        inner = newline + "  "
        separator = "{" + inner
        for key in sorted(value):
            if type(key) is not str:
                raise _NotPlainError
            out.append(separator)
            out.append(encode_basestring_ascii(key))
            out.append(": ")
            _indented(value[key], inner, out)
            separator = "," + inner
        out.append(newline + "}")
    elif kind is list or kind is tuple:
        if not value:
            out.append("[]")
            return
        inner = newline + "  "
        separator = "[" + inner
        for item in value:
            out.append(separator)
            _indented(item, inner, out)
            separator = "," + inner
        out.append(newline + "]")
    elif value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif kind is int:
        out.append(int.__repr__(value))
    elif kind is float:
        if value != value:
            out.append("NaN")
        elif value == INFINITY:
            out.append("Infinity")
        elif value == -INFINITY:
            out.append("-Infinity")
        else:
            out.append(float.__repr__(value))
    else:
        raise _NotPlainError
