"""Each policy rule on one object that passes and one that fails; a failure names the rule and the resource's URN.
Then the offline check (`mlserve policy`) over real renders: every committed stack passes, a bad one fails."""

from __future__ import annotations

import json
import shutil
from typing import Any

import pytest

from mlserve.__main__ import main
from mlserve.policy_check import check_policy, stack_resources
from policy.rules import RULES, Context, Resource, evaluate, stack_of, tier_of
from tests.helpers import ROOT, STACKS, run_make

PROD = Context("prod", "prod")
DEV = Context("dev", "dev")
DIGEST = "@sha256:" + "0" * 64


def urn(type_: str, name: str) -> str:
    return f"urn:pulumi:prod::ml-serving::ml-serving:models:ModelService${type_}::{name}"


def container(**overrides: Any) -> dict[str, Any]:
    c = {
        "name": "server",
        "image": "tensorflow/serving:2.14.1" + DIGEST,
        "resources": {"requests": {"cpu": "1", "memory": "1Gi"}, "limits": {"cpu": "1", "memory": "1Gi"}},
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "capabilities": {"drop": ["ALL"]},
            "readOnlyRootFilesystem": True,
        },
        "readinessProbe": {"httpGet": {"path": "/", "port": 8080}},
        "livenessProbe": {"httpGet": {"path": "/", "port": 8080}},
    }
    c.update(overrides)
    return c


def deployment(name: str = "m", **pod: Any) -> Resource:
    spec = {
        "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
        "containers": [container()],
    }
    spec.update(pod)
    props = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": "ml-prod"},
        "spec": {"selector": {"matchLabels": {"a": name}}, "template": {"spec": spec}},
    }
    return Resource(urn("kubernetes:apps/v1:Deployment", f"{name}-deployment"), "kubernetes:apps/v1:Deployment", props)


def with_container(**overrides: Any) -> Resource:
    return deployment(containers=[container(**overrides)])


def violations(resource_or_list, context: Context = PROD, rule: str | None = None):
    resources = resource_or_list if isinstance(resource_or_list, list) else [resource_or_list]
    found = evaluate(resources, context)
    return [v for v in found if rule is None or v.rule == rule]


def assert_fails(resources, rule: str, failing_urn: str, words: str, context: Context = PROD) -> None:
    found = violations(resources, context, rule)
    assert found, f"{rule} did not fire"
    assert all(v.urn == failing_urn for v in found)
    text = "\n".join(str(v) for v in found)
    assert f"{rule}: {failing_urn}: " in text and words in text, text


def test_a_compliant_deployment_passes_every_rule():
    assert violations(deployment()) == []


def test_every_rule_has_a_name_a_description_and_one_kind_of_check():
    names = [r.name for r in RULES]
    assert len(names) == len(set(names))
    for r in RULES:
        assert r.description.strip() and (r.check is None) != (r.stack_check is None)
    assert {r.name for r in RULES if r.mandatory} == {
        "pod-security-restricted",
        "image-pinned",
        "requests-and-limits",
        "gpu-scheduling",
        "public-exposure-tls",
        "plaintext-credentials",
        "replicas-with-autoscaler",
        "prod-protected",
    }


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (lambda s: s["securityContext"].pop("runAsNonRoot"), "runAsNonRoot is not true"),
        (lambda s: s["securityContext"].pop("seccompProfile"), "seccompProfile.type is None"),
        (lambda s: s["containers"][0]["securityContext"].pop("allowPrivilegeEscalation"), "allowPrivilegeEscalation"),
        (lambda s: s["containers"][0]["securityContext"]["capabilities"].update(drop=[]), "drop does not include ALL"),
        (lambda s: s["containers"][0]["securityContext"]["capabilities"].update(add=["SYS_ADMIN"]), "SYS_ADMIN"),
        (lambda s: s["containers"][0]["securityContext"].update(privileged=True), "privileged is true"),
        (lambda s: s.update(hostNetwork=True), "hostNetwork is true"),
        (lambda s: s.update(volumes=[{"name": "h", "hostPath": {"path": "/"}}]), "volume 'h' is a hostPath"),
        (lambda s: s.update(initContainers=[container(name="init", securityContext={})]), "container 'init'"),
    ],
)
def test_pod_security_restricted(change, words):
    bad = deployment()
    change(bad.props["spec"]["template"]["spec"])
    assert_fails(bad, "pod-security-restricted", bad.urn, words)


