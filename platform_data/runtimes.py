"""Serving runtime presets: one row per runtime the catalog may name.

A row says everything a workload needs to run that server: pinned images, ports, probe endpoints, the metrics
endpoint, command and arguments, config files, writable directories, whether it needs a large ``/dev/shm``, and
how fast it loads weights. ``custom`` is the row with no preset: the catalog's ``server`` block supplies it.
Templates in paths and arguments: ``{model}`` (catalog key), ``{model_dir}`` (where the weights are),
``{tensor_parallelism}``, ``{config_dir}``, ``{port}`` (serving port number).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from . import pins

#: Where weights live inside the serving container (an init container fills it, or the image bakes it in).
MODEL_ROOT = "/models"
#: Where runtime config files (ConfigMap) are mounted.
CONFIG_DIR = "/etc/model-server"
#: Writable cache directory (emptyDir) every runtime gets under a read-only root filesystem.
CACHE_DIR = "/var/cache/model-server"
#: Latency quantiles Triton reports in its (opt-in) summaries, each with its allowed rank error; the metric table
#: reads exactly these quantiles.
TRITON_SUMMARY_QUANTILES: tuple[tuple[float, float], ...] = ((0.5, 0.05), (0.9, 0.01), (0.99, 0.001))


@dataclass(frozen=True)
class Port:
    name: str
    number: int


@dataclass(frozen=True)
class Probe:
    """An HTTP GET on ``path`` at the named port, or a TCP connect when ``path`` is None."""

    port: str
    path: str | None = None


@dataclass(frozen=True)
class RuntimePreset:
    name: str
    description: str
    cpu_image: str | None
    gpu_image: str | None
    ports: tuple[Port, ...]
    """Container ports; the first one serves inference and is what the Service exposes."""
    metrics_port: str
    metrics_path: str
    startup: Probe
    readiness: Probe
    liveness: Probe
    command: tuple[str, ...] = ()
    args: tuple[str, ...] = ()
    env: tuple[tuple[str, str], ...] = ()
    config_files: tuple[tuple[str, str], ...] = ()
    """File name -> content template, mounted read-only at CONFIG_DIR."""
    needs_shm: bool = False
    """PyTorch-based servers share tensors between workers through /dev/shm; 64Mi (the container default) is too small."""
    supports_tensor_parallelism: bool = False
    load_seconds_base: int = 30
    """Server start-up before weights load (import time, CUDA init)."""
    load_seconds_per_gib: int = 10
    """Download plus load time per GiB of weights, worst case."""
    writable_dirs: tuple[str, ...] = field(default=())
    """Paths the server writes to besides /tmp and CACHE_DIR (each gets an emptyDir)."""

    @property
    def serving_port(self) -> Port:
        return self.ports[0]

    def port_number(self, name: str) -> int:
        return next(p.number for p in self.ports if p.name == name)

    def image_for(self, gpu: bool) -> str | None:
        return self.gpu_image if gpu and self.gpu_image else self.cpu_image


_CACHE_ENV = (
    ("HOME", CACHE_DIR),
    ("XDG_CACHE_HOME", f"{CACHE_DIR}/xdg"),
)

RUNTIMES: dict[str, RuntimePreset] = {
    row.name: row
    for row in (
        RuntimePreset(
            name="tensorflow-serving",
            description="TensorFlow Serving: SavedModel directories, REST on 8501 and gRPC on 8500.",
            cpu_image=pins.TENSORFLOW_SERVING_CPU,
            gpu_image=pins.TENSORFLOW_SERVING_GPU,
            ports=(Port("http", 8501), Port("grpc", 8500)),
            metrics_port="http",
            metrics_path="/monitoring/prometheus/metrics",
            startup=Probe("http", "/v1/models/{model}"),
            readiness=Probe("http", "/v1/models/{model}"),
            liveness=Probe("grpc"),
            command=("tensorflow_model_server",),
            args=(
                "--port=8500",
                "--rest_api_port=8501",
                "--model_name={model}",
                "--model_base_path={model_dir}",
                "--monitoring_config_file={config_dir}/monitoring.config",
            ),
            config_files=(
                (
                    "monitoring.config",
                    'prometheus_config {\n  enable: true,\n  path: "/monitoring/prometheus/metrics"\n}\n',
                ),
            ),
            load_seconds_per_gib=10,
        ),
        RuntimePreset(
            name="triton",
            description="NVIDIA Triton Inference Server: a model repository, HTTP 8000, gRPC 8001, metrics 8002.",
            cpu_image=pins.TRITON,
            gpu_image=pins.TRITON,
            ports=(Port("http", 8000), Port("grpc", 8001), Port("metrics", 8002)),
            metrics_port="metrics",
            metrics_path="/metrics",
            startup=Probe("http", "/v2/health/ready"),
            readiness=Probe("http", "/v2/health/ready"),
            liveness=Probe("http", "/v2/health/live"),
            command=("tritonserver",),
            args=(
                "--model-repository={model_dir}",
                "--http-port=8000",
                "--grpc-port=8001",
                "--metrics-port=8002",
                "--strict-readiness=true",
                "--exit-on-error=true",
                # Latency summaries (nv_inference_request_summary_us{quantile=...}) for p50/p90/p99: the default
                # latency metrics are cumulative counters, which give means only.
                "--metrics-config=summary_latencies=true",
                "--metrics-config=summary_quantiles=" + ",".join(f"{q}:{e}" for q, e in TRITON_SUMMARY_QUANTILES),
            ),
            needs_shm=True,
            supports_tensor_parallelism=True,
            load_seconds_base=45,
            load_seconds_per_gib=15,
        ),
        RuntimePreset(
            name="vllm",
            description="vLLM OpenAI-compatible server for large language models, HTTP and metrics on 8000.",
            cpu_image=pins.VLLM_CPU,
            gpu_image=pins.VLLM,
            ports=(Port("http", 8000),),
            metrics_port="http",
            metrics_path="/metrics",
            startup=Probe("http", "/health"),
            readiness=Probe("http", "/v1/models"),
            liveness=Probe("http", "/health"),
            args=(
                "--model={model_dir}",
                "--served-model-name={model}",
                "--host=0.0.0.0",
                "--port=8000",
                "--tensor-parallel-size={tensor_parallelism}",
            ),
            env=_CACHE_ENV
            + (
                ("VLLM_CACHE_ROOT", f"{CACHE_DIR}/vllm"),
                ("HF_HOME", f"{CACHE_DIR}/huggingface"),
                ("HF_HUB_OFFLINE", "1"),
                ("VLLM_NO_USAGE_STATS", "1"),
            ),
            needs_shm=True,
            supports_tensor_parallelism=True,
            load_seconds_base=90,
            load_seconds_per_gib=20,
        ),
        RuntimePreset(
            name="torchserve",
            description="TorchServe: .mar archives in a model store, inference 8080, metrics 8082.",
            cpu_image=pins.TORCHSERVE_CPU,
            gpu_image=pins.TORCHSERVE_GPU,
            ports=(Port("http", 8080), Port("metrics", 8082)),
            metrics_port="metrics",
            metrics_path="/metrics",
            startup=Probe("http", "/ping"),
            readiness=Probe("http", "/ping"),
            liveness=Probe("http"),
            command=("torchserve",),
            args=(
                "--start",
                "--foreground",
                "--model-store={model_dir}",
                "--models=all",
                "--ts-config={config_dir}/config.properties",
                "--disable-token-auth",
            ),
            env=_CACHE_ENV + (("LOG_LOCATION", "/tmp/logs"), ("METRICS_LOCATION", "/tmp/logs")),
            config_files=(
                (
                    "config.properties",
                    # The management API stays on loopback: nothing outside the pod may register or unload models.
                    "inference_address=http://0.0.0.0:8080\n"
                    "management_address=http://127.0.0.1:8081\n"
                    "metrics_address=http://0.0.0.0:8082\n"
                    "metrics_mode=prometheus\n"
                    "disable_system_metrics=false\n"
                    "enable_envvars_config=true\n",
                ),
            ),
            needs_shm=True,
            writable_dirs=("/home/model-server/logs", "/home/model-server/tmp"),
            load_seconds_per_gib=15,
        ),
        RuntimePreset(
            name="custom",
            description="Your own server image; the catalog's `server` block declares its port, probes and metrics.",
            cpu_image=None,
            gpu_image=None,
            ports=(Port("http", 8080),),
            metrics_port="http",
            metrics_path="/metrics",
            startup=Probe("http", "/healthz"),
            readiness=Probe("http", "/readyz"),
            liveness=Probe("http", "/healthz"),
            env=_CACHE_ENV,
            supports_tensor_parallelism=True,
        ),
    )
}

RUNTIME_NAMES: tuple[str, ...] = tuple(sorted(RUNTIMES))
