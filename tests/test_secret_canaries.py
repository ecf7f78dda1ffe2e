"""No secret value ever reaches an output: canary secrets in every secret-capable setting and catalog place, then
zero occurrences in the rendered files, stdout and stderr, for render and validate.

Secret-capable settings get canaries in both forms the program can meet: the stack file's `secure:` ciphertext
(what the offline render and validate read) and the decrypted value (what the engine hands `pulumi up`). Catalog
places that could carry a credential get canaries that screening must reject without quoting them.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from model_catalog.settings import PROJECT, secret_capable_settings
from tests.helpers import BASE_SETTINGS, ROOT, engine_config, run_catalog

CIPHER_USER = "CANARYCIPHERusr7f3a"
CIPHER_PASSWORD = "CANARYCIPHERpwd91c2"
CIPHER_VALUE = "CANARYCIPHERval55e0"
PLAIN_USER = "canary-plain-user-5d1e"
PLAIN_PASSWORD = "canary-plain-password-0b7a"

SECRET_STACK = f"""\
config:
  ml-serving:environment:
    tier: staging
    namespace: ml-canary
  ml-serving:cluster:
    name: canary
    kubernetesVersion: "1.33"
    context: canary-context
    kubeSystemUid: 00000000-0000-4000-8000-000000000001
  ml-serving:registry:
    type: external
    address: registry.example.com/ml
    username:
      secure: {CIPHER_USER}
  ml-serving:registryPassword:
    secure: {CIPHER_PASSWORD}
  ml-serving:secrets:
    churn-db: {{source: stack, keys: [password]}}
  ml-serving:secretValues:
    churn-db:
      password:
        secure: {CIPHER_VALUE}
  ml-serving:gpuNodePool:
    provider: karpenter
    nodeRole: role
"""

BUILT_CATALOG = """\
version: 1
models:
  churn:
    runtime: custom
    image: {build: {context: images/churn-predictor}}
    weights: {baked: true}
    server: {port: 8080}
    resources: {cpu: 500m, memory: 512Mi}
"""
#: The same model reading a Secret the canary stack creates from its secret config (ml-serving:secretValues).
BUILT_CATALOG_WITH_SECRET = BUILT_CATALOG + "    secretEnv:\n      DB_PASSWORD: {secret: churn-db, key: password}\n"

#: Credentials a careless catalog author might write: each in a different screened place.
CATALOG_CANARIES = {
    "env-dsn": "postgres://app:canaryDsnPw4411@db.internal/x",
    "uri-userinfo": "canaryUriPw7720",
    "uri-query": "canaryQuerySig9931",
    "aws-key": "AKIACANARY7KEY3EXMPL",
    "hf-token": "hf_CanaryTokenAbcdefghijklmnopqrstuvw",
    "build-arg": "ghp_Canary0123456789abcdefghijklmnopqrstu",
    "label": "xoxb-123456789012-1234567890123-CanaryLabelTokenZZZZ",
    "arg": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJjYW5hcnkifQ.Q2FuYXJ5U2lnbmF0dXJlQ2FuYXJ5",
}

LEAKY_CATALOG = f"""\
version: 1
models:
  leaky:
    runtime: custom
    image: {{build: {{context: images/churn-predictor, args: {{VERSION: "{CATALOG_CANARIES["build-arg"]}"}}}}}}
    weights: {{uri: "https://user:{CATALOG_CANARIES["uri-userinfo"]}@models.example/m.tar.gz", sizeGiB: 1}}
    server: {{port: 8080, args: ["--token={CATALOG_CANARIES["arg"]}"]}}
    resources: {{cpu: 500m, memory: 512Mi}}
    env:
      CONN: "{CATALOG_CANARIES["env-dsn"]}"
      REGION_HINT: "{CATALOG_CANARIES["aws-key"]}"
      HUB: "{CATALOG_CANARIES["hf-token"]}"
    exposure:
      clients: [{{namespace: web, podLabels: {{app: "{CATALOG_CANARIES["label"]}"}}}}]
  presigned:
    runtime: custom
    image: {{build: {{context: images/churn-predictor}}}}
    weights: {{uri: "https://models.example/m.tar.gz?X-Amz-Signature={CATALOG_CANARIES["uri-query"]}", sizeGiB: 1}}
    server: {{port: 8080}}
    resources: {{cpu: 500m, memory: 512Mi}}
