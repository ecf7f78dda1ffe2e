"""MonitoringStack: one stack's Prometheus, Alertmanager and Grafana (kube-prometheus-stack), the DCGM exporter when
the stack runs GPU models, KEDA when a model scales on a Prometheus metric, and the fleet dashboard.

Charts are Helm v4 ``Chart`` resources (docs/monitoring.md#why-helm-chart-v4-and-not-release): every object of a
chart is its own Pulumi resource, so previews diff per object and the CRDs are upgraded with the chart. v4 charts
drop Helm hooks; the values switch off the only hook-based pieces (the operator's admission webhook certificates,
Grafana's test Pod). Grafana's admin password is generated (pulumi-random, a secret output) into a Kubernetes Secret the chart
references by name: no Output ever enters chart values.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random

from model_catalog.schema import ModelSpec
from model_catalog.settings import StackSettings
from platform_data import pins

from .dashboards import FLEET_UID, dashboard_config_map, fleet_dashboard
from .kube import read, register
from .monitoring import (
    autoscaler_namespace_manifest,
    autoscaler_network_policies,
    dcgm_exporter_values,
    grafana_admin_secret,
    keda_values,
    kube_prometheus_stack_values,
    monitoring_namespace_manifest,
    monitoring_network_policies,
    monitoring_release,
    prometheus_url,
    uses_keda,
)
from .namespace import register_policies
from .protection import crd_chart_protection, namespace_protection

TYPE = "ml-serving:monitoring:MonitoringStack"
#: Grafana admin password: 32 letters and digits (~190 bits), nothing a shell or a URL would need to escape.
GRAFANA_PASSWORD_LENGTH = 32


@dataclass
class MonitoringStackArgs:
    settings: StackSettings
    """The stack's settings; ``settings.monitoring`` sizes Prometheus and Alertmanager and names the namespaces."""
    models: dict[str, ModelSpec]
    """The stack's enabled models: the fleet dashboard shows them; GPU models bring the DCGM exporter, models
    scaled on Prometheus metrics bring KEDA."""
    gpu_accelerators: list[str] | None = None
    """The accelerators whose nodes get the DCGM exporter (mode managed) whatever ``models`` say: a split
    environment's platform stack, whose teams' models run on its declared GPU nodes; None: those of ``models``."""
    autoscaler: bool | None = None
    """Install KEDA (mode managed, clusterWide) whatever ``models`` say: a split environment's platform stack, whose
    teams' models may scale on Prometheus metrics; None: when one of ``models`` does."""


def _chart(
    name: str, chart: pins.Chart, release: str, namespace: str, values: dict, opts: pulumi.ResourceOptions
) -> k8s.helm.v4.Chart:
    return k8s.helm.v4.Chart(
        name,
        chart=chart.name,
        version=chart.version,
        repository_opts=k8s.helm.v4.RepositoryOptsArgs(repo=chart.repo),
        # The Helm release name, fixed so that renaming the Pulumi resource never renames the chart's objects, and
        # per stack where the chart names cluster-scoped objects after it (docs/monitoring.md#shared-clusters).
        name=release,
        namespace=namespace,
        values=values,
        # A v4 Chart drops hook resources (helm.sh/hook) instead of running them; includeHooks only keeps them in a
        # renderYamlToDirectory output for another tool (pulumi-kubernetes 4.33.0, #3284). Said explicitly here.
        include_hooks=False,
        opts=opts,
    )


#: CRDs the per-model objects are instances of, checked before anything in mode existing.
OPERATOR_CRDS = ("podmonitors.monitoring.coreos.com", "prometheusrules.monitoring.coreos.com")
KEDA_CRDS = ("scaledobjects.keda.sh",)


