"""LoRA adapters: fetched beside the weights, registered with vLLM by name, sized, shown per adapter."""

from components.dashboards import model_panels
from components.gpu_capacity import replica_shape
from components.workload import build_model_objects
from model_catalog.checks import check_model
from model_catalog.quantities import byte_count
from platform_data.downloaders import FETCHER_FILE
from tests.helpers import settings, spec

ADAPTERS = {
    "tone": {"uri": "s3://bucket/adapters/tone/", "sizeGiB": 0.5},
    "sql": {"uri": "hf://acme/sql-lora", "sizeGiB": 1, "rank": 64},
}


def llm(adapters=None, **extra):
    fields = {
        "runtime": "vllm",
        "weights": {"uri": "s3://bucket/llm/", "sizeGiB": 16, "credentialsSecret": "s3-creds"},
        "resources": {"cpu": "4", "memory": "24Gi", "gpu": {"accelerator": "nvidia-l4"}},
        "scaling": {"minReplicas": 2, "maxReplicas": 4, "metric": "concurrency", "target": 8},
        "adapters": ADAPTERS if adapters is None else adapters,
    }
    fields.update(extra)
    return spec(**fields)


def stack(**extra):
    return settings(
        gpuNodePool={"provider": "karpenter", "nodeRole": "role"},
        monitoring={"enabled": True},
        network={"weightsProxy": "http://10.0.0.10:3128", "weightsEgressCidrs": ["10.0.0.0/28"]},
        **extra,
    )


def objects(model_spec):
    return build_model_objects("chat", model_spec, "repo/img@sha256:" + "a" * 64, stack())


def pod(objs):
    return objs.deployment["spec"]["template"]["spec"]


def test_vllm_runs_with_lora_enabled_and_each_adapter_registered_under_its_name():
    args = pod(objects(llm()))["containers"][0]["args"]
    assert "--enable-lora" in args
    assert "--max-lora-rank=64" in args and "--max-loras=2" in args
    at = args.index("--lora-modules")
    assert args[at + 1 :] == ["sql=/adapters/sql", "tone=/adapters/tone"]
    assert "--enable-lora" not in pod(objects(llm(adapters={})))["containers"][0]["args"]


def test_each_adapter_is_fetched_before_the_server_by_the_downloader_of_its_scheme():
    p = pod(objects(llm()))
    names = [c["name"] for c in p["initContainers"]]
    assert names == ["fetch-weights", "fetch-adapter-sql", "fetch-adapter-tone"]
    sql, tone = p["initContainers"][1:]
    assert tone["command"][-2:] == ["s3://bucket/adapters/tone/", "/adapters/tone"]
    assert sql["command"][-2:] == ["hf://acme/sql-lora", "/adapters/sql"]
    # Same scheme as the weights: the weights' credentials; another scheme: none of them.
    assert {"name": "weights-credentials", "mountPath": "/var/run/secrets/model-weights", "readOnly": True} in tone[
        "volumeMounts"
    ]
    assert not any(m["name"] == "weights-credentials" for m in sql["volumeMounts"])
    # hf:// uses the fetcher script, shipped in the ConfigMap even though the weights come from s3://.
    assert any(m["name"] == "fetcher" for m in sql["volumeMounts"])
    assert FETCHER_FILE in objects(llm()).config_map["data"]
    # The download goes through the stack's egress proxy, like the weights'.
    assert {"name": "HTTPS_PROXY", "value": "http://10.0.0.10:3128"} in tone["env"]
    for container in p["initContainers"]:
        assert container["securityContext"]["readOnlyRootFilesystem"] is True
        assert container["resources"]["limits"] == container["resources"]["requests"]


def test_the_adapters_volume_is_sized_counted_and_read_only_for_the_server():
    objs = objects(llm())
    p = pod(objs)
    (volume,) = [v for v in p["volumes"] if v["name"] == "adapters"]
    assert volume["emptyDir"]["sizeLimit"] == "1920Mi"  # 1.5 GiB x 1.25
    server = p["containers"][0]
    assert {"name": "adapters", "mountPath": "/adapters", "readOnly": True} in server["volumeMounts"]
    without = pod(objects(llm(adapters={})))["containers"][0]
    grown = byte_count(server["resources"]["requests"]["ephemeral-storage"]) - byte_count(
        without["resources"]["requests"]["ephemeral-storage"]
    )
    assert grown == 1920 * 2**20
    assert replica_shape(llm()).ephemeral_bytes - replica_shape(llm(adapters={})).ephemeral_bytes == grown


def test_a_baked_model_with_adapters_still_gets_download_egress():
    baked = llm(weights={"baked": True}, image={"ref": "repo/llm@sha256:" + "c" * 64})
    egress = objects(baked).network_policy["spec"]["egress"]
    assert any(rule.get("ports") == [{"protocol": "TCP", "port": 3128}] for rule in egress)


def test_adapters_are_refused_outside_vllm_and_with_bad_uris():
    triton = spec(runtime="triton", adapters={"a": {"uri": "s3://bucket/a/", "sizeGiB": 1}})
    assert any(path == ("adapters",) for path, _ in check_model(triton))
    bad = llm(adapters={"a": {"uri": "s3://B/a", "sizeGiB": 1}})
    assert any(path == ("adapters", "a", "uri") for path, _ in check_model(bad))


def test_the_dashboard_shows_replicas_running_each_adapter():
    panels = model_panels("chat", llm(), stack())
    (panel,) = [p for p in panels if p.title == "LoRA adapters: replicas running each"]
    assert [t.legend for t in panel.targets] == ["sql", "tone"]
    assert "vllm:lora_requests_info" in panel.targets[0].expr and '"(.*,)?sql(,.*)?"' in panel.targets[0].expr
    routed = stack(
        routing={"type": "gateway-inference", "gateway": {"name": "g", "namespace": "gw"}},
    )
    public = llm(exposure={"type": "public", "host": "chat.example.com"})
    titles = [p.title for p in model_panels("chat", public, routed)]
    assert "Requests per second by served name (endpoint picker)" in titles
    assert not any(p.title.startswith("LoRA") for p in model_panels("chat", llm(adapters={}), stack()))
