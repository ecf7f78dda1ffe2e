"""ImageRegistry: where this stack's built images are pushed and how the cluster pulls them (ml-serving:registry).

One per stack, chosen by ``registry.type`` (the REGISTRY_KINDS table says what each type does):

- ``ecr``: an explicit AWS provider pinned to the stack's region and account (``allowedAccountIds``, so a prod
  stack can never touch another account), and per built model a repository ``<namespace>/<model>`` with immutable
  tags, scan on push, AES256 or KMS encryption and a lifecycle policy keeping the last ``keepImages`` images.
  Protected and retained in prod. Pushes authenticate with a short-lived ECR token; EKS nodes pull with their node
  role, so pods get no imagePullSecret.
- ``external``: any OCI registry at ``address``. With a ``username``, pushes use it and the password from the
  secret ``ml-serving:registryPassword``, and a ``kubernetes.io/dockerconfigjson`` Secret in the models' namespace
  lets exactly the pods whose image comes from that registry pull.
- ``none``: nothing is created; images are built into the local Docker daemon (``kind load docker-image`` puts
  them on a local cluster). Staging and prod reject built models without a registry (model_catalog.environment).

Decisions and procedures (retiring a prod repository, dev with kind): docs/images.md.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import pulumi

if TYPE_CHECKING:
    import pulumi_docker as docker

from model_catalog.settings import RegistrySettings, StackSettings

from .kube import register
from .labels import platform_labels

TYPE = "ml-serving:images:ImageRegistry"

#: ECR's registry host for an account and region; the provider's allowedAccountIds and region make it exact.
ECR_HOST = "{account}.dkr.ecr.{region}.amazonaws.com"
#: ECR authorization tokens are always issued for this user (`docker login --username AWS`).
ECR_USERNAME = "AWS"
#: Repository prefix of images that are never pushed (type none): a name no real registry answers to.
LOCAL_REGISTRY = "ml-serving.local"
#: Name of the pull Secret in the models' namespace (type external with a username).
PULL_SECRET_NAME = "image-registry"


@dataclass(frozen=True)
class RegistryKind:
    """What one registry type does."""

    push: bool
    """Built images are pushed (False: they stay in the local Docker daemon)."""
    reference: Literal["tag", "digest"]
    """What the Deployment runs: the content-addressed tag (exact at preview; safe only where the registry keeps
    tags immutable) or tag plus the digest the push returned (safe on any registry; unknown at preview)."""
    pull_secret: bool
    """Pods pulling from it get an imagePullSecret (when the registry has credentials)."""


REGISTRY_KINDS: dict[str, RegistryKind] = {
    # Local builds: the tag is all there is, and nothing can overwrite it behind our back.
    "none": RegistryKind(push=False, reference="tag", pull_secret=False),
    # Immutable tags are enforced by the repository this component owns, so the tag is as exact as a digest and is
    # known at preview. Nodes pull with the EKS node role.
    "ecr": RegistryKind(push=True, reference="tag", pull_secret=False),
    # We cannot enforce tag immutability on a registry we do not manage: pin the digest the push reported.
    "external": RegistryKind(push=True, reference="digest", pull_secret=True),
}


def ecr_host(registry: RegistrySettings) -> str:
    return ECR_HOST.format(account=registry.account_id, region=registry.region)


def repository_address(settings: StackSettings, model: str) -> str:
    """Where a built model's image goes, without tag: known before anything is created, so previews are exact."""
    registry = settings.registry
    if registry.type == "ecr":
        return f"{ecr_host(registry)}/{ecr_repository_name(settings, model)}"
    if registry.type == "external":
        return f"{registry.address}/{model}"
    return f"{LOCAL_REGISTRY}/{model}"


def ecr_repository_name(settings: StackSettings, model: str) -> str:
    return f"{settings.environment.namespace}/{model}"


def registry_server(registry: RegistrySettings) -> str:
    """The host (and port) credentials are for: the address up to its first '/'."""
    if registry.type == "ecr":
        return ecr_host(registry)
    assert registry.address is not None
    return registry.address.split("/", 1)[0]


def lifecycle_policy(keep_images: int) -> dict[str, Any]:
    """Expire all but the newest ``keep_images`` images: the rollback window, counted in builds."""
    return {
        "rules": [
            {
                "rulePriority": 1,
                "description": f"keep the last {keep_images} images",
                "selection": {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": keep_images},
                "action": {"type": "expire"},
            }
        ]
    }


def docker_config_json(server: str, username: str, password: str) -> str:
    """The `.dockerconfigjson` of a pull Secret (what `kubectl create secret docker-registry` writes)."""
    auth = base64.b64encode(f"{username}:{password}".encode()).decode()
    return json.dumps({"auths": {server: {"username": username, "password": password, "auth": auth}}}, sort_keys=True)


def pull_secret_manifest(namespace: pulumi.Input[str], labels: dict[str, str], config_json: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": PULL_SECRET_NAME,
            "namespace": namespace,
            "labels": platform_labels("image-registry", labels),
        },
        "type": "kubernetes.io/dockerconfigjson",
        "stringData": {".dockerconfigjson": config_json},
    }


@dataclass
class ImageRegistryArgs:
    settings: StackSettings
    """The stack's settings: registry block, tier (prod protects repositories), namespace and labels."""
    models: list[str]
    """Models whose image this stack builds; ECR gets one repository each."""
    namespace: pulumi.Input[str]
    """The models' namespace as an output of the Namespace resource (the pull Secret goes there, after it)."""
    password: pulumi.Input[str] | None = None
    """The external registry's password (a secret output), when it has a username."""


