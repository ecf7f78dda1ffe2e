"""Rules that need both the catalog and the stack's settings."""

import os
from pathlib import Path

import pytest

from model_catalog.environment import resolve_environment
from model_catalog.errors import ConfigurationError
from tests.helpers import BASE_SETTINGS, ROOT, engine_config, write_catalog

GPU_CATALOG = """
models:
  detector:
    runtime: triton
    weights: {uri: "s3://bucket/detector/", sizeGiB: 1}
    resources:
      cpu: "2"
      memory: 8Gi
      gpu: {accelerator: nvidia-l4}
    scaling: {minReplicas: 2, maxReplicas: 4}
"""


def resolve(tmp_path, text, stack="dev", **settings):
    catalog = write_catalog(tmp_path / "models.yaml", text)
    config = engine_config({**BASE_SETTINGS, **settings})
    return resolve_environment(ROOT, stack, config, set(), str(catalog))


def errors(tmp_path, text, stack="dev", **settings) -> list[str]:
    with pytest.raises(ConfigurationError) as info:
        resolve(tmp_path, text, stack, **settings)
    return [p.message for p in info.value.problems]


def test_a_gpu_model_in_a_stack_without_gpus_names_the_model_and_the_stack(tmp_path):
    (message,) = errors(tmp_path, GPU_CATALOG)
    assert message.startswith("stack 'dev' offers no GPUs (ml-serving:gpuNodePool.provider is 'none')")


def test_a_gpu_model_is_fine_once_the_stack_overrides_it_to_cpu(tmp_path):
    env = resolve(tmp_path, GPU_CATALOG + "    overrides:\n      dev: {resources: {gpu: null}}\n")
    assert env.models["detector"].resources.gpu is None


def test_existing_gpu_nodes_must_declare_the_accelerator(tmp_path):
    pools = {"provider": "existing", "existing": {"nvidia-t4": {"labels": {"gpu": "t4"}}}}
    (message,) = errors(tmp_path, GPU_CATALOG, gpuNodePool=pools)
    assert message.startswith("stack 'dev' declares no existing 'nvidia-l4' nodes")


def test_prod_runs_every_model_with_at_least_two_replicas(tmp_path):
    text = GPU_CATALOG.replace("minReplicas: 2", "minReplicas: 1")
    env = {"tier": "prod", "namespace": "ml-prod"}
    pools = {"provider": "karpenter", "nodeRole": "role"}
    network = {"weightsEgressCidrs": ["10.1.0.0/24"]}
    (message,) = errors(tmp_path, text, "prod", environment=env, gpuNodePool=pools, network=network)
    assert message.startswith("got 1; a prod stack runs every model with minReplicas >= 2")


def test_staging_and_prod_reject_images_without_a_digest(tmp_path):
    text = GPU_CATALOG.replace(
        "    runtime: triton\n", "    runtime: triton\n    image: {ref: nvcr.io/x/triton:25.06}\n"
    )
    pools = {"provider": "karpenter", "nodeRole": "role"}
    (message,) = errors(tmp_path, text, "staging", environment={"tier": "staging", "namespace": "s"}, gpuNodePool=pools)
    assert "a staging stack runs only images pinned by digest" in message
    assert resolve(
        tmp_path,
        text.replace("25.06}", "25.06@sha256:" + "a" * 64 + "}"),
        "staging",
        environment={"tier": "staging", "namespace": "s"},
        gpuNodePool=pools,
    )


def test_dev_accepts_a_mutable_tag(tmp_path):
    text = GPU_CATALOG.replace(
        "    runtime: triton\n", "    runtime: triton\n    image: {ref: nvcr.io/x/triton:25.06}\n"
    )
    assert resolve(tmp_path, text, gpuNodePool={"provider": "karpenter", "nodeRole": "r"})


def test_prometheus_metrics_need_monitoring(tmp_path):
    text = GPU_CATALOG.replace("maxReplicas: 4}", "maxReplicas: 4, metric: concurrency, target: 4}")
    pools = {"provider": "karpenter", "nodeRole": "role"}
    (message,) = errors(tmp_path, text, gpuNodePool=pools)
    assert message.startswith("'concurrency' is read from Prometheus, but stack 'dev' has monitoring off")
    assert resolve(tmp_path, text, gpuNodePool=pools, monitoring={"enabled": True})


def test_disabled_models_are_left_out_and_not_checked(tmp_path):
    env = resolve(tmp_path, GPU_CATALOG + "    enabled: false\n")
    assert env.models == {}


def test_catalog_and_settings_problems_are_reported_together(tmp_path):
    catalog = write_catalog(tmp_path / "models.yaml", GPU_CATALOG.replace("triton", "tritn"))
    config = engine_config({**BASE_SETTINGS, "cluster": {"name": "x", "kubernetesVersion": "1.20"}})
    with pytest.raises(ConfigurationError) as info:
        resolve_environment(ROOT, "dev", config, set(), str(catalog))
    paths = [p.path for p in info.value.problems]
    assert sorted(paths) == ["ml-serving:cluster.kubernetesVersion", "models.detector.runtime"]


