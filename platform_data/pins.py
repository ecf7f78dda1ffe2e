"""Every pinned image and chart version, in one file, each with where its digest was seen.

Digests were taken from public manifests and Dockerfiles that pin them (no registry is reachable from the build
machines). Before bumping or trusting one in a new environment, re-resolve it against the registry:
``crane digest <image>:<tag>`` or ``docker buildx imagetools inspect <image>:<tag>``.
"None" means no digest could be verified: the runtime then has no default for that hardware and the catalog must
name an image itself (with a digest, in staging and prod).
"""

from __future__ import annotations

from typing import NamedTuple

# --- Serving runtimes -------------------------------------------------------------------------------------------
#: TensorFlow Serving 2.14.1, CPU. Seen as `FROM tensorflow/serving:2.14.1@sha256:fdc2...` in a public Dockerfile.
TENSORFLOW_SERVING_CPU = (
    "tensorflow/serving:2.14.1@sha256:fdc296e313fa4454173c5728fceda38f5d18cdb44c71a9f279ce61bc5818335e"
)
#: No digest of a `-gpu` tag could be verified; GPU TF Serving models name their image.
TENSORFLOW_SERVING_GPU: str | None = None
#: Triton 25.06 (CUDA; runs CPU-only models too). Seen pinned in a public deployment script.
TRITON = "nvcr.io/nvidia/tritonserver:25.06-py3@sha256:75bcfa5b0043898ece3e603c17a5bbbb1c9bddc390563db24312ef59d83735e5"
#: vLLM OpenAI server v0.11.0, multi-arch index digest, seen in four independent public files.
VLLM = "vllm/vllm-openai:v0.11.0@sha256:014a95f21c9edf6abe0aea6b07353f96baa4ec291c427bb1176dc7c93a85845c"
#: vLLM has no CPU build in that repository; CPU vLLM models name their image.
VLLM_CPU: str | None = None
#: TorchServe `latest-cpu` as resolved on 2026-09-20 (linux/amd64 manifest), from a public digest table.
TORCHSERVE_CPU = "pytorch/torchserve@sha256:78fa81a563467ed97a89c4e4c4e32b3ca14fb901fc15b4b2927235bcadfc801a"
#: No verified digest of a GPU TorchServe tag; GPU TorchServe models name their image.
TORCHSERVE_GPU: str | None = None

# --- Weight downloaders (init containers) --------------------------------------------------------------------
#: AWS CLI v2 for s3:// (`aws s3 sync`); digest seen in a public pre-flight record dated 2026-07-17.
AWS_CLI = "amazon/aws-cli@sha256:eb85b2c72442c9eab0bdbe608095b9b909bc2a7136924124d63fe0c03b2ec334"
#: Google Cloud SDK slim for gs:// (`gcloud storage cp`); seen pinned in public code.
CLOUD_SDK = "google/cloud-sdk:slim@sha256:e379150995766ed2575edcfc6183e6fe212ed7def3465e7aad0b59d7de8392da"
#: Python 3.12 slim (multi-arch index, Aug 2026): runs the stdlib-only downloader for hf:// and https://, and is
#: the base of the custom model image.
PYTHON_SLIM = "python:3.12-slim@sha256:78387bc3881b8273120a12ebe6c1ab22b018ccc2c9adf565ae1ac9b536e184ea"

# --- Inference routing (Gateway API Inference Extension) ---------------------------------------------------------
#: The llm-d router's endpoint picker (EPP), v0.10.0: the release whose InferenceObjective CRD ../shared/crds holds
#: (llm-d/llm-d-router 71f4f0999), implementing InferencePool inference.networking.k8s.io/v1. Multi-arch index
#: digest seen pinned with its tag in three independent public records (a benchmark record listing its arm64 and
#: amd64 children, an operator's pin table, a conformance run).
LLM_D_ROUTER_EPP = (
    "ghcr.io/llm-d/llm-d-router-endpoint-picker:v0.10.0"
    "@sha256:2e516fa1310da7be59b82beb1445362139597d6d553ef04d546716abe3aaaa70"
)

# --- GPU nodes ---------------------------------------------------------------------------------------------------
#: NVIDIA device plugin Helm chart (repository https://nvidia.github.io/k8s-device-plugin). 0.20.0 is the newest
#: version seen installed with a date in public records (`helm install nvdp nvdp/nvidia-device-plugin --version
#: 0.20.0`, "As built, 2026-08-27"); 0.20.1 exists too but no digest of its image could be found.
NVIDIA_DEVICE_PLUGIN_CHART = "nvidia-device-plugin"
NVIDIA_DEVICE_PLUGIN_CHART_REPO = "https://nvidia.github.io/k8s-device-plugin"
NVIDIA_DEVICE_PLUGIN_CHART_VERSION = "0.20.0"
#: The chart's own image at its appVersion, by multi-arch index digest (a public install script states the index
#: a61b... and its amd64 child 1de0... for the tag v0.20.0).
NVIDIA_DEVICE_PLUGIN_IMAGE_REPOSITORY = "nvcr.io/nvidia/k8s-device-plugin"
NVIDIA_DEVICE_PLUGIN_IMAGE_TAG = "v0.20.0@sha256:a61ba9fd8efb82f3a79f877f7580e02c1e8e7593f62473644bc9c79e315c3312"
#: EKS-optimized Amazon Linux 2023 AMI release for Karpenter's alias (Karpenter picks the NVIDIA variant for GPU
#: instances: amazon-eks-node-al2023-x86_64-nvidia-<k8s minor>-v20260827). Seen as a pinned alias in a public
#: Karpenter values file and as the NVIDIA AMI of a public 1.33 upgrade record. Pinned, not @latest: every AMI release
#: would otherwise mark all GPU nodes Drifted and reload every model; bump it deliberately.
EKS_AL2023_AMI_ALIAS = "al2023@v20260827"
# --- Helm charts (monitoring and autoscaling) ---------------------------------------------------------------------
# Versions seen in public use in 2026 (docs/pins-provenance.md, section 2), not read from the chart repositories'
# index: confirm with `helm repo add <name> <repo> && helm search repo <name>/<chart> --versions` before bumping, and
# read the chart's UPGRADE notes (kube-prometheus-stack majors change CRDs).