def test_image_pinned_in_staging_and_prod_only():
    tagged = with_container(image="tensorflow/serving:2.14.1")
    assert_fails(tagged, "image-pinned", tagged.urn, "image 'tensorflow/serving:2.14.1' is not pinned")
    assert_fails(tagged, "image-pinned", tagged.urn, "staging stack", Context("staging", "staging"))
    assert violations(tagged, DEV, "image-pinned") == []
    content_tag = with_container(image="123.dkr.ecr.eu-west-1.amazonaws.com/x:ctx-ca3fe5d56bbb6173")
    assert violations(content_tag, PROD, "image-pinned") == []
    # An image only known once pushed (external registries) is not judged offline.
    assert violations(with_container(image="[unknown]"), PROD, "image-pinned") == []


def test_requests_and_limits():
    bad = with_container(resources={"requests": {"cpu": "1", "memory": "1Gi"}})
    assert_fails(bad, "requests-and-limits", bad.urn, "no limits.cpu, limits.memory")


def test_gpu_scheduling():
    gpu = container(
        resources={
            "requests": {"cpu": "1", "memory": "1Gi", "nvidia.com/gpu": 1},
            "limits": {"cpu": "1", "memory": "1Gi", "nvidia.com/gpu": 1},
        }
    )
    good = deployment(
        containers=[gpu],
        tolerations=[{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}],
        nodeSelector={"kubernetes.io/os": "linux", "ml-serving.dev/accelerator": "nvidia-l4"},
    )
    assert violations(good, PROD, "gpu-scheduling") == []
    bad = deployment(containers=[gpu], nodeSelector={"kubernetes.io/os": "linux"})
    assert_fails(bad, "gpu-scheduling", bad.urn, "no toleration for the GPU taint")
    assert_fails(bad, "gpu-scheduling", bad.urn, "selects no GPU nodes")


def ingress(tls: bool) -> Resource:
    spec: dict[str, Any] = {"rules": [{"host": "vision.api.acme.example", "http": {"paths": []}}]}
    if tls:
        spec["tls"] = [{"hosts": ["vision.api.acme.example"], "secretName": "m-tls"}]
    props = {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {"name": "m"}, "spec": spec}
    return Resource(
        urn("kubernetes:networking.k8s.io/v1:Ingress", "m-ingress"), "kubernetes:networking.k8s.io/v1:Ingress", props
    )


def test_public_exposure_needs_tls():
    assert violations(ingress(tls=True), PROD, "public-exposure-tls") == []
    bad = ingress(tls=False)
    assert_fails(bad, "public-exposure-tls", bad.urn, "host 'vision.api.acme.example' is exposed without TLS")
    # A stated reason (TLS ends at the load balancer) is accepted outside prod only.
    bad.props["metadata"]["annotations"] = {"ml-serving.dev/plain-http-reason": "TLS ends at the AWS ALB in front"}
    assert violations(bad, Context("staging", "staging"), "public-exposure-tls") == []
    assert_fails(bad, "public-exposure-tls", bad.urn, "exposed without TLS")
    lb = Resource(
        urn("kubernetes:core/v1:Service", "m-service"),
        "kubernetes:core/v1:Service",
        {"kind": "Service", "spec": {"type": "LoadBalancer"}},
    )
    assert_fails(lb, "public-exposure-tls", lb.urn, "Service type LoadBalancer")


def test_plaintext_credentials():
    ok = with_container(
        env=[
            {"name": "HF_TOKEN_PATH", "value": "/var/run/secrets/hf/token"},
            {"name": "API_KEY", "valueFrom": {"secretKeyRef": {"name": "k", "key": "k"}}},
        ]
    )
    assert violations(ok, PROD, "plaintext-credentials") == []
    named = with_container(env=[{"name": "DB_PASSWORD", "value": "hunter2"}])
    assert_fails(named, "plaintext-credentials", named.urn, "env DB_PASSWORD has a literal value")
    shaped = with_container(env=[{"name": "EXTRA", "value": "AKIAABCDEFGHIJKLMNOP"}])
    assert_fails(shaped, "plaintext-credentials", shaped.urn, "holds an AWS access key id")
    import base64

    secret = Resource(
        urn("kubernetes:core/v1:Secret", "s"),
        "kubernetes:core/v1:Secret",
        {"kind": "Secret", "data": {"token": base64.b64encode(b"hf_" + b"a" * 34).decode()}},
    )
    assert_fails(secret, "plaintext-credentials", secret.urn, "data.token holds a Hugging Face token")
    masked = Resource(secret.urn, secret.type, {"kind": "Secret", "stringData": {"token": "[secret]"}})
    assert violations(masked, PROD, "plaintext-credentials") == []


