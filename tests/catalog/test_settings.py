"""Stack settings: typed like the catalog, located in Pulumi.<stack>.yaml, secrets only as secrets."""

import pytest

from model_catalog.errors import ConfigurationError
from model_catalog.settings import parse_settings
from model_catalog.yaml_source import parse_yaml
from tests.helpers import BASE_SETTINGS, engine_config

STACK_FILE = """\
config:
  ml-serving:environment:
    tier: prod
    namespace: ml-prod
  ml-serving:cluster:
    name: prod-eks
    kubernetesVersion: 1.33
  ml-serving:gpuNodePool:
    provider: karpenter
    capacityType: spot
    nodeRole: role
  ml-serving:monitring:
    enabled: true
"""


def parse(values, secret_keys=(), doc=None):
    return parse_settings(engine_config(values), set(secret_keys), "prod", doc)


def errors(values, secret_keys=(), doc=None) -> list[str]:
    with pytest.raises(ConfigurationError) as info:
        parse(values, secret_keys, doc)
    return [str(p) for p in info.value.problems]


def test_minimal_settings_get_safe_defaults():
    s = parse(BASE_SETTINGS)
    assert s.catalog == "models.yaml"
    assert s.registry.type == "none" and s.gpu_node_pool.provider == "none" and s.monitoring.enabled is False
    assert s.network.weights_egress_cidrs == ["0.0.0.0/0"]


def test_problems_are_located_in_the_stack_file_with_their_config_key():
    doc = parse_yaml(STACK_FILE, "Pulumi.prod.yaml")
    values = {
        "environment": {"tier": "prod", "namespace": "ml-prod"},
        "cluster": {"name": "prod-eks", "kubernetesVersion": 1.33},
        "gpuNodePool": {"provider": "karpenter", "capacityType": "spot", "nodeRole": "role"},
        "monitring": {"enabled": True},
    }
    assert errors(values, doc=doc) == [
        'Pulumi.prod.yaml:7:24: ml-serving:cluster.kubernetesVersion: got 1.33 (a number); write it quoted, "1.33" '
        "(YAML reads it as a number)",
        "Pulumi.prod.yaml:12:3: ml-serving:monitring: unknown setting 'ml-serving:monitring'; did you mean "
        "'monitoring'? allowed: catalog, environment, cluster, registry, gpuNodePool, monitoring, ingress, network, "
        "routing, secrets, weightsCache, split, registryPassword, secretValues",
    ]


def test_prod_never_runs_on_spot_gpus():
    values = {
        **BASE_SETTINGS,
        "environment": {"tier": "prod", "namespace": "ml-prod"},
        "gpuNodePool": {"provider": "karpenter", "capacityType": "spot", "nodeRole": "r"},
    }
    (line,) = errors(values)
    assert "ml-serving:gpuNodePool.capacityType: a prod stack must use 'on-demand' GPUs" in line


def test_a_secret_key_with_a_plain_value_is_an_error():
    (line,) = errors({**BASE_SETTINGS, "registryPassword": "hunter2"})
    assert "'ml-serving:registryPassword' must be a secret; run: pulumi config set --secret" in line
    assert "hunter2" not in line


EXTERNAL_REGISTRY = {"type": "external", "address": "registry.example.com/ml", "username": "robot-ml"}


def test_a_secret_key_set_as_a_secret_is_accepted():
    values = {**BASE_SETTINGS, "registry": EXTERNAL_REGISTRY, "registryPassword": "x"}
    parse(values, secret_keys=["ml-serving:registryPassword"])


def test_an_external_registry_user_without_its_password_secret_is_rejected():
    (line,) = errors({**BASE_SETTINGS, "registry": EXTERNAL_REGISTRY})
    assert "ml-serving:registry.username: a username needs its password as a secret; run: pulumi config set " in line


def test_a_registry_password_that_nothing_reads_is_rejected():
    (line,) = errors({**BASE_SETTINGS, "registryPassword": "x"}, secret_keys=["ml-serving:registryPassword"])
    assert "ml-serving:registryPassword: nothing reads this secret" in line and "'x'" not in line


def test_an_external_registry_without_a_user_needs_no_secret():
    registry = {"type": "external", "address": "registry.example.com/ml"}
    assert parse({**BASE_SETTINGS, "registry": registry}).registry.username is None


