"""The model workload builders against ../shared/MANIFEST-RULES.md, rule by rule, on plain manifest dicts."""

from __future__ import annotations

import pytest

from components.workload import (
    AUTOSCALED_FIELDS,
    PRESTOP_SLEEP_SECONDS,
    RUN_AS_USER,
    build_model_objects,
    deployment_timeout_seconds,
    startup_budget_seconds,
)
from model_catalog.quantities import byte_count
from platform_data.accelerators import ACCELERATORS
from platform_data.downloaders import CREDENTIALS_DIR
from tests.helpers import settings, spec

GPU = {"accelerator": "nvidia-h100", "count": 1, "tensorParallelism": 2}
LLM = {
    "runtime": "vllm",
    "weights": {"uri": "hf://org/llm", "sizeGiB": 40, "credentialsSecret": "hf"},
    "resources": {"cpu": "8", "memory": "64Gi", "gpu": GPU},
    "scaling": {"minReplicas": 2, "maxReplicas": 4, "metric": "cpu"},
}
KARPENTER = {"gpuNodePool": {"provider": "karpenter", "nodeRole": "role"}}


def objects(model_spec=None, stack=None, image="repo/img@sha256:" + "a" * 64, name="m", built=False):
    return build_model_objects(name, model_spec or spec(), image, stack or settings(), built)


def pod(objs):
    return objs.deployment["spec"]["template"]["spec"]


def all_containers(objs):
    p = pod(objs)
    return p.get("initContainers", []) + p["containers"]


def server(objs):
    return pod(objs)["containers"][0]


# rule 2: namespaced objects carry the stack's namespace
def test_every_object_is_in_the_stacks_namespace():
    objs = objects(
        spec(exposure={"type": "public", "host": "a.example.com"}, scaling={"minReplicas": 2, "maxReplicas": 3}),
        settings(ingress={"tlsClusterIssuer": "letsencrypt"}),
    )
    rendered = [o for o in vars(objs).values() if o is not None]
    assert len(rendered) == 8
    assert {o["metadata"]["namespace"] for o in rendered} == {"ml-test"}


# rule 3
def test_pods_run_as_a_high_non_root_user_with_the_runtime_default_seccomp_profile():
    security = pod(objects())["securityContext"]
    assert security["runAsNonRoot"] is True
    assert security["runAsUser"] >= 10000 and security["runAsGroup"] >= 10000
    assert security["seccompProfile"] == {"type": "RuntimeDefault"}


# rules 4 and 5, init containers included
def test_every_container_drops_all_capabilities_and_has_a_read_only_root():
    for container in all_containers(objects(spec(**LLM), settings(**KARPENTER))):
        sc = container["securityContext"]
        assert sc["allowPrivilegeEscalation"] is False and sc["privileged"] is False
        assert sc["capabilities"] == {"drop": ["ALL"]}
        assert sc["readOnlyRootFilesystem"] is True
        assert sc["runAsUser"] == RUN_AS_USER


def test_tmp_and_caches_are_writable_empty_dirs():
    objs = objects()
    mounts = {m["mountPath"]: m["name"] for m in server(objs)["volumeMounts"]}
    volumes = {v["name"]: v for v in pod(objs)["volumes"]}
    assert "emptyDir" in volumes[mounts["/tmp"]] and "emptyDir" in volumes[mounts["/var/cache/model-server"]]


# rule 6
def test_only_pod_security_restricted_volume_types_and_no_host_access():
    allowed = {"configMap", "emptyDir", "secret", "persistentVolumeClaim", "projected", "downwardAPI"}
    for model_spec in (spec(**LLM), spec(weights={"uri": "pvc://models/m"})):
        p = pod(objects(model_spec, settings(**KARPENTER)))
        for volume in p["volumes"]:
            assert set(volume) - {"name"} <= allowed
        assert not {"hostNetwork", "hostPID", "hostIPC"} & set(p)
        assert all("hostPort" not in port for c in p["containers"] for port in c.get("ports", []))


# rule 7
def test_each_model_has_its_own_service_account_without_token_automount():
    objs = objects(name="resnet")
    assert objs.service_account["metadata"]["name"] == "resnet"
    assert objs.service_account["automountServiceAccountToken"] is False
    assert pod(objs)["serviceAccountName"] == "resnet" and pod(objs)["automountServiceAccountToken"] is False


