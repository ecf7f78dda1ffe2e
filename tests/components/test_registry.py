"""ImageRegistry under mocks: which stacks get which registry resources, pull secrets, and secrets kept secret."""

from __future__ import annotations

import base64
import json

from components.build_context import content_tag
from components.registry import (
    PULL_SECRET_NAME,
    docker_config_json,
    lifecycle_policy,
)
from mlserve.mock_runtime import COMPUTED_OUTPUTS, SECRET_MARK, SECRET_SIG
from mlserve.output import SECRET_TEXT, UNKNOWN_TEXT, resource_entry, write_render
from model_catalog.schema import ImageBuild
from tests.helpers import ROOT, read_yaml, render_objects, run_catalog

PASSWORD = "s3cr3t-registry-token-4711"
ACCOUNT = "444455556666"
ECR = {"type": "ecr", "region": "eu-west-1", "accountId": ACCOUNT}
EXTERNAL = {"type": "external", "address": "registry.example.com:5000/ml", "username": "robot-ml"}
PROD = {"tier": "prod", "namespace": "ml-prod"}
#: A prod stack declares where weights come from (no internet egress for models).
PROD_NETWORK = {"weightsEgressCidrs": ["10.1.0.0/24"]}
STAGING = {"tier": "staging", "namespace": "ml-staging"}

#: Two built models, one prebuilt image from the external registry, one runtime default.
CATALOG = """
models:
  churn:
    runtime: custom
    image: {build: {context: images/churn-predictor}}
    weights: {baked: true}
    server: {port: 8080}
    resources: {cpu: 500m, memory: 512Mi}
    scaling: {minReplicas: 2, maxReplicas: 3}
  churn-canary:
    runtime: custom
    image: {build: {context: images/churn-predictor, args: {MODEL_VERSION: canary}}}
    weights: {baked: true}
    server: {port: 8080}
    resources: {cpu: 500m, memory: 512Mi}
    scaling: {minReplicas: 2, maxReplicas: 3}
  scorer:
    runtime: custom
    image: {ref: "registry.example.com:5000/ml/scorer:1.0@sha256:%s"}
    weights: {baked: true}
    server: {port: 8080}
    resources: {cpu: 500m, memory: 512Mi}
    scaling: {minReplicas: 2, maxReplicas: 3}
  resnet:
    runtime: tensorflow-serving
    weights: {uri: "s3://bucket/resnet/", sizeGiB: 1}
    resources: {cpu: "1", memory: 2Gi}
    scaling: {minReplicas: 2, maxReplicas: 3}
""" % ("c" * 64)


def of_type(run, type_: str):
    return [r for r in run.registrations if r.type == type_]


def by_name(run, name: str):
    (reg,) = [r for r in run.registrations if r.name == name]
    return reg


def deployment(run, model: str):
    return render_objects(run)[("Deployment", model)]


def pod_spec(run, model: str):
    return deployment(run, model)["spec"]["template"]["spec"]


def run_ecr(tmp_path, environment=PROD, **registry):
    return run_catalog(
        tmp_path, CATALOG, "prod", environment=environment, registry={**ECR, **registry}, network=PROD_NETWORK
    )


def run_external(tmp_path, **registry):
    return run_catalog(
        tmp_path,
        CATALOG,
        "staging",
        environment=STAGING,
        registry={**EXTERNAL, **registry},
        secrets={"registryPassword": PASSWORD} if registry.get("username", EXTERNAL["username"]) else None,
    )


# --- none ---------------------------------------------------------------------------------------------------------


def test_dev_without_a_registry_creates_no_cloud_resource_and_pushes_nothing(tmp_path):
    run = run_catalog(tmp_path, CATALOG.replace("registry.example.com:5000/ml/scorer", "scorer"))
    assert not [r for r in run.registrations if r.type.startswith(("aws:", "pulumi:providers:aws"))]
    images = of_type(run, "docker:index/image:Image")
    assert {r.name for r in images} == {"churn-image", "churn-canary-image"}
    for image in images:
        assert image.inputs["skipPush"] is True and "registry" not in image.inputs
        assert image.inputs["imageName"].startswith(f"ml-serving.local/{image.name.removesuffix('-image')}:ctx-")
    assert "imagePullSecrets" not in pod_spec(run, "churn")


# --- ecr ----------------------------------------------------------------------------------------------------------