def test_ecr_encrypts_with_aes256_unless_a_kms_key_is_given():
    ecr = {"type": "ecr", "region": "eu-west-1", "accountId": "444455556666"}
    assert parse({**BASE_SETTINGS, "registry": ecr}).registry.kms_key_arn is None
    key = "arn:aws:kms:eu-west-1:444455556666:key/0b1c2d3e-4f50"
    assert parse({**BASE_SETTINGS, "registry": {**ecr, "kmsKeyArn": key}}).registry.kms_key_arn == key


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ({"registry": {"type": "ecr"}}, "ml-serving:registry.type: type 'ecr' needs 'region' and 'accountId'"),
        ({"registry": {"type": "external"}}, "ml-serving:registry.address: type 'external' needs 'address'"),
        ({"registry": {"address": "r.example.com"}}, "'address' and 'username' are only for type 'external'"),
        (
            {"registry": {"type": "ecr", "region": "eu-west-1", "accountId": "1" * 12, "kmsKeyArn": "alias/ecr"}},
            "ml-serving:registry.kmsKeyArn: got 'alias/ecr' (a string); must be a KMS key ARN, arn:aws:kms:<region>:<account>:key/",
        ),
        (
            {
                "registry": {
                    "type": "ecr",
                    "region": "eu-west-1",
                    "accountId": "1" * 12,
                    "kmsKeyArn": "arn:aws:kms:us-east-1:111111111111:key/abc",
                }
            },
            "the key is in 'us-east-1' but the repositories are in 'eu-west-1'; ECR needs a key in the repositories'",
        ),
        (
            {"registry": {"type": "none", "kmsKeyArn": "arn:aws:kms:us-east-1:111111111111:key/abc"}},
            "ml-serving:registry.kmsKeyArn: 'kmsKeyArn' is only for type 'ecr'",
        ),
        ({"gpuNodePool": {"provider": "existing"}}, "provider 'existing' needs the labels of the GPU nodes"),
        ({"gpuNodePool": {"provider": "karpenter"}}, "provider 'karpenter' needs 'nodeRole'"),
        ({"environment": {"tier": "qa", "namespace": "x"}}, "got 'qa' (a string); allowed: 'dev', 'prod', 'staging'"),
        ({"environment": {"tier": "dev", "namespace": "ML"}}, "ml-serving:environment.namespace: got 'ML'"),
        ({"monitoring": {"enabled": True, "namespace": "ml-test"}}, "the monitoring stack needs its own namespace"),
    ],
)
def test_inconsistent_settings_are_rejected(override, expected):
    lines = errors({**BASE_SETTINGS, **override})
    assert any(expected in line for line in lines), lines


def test_required_settings_are_named_when_missing():
    lines = errors({"cluster": BASE_SETTINGS["cluster"]})
    assert lines == ["Pulumi.prod.yaml:1:1: ml-serving:environment: required field 'environment' is missing"]


def test_config_of_other_namespaces_is_left_alone():
    parse_settings({**engine_config(BASE_SETTINGS), "aws:region": "y", "pulumi:tags": "{}"}, set(), "dev", None)


@pytest.mark.parametrize(
    ("key", "instead"),
    [
        ("kubernetes:context", "set ml-serving:cluster.context instead"),
        ("kubernetes:kubeconfig", "name the cluster with ml-serving:cluster.context (and KUBECONFIG for the file)"),
    ],
)
def test_a_kubernetes_config_key_is_an_error_naming_the_stack_setting(key, instead):
    with pytest.raises(ConfigurationError) as info:
        parse_settings({**engine_config(BASE_SETTINGS), key: "x"}, set(), "dev", None)
    (line,) = [str(p) for p in info.value.problems]
    assert line == (
        f"Pulumi.dev.yaml:1:1: {key}: '{key}' is not read: this program builds its own Kubernetes provider from the "
        f"stack's settings, so the kubernetes: config namespace is ignored; {instead}, then run: pulumi config rm "
        f"{key}"
    )


@pytest.mark.parametrize("tier", ["staging", "prod"])
def test_staging_and_prod_name_their_context_and_the_clusters_identity(tier):
    cluster = {"name": "c", "kubernetesVersion": "1.33"}
    lines = errors({**BASE_SETTINGS, "environment": {"tier": tier, "namespace": "ml"}, "cluster": cluster})
    assert [line.split(": ")[1] for line in lines] == ["ml-serving:cluster.context", "ml-serving:cluster.kubeSystemUid"]
    assert f"a {tier} stack names its kubeconfig context" in lines[0]
    assert "refuses to deploy to any other cluster" in lines[1]


def test_dev_may_leave_the_cluster_identity_unpinned():
    parse({**BASE_SETTINGS, "cluster": {"name": "c", "kubernetesVersion": "1.33"}})