def test_workload_identity_annotations_reach_the_service_account():
    arn = "arn:aws:iam::1:role/x"
    objs = objects(stack=settings(network={"identityAnnotations": {"eks.amazonaws.com/role-arn": arn}}))
    assert objs.service_account["metadata"]["annotations"] == {"eks.amazonaws.com/role-arn": arn}


# rules 9 and 10
def test_requests_equal_limits_for_cpu_memory_and_ephemeral_storage_in_every_container():
    for container in all_containers(objects(spec(**LLM), settings(**KARPENTER))):
        requests, limits = container["resources"]["requests"], container["resources"]["limits"]
        for resource in ("cpu", "memory", "ephemeral-storage"):
            assert requests[resource] == limits[resource], (container["name"], resource)


def test_the_download_volume_counts_in_the_servers_ephemeral_storage():
    objs = objects(spec(weights={"uri": "s3://bucket/m", "sizeGiB": 4}, resources={"cpu": "1", "memory": "1Gi"}))
    volumes = {v["name"]: v for v in pod(objs)["volumes"]}
    models = byte_count(volumes["models"]["emptyDir"]["sizeLimit"])
    assert models == 5 * 2**30  # 4 GiB + 25% headroom
    assert byte_count(server(objs)["resources"]["limits"]["ephemeral-storage"]) == models + 2 * 2**30


