"""CRD schemas: found by variable, ../shared/crds or `make crds`; downloads are pinned by sha256."""

from __future__ import annotations

import hashlib

import pytest

from mlserve import crds as crd_module
from mlserve.crds import CRD_DIR_ENV, crd_dir, download
from platform_data.pins import CRDS, CrdPin


def test_the_variable_wins_and_a_missing_directory_means_none(monkeypatch, tmp_path):
    monkeypatch.setenv(CRD_DIR_ENV, str(tmp_path))
    assert crd_dir() == tmp_path
    monkeypatch.setenv(CRD_DIR_ENV, str(tmp_path / "missing"))
    assert crd_dir() is None


def test_every_pinned_crd_is_the_file_the_checks_use(crds):
    for name, pin in CRDS.items():
        assert hashlib.sha256((crds / name).read_bytes()).hexdigest() == pin.sha256, name
        assert pin.url.startswith("https://raw.githubusercontent.com/") and pin.url.endswith("/" + name)


def test_every_rendered_custom_resource_kind_has_a_pinned_crd():
    kinds = {"PodMonitor": "podmonitors", "PrometheusRule": "prometheusrules", "ScaledObject": "scaledobjects"}
    kinds |= {"NodePool": "nodepools", "EC2NodeClass": "ec2nodeclasses"}
    assert all(any(f"_{plural}.yaml" in name for name in CRDS) for plural in kinds.values())


def fake_upstream(tmp_path, monkeypatch, *, corrupt: str | None = None) -> dict[str, bytes]:
    contents = {name: f"kind: CustomResourceDefinition  # {name}\n".encode() for name in ("a.yaml", "b.yaml")}
    pins = {}
    for name, body in contents.items():
        (tmp_path / name).write_bytes(body + (b"# changed upstream\n" if name == corrupt else b""))
        pins[name] = CrdPin((tmp_path / name).as_uri(), hashlib.sha256(body).hexdigest())
    monkeypatch.setattr(crd_module, "CRDS", pins)
    return contents


def test_make_crds_writes_every_pinned_file_after_checking_its_sha256(tmp_path, monkeypatch):
    contents = fake_upstream(tmp_path, monkeypatch)
    download(tmp_path / "crds")
    assert {name: (tmp_path / "crds" / name).read_bytes() for name in contents} == contents


def test_make_crds_writes_nothing_when_one_file_differs_from_its_pin(tmp_path, monkeypatch):
    fake_upstream(tmp_path, monkeypatch, corrupt="b.yaml")
    with pytest.raises(ValueError, match=r"b.yaml: .* has sha256 [0-9a-f]{64}, the pin says"):
        download(tmp_path / "crds")
    assert not (tmp_path / "crds").exists()