def autoscaler(kind: str, target: str) -> Resource:
    type_ = {
        "HorizontalPodAutoscaler": "kubernetes:autoscaling/v2:HorizontalPodAutoscaler",
        "ScaledObject": "kubernetes:keda.sh/v1alpha1:ScaledObject",
    }[kind]
    props = {
        "kind": kind,
        "metadata": {"name": target, "namespace": "ml-prod"},
        "spec": {"scaleTargetRef": {"name": target}},
    }
    return Resource(urn(type_, f"{target}-scaler"), type_, props)


@pytest.mark.parametrize("kind", ["HorizontalPodAutoscaler", "ScaledObject"])
def test_replicas_with_autoscaler(kind):
    scaled = deployment("m")
    assert violations([scaled, autoscaler(kind, "m")], PROD, "replicas-with-autoscaler") == []
    fixed = deployment("m")
    fixed.props["spec"]["replicas"] = 2
    assert violations([fixed], PROD, "replicas-with-autoscaler") == []  # no autoscaler: replicas are its to set
    assert_fails([fixed, autoscaler(kind, "m")], "replicas-with-autoscaler", fixed.urn, f"although {kind}")
    # The first count only: Pulumi never re-applies it, the autoscaler owns it from then on.
    handed_over = Resource(fixed.urn, fixed.type, fixed.props, ignore_changes=("spec.replicas",))
    assert violations([handed_over, autoscaler(kind, "m")], PROD, "replicas-with-autoscaler") == []


@pytest.mark.parametrize("type_", ["kubernetes:core/v1:Namespace", "aws:ecr/repository:Repository"])
def test_prod_protected(type_):
    bare = Resource(f"urn:pulumi:prod::ml-serving::{type_}::x", type_, {})
    assert_fails(bare, "prod-protected", bare.urn, "is not protected")
    assert violations(Resource(bare.urn, type_, {}, protect=True), PROD, "prod-protected") == []
    assert violations(bare, Context("staging", "staging"), "prod-protected") == []