def test_the_cluster_identity_is_a_uid():
    cluster = {**BASE_SETTINGS["cluster"], "kubeSystemUid": "kube-system"}
    (line,) = errors({**BASE_SETTINGS, "cluster": cluster})
    assert "ml-serving:cluster.kubeSystemUid" in line and "a Kubernetes object UID" in line


def test_gpu_pools_default_to_safe_disruption_and_the_pinned_ami():
    pools = parse(BASE_SETTINGS).gpu_node_pool
    assert pools.consolidate_after == "30m" and pools.expire_after == "Never"
    assert pools.ami_alias is None and pools.install_device_plugin is True and pools.sharing == {}


def test_gpu_sharing_is_only_for_karpenter_pools():
    sharing = {"nvidia-l4": {"timeSlicingReplicas": 4}}
    (line,) = errors({**BASE_SETTINGS, "gpuNodePool": {"provider": "none", "sharing": sharing}})
    assert "ml-serving:gpuNodePool.sharing: 'sharing' is only for provider 'karpenter' (got 'none')" in line
    pools = parse({**BASE_SETTINGS, "gpuNodePool": {"provider": "karpenter", "nodeRole": "r", "sharing": sharing}})
    assert pools.gpu_node_pool.sharing["nvidia-l4"].time_slicing_replicas == 4


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("consolidateAfter", "30 minutes", 'a duration such as "30m", "12h" or "1h30m", or "Never"'),
        ("expireAfter", "never", 'a duration such as "30m", "12h" or "1h30m", or "Never"'),
        ("amiAlias", "bottlerocket@latest", "an Amazon Linux 2023 alias, al2023@v<YYYYMMDD>"),
        ("sharing", {"nvidia-l4": {"timeSlicingReplicas": 1}}, "timeSlicingReplicas"),
        ("sharing", {"nvidia-l5": {"timeSlicingReplicas": 2}}, "nvidia-l5"),
    ],
)
def test_gpu_pool_settings_explain_their_format(field, value, expected):
    pools = {"provider": "karpenter", "nodeRole": "r", field: value}
    lines = errors({**BASE_SETTINGS, "gpuNodePool": pools})
    assert any(expected in line for line in lines), lines


PROD_MONITORING = {"enabled": True, "storage": "200Gi", "prometheusReplicas": 2, "alertmanagerReplicas": 2}


def prod(monitoring: dict) -> dict:
    return {**BASE_SETTINGS, "environment": {"tier": "prod", "namespace": "ml-prod"}, "monitoring": monitoring}


def test_monitoring_defaults_are_a_single_small_prometheus_without_a_volume():
    m = parse({**BASE_SETTINGS, "monitoring": {"enabled": True}}).monitoring
    assert (m.retention, m.storage, m.prometheus_replicas, m.alertmanager_replicas) == ("15d", None, 1, 1)
    # per-stack namespaces, so two stacks in one cluster never own the same Namespace
    assert (m.namespace, m.autoscaler_namespace) == ("ml-test-monitoring", "ml-test-keda")
    assert (m.mode, m.cluster_wide, m.scrape_interval, m.wake_hours) == ("managed", True, "15s", None)


def test_a_prod_stack_keeps_metrics_on_a_volume_with_redundant_prometheus_and_alertmanager():
    lines = errors(prod({"enabled": True}))
    assert any(
        "ml-serving:monitoring.storage: a prod stack keeps its metrics on a persistent volume" in x for x in lines
    )
    assert any("ml-serving:monitoring.prometheusReplicas: got 1; a prod stack runs >= 2" in x for x in lines)
    assert any("ml-serving:monitoring.alertmanagerReplicas: got 1; a prod stack runs >= 2" in x for x in lines)
    assert parse(prod(PROD_MONITORING)).monitoring.storage == "200Gi"


@pytest.mark.parametrize("namespace", ["ml-test-monitoring", "ml-test"])
def test_keda_gets_a_namespace_of_its_own(namespace):
    (line,) = errors({**BASE_SETTINGS, "monitoring": {"enabled": True, "autoscalerNamespace": namespace}})
    assert f"ml-serving:monitoring.autoscalerNamespace: got '{namespace}'; KEDA needs a namespace of its own" in line


