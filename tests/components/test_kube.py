"""components/kube.py: each kind's typed pulumi-kubernetes class, imported on first use."""

from __future__ import annotations

from components import kube


def test_every_typed_kind_resolves_to_the_class_of_its_api_group_and_version():
    for api_version, kind in kube._TYPED:
        group, _, version = api_version.rpartition("/")
        module = group.split(".")[0] or "core"
        cls = kube.typed_class(api_version, kind)
        assert cls.__module__ == f"pulumi_kubernetes.{module}.{version}.{kind}", (api_version, kind)
        assert kube.typed_class(api_version, kind) is cls  # resolved once


def test_custom_resources_have_no_typed_class():
    assert kube.typed_class("monitoring.coreos.com/v1", "PodMonitor") is None
    assert kube.typed_class("apps/v1", "Nonexistent") is None