def test_advisory_rules_report_without_being_mandatory():
    bad = with_container(
        securityContext={"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}}, readinessProbe=None
    )
    found = violations(bad, PROD)
    assert {v.rule for v in found} == {"read-only-root-filesystem", "probes"}
    assert not any(v.mandatory for v in found)
    assert str(found[0]).startswith("advisory ")


def test_stack_and_tier_come_from_the_urn_and_the_stack_file():
    assert stack_of("urn:pulumi:staging::ml-serving::kubernetes:core/v1:Namespace::n") == "staging"
    assert [tier_of(s, ROOT) for s in STACKS] == ["dev", "staging", "prod"]
    assert tier_of("no-such-stack", ROOT) == "prod"


# --- the offline check over real renders --------------------------------------------------------------------------


@pytest.mark.parametrize("stack", STACKS)
def test_every_committed_stack_passes_the_mandatory_rules(stack):
    status, lines = check_policy(ROOT, stack)
    assert status == 0, "\n".join(lines)
    assert "0 mandatory violations" in lines[0]


def test_prod_renders_protected_namespaces(tmp_path):
    resources, context = stack_resources(ROOT, "prod")
    namespaces = [r for r in resources if r.type == "kubernetes:core/v1:Namespace"]
    assert len(namespaces) == 4 and all(r.protect for r in namespaces)
    assert context.tier == "prod"


PUBLIC = """
version: 1
models:
  tagger:
    runtime: tensorflow-serving
    weights: {uri: "s3://bucket/tagger/", sizeGiB: 1}
    resources: {cpu: "1", memory: 2Gi}
    scaling: {minReplicas: 2, maxReplicas: 3}
    exposure: {type: public, host: tagger.example.com}
"""


def test_the_command_fails_on_prod_with_a_public_model_without_tls_naming_rule_and_ingress(tmp_path, capsys):
    """resnet50 is public in prod; a prod stack whose ingress has no TLS issuer (with a stated reason, which the
    settings accept) exposes it over plain HTTP, which prod's policy does not."""
    for path in ROOT.glob("Pulumi*.yaml"):
        shutil.copy2(path, tmp_path / path.name)
    shutil.copytree(ROOT / "images", tmp_path / "images")
    shutil.copy2(ROOT / "models.yaml", tmp_path / "models.yaml")
    stack_file = tmp_path / "Pulumi.prod.yaml"
    text = stack_file.read_text(encoding="utf-8")
    assert "    tlsClusterIssuer: letsencrypt-prod\n" in text
    reason = "    plainHttpReason: TLS ends at the load balancer in front of the ingress controller\n"
    stack_file.write_text(text.replace("    tlsClusterIssuer: letsencrypt-prod\n", reason), encoding="utf-8")
    assert main(["policy", "--stack", "prod", "--project-dir", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    ingress = "urn:pulumi:prod::ml-serving::ml-serving:models:ModelService$kubernetes:networking.k8s.io/v1:Ingress::resnet50-ingress"
    assert f"mandatory public-exposure-tls: {ingress}: host 'vision.api.acme.example' is exposed without TLS" in out
    assert "1 mandatory violations" in out
    assert main(["policy", "--stack", "prod", "--project-dir", str(tmp_path), "--json"]) == 1
    document = json.loads(capsys.readouterr().out)
    assert (document["exitCode"], document["ok"], document["mandatoryViolations"]) == (1, False, 1)
    (violation,) = [v for v in document["violations"] if v["mandatory"]]
    assert violation == {
        "rule": "public-exposure-tls",
        "mandatory": True,
        "urn": ingress,
        "message": "host 'vision.api.acme.example' is exposed without TLS (not in spec.tls)",
    }


UNPINNED = PUBLIC.replace(
    "runtime: tensorflow-serving", "runtime: tensorflow-serving\n    image: {ref: 'tensorflow/serving:2.14.1'}"
)


def test_the_command_fails_on_a_catalog_with_an_unpinned_prod_image_before_anything_renders(tmp_path, capsys):
    """The catalog check is the policy rule applied to the catalog (one definition, platform_data/image_pinning.py):
    it refuses the image before anything renders or registers, naming the rule and the model's field, exit 2. (No
    catalog the validator accepts puts an unpinned image into a staging or prod render: the rule's cases on
    rendered objects are the unit tests above.)"""
    catalog = tmp_path / "models.yaml"
    catalog.write_text(UNPINNED, encoding="utf-8")
    assert main(["policy", "--stack", "prod", "--catalog", str(catalog)]) == 2
    (problem, summary) = capsys.readouterr().err.splitlines()
    assert (
        problem.startswith(f"{catalog}:6:")
        and ": models.tagger.image.ref: got 'tensorflow/serving:2.14.1'; " in problem
    )
    assert problem.endswith("(policy rule image-pinned, checked here before anything renders)")
    assert summary == "1 problem found; nothing was rendered or deployed."


def test_make_policy_fails_on_an_unpinned_prod_image_naming_rule_and_model(tmp_path):
    catalog = tmp_path / "models.yaml"
    catalog.write_text(UNPINNED, encoding="utf-8")
    result = run_make(ROOT, "policy", "STACK=prod", f"CATALOG={catalog}")
    assert result.returncode == 2  # make's own code for a failing command; mlserve policy exited 2
    assert "models.tagger.image.ref: got 'tensorflow/serving:2.14.1'" in result.stderr
    assert "(policy rule image-pinned, checked here before anything renders)" in result.stderr
    assert "Error 2" in result.stderr


@pytest.mark.parametrize(
    ("ref", "catalog_accepts", "policy_accepts"),
    [
        ("tensorflow/serving:2.14.1", False, False),
        ("tensorflow/serving", False, False),
        (f"tensorflow/serving:2.14.1{DIGEST}", True, True),
        (f"tensorflow/serving{DIGEST}", True, True),
        # A content tag is what a build here pushes (image.build); a catalog names other images by digest.
        ("registry.example.com/m:ctx-ca3fe5d56bbb6173", False, True),
    ],
)
def test_the_catalog_check_and_the_policy_rule_share_one_definition(ref, catalog_accepts, policy_accepts, tmp_path):
    from mlserve.render import validate
    from model_catalog.errors import ConfigurationError

    catalog = tmp_path / "models.yaml"
    catalog.write_text(UNPINNED.replace("tensorflow/serving:2.14.1", ref), encoding="utf-8")
    try:
        validate(ROOT, "prod", str(catalog))
        refused = []
    except ConfigurationError as exc:
        refused = [p for p in exc.problems if p.path == "models.tagger.image.ref"]
    assert (refused == []) is catalog_accepts, refused
    assert (violations(with_container(image=ref), PROD, "image-pinned") == []) is policy_accepts