class Chart(NamedTuple):
    name: str
    version: str
    repo: str


#: Prometheus Operator, Prometheus, Alertmanager, Grafana, kube-state-metrics, node-exporter and the operator's CRDs.
#: Seen as `helm template ... --version 88.6.0` in public code.
KUBE_PROMETHEUS_STACK = Chart("kube-prometheus-stack", "88.6.0", "https://prometheus-community.github.io/helm-charts")
#: KEDA operator, metrics API server and admission webhooks, with their CRDs. Seen as `--version 2.19.0`.
KEDA = Chart("keda", "2.19.0", "https://kedacore.github.io/charts")
#: NVIDIA DCGM exporter (its chart version follows the exporter's). Seen as `DCGM_EXPORTER_CHART_VERSION=4.8.1`.
DCGM_EXPORTER = Chart("dcgm-exporter", "4.8.1", "https://nvidia.github.io/dcgm-exporter/helm-charts")
#: The exporter image of that release, pinned by its linux/amd64 manifest digest (GPU nodes are amd64), from a public
#: ops record "validated on 2x p6-b300"; the chart otherwise pulls its appVersion tag.
DCGM_EXPORTER_IMAGE_REPOSITORY = "nvcr.io/nvidia/k8s/dcgm-exporter"
DCGM_EXPORTER_IMAGE_TAG = (
    "4.5.2-4.8.1-ubuntu22.04@sha256:a7ad6547d4546eaf4dd5d6b4c0b4db4101e63ef7dc3cdff7f42b767d2c60b706"
)

# --- CRD schemas (offline validation of rendered custom resources) -------------------------------------------------
# The upstream CustomResourceDefinitions of the custom resources the platform renders, fetched by `make crds` into
# .crds/ for a clone without ../shared/crds beside it. The sha256 of each is that of the copy the project was
# developed against (../shared/crds, provenance in its README); a download with other bytes is refused, so a moved
# tag or a changed file never silently changes what the checks accept. Bump URL and sha256 together.


class CrdPin(NamedTuple):
    url: str
    sha256: str


_PROMETHEUS_OPERATOR = "https://raw.githubusercontent.com/prometheus-operator/prometheus-operator/v0.93.0"
_KARPENTER = "https://raw.githubusercontent.com/aws/karpenter-provider-aws/v1.14.0"
_KEDA = "https://raw.githubusercontent.com/kedacore/keda/v2.20.1"

#: file name -> where it comes from and its sha256.
CRDS: dict[str, CrdPin] = {
    "monitoring.coreos.com_podmonitors.yaml": CrdPin(
        f"{_PROMETHEUS_OPERATOR}/example/prometheus-operator-crd/monitoring.coreos.com_podmonitors.yaml",
        "45a93443daa687d3654f7e9631909ff7edcdf3ec09c5e60251b74aa2722aee5d",
    ),
    "monitoring.coreos.com_prometheusrules.yaml": CrdPin(
        f"{_PROMETHEUS_OPERATOR}/example/prometheus-operator-crd/monitoring.coreos.com_prometheusrules.yaml",
        "78be98554b9c8506ab2b4f4feb91c5f3a56e536a0a510f3a8e876a459970d56d",
    ),
    "monitoring.coreos.com_servicemonitors.yaml": CrdPin(
        f"{_PROMETHEUS_OPERATOR}/example/prometheus-operator-crd/monitoring.coreos.com_servicemonitors.yaml",
        "a99047972c9dd7679ce2050b9968e8a08773492e671b3e17abd476d42aa78a32",
    ),
    "karpenter.sh_nodepools.yaml": CrdPin(
        f"{_KARPENTER}/pkg/apis/crds/karpenter.sh_nodepools.yaml",
        "ff2b3e88a9b8f5331ac8f61930f4f7d4169d6ab9c926224ea5eec326843b8c84",
    ),
    "karpenter.k8s.aws_ec2nodeclasses.yaml": CrdPin(
        f"{_KARPENTER}/pkg/apis/crds/karpenter.k8s.aws_ec2nodeclasses.yaml",
        "38d34b9c6a18cd60c87502af06bc6008408a00908384fb2d28c33ee8a68b7d48",
    ),
    "keda.sh_scaledobjects.yaml": CrdPin(
        f"{_KEDA}/config/crd/bases/keda.sh_scaledobjects.yaml",
        "207afc4ca44fd9e3f4bbfb1c8fae08f3a365e098a52714fe8eb672bbd239cbcd",
    ),
}

# The dev environment (docs/dev.md). kind's node image for the dev stack's Kubernetes minor: the tag kind v0.29.0
# published for 1.33. Not pinned by digest (no registry access here to resolve one): when upgrading, add the
# `@sha256:` digest kind's release notes list for the image.
KIND_NODE_IMAGE = "kindest/node:v1.33.1"
# metrics-server for the dev cluster's HPAs (dev/cluster.sh applies its release manifest).
METRICS_SERVER_VERSION = "v0.7.2"