def test_ecr_gets_one_immutable_scanned_encrypted_repository_per_built_model(tmp_path):
    run = run_ecr(tmp_path)
    repositories = {r.inputs["name"]: r.inputs for r in of_type(run, "aws:ecr/repository:Repository")}
    assert sorted(repositories) == ["ml-prod/churn", "ml-prod/churn-canary"]
    for inputs in repositories.values():
        assert inputs["imageTagMutability"] == "IMMUTABLE"
        assert inputs["imageScanningConfiguration"] == {"scanOnPush": True}
        assert inputs["encryptionConfigurations"] == [{"encryptionType": "AES256"}]
    assert len(of_type(run, "docker:index/image:Image")) == 2


def test_each_repository_keeps_the_last_keep_images_images(tmp_path):
    run = run_ecr(tmp_path, keepImages=12)
    policies = {
        r.inputs["repository"]: json.loads(r.inputs["policy"])
        for r in of_type(run, "aws:ecr/lifecyclePolicy:LifecyclePolicy")
    }
    assert sorted(policies) == ["ml-prod/churn", "ml-prod/churn-canary"]
    (rule,) = policies["ml-prod/churn"]["rules"]
    assert rule["selection"] == {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": 12}
    assert rule["action"] == {"type": "expire"}


def test_the_aws_provider_is_pinned_to_the_stacks_account_and_region(tmp_path):
    run = run_ecr(tmp_path)
    (provider,) = of_type(run, "pulumi:providers:aws")
    assert json.loads(provider.inputs["allowedAccountIds"]) == [ACCOUNT]
    assert provider.inputs["region"] == "eu-west-1"
    for repository in of_type(run, "aws:ecr/repository:Repository"):
        assert repository.provider == provider.urn


def test_prod_repositories_are_protected_and_retained(tmp_path):
    run = run_ecr(tmp_path)
    for repository in of_type(run, "aws:ecr/repository:Repository"):
        assert repository.options["protect"] is True and repository.options["retainOnDelete"] is True
        assert repository.inputs["forceDelete"] is False


def test_staging_repositories_can_be_deleted_with_their_images(tmp_path):
    run = run_ecr(tmp_path, environment=STAGING)
    for repository in of_type(run, "aws:ecr/repository:Repository"):
        assert "protect" not in repository.options and "retainOnDelete" not in repository.options
        assert repository.inputs["forceDelete"] is True


def test_a_kms_key_setting_encrypts_the_repositories_with_it(tmp_path):
    key = f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/0b1c2d3e-4f50"
    run = run_ecr(tmp_path, kmsKeyArn=key)
    for repository in of_type(run, "aws:ecr/repository:Repository"):
        assert repository.inputs["encryptionConfigurations"] == [{"encryptionType": "KMS", "kmsKey": key}]


def test_the_image_is_built_after_its_repository_and_rebuilt_when_it_is_replaced(tmp_path):
    run = run_ecr(tmp_path)
    repository = by_name(run, "registry-churn")
    image = by_name(run, "churn-image")
    assert repository.urn in image.dependencies
    assert image.options["replaceWith"] == [repository.urn]


def test_ecr_deployments_run_the_content_tag_in_the_accounts_registry(tmp_path):
    run = run_ecr(tmp_path)
    tag = content_tag(ROOT, ImageBuild.model_validate({"context": "images/churn-predictor"}))
    image = deployment(run, "churn")["spec"]["template"]["spec"]["containers"][0]["image"]
    assert image == f"{ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/ml-prod/churn:{tag}"


def test_ecr_pushes_with_a_token_that_is_secret_and_unknown_offline(tmp_path):
    run = run_ecr(tmp_path)
    entry = resource_entry(by_name(run, "churn-image"))
    assert entry["inputs"]["registry"] == {
        "server": f"{ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com",
        "username": "AWS",
        "password": SECRET_TEXT,
    }
    # The token invoke answers UNKNOWN offline; outside preview the SDK hands an unknown invoke result over as
    # None. Either way no value that looks like a credential exists.
    password = by_name(run, "churn-image").inputs["registry"]["password"]
    assert password == {SECRET_SIG: SECRET_MARK, "value": None}
    assert by_name(run, "churn-image").inputs["skipPush"] is False


def test_ecr_pods_pull_with_the_node_role_and_get_no_pull_secret(tmp_path):
    run = run_ecr(tmp_path)
    for model in ("churn", "churn-canary", "scorer", "resnet"):
        assert "imagePullSecrets" not in pod_spec(run, model)
    assert ("Secret", PULL_SECRET_NAME) not in render_objects(run)


# --- external -----------------------------------------------------------------------------------------------------


def test_an_external_registry_user_gets_a_dockerconfigjson_secret_in_the_models_namespace(tmp_path):
    run = run_external(tmp_path)
    secret = render_objects(run)[("Secret", PULL_SECRET_NAME)]
    assert secret["metadata"]["namespace"] == "ml-staging"
    assert secret["type"] == "kubernetes.io/dockerconfigjson"
    assert secret["stringData"] == {".dockerconfigjson": SECRET_TEXT}
    assert not of_type(run, "aws:ecr/repository:Repository")


def test_only_pods_whose_image_comes_from_the_external_registry_reference_the_pull_secret(tmp_path):
    run = run_external(tmp_path)
    for model in ("churn", "churn-canary", "scorer"):
        assert pod_spec(run, model)["imagePullSecrets"] == [{"name": PULL_SECRET_NAME}], model
    assert "imagePullSecrets" not in pod_spec(run, "resnet")
    secret = by_name(run, "registry-pull-secret")
    assert secret.urn in by_name(run, "churn-deployment").dependencies


def test_an_external_registry_without_a_user_uses_the_ambient_login_and_no_pull_secret(tmp_path):
    run = run_external(tmp_path, username=None)
    assert ("Secret", PULL_SECRET_NAME) not in render_objects(run)
    assert "registry" not in by_name(run, "churn-image").inputs
    assert "imagePullSecrets" not in pod_spec(run, "churn")


def test_external_images_run_by_the_digest_their_push_reported(tmp_path, monkeypatch):
    run = run_external(tmp_path)
    assert pod_spec(run, "churn")["containers"][0]["image"] == UNKNOWN_TEXT  # known only after the push
    digest = "sha256:" + "d" * 64
    monkeypatch.setitem(
        COMPUTED_OUTPUTS,
        "docker:index/image:Image",
        lambda inputs: {"repoDigest": inputs["imageName"].rsplit(":", 1)[0] + "@" + digest},
    )
    run = run_external(tmp_path)
    tag = content_tag(ROOT, ImageBuild.model_validate({"context": "images/churn-predictor"}))
    assert pod_spec(run, "churn")["containers"][0]["image"] == f"registry.example.com:5000/ml/churn:{tag}@{digest}"


def test_the_external_push_credentials_are_the_settings_user_and_the_secret_password(tmp_path):
    run = run_external(tmp_path)
    registry = by_name(run, "churn-image").inputs["registry"]
    # Recorded inputs keep the secret marker on the password alone; the render masks it.
    assert registry == {
        "server": "registry.example.com:5000",
        "username": "robot-ml",
        "password": {SECRET_SIG: SECRET_MARK, "value": PASSWORD},
    }


def test_registry_secrets_never_appear_in_the_render_or_resources_json(tmp_path):
    run = run_external(tmp_path)
    out = tmp_path / "out"
    write_render(run, out)
    forbidden = [
        PASSWORD,
        base64.b64encode(f"robot-ml:{PASSWORD}".encode()).decode(),
        base64.b64encode(PASSWORD.encode()).decode(),
    ]
    files = [p for p in out.rglob("*") if p.is_file()]
    assert any(p.name.endswith("--secret--image-registry.yaml") for p in files)
    for path in files:
        text = path.read_text(encoding="utf-8")
        for value in forbidden:
            assert value not in text, f"{path.relative_to(out)} contains a secret"


# --- pure pieces --------------------------------------------------------------------------------------------------


def test_the_docker_config_json_is_what_kubectl_create_secret_docker_registry_writes():
    config = json.loads(docker_config_json("r.example.com", "u", "p"))
    assert config == {"auths": {"r.example.com": {"username": "u", "password": "p", "auth": "dTpw"}}}


def test_the_lifecycle_policy_has_a_single_expire_rule():
    assert [rule["rulePriority"] for rule in lifecycle_policy(5)["rules"]] == [1]


def test_an_external_registry_render_passes_strict_schema_validation(tmp_path):
    from mlserve.manifest_checks import validate_manifests

    out = tmp_path / "out"
    write_render(run_external(tmp_path), out)
    secret = read_yaml(out / "manifests" / f"ml-staging--secret--{PULL_SECRET_NAME}.yaml")
    assert secret["stringData"] == {".dockerconfigjson": SECRET_TEXT}
    result = validate_manifests(out / "manifests")
    assert result.checked > 0 and result.errors == []


def test_only_deployments_running_a_content_tag_suppress_the_digest_check(tmp_path):
    def suppressed(run, model):
        return set(deployment(run, model)["metadata"].get("annotations", {}).values())

    ecr, external = run_ecr(tmp_path), run_external(tmp_path)
    assert any(v.startswith("CKV_K8S_43=") for v in suppressed(ecr, "churn"))
    assert not any(v.startswith(("CKV_K8S_43=", "CKV_K8S_15=")) for v in suppressed(external, "churn"))