"""


def project(tmp_path: Path, stack_text: str, catalog: str) -> Path:
    root = tmp_path / "project"
    (root / "images").mkdir(parents=True)
    shutil.copytree(ROOT / "images" / "churn-predictor", root / "images" / "churn-predictor")
    (root / "Pulumi.canary.yaml").write_text(stack_text, encoding="utf-8")
    (root / "models.yaml").write_text(catalog, encoding="utf-8")
    return root


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mlserve", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **(env or {})},
    )


def leaks(canaries: list[str], texts: list[str], out: Path | None) -> list[str]:
    found = [c for c in canaries for t in texts if c in t]
    if out is not None and out.exists():
        for path in sorted(p for p in out.rglob("*") if p.is_file()):
            content = path.read_text(encoding="utf-8", errors="replace")
            found += [f"{c} in {path.relative_to(out)}" for c in canaries if c in content]
    return found


def test_every_secret_capable_setting_is_covered_by_the_canary_stack():
    # A new secret-capable setting must get a canary here.
    assert sorted(secret_capable_settings()) == ["registry.username", "registryPassword", "secretValues"]


def test_secret_settings_from_the_stack_file_appear_in_no_render_or_validate_output(tmp_path):
    root = project(tmp_path, SECRET_STACK, BUILT_CATALOG_WITH_SECRET)
    out = tmp_path / "out"
    render = cli("render", "--stack", "canary", "--project-dir", str(root), "--out", str(out))
    assert render.returncode == 0, render.stderr
    validate = cli("validate", "--stack", "canary", "--project-dir", str(root))
    assert validate.returncode == 0, validate.stderr
    texts = [render.stdout, render.stderr, validate.stdout, validate.stderr]
    assert leaks([CIPHER_USER, CIPHER_PASSWORD, CIPHER_VALUE], texts, out) == []
    # The pull Secret exists and is masked: the canaries were used, not dropped.
    secrets = [p for p in (out / "manifests").glob("*--secret--*.yaml")]
    assert secrets and all("[secret]" in p.read_text() for p in secrets)


def test_decrypted_secret_settings_stay_secret_in_every_output(tmp_path, capfd):
    from mlserve.output import write_render

    settings = {
        **BASE_SETTINGS,
        "registry": {"type": "external", "address": "registry.example.com/ml", "username": PLAIN_USER},
    }
    # What the engine hands the program: decrypted values, their keys marked secret (Pulumi marks an object key
    # secret as a whole when any leaf is; without the stack file's `secure:` leaves, all of it counts as secret).
    run = run_catalog(
        tmp_path,
        BUILT_CATALOG,
        secrets={"registryPassword": PLAIN_PASSWORD},
        secret_settings=("registry",),
        registry=settings["registry"],
    )
    out = tmp_path / "out"
    write_render(run, out)
    captured = capfd.readouterr()
    assert leaks([PLAIN_USER, PLAIN_PASSWORD], [captured.out, captured.err], out) == []
    resources = json.loads((out / "resources.json").read_text())
    images = [r for r in resources["resources"] if r["type"] == "docker:index/image:Image"]
    assert [r["inputs"]["registry"]["username"] for r in images] == ["[secret]"]


@pytest.mark.parametrize("command", ["render", "validate"])
def test_a_secret_on_a_setting_that_cannot_be_secret_is_a_located_error_without_its_value(tmp_path, command):
    label = "    labels:\n      team:\n        secure: CANARYCIPHERlabel55\n"
    stack = SECRET_STACK.replace("    namespace: ml-canary\n", "    namespace: ml-canary\n" + label)
    root = project(tmp_path, stack, BUILT_CATALOG)
    out = tmp_path / "out"
    extra = ["--out", str(out)] if command == "render" else []
    result = cli(command, "--stack", "canary", "--project-dir", str(root), *extra)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert (
        "Pulumi.canary.yaml:7:9: ml-serving:environment.labels.team: cannot be a secret: this setting is used in "
        "plain text" in result.stderr
    )
    assert (
        f"Settings that may be secrets: {PROJECT}:registryPassword, {PROJECT}:secretValues, {PROJECT}:registry.username"
        in result.stderr
    )
    assert leaks(["CANARYCIPHERlabel55", CIPHER_USER, CIPHER_PASSWORD], [result.stdout, result.stderr], out) == []
    assert not out.exists()


def test_a_decrypted_secret_that_fails_validation_is_not_echoed():
    from model_catalog.errors import ConfigurationError
    from model_catalog.settings import parse_settings

    canary = "eu-canary-region-x9"
    config = engine_config({**BASE_SETTINGS, "registry": {"type": "ecr", "region": canary, "accountId": "1"}})
    with pytest.raises(ConfigurationError) as info:
        parse_settings(config, {f"{PROJECT}:registry"}, "dev", None)
    text = info.value.render()
    assert canary not in text
    assert "ml-serving:registry.region: got a secret value (not shown); must be" in text


@pytest.mark.parametrize("command", ["render", "validate"])
def test_credentials_in_the_catalog_are_rejected_without_being_quoted(tmp_path, command):
    root = project(tmp_path, SECRET_STACK, LEAKY_CATALOG)
    out = tmp_path / "out"
    extra = ["--out", str(out)] if command == "render" else []
    result = cli(command, "--stack", "canary", "--project-dir", str(root), *extra)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    located = [line for line in result.stderr.splitlines() if "looks like a credential" in line]
    assert {line.split(": ")[1] for line in located} == {
        "models.leaky.env.CONN",
        "models.leaky.env.REGION_HINT",
        "models.leaky.env.HUB",
        "models.leaky.weights.uri",
        "models.presigned.weights.uri",
        "models.leaky.image.build.args.VERSION",
        "models.leaky.server.args[0]",
        "models.leaky.exposure.clients[0].podLabels.app",
    }
    assert all(line.startswith("models.yaml:") for line in located)
    assert leaks(list(CATALOG_CANARIES.values()), [result.stdout, result.stderr], out) == []
    assert not out.exists()
