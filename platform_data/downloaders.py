"""How weights get from a storage URI into the model volume: one row per URI scheme.

The init container runs ``command`` with ``{uri}`` and ``{dest}`` filled in. hf:// and https:// use this repo's
stdlib-only fetcher (components/scripts/fetch_weights.py, shipped in the model's ConfigMap) on a pinned Python
image, so no unpinned tool is installed at start-up. pvc:// is mounted, not downloaded.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import pins

#: Where the fetcher script is mounted in the init container.
FETCHER_DIR = "/opt/fetch-weights"
FETCHER_FILE = "fetch_weights.py"
#: Where the catalog's `weights.credentialsSecret` is mounted (files, never environment variables).
CREDENTIALS_DIR = "/var/run/secrets/model-weights"


@dataclass(frozen=True)
class Downloader:
    scheme: str
    image: str
    command: tuple[str, ...]
    env: tuple[tuple[str, str], ...] = ()
    uses_fetcher: bool = False
    credential_files: tuple[tuple[str, str], ...] = ()
    """(environment variable, Secret key): with a credentials Secret, the tool finds each key's file through
    that variable."""


#: hf:// files a runtime never reads, left out unless the catalog's `weights.exclude` says otherwise: second
#: checkpoint formats (Llama cards say to skip `original/`: Meta's consolidated .pth shards, as large as the
#: safetensors), ONNX/OpenVINO/Core ML exports, GGUF quantisations, TensorFlow/Flax weights. PyTorch pickles next
#: to safetensors are dropped by HF_PREFER_SAFETENSORS instead (a repository with only pickles keeps them).
HF_DEFAULT_EXCLUDE: dict[str, tuple[str, ...]] = {
    "vllm": (
        "original/",
        "onnx/",
        "openvino/",
        "coreml/",
        "*.onnx",
        "*.onnx_data",
        "*.gguf",
        "*.h5",
        "*.msgpack",
        "*.ckpt",
        "*.tflite",
        "*.ot",
    ),
}
#: Runtimes that load safetensors when a repository has both: the fetcher leaves out `*.bin`, `*.pt`, `*.pth`.
HF_PREFER_SAFETENSORS = frozenset({"vllm"})


def hf_default_exclude(runtime: str) -> tuple[str, ...]:
    return HF_DEFAULT_EXCLUDE.get(runtime, ())


DOWNLOADERS: dict[str, Downloader] = {
    row.scheme: row
    for row in (
        Downloader(
            scheme="s3",
            image=pins.AWS_CLI,
            command=("aws", "s3", "sync", "--only-show-errors", "--no-progress", "{uri}", "{dest}"),
            env=(("HOME", "/tmp"), ("AWS_EC2_METADATA_DISABLED", "true")),
            credential_files=(("AWS_SHARED_CREDENTIALS_FILE", "credentials"),),
        ),
        Downloader(
            scheme="gs",
            image=pins.CLOUD_SDK,
            command=("gcloud", "storage", "rsync", "--recursive", "{uri}", "{dest}"),
            env=(("HOME", "/tmp"), ("CLOUDSDK_CONFIG", "/tmp/gcloud")),
            credential_files=(("CLOUDSDK_AUTH_CREDENTIAL_FILE_OVERRIDE", "key.json"),),
        ),
        Downloader(
            scheme="hf",
            image=pins.PYTHON_SLIM,
            command=("python3", f"{FETCHER_DIR}/{FETCHER_FILE}", "{uri}", "{dest}"),
            env=(("HOME", "/tmp"),),
            uses_fetcher=True,
            credential_files=(("HF_TOKEN_PATH", "token"),),
        ),
        Downloader(
            scheme="https",
            image=pins.PYTHON_SLIM,
            command=("python3", f"{FETCHER_DIR}/{FETCHER_FILE}", "{uri}", "{dest}"),
            env=(("HOME", "/tmp"),),
            uses_fetcher=True,
            credential_files=(("FETCH_AUTHORIZATION_FILE", "authorization"),),
        ),
    )
}