@dataclass(frozen=True)
class PushTarget:
    """Everything ModelImage needs to push one model's image."""

    repository: str
    """Image repository without tag."""
    push: bool
    """Push after building."""
    reference: Literal["tag", "digest"]
    """What the Deployment should run (REGISTRY_KINDS)."""
    credentials: docker.RegistryArgs | None
    """Push credentials; None uses the ambient `docker login` (or nothing, without push)."""
    repository_resource: pulumi.Resource | None
    """The repository the image goes into: the image depends on it and is rebuilt when it is replaced."""


class ImageRegistry(pulumi.ComponentResource):
    """The stack's image registry: ECR repositories, external credentials and pull Secret, or nothing."""

    repositories: dict[str, pulumi.CustomResource]
    """ECR repository per built model (empty for other types)."""
    pull_secret: pulumi.CustomResource | None
    """The dockerconfigjson Secret, when pods need one."""

    def __init__(self, name: str, args: ImageRegistryArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(TYPE, name, None, opts)
        self._settings = args.settings
        registry = args.settings.registry
        self.kind = REGISTRY_KINDS[registry.type]
        self.repositories = {}
        self.pull_secret = None
        self._credentials: docker.RegistryArgs | None = None
        if registry.type == "ecr" and args.models:
            self._ecr(name, args)
        elif registry.type == "external" and registry.username is not None:
            assert args.password is not None, "settings require ml-serving:registryPassword with a username"
            # Secret whatever the caller passed: the password must never reach state or output in plain text.
            password = pulumi.Output.secret(args.password)
            # The user may be a secret setting too: then it stays one in the push credentials and the state.
            username: pulumi.Input[str] = registry.username
            if args.settings.is_secret("registry", "username"):
                username = pulumi.Output.secret(registry.username)
            import pulumi_docker as docker  # the AWS and Docker SDKs: imported by the stacks that use them

            self._credentials = docker.RegistryArgs(
                server=registry_server(registry), username=username, password=password
            )
            config_json = pulumi.Output.secret(
                password.apply(lambda p: docker_config_json(registry_server(registry), registry.username or "", p))
            )
            self.pull_secret = register(
                f"{name}-pull-secret",
                pull_secret_manifest(args.namespace, dict(args.settings.environment.labels), config_json),
                pulumi.ResourceOptions(parent=self),
            )
        self.register_outputs(
            {
                "type": registry.type,
                "repositories": {model: repo.name for model, repo in sorted(self.repositories.items())},
            }
        )

    def _ecr(self, name: str, args: ImageRegistryArgs) -> None:
        import pulumi_aws as aws
        import pulumi_docker as docker

        settings = args.settings
        registry = settings.registry
        prod = settings.environment.tier == "prod"
        provider = aws.Provider(
            f"{name}-aws",
            region=registry.region,
            # The provider refuses to run with credentials for any other account.
            allowed_account_ids=[registry.account_id],
            opts=pulumi.ResourceOptions(parent=self),
        )
        encryption = aws.ecr.RepositoryEncryptionConfigurationArgs(
            encryption_type="KMS" if registry.kms_key_arn else "AES256", kms_key=registry.kms_key_arn
        )
        policy = json.dumps(lifecycle_policy(registry.keep_images), sort_keys=True)
        for model in sorted(args.models):
            repository = aws.ecr.Repository(
                f"{name}-{model}",
                name=ecr_repository_name(settings, model),
                image_tag_mutability="IMMUTABLE",
                image_scanning_configuration=aws.ecr.RepositoryImageScanningConfigurationArgs(scan_on_push=True),
                encryption_configurations=[encryption],
                # Outside prod everything in a repository can be rebuilt from git: removing a model removes its
                # images. In prod the repository is protected and outlives its removal from the program.
                force_delete=not prod,
                tags={
                    **settings.environment.labels,
                    "app.kubernetes.io/part-of": "ml-serving",
                    "app.kubernetes.io/managed-by": "pulumi",
                    "ml-serving.dev/model": model,
                },
                opts=pulumi.ResourceOptions(
                    parent=self,
                    provider=provider,
                    protect=prod,
                    retain_on_delete=prod,
                    # The name is fixed (the image address is derived from it), so a replacement (a new KMS key)
                    # must delete the old repository first.
                    delete_before_replace=True,
                ),
            )
            aws.ecr.LifecyclePolicy(
                f"{name}-{model}-lifecycle",
                repository=repository.name,
                policy=policy,
                opts=pulumi.ResourceOptions(parent=self, provider=provider),
            )
            self.repositories[model] = repository
        # A 12-hour token for `docker push`, fetched with the same pinned provider (an invoke: also on preview).
        # pulumi-docker ignores credential changes when diffing, so a fresh token never causes a rebuild.
        token = aws.ecr.get_authorization_token_output(
            registry_id=registry.account_id, opts=pulumi.InvokeOutputOptions(provider=provider, parent=self)
        )
        self._credentials = docker.RegistryArgs(
            server=ecr_host(registry),
            username=ECR_USERNAME,
            password=pulumi.Output.secret(token.password),
        )

    def target(self, model: str) -> PushTarget:
        """Where and how ``model``'s image is pushed."""
        return PushTarget(
            repository=repository_address(self._settings, model),
            push=self.kind.push,
            reference=self.kind.reference,
            credentials=self._credentials,
            repository_resource=self.repositories.get(model),
        )

    def pull_secrets(self, image_source: str) -> list[dict[str, Any]]:
        """imagePullSecrets for a pod whose image comes from ``image_source`` (a repository or a prebuilt
        reference): the pull Secret when that image lives in this registry, else none."""
        registry = self._settings.registry
        if self.pull_secret is None or registry.address is None:
            return []
        if not image_source.startswith(registry.address.rstrip("/") + "/"):
            return []
        return [{"name": self.pull_secret.metadata.apply(lambda m: m["name"])}]