@pytest.mark.parametrize(
    ("monitoring", "path"),
    [
        ({"retention": "two weeks"}, "ml-serving:monitoring.retention"),
        ({"storage": "lots"}, "ml-serving:monitoring.storage"),
        ({"prometheusReplicas": 0}, "ml-serving:monitoring.prometheusReplicas"),
        ({"wakeHours": {"timezone": "Europe/Dublin", "start": "8am", "end": "0 19 * * 1-5"}}, "wakeHours.start"),
    ],
)
def test_malformed_monitoring_settings_are_located(monitoring, path):
    lines = errors({**BASE_SETTINGS, "monitoring": {"enabled": True, **monitoring}})
    assert any(path in line for line in lines), lines


SECURE_LABEL_STACK = """\
config:
  ml-serving:environment:
    tier: dev
    namespace: ml-dev
    labels:
      team:
        secure: v1:CIPHERTEXT
  ml-serving:cluster:
    name: dev
    kubernetesVersion: "1.33"
  ml-serving:registry:
    type: external
    address: registry.example.com/ml
    username:
      secure: v1:USERCIPHER
"""


def test_a_secure_value_on_a_setting_that_cannot_be_secret_is_a_located_error():
    doc = parse_yaml(SECURE_LABEL_STACK, "Pulumi.dev.yaml")
    values = {
        **BASE_SETTINGS,
        "environment": {"tier": "dev", "namespace": "ml-dev", "labels": {"team": "decrypted-team"}},
        "registry": {**EXTERNAL_REGISTRY, "username": "decrypted-user"},
        "registryPassword": "pw",
    }
    secret = ["ml-serving:environment", "ml-serving:registry", "ml-serving:registryPassword"]
    (line,) = errors(values, secret_keys=secret, doc=doc)
    assert line.startswith("Pulumi.dev.yaml:7:9: ml-serving:environment.labels.team: cannot be a secret:")
    assert "decrypted-team" not in line and "CIPHERTEXT" not in line


def test_a_secret_registry_user_is_accepted_and_known_to_be_secret():
    doc = parse_yaml(SECURE_LABEL_STACK.replace("    labels:\n      team:\n        secure: v1:CIPHERTEXT\n", ""), "P")
    values = {**BASE_SETTINGS, "registry": {**EXTERNAL_REGISTRY, "username": "u"}, "registryPassword": "pw"}
    s = parse(values, secret_keys=["ml-serving:registry", "ml-serving:registryPassword"], doc=doc)
    assert s.is_secret("registry", "username") and not s.is_secret("registry", "address")


def test_a_plain_registry_user_is_not_secret():
    values = {**BASE_SETTINGS, "registry": EXTERNAL_REGISTRY, "registryPassword": "x"}
    assert not parse(values, secret_keys=["ml-serving:registryPassword"]).is_secret("registry", "username")


def test_the_schema_marks_which_settings_may_be_secret():
    from model_catalog.settings import secrecy, secret_capable_settings

    assert secrecy(("registry", "username")) == "allowed"
    assert secrecy(("registryPassword",)) == "required"
    assert secrecy(("environment", "labels", "team")) is None
    assert secrecy(("secretValues",)) == "required"
    assert secret_capable_settings() == ["registryPassword", "secretValues", "registry.username"]


def test_a_field_marked_must_be_secret_rejects_a_plain_value():
    # The marker is generic: any setting (e.g. a map of Secret values) can require a secret.
    from typing import Annotated

    from pydantic import Field

    from model_catalog.schema import CatalogModel
    from model_catalog.settings import MUST_BE_SECRET, required_secret_paths, secret_capable_settings

    class Toy(CatalogModel):
        secrets: dict[str, dict[str, Annotated[str, Field(json_schema_extra=MUST_BE_SECRET)]]] = {}

    values = {"secrets": {"db": {"password": "plain", "user": "plain"}}}
    assert sorted(required_secret_paths(values, Toy)) == [("secrets", "db", "password"), ("secrets", "db", "user")]
    assert secret_capable_settings(Toy) == ["secrets.<name>.<name>"]


def test_settings_that_look_like_credentials_are_rejected_without_their_value():
    values = {
        **BASE_SETTINGS,
        "environment": {
            "tier": "dev",
            "namespace": "ml-dev",
            "labels": {"token": "ghp_0123456789abcdefghijABCDEFGHIJ012345"},
        },
        "network": {"identityAnnotations": {"x": "https://svc:hunter22@example.com/"}},
    }
    lines = errors(values)
    assert [line.split(": ")[1] for line in lines] == [
        "ml-serving:environment.labels.token",
        "ml-serving:network.identityAnnotations.x",
    ]
    assert all("looks like a credential" in line for line in lines)
    assert not any("ghp_" in line or "hunter22" in line for line in lines)
