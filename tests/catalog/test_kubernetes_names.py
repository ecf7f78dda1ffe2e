"""Label keys and values, annotation keys and CIDRs: the API server's rules (apimachinery), in the settings and the
catalog and on every rendered object."""

from __future__ import annotations

import pytest

from mlserve.manifest_checks import api_server_rules
from model_catalog.kubernetes_names import cidr_errors, label_value_errors, qualified_name_errors
from tests.catalog.test_settings import errors
from tests.helpers import BASE_SETTINGS, problems

# Cases from apimachinery's validation_test.go (TestIsQualifiedName, TestIsValidLabelValue).
GOOD_NAMES = ["simple", "now-with-dashes", "1-starts-with-num", "1234", "simple/simple", "now-with-dashes/simple",
              "now-with-dashes/now-with-dashes", "now.with.dots/simple", "now-with.dashes-and.dots/simple",
              "1-num.2-num/3-num", "1234/5678", "1.2.3.4/5678", "Uppercase_Is_OK_123", "example.com/Uppercase_Is_OK_123",
              "requests.storage-foo", "a" * 63, "a" * 253 + "/" + "b" * 63]  # fmt: skip
BAD_NAMES = ["nospecialchars%^=@", "cantendwithadash-", "-cantstartwithadash-", "only/one/slash", "Example.com/abc",
             "example_com/abc", "example.com/", "/simple", "a" * 64, "a" * 254 + "/abc", "", "a b"]  # fmt: skip
GOOD_VALUES = ["simple", "now-with-dashes", "1-starts-with-num", "end-with-num-1", "1234", "a" * 63, "", "a.b_c-d"]
BAD_VALUES = ["nospecialchars%^=@", "Tama-nui-te-rā.is.Māori.sun", "\\backslashes", "-starts-with-dash",
              "ends-with-dash-", ".starts.with.dot", "ends.with.dot.", "a" * 64, "a/b"]  # fmt: skip


@pytest.mark.parametrize("name", GOOD_NAMES)
def test_qualified_names_the_api_server_accepts(name):
    assert qualified_name_errors(name) == []


@pytest.mark.parametrize("name", BAD_NAMES)
def test_qualified_names_the_api_server_rejects(name):
    assert qualified_name_errors(name)


@pytest.mark.parametrize("value", GOOD_VALUES)
def test_label_values_the_api_server_accepts(value):
    assert label_value_errors(value) == []


@pytest.mark.parametrize("value", BAD_VALUES)
def test_label_values_the_api_server_rejects(value):
    assert label_value_errors(value)


@pytest.mark.parametrize("cidr", ["10.0.0.0/16", "0.0.0.0/0", "192.168.1.7/32", "10.1.2.3/8"])
def test_valid_cidrs(cidr):
    assert cidr_errors(cidr) == []


@pytest.mark.parametrize("cidr", ["999.1.1.1/99", "10.0.0.0/33", "10.0.0.0", "1.2.3/8", "010.0.0.0/8"])
def test_invalid_cidrs(cidr):
    assert cidr_errors(cidr)[0].startswith("must be a valid CIDR")


def test_the_settings_reject_what_the_api_server_would():
    found = errors(
        {
            **BASE_SETTINGS,
            "environment": {"tier": "dev", "namespace": "ml-test", "labels": {"cost centre": "-x"}},
            "network": {"weightsEgressCidrs": ["999.1.1.1/99"], "identityAnnotations": {"a/b/c": "x"}},
        }
    )
    text = "\n".join(found)
    assert "ml-serving:environment.labels: label key 'cost centre': name part must consist of alphanumeric" in text
    assert "label 'cost centre' value '-x': a valid label must be an empty string or consist of" in text
    assert "ml-serving:network.weightsEgressCidrs[0]: got '999.1.1.1/99' (a string); must be a valid CIDR" in text
    assert "ml-serving:network.identityAnnotations: annotation key 'a/b/c': a qualified name must consist" in text


def test_the_catalog_rejects_bad_pod_labels():
    (line,) = problems(
        """
        models:
          m:
            runtime: triton
            weights: {uri: "s3://bucket/m/", sizeGiB: 2}
            resources: {cpu: "2", memory: 8Gi}
            exposure:
              clients: [{podLabels: {app: "-no-"}}]
        """
    )
    assert "models.m.exposure.clients[0].podLabels: label 'app' value '-no-': a valid label must be" in line


def test_rendered_objects_are_checked_for_the_same_rules():
    policy = {
        "kind": "NetworkPolicy",
        "metadata": {"name": "p", "labels": {"ok": "fine", "bad key": "v"}, "annotations": {"-x": ""}},
        "spec": {"egress": [{"to": [{"ipBlock": {"cidr": "999.1.1.1/99", "except": ["10.0.0.0/8"]}}]}]},
    }
    found = api_server_rules(policy)
    assert len(found) == 3
    assert found[0].startswith("metadata.labels: label key 'bad key':")
    assert found[1].startswith("metadata.annotations: annotation key '-x':")
    assert found[2].startswith("spec.egress[0].to[0].ipBlock.cidr: '999.1.1.1/99' must be a valid CIDR")