BUILT_CATALOG = """
models:
  churn:
    runtime: custom
    image: {build: {context: images/churn-predictor}}
    weights: {baked: true}
    server: {port: 8080}
    resources: {cpu: 500m, memory: 512Mi}
"""


def test_staging_cannot_run_a_built_image_without_a_registry(tmp_path):
    (message,) = errors(tmp_path, BUILT_CATALOG, "staging", environment={"tier": "staging", "namespace": "s"})
    assert message.startswith("a staging stack's cluster can only pull a built image from a registry, but stack ")


def test_dev_builds_without_a_registry(tmp_path):
    assert resolve(tmp_path, BUILT_CATALOG).settings.registry.type == "none"


@pytest.mark.parametrize(
    ("build", "path", "message"),
    [
        ("{context: ../outside}", "context", "got '../outside'; a build context is a directory below the project"),
        ("{context: images/missing}", "context", "'images/missing' is not a directory of the project"),
        ("{context: images/churn-predictor, dockerfile: Dockerfile.gpu}", "dockerfile", "no 'Dockerfile.gpu' in"),
        ("{context: docs}", "dockerfile", "no 'Dockerfile' in 'docs'"),
    ],
)
def test_a_build_context_must_be_a_project_directory_with_its_dockerfile(tmp_path, build, path, message):
    text = BUILT_CATALOG.replace("{build: {context: images/churn-predictor}}", f"{{build: {build}}}")
    with pytest.raises(ConfigurationError) as info:
        resolve(tmp_path, text)
    (problem,) = info.value.problems
    assert problem.message.startswith(message) and problem.path.endswith(f"image.build.{path}")


def test_a_build_context_without_a_dockerignore_is_rejected(tmp_path):
    project = tmp_path / "project"
    (project / "images" / "m").mkdir(parents=True)
    (project / "images" / "m" / "Dockerfile").write_text("FROM scratch\n")
    catalog = write_catalog(tmp_path / "models.yaml", BUILT_CATALOG.replace("images/churn-predictor", "images/m"))
    with pytest.raises(ConfigurationError) as info:
        resolve_environment(project, "dev", engine_config(BASE_SETTINGS), set(), str(catalog))
    (problem,) = info.value.problems
    assert problem.message.startswith("'images/m' has no .dockerignore; add one that lists what the image needs")


KARPENTER = {"provider": "karpenter", "nodeRole": "role"}


def test_a_replica_too_big_for_every_instance_of_its_accelerator_is_named_with_the_largest(tmp_path):
    text = GPU_CATALOG.replace("memory: 8Gi", "memory: 800Gi")
    (message,) = errors(tmp_path, text, gpuNodePool=KARPENTER)
    assert message.startswith(
        "a replica asks for 2 CPU and 800Gi with 1 nvidia-l4 GPU(s), but no nvidia-l4 instance type holds it: the "
        "largest, g6.48xlarge, leaves pods 190450m CPU and 717963Mi after system and DaemonSet reservations"
    )


def test_cpu_is_blamed_when_memory_fits(tmp_path):
    text = GPU_CATALOG.replace('cpu: "2"', 'cpu: "200"')
    with pytest.raises(ConfigurationError) as info:
        resolve(tmp_path, text, gpuNodePool=KARPENTER)
    (problem,) = info.value.problems
    assert problem.path == "models.detector.resources.cpu"


def test_existing_nodes_are_not_sized_from_the_instance_table(tmp_path):
    text = GPU_CATALOG.replace("memory: 8Gi", "memory: 800Gi")
    pools = {"provider": "existing", "existing": {"nvidia-l4": {"labels": {"gpu": "l4"}}}}
    assert resolve(tmp_path, text, gpuNodePool=pools)


def test_a_shared_accelerator_takes_one_gpu_replicas_only(tmp_path):
    text = GPU_CATALOG.replace("accelerator: nvidia-l4}", "accelerator: nvidia-l4, count: 2}")
    pools = {**KARPENTER, "sharing": {"nvidia-l4": {"timeSlicingReplicas": 4}}}
    (message,) = errors(tmp_path, text, gpuNodePool=pools)
    assert message.startswith(
        "'nvidia-l4' GPUs are shared in stack 'dev' (ml-serving:gpuNodePool.sharing, 4 slices per GPU), so a replica "
        "gets one slice; this model asks for 2 GPUs"
    )
    assert resolve(tmp_path, GPU_CATALOG, gpuNodePool=pools)


SCALE_TO_ZERO = GPU_CATALOG.replace(
    "scaling: {minReplicas: 2, maxReplicas: 4}",
    "scaling: {minReplicas: 0, maxReplicas: 4, metric: concurrency, target: 4}",
)
KARPENTER = {"provider": "karpenter", "nodeRole": "role"}


