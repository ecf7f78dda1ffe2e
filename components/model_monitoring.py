"""ModelMonitoring: what makes one model observed and autoscaled on its real signal.

A PodMonitor on the runtime's metrics endpoint, a PrometheusRule (ModelDown and the rest, docs/runbooks.md), a
Grafana dashboard, and for models scaled on a Prometheus-read metric (requests per second, concurrency, GPU
utilisation) a KEDA ScaledObject. The objects are built by ``components.monitoring`` and ``components.dashboards``
(pure functions); this class registers them as children named ``<model>-<role>``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi

from model_catalog.schema import ModelSpec
from model_catalog.settings import StackSettings

from .canary import canary_rules
from .dashboards import dashboard_config_map, model_dashboard
from .kube import register
from .labels import model_labels
from .monitoring import pod_monitor, prometheus_rule, scaled_object
from .monitoring_stack import MonitoringStack

TYPE = "ml-serving:monitoring:ModelMonitoring"


@dataclass
class ModelMonitoringArgs:
    model: str
    """Catalog key; names every object."""
    spec: ModelSpec
    """The model as effective in this stack."""
    settings: StackSettings
    """The stack's settings (namespaces, scrape interval, runbook location, wake hours)."""
    deployment: pulumi.Resource
    """The model's Deployment: the ScaledObject is created after it."""
    stack: MonitoringStack
    """The stack's monitoring: its charts install the CRDs these objects are instances of."""
    release: dict[str, str] = field(default_factory=dict)
    """app.kubernetes.io/instance and /version of this stack's release of the model (labels.release_labels)."""


class ModelMonitoring(pulumi.ComponentResource):
    """Scraping, alerts, dashboard and (when the metric needs Prometheus) the autoscaler of one model."""

    def __init__(self, name: str, args: ModelMonitoringArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(TYPE, name, None, opts)
        model, spec, settings = args.model, args.spec, args.settings
        labels = model_labels(model, spec.runtime, settings.environment.labels, args.release)
        operator = [args.stack.operator] if args.stack.operator is not None else []
        after_operator = pulumi.ResourceOptions(parent=self, depends_on=operator)
        self.pod_monitor = register(f"{name}-pod-monitor", pod_monitor(model, spec, settings, labels), after_operator)
        self.alert_rules = register(
            f"{name}-alert-rules", prometheus_rule(model, spec, settings, labels), after_operator
        )
        self.dashboard = register(
            f"{name}-dashboard",
            dashboard_config_map(
                f"dashboard-{model}", model_dashboard(model, spec, settings), settings, extra_labels=args.release
            ),
            pulumi.ResourceOptions(parent=self, depends_on=args.stack.dashboards_ready),
        )
        self.canary_rules = None
        if spec.rollout.canary is not None:
            self.canary_rules = register(
                f"{name}-canary-alert-rules", canary_rules(model, spec, settings, labels), after_operator
            )
        self.scaled_object = None
        manifest = scaled_object(model, spec, settings, labels)
        if manifest is not None:
            # KEDA is this stack's (clusterWide), or another stack's or the cluster's own, checked by its preflight.
            keda = [args.stack.autoscaler] if args.stack.autoscaler is not None else []
            self.scaled_object = register(
                f"{name}-scaled-object",
                manifest,
                pulumi.ResourceOptions(parent=self, depends_on=[*keda, args.deployment]),
            )
        self.register_outputs(
            {
                "podMonitor": self.pod_monitor.metadata.apply(lambda m: m["name"]),
                "alertRules": self.alert_rules.metadata.apply(lambda m: m["name"]),
                "dashboard": self.dashboard.metadata.apply(lambda m: m["name"]),
            }
        )