# rule 11
def test_gpu_pods_ask_for_whole_gpus_in_limits_and_tolerate_and_select_their_pool():
    objs = objects(spec(**LLM), settings(**KARPENTER))
    resources = server(objs)["resources"]
    assert resources["limits"]["nvidia.com/gpu"] == "2" and "nvidia.com/gpu" not in resources["requests"]
    p = pod(objs)
    assert {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"} in p["tolerations"]
    assert p["nodeSelector"] == {
        "kubernetes.io/os": "linux",
        **ACCELERATORS["nvidia-h100"].node_labels,
        "karpenter.sh/capacity-type": "on-demand",  # an on-demand stack: its pods never land on a spot pool
    }


def test_gpu_pods_on_existing_nodes_select_the_declared_labels_and_tolerate_the_declared_taints():
    pools = {
        "provider": "existing",
        "existing": {"nvidia-h100": {"labels": {"gpu-type": "h100"}, "taints": ["dedicated=ml:NoSchedule"]}},
    }
    p = pod(objects(spec(**LLM), settings(gpuNodePool=pools)))
    assert p["nodeSelector"] == {"kubernetes.io/os": "linux", "gpu-type": "h100"}
    assert {"key": "dedicated", "operator": "Exists", "effect": "NoSchedule"} in p["tolerations"]


def test_cpu_pods_have_no_gpu_resources_or_tolerations():
    objs = objects()
    assert "nvidia.com/gpu" not in server(objs)["resources"]["limits"] and "tolerations" not in pod(objs)


# rule 12
def test_pytorch_runtimes_get_a_memory_backed_shm_inside_the_memory_limit():
    objs = objects(spec(**LLM), settings(**KARPENTER))
    shm = next(v for v in pod(objs)["volumes"] if v["name"] == "dshm")
    assert shm["emptyDir"]["medium"] == "Memory"
    assert byte_count(shm["emptyDir"]["sizeLimit"]) == 16 * 2**30  # a quarter of 64Gi by default
    assert byte_count(shm["emptyDir"]["sizeLimit"]) < byte_count(server(objs)["resources"]["limits"]["memory"])
    assert {"name": "dshm", "mountPath": "/dev/shm"} in server(objs)["volumeMounts"]


def test_tensorflow_serving_gets_no_shm_volume():
    assert all(v["name"] != "dshm" for v in pod(objects())["volumes"])


# rule 13
def test_the_startup_probe_budget_covers_the_model_load_time():
    model_spec = spec(**LLM)
    probe = server(objects(model_spec, settings(**KARPENTER)))["startupProbe"]
    assert probe["failureThreshold"] * probe["periodSeconds"] >= startup_budget_seconds(model_spec)
    assert startup_budget_seconds(model_spec) == 2 * (90 + 20 * 40)


def test_a_catalog_load_timeout_overrides_the_estimate():
    model_spec = spec(weights={"uri": "s3://b/m", "sizeGiB": 1, "loadTimeoutSeconds": 1800})
    probe = server(objects(model_spec))["startupProbe"]
    assert probe["failureThreshold"] * probe["periodSeconds"] == 1800


@pytest.mark.parametrize("runtime", ["tensorflow-serving", "triton", "torchserve", "vllm"])
def test_readiness_and_liveness_probes_differ(runtime):
    fields = {"runtime": runtime}
    if runtime == "vllm":
        fields |= {"resources": {"cpu": "1", "memory": "4Gi", "gpu": {"accelerator": "nvidia-l4"}}}
    c = server(objects(spec(**fields), settings(**KARPENTER)))
    readiness = {k: v for k, v in c["readinessProbe"].items() if k in ("httpGet", "tcpSocket")}
    liveness = {k: v for k, v in c["livenessProbe"].items() if k in ("httpGet", "tcpSocket")}
    assert readiness != liveness


# rule 14
def test_pods_drain_for_longer_than_the_longest_request():
    objs = objects(spec(maxRequestSeconds=300))
    assert server(objs)["lifecycle"]["preStop"] == {"sleep": {"seconds": PRESTOP_SLEEP_SECONDS}}
    assert pod(objs)["terminationGracePeriodSeconds"] >= PRESTOP_SLEEP_SECONDS + 300


# rule 15
def test_an_autoscaled_deployment_states_its_replicas_at_creation_only():
    objs = objects(spec(scaling={"minReplicas": 2, "maxReplicas": 5}))
    assert objs.deployment["spec"]["replicas"] == 2
    assert AUTOSCALED_FIELDS == ["spec.replicas"]  # ModelService ignores later changes (tests/components)
    to_zero = objects(spec(scaling={"minReplicas": 0, "maxReplicas": 3, "metric": "concurrency", "target": 4}))
    assert to_zero.deployment["spec"]["replicas"] == 1  # created serving; KEDA may take it to zero when idle
    hpa = objs.hpa["spec"]
    assert (hpa["minReplicas"], hpa["maxReplicas"]) == (2, 5)
    assert hpa["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "m"}
    assert hpa["metrics"][0]["resource"] == {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}}


def test_a_fixed_size_model_sets_replicas_and_has_no_autoscaler():
    objs = objects(spec(scaling={"minReplicas": 3, "maxReplicas": 3}))
    assert objs.deployment["spec"]["replicas"] == 3 and objs.hpa is None


def test_scale_up_is_immediate_and_scale_down_is_stabilised():
    behavior = objects(spec(scaling={"minReplicas": 1, "maxReplicas": 4}), name="m").hpa["spec"]["behavior"]
    assert behavior["scaleUp"]["stabilizationWindowSeconds"] == 0
    assert behavior["scaleDown"]["stabilizationWindowSeconds"] >= 300


# rule 16
def test_a_pdb_exists_from_two_replicas_matches_the_pods_and_never_blocks_all_evictions():
    objs = objects(spec(scaling={"minReplicas": 2, "maxReplicas": 4}))
    pdb = objs.pdb["spec"]
    assert pdb["selector"]["matchLabels"].items() <= objs.deployment["spec"]["template"]["metadata"]["labels"].items()
    assert pdb["maxUnavailable"] == 1
    assert objects(spec(scaling={"minReplicas": 1, "maxReplicas": 4})).pdb is None


# rule 17
def test_spread_constraints_select_the_pods_own_labels():
    objs = objects()
    labels = objs.deployment["spec"]["template"]["metadata"]["labels"]
    constraints = pod(objs)["topologySpreadConstraints"]
    assert {c["topologyKey"] for c in constraints} == {"topology.kubernetes.io/zone", "kubernetes.io/hostname"}
    for constraint in constraints:
        assert constraint["labelSelector"]["matchLabels"].items() <= labels.items()


# rule 18
def test_the_network_policy_selects_the_pods_and_declares_both_directions():
    objs = objects(spec(exposure={"clients": [{"namespace": "web", "podLabels": {"app": "ui"}}]}))
    policy = objs.network_policy["spec"]
    labels = objs.deployment["spec"]["template"]["metadata"]["labels"]
    assert policy["podSelector"]["matchLabels"].items() <= labels.items()
    assert policy["policyTypes"] == ["Ingress", "Egress"]
    client = policy["ingress"][0]
    assert client["from"][0]["namespaceSelector"]["matchLabels"] == {"kubernetes.io/metadata.name": "web"}
    assert client["from"][0]["podSelector"]["matchLabels"] == {"app": "ui"}
    assert {"protocol": "UDP", "port": 53} in policy["egress"][0]["ports"]


def test_monitoring_may_scrape_only_the_metrics_port():
    objs = objects(spec(runtime="triton"), settings(monitoring={"enabled": True}))
    rule = next(r for r in objs.network_policy["spec"]["ingress"] if "monitoring" in str(r["from"]))
    assert rule["ports"] == [{"protocol": "TCP", "port": 8002}]


def test_downloaded_weights_may_reach_https_but_never_the_node_metadata_endpoint():
    egress = objects().network_policy["spec"]["egress"]
    https = next(r for r in egress if r["ports"] == [{"protocol": "TCP", "port": 443}])
    assert https["to"] == [{"ipBlock": {"cidr": "0.0.0.0/0", "except": ["169.254.169.254/32"]}}]
    baked = objects(spec(weights={"baked": True}, image={"ref": "a/b:1"})).network_policy["spec"]["egress"]
    assert len(baked) == 1


def test_a_public_model_admits_the_ingress_controller_and_gets_an_ingress():
    objs = objects(
        spec(exposure={"type": "public", "host": "api.example.com", "path": "/v1"}),
        settings(ingress={"tlsClusterIssuer": "letsencrypt"}),
    )
    assert any("ingress-nginx" in str(r["from"]) for r in objs.network_policy["spec"]["ingress"])
    rule = objs.ingress["spec"]["rules"][0]
    assert rule["host"] == "api.example.com"
    assert rule["http"]["paths"][0]["backend"]["service"] == {"name": "m", "port": {"name": "http"}}


# rule 19
def test_the_service_is_cluster_ip_and_selects_the_pods():
    objs = objects()
    svc = objs.service["spec"]
    assert svc["type"] == "ClusterIP"
    assert svc["selector"].items() <= objs.deployment["spec"]["template"]["metadata"]["labels"].items()
    assert objs.deployment["spec"]["selector"]["matchLabels"] == svc["selector"]
    assert objs.deployment["spec"]["strategy"]["type"] == "RollingUpdate"
    assert objs.deployment["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0


# weights and credentials (issue 3 item 4)
def test_downloaded_weights_land_in_a_volume_the_server_reads_read_only():
    objs = objects()
    fetch = pod(objs)["initContainers"][0]
    assert fetch["command"][:3] == ["aws", "s3", "sync"] and fetch["command"][-1] == "/models/m"
    assert {"name": "models", "mountPath": "/models"} in fetch["volumeMounts"]
    assert {"name": "models", "mountPath": "/models", "readOnly": True} in server(objs)["volumeMounts"]


def test_weight_credentials_are_mounted_as_files_never_env():
    objs = objects(spec(**LLM), settings(**KARPENTER))
    fetch = pod(objs)["initContainers"][0]
    assert "envFrom" not in fetch
    assert {"name": "HF_TOKEN_PATH", "value": f"{CREDENTIALS_DIR}/token"} in fetch["env"]
    assert {"name": "weights-credentials", "mountPath": CREDENTIALS_DIR, "readOnly": True} in fetch["volumeMounts"]
    assert all(m["name"] != "weights-credentials" for m in server(objs)["volumeMounts"])


def test_pvc_weights_are_mounted_read_only_with_no_init_container():
    objs = objects(spec(weights={"uri": "pvc://models/llama/v2"}))
    assert "initContainers" not in pod(objs)
    volume = next(v for v in pod(objs)["volumes"] if v["name"] == "models")
    assert volume["persistentVolumeClaim"] == {"claimName": "models", "readOnly": True}
    mount = next(m for m in server(objs)["volumeMounts"] if m["name"] == "models")
    assert mount == {"name": "models", "mountPath": "/models/m", "readOnly": True, "subPath": "llama/v2"}


def test_baked_weights_need_neither_volume_nor_download():
    objs = objects(spec(weights={"baked": True}, image={"ref": "a/b:1"}))
    assert "initContainers" not in pod(objs)
    assert all(v["name"] != "models" for v in pod(objs)["volumes"])


def test_secret_env_references_secrets_and_records_its_suppression():
    objs = objects(spec(secretEnv={"DB_PASSWORD": {"secret": "db", "key": "pw"}}))
    env = {e["name"]: e for e in server(objs)["env"]}
    assert env["DB_PASSWORD"] == {"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "db", "key": "pw"}}}
    assert objs.deployment["metadata"]["annotations"]["checkov.io/skip1"].startswith("CKV_K8S_35=")


def test_gpu_deployments_tell_pulumi_to_wait_for_slow_loads():
    model_spec = spec(**LLM)
    annotations = objects(model_spec, settings(**KARPENTER)).deployment["metadata"]["annotations"]
    assert int(annotations["pulumi.com/timeoutSeconds"]) == deployment_timeout_seconds(model_spec) > 600
    assert "pulumi.com/timeoutSeconds" not in objects().deployment["metadata"].get("annotations", {})


def test_runtime_arguments_carry_the_model_and_its_tensor_parallelism():
    args = server(objects(spec(**LLM), settings(**KARPENTER), name="llm"))["args"]
    assert "--tensor-parallel-size=2" in args and "--model=/models/llm" in args and "--served-model-name=llm" in args


def test_runtime_config_files_are_mounted_from_the_models_config_map():
    objs = objects()
    assert "monitoring.config" in objs.config_map["data"]
    assert {"name": "config", "mountPath": "/etc/model-server", "readOnly": True} in server(objs)["volumeMounts"]


def test_declared_egress_is_allowed_and_nothing_else():
    objs = objects(
        spec(
            egress=[
                {"cidr": "10.20.0.0/16", "ports": [5432]},
                {"namespace": "fs", "podLabels": {"app": "redis"}, "ports": [6379]},
            ]
        )
    )
    egress = objs.network_policy["spec"]["egress"]
    assert {"to": [{"ipBlock": {"cidr": "10.20.0.0/16"}}], "ports": [{"protocol": "TCP", "port": 5432}]} in egress
    assert {
        "to": [
            {
                "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "fs"}},
                "podSelector": {"matchLabels": {"app": "redis"}},
            }
        ],
        "ports": [{"protocol": "TCP", "port": 6379}],
    } in egress
    assert len(egress) == 4  # DNS, weights download, the two declared


def test_a_config_file_change_rolls_the_pods():
    before = objects().deployment["spec"]["template"]["metadata"]["annotations"]["ml-serving.dev/config-sha256"]
    other = objects(spec(runtime="torchserve")).deployment["spec"]["template"]["metadata"]["annotations"]
    assert other["ml-serving.dev/config-sha256"] != before


def suppressed_checks(objs) -> dict[str, str]:
    annotations = objs.deployment["metadata"].get("annotations", {})
    return dict(v.split("=", 1) for k, v in annotations.items() if k.startswith("checkov.io/skip"))


def test_a_dev_stack_suppresses_the_digest_checks_for_a_tagged_image_its_policy_allows():
    dev = objects(spec(image={"ref": "repo/img:1.2"}), image="repo/img:1.2")
    assert set(suppressed_checks(dev)) == {"CKV_K8S_43", "CKV_K8S_15"}
    assert "dev policy runs a prebuilt image by tag" in suppressed_checks(dev)["CKV_K8S_43"]
    pinned = "repo/img@sha256:" + "a" * 64
    assert suppressed_checks(objects(spec(image={"ref": pinned}), image=pinned)) == {}


def test_suppression_reasons_on_a_registry_stack_never_talk_about_a_local_cluster():
    ecr = {"registry": {"type": "ecr", "region": "eu-west-1", "accountId": "123456789012"}}
    prod = objects(stack=settings(environment={"tier": "prod", "namespace": "ml"}, **ecr), built=True)
    local = objects(built=True)
    assert set(suppressed_checks(prod)) == set(suppressed_checks(local)) == {"CKV_K8S_43", "CKV_K8S_15"}
    assert not any("dev" in r or "local" in r for r in suppressed_checks(prod).values())
    assert all("local dev cluster" in r for r in suppressed_checks(local).values())