def test_scale_to_zero_needs_wake_hours_because_nothing_else_would_wake_the_model(tmp_path):
    (message,) = errors(tmp_path, SCALE_TO_ZERO, gpuNodePool=KARPENTER, monitoring={"enabled": True})
    assert message.startswith("a model at zero replicas has no pod serving metrics, so nothing would wake it up; set ")
    assert "ml-serving:monitoring.wakeHours" in message
    wake = {"timezone": "UTC", "start": "0 8 * * *", "end": "0 18 * * *"}
    assert resolve(tmp_path, SCALE_TO_ZERO, gpuNodePool=KARPENTER, monitoring={"enabled": True, "wakeHours": wake})


def built_project(tmp_path: Path, dockerignore: str | None = "*\n!Dockerfile\n!app.py\n") -> Path:
    project = tmp_path / "project"
    context = project / "images" / "m"
    context.mkdir(parents=True)
    (context / "Dockerfile").write_text("FROM scratch\nCOPY app.py /\n")
    (context / "app.py").write_text("print('hi')\n")
    if dockerignore is not None:
        (context / ".dockerignore").write_text(dockerignore)
    return project


def context_problems(tmp_path: Path, project: Path, build: str = "{context: images/m}") -> list[str]:
    text = BUILT_CATALOG.replace("{build: {context: images/churn-predictor}}", f"{{build: {build}}}")
    catalog = write_catalog(tmp_path / "models.yaml", text)
    with pytest.raises(ConfigurationError) as info:
        resolve_environment(project, "dev", engine_config(BASE_SETTINGS), set(), str(catalog))
    return [str(p) for p in info.value.problems]


@pytest.mark.parametrize("dockerfile", ["../../etc/passwd", "/etc/passwd", "../m2/Dockerfile"])
def test_a_dockerfile_outside_its_context_is_a_located_error(tmp_path, dockerfile):
    project = built_project(tmp_path)
    (project / "images" / "m2").mkdir()
    (project / "images" / "m2" / "Dockerfile").write_text("FROM scratch\n")
    (line,) = context_problems(tmp_path, project, f"{{context: images/m, dockerfile: '{dockerfile}'}}")
    assert "/models.yaml:4:" in line and ": models.churn.image.build.dockerfile: got '" in line
    assert "the Dockerfile is a path relative to the build context" in line or "resolves outside the build" in line


def test_a_dockerfile_linked_from_outside_the_context_is_rejected(tmp_path):
    project = built_project(tmp_path)
    (project / "images" / "m" / "Dockerfile").unlink()
    (project / "images" / "m" / "Dockerfile").symlink_to(tmp_path / "elsewhere")
    (tmp_path / "elsewhere").write_text("FROM scratch\n")
    (line,) = context_problems(tmp_path, project)
    assert "models.churn.image.build.dockerfile: got 'Dockerfile', which resolves outside the build context" in line


@pytest.mark.parametrize("name", ["id_rsa", ".env", ".env.production", "tls.pem", ".aws/credentials", ".git/config"])
def test_a_context_sending_a_credential_file_is_a_located_error_naming_it(tmp_path, name):
    project = built_project(tmp_path, dockerignore="# ignores nothing\n")
    path = project / "images" / "m" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("secret\n")
    (line,) = context_problems(tmp_path, project)
    assert "/models.yaml:4:" in line and ": models.churn.image.build.context: in 'images/m': " in line
    assert f"'{name}' looks like a credential file and the builder would receive it; list it in the context's " in line


def test_credential_files_excluded_by_dockerignore_are_fine(tmp_path):
    project = built_project(tmp_path)
    for name in ("id_rsa", ".env", ".aws/credentials"):
        path = project / "images" / "m" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("secret\n")
    catalog = write_catalog(tmp_path / "models.yaml", BUILT_CATALOG.replace("images/churn-predictor", "images/m"))
    resolve_environment(project, "dev", engine_config(BASE_SETTINGS), set(), str(catalog))


def test_links_out_of_the_context_dangling_links_and_fifos_are_errors_not_hangs(tmp_path):
    project = built_project(tmp_path, dockerignore="# sends everything\n")
    context = project / "images" / "m"
    (tmp_path / "outside.txt").write_text("host file\n")
    (context / "escape").symlink_to(tmp_path / "outside.txt")
    (context / "escape-dir").symlink_to(tmp_path)
    (context / "dangling").symlink_to(context / "nowhere")
    (context / "inside").symlink_to("app.py")
    os.mkfifo(context / "pipe")
    lines = context_problems(tmp_path, project)
    messages = sorted(line.split("in 'images/m': ", 1)[1] for line in lines)
    assert messages == [
        "'dangling' is a symbolic link to '" + str(context / "nowhere") + "', which does not exist (a dangling link)",
        f"'escape' is a symbolic link to '{tmp_path / 'outside.txt'}', outside the build context; copy what the "
        "image needs into the context instead",
        f"'escape-dir' is a symbolic link to '{tmp_path}', outside the build context; copy what the image needs "
        "into the context instead",
        "'pipe' is a FIFO; a build context holds regular files, directories and links inside it only (exclude it "
        "in .dockerignore or move it out)",
    ]