class MonitoringStack(pulumi.ComponentResource):
    """The stack's monitoring and autoscaling infrastructure (mode managed), or the check that the cluster's own is
    there (mode existing)."""

    prometheus_url: str
    """In-cluster URL of Prometheus (what KEDA queries)."""
    operator: pulumi.Resource | None
    """kube-prometheus-stack (mode managed): PodMonitors and PrometheusRules depend on it (its CRDs)."""
    autoscaler: pulumi.Resource | None
    """KEDA, when this stack installs it: ScaledObjects depend on it (its CRDs)."""
    dashboards_ready: list[pulumi.Resource]
    """What dashboard ConfigMaps wait for: the monitoring namespace when the stack creates it."""

    def __init__(self, name: str, args: MonitoringStackArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(TYPE, name, None, opts)
        settings = args.settings
        self.prometheus_url = prometheus_url(settings)
        self.operator = None
        self.autoscaler = None
        self.dashboards_ready = []
        self.preflight: list[pulumi.Resource] = []
        if settings.monitoring.mode == "existing":
            self._check_existing(name, args)
        else:
            self._install(name, args)
        self.fleet_dashboard = register(
            f"{name}-fleet-dashboard",
            dashboard_config_map(FLEET_UID, fleet_dashboard(args.models, settings), settings),
            pulumi.ResourceOptions(parent=self, depends_on=self.dashboards_ready),
        )
        self.register_outputs(
            {
                "mode": settings.monitoring.mode,
                "namespace": settings.monitoring.namespace,
                "prometheusUrl": self.prometheus_url,
            }
        )

    def _check_existing(self, name: str, args: MonitoringStackArgs) -> None:
        """Read the CRDs the per-model objects need: a cluster without them fails the preview, before anything is
        created, instead of failing on the first PodMonitor. No dependency on the reads is needed (a read that
        fails stops the program)."""
        crds = list(OPERATOR_CRDS) + (list(KEDA_CRDS) if any(uses_keda(s) for s in args.models.values()) else [])
        for crd in crds:
            self.preflight.append(
                read(
                    f"{name}-requires-{crd.split('.')[0]}",
                    "apiextensions.k8s.io/v1",
                    "CustomResourceDefinition",
                    crd,
                    pulumi.ResourceOptions(parent=self),
                )
            )

    def _install(self, name: str, args: MonitoringStackArgs) -> None:
        settings = args.settings
        mon = settings.monitoring
        assert mon.namespace is not None and mon.autoscaler_namespace is not None, "derived for mode managed"
        # Prometheus' volumes live in this namespace: protected and retained in prod (components/protection.py).
        self.namespace = register(
            f"{name}-namespace",
            monitoring_namespace_manifest(settings),
            pulumi.ResourceOptions(parent=self, **namespace_protection(settings, stateful=True)),
        )
        self.dashboards_ready = [self.namespace]
        in_namespace = pulumi.ResourceOptions(parent=self, depends_on=[self.namespace])
        with_autoscaler = args.autoscaler or any(uses_keda(spec) for spec in args.models.values())
        self.network_policies = register_policies(
            f"{name}-netpol", monitoring_network_policies(settings, with_autoscaler), in_namespace
        )
        self.grafana_password = random.RandomPassword(
            f"{name}-grafana-admin-password",
            length=GRAFANA_PASSWORD_LENGTH,
            special=False,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.grafana_admin = register(
            f"{name}-grafana-admin", grafana_admin_secret(settings, self.grafana_password.result), in_namespace
        )
        # Its CRDs (clusterWide) hold every PodMonitor and PrometheusRule of the cluster: never deleted with the stack.
        chart_protection = crd_chart_protection(settings) if mon.cluster_wide else {}
        self.operator = _chart(
            f"{name}-kube-prometheus-stack",
            pins.KUBE_PROMETHEUS_STACK,
            monitoring_release(settings),
            mon.namespace,
            kube_prometheus_stack_values(settings),
            pulumi.ResourceOptions(parent=self, depends_on=[self.namespace, self.grafana_admin], **chart_protection),
        )
        gpu_accelerators = args.gpu_accelerators
        if gpu_accelerators is None:
            gpu_accelerators = [
                s.resources.gpu.accelerator for s in args.models.values() if s.resources.gpu is not None
            ]
        self.gpu_exporter = (
            _chart(
                f"{name}-dcgm-exporter",
                pins.DCGM_EXPORTER,
                f"{settings.environment.namespace}-dcgm-exporter",
                mon.namespace,
                dcgm_exporter_values(settings, gpu_accelerators),
                # Its ServiceMonitor needs the operator's CRDs.
                pulumi.ResourceOptions(parent=self, depends_on=[self.operator]),
            )
            if gpu_accelerators
            else None
        )
        # KEDA exists once per cluster (its external-metrics APIService): installed by the clusterWide stack only.
        if mon.cluster_wide and with_autoscaler:
            self.autoscaler_namespace = register(
                f"{name}-autoscaler-namespace",
                autoscaler_namespace_manifest(settings),
                pulumi.ResourceOptions(parent=self, **namespace_protection(settings, stateful=False)),
            )
            self.autoscaler_policies = register_policies(
                f"{name}-autoscaler-netpol",
                autoscaler_network_policies(settings),
                pulumi.ResourceOptions(parent=self, depends_on=[self.autoscaler_namespace]),
            )
            self.autoscaler = _chart(
                f"{name}-keda",
                pins.KEDA,
                pins.KEDA.name,
                mon.autoscaler_namespace,
                keda_values(settings),
                # Its CRDs hold every ScaledObject of the cluster: never deleted with the stack.
                pulumi.ResourceOptions(
                    parent=self, depends_on=[self.autoscaler_namespace], **crd_chart_protection(settings)
                ),
            )
