"""Secrets that exist before they are needed: declared per stack, created from secret config or external, listed by
`mlserve validate`, and an undeclared reference is a located error."""

from __future__ import annotations

import json

import pytest

from mlserve.__main__ import EXIT_INVALID, main
from mlserve.output import clean
from model_catalog.secrets import secrets_needed
from tests.helpers import BASE_SETTINGS, PROJECT, ROOT, engine_config, render_objects, spec, write_catalog

CANARY = "hf_Canary0Token0That0Must0Never0Leak"
CATALOG = """\
version: 1
models:
  chat:
    runtime: torchserve
    weights: {uri: "hf://org/model", sizeGiB: 1, credentialsSecret: hf}
    resources: {cpu: "1", memory: 2Gi}
    secretEnv:
      DB_PASSWORD: {secret: db, key: password}
"""


def run_with(tmp_path, declared, values=None):
    """The real program under mocks with ``ml-serving:secrets`` and, as the engine hands it over decrypted, the
    secret config ``ml-serving:secretValues``."""
    from mlserve.mock_runtime import run_program
    from stacks import program

    catalog = write_catalog(tmp_path / "models.yaml", CATALOG)
    config = engine_config({**BASE_SETTINGS, "secrets": declared})
    secret_keys = []
    if values is not None:
        config[f"{PROJECT}:secretValues"] = json.dumps(values)
        secret_keys.append(f"{PROJECT}:secretValues")
    return run_program(ROOT, "dev", lambda: program.run(str(catalog), ROOT), config=config, secret_keys=secret_keys)


def test_the_secrets_a_model_needs_and_the_keys_its_downloader_reads():
    needs = secrets_needed(
        {
            "a": spec(weights={"uri": "hf://org/m", "sizeGiB": 1, "credentialsSecret": "hf"}),
            "b": spec(weights={"uri": "s3://bucket/m/", "sizeGiB": 1, "credentialsSecret": "aws"}),
            "c": spec(secretEnv={"API_KEY": {"secret": "hf", "key": "api-key"}}),
        }
    )
    assert {name: sorted(need.keys) for name, need in needs.items()} == {
        "aws": ["credentials"],
        "hf": ["api-key", "token"],
    }
    assert [user[0] for user in needs["hf"].users] == ["a", "c"]


def test_secrets_from_stack_config_are_created_masked_and_come_before_the_model(tmp_path):
    values = {"hf": {"token": CANARY}, "db": {"password": CANARY + "db"}}
    declared = {"hf": {"source": "stack", "keys": ["token"]}, "db": {"source": "stack", "keys": ["password"]}}
    run = run_with(tmp_path, declared, values)
    objects = render_objects(run)
    assert objects[("Secret", "hf")]["stringData"] == {"token": "[secret]"}
    assert objects[("Secret", "db")]["stringData"] == {"password": "[secret]"}
    assert CANARY not in json.dumps([clean(r.inputs) for r in run.registrations], default=str)
    # the model waits for its Secrets (a dependency on the component reaches the Secrets in it)
    secrets = {r.urn for r in run.registrations if r.type == "kubernetes:core/v1:Secret"}
    (model,) = [r for r in run.registrations if r.type == "ml-serving:models:ModelService"]
    assert len(secrets) == 2 and secrets <= set(model.dependencies)


def test_an_external_secret_is_created_through_the_operator_and_awaited(tmp_path):
    declared = {
        "hf": {"source": "external", "keys": ["token"], "externalSecret": {"store": "vault", "remoteKey": "ml/hf"}},
        "db": {"source": "external", "keys": ["password"]},
    }
    objects = render_objects(run_with(tmp_path, declared))
    external = objects[("ExternalSecret", "hf")]
    assert external["spec"]["secretStoreRef"] == {"kind": "ClusterSecretStore", "name": "vault"}
    assert external["spec"]["data"] == [{"secretKey": "token", "remoteRef": {"key": "ml/hf", "property": "token"}}]
    assert "pulumi.com/waitFor" in external["metadata"]["annotations"]
    # `db` is created by hand (docs/secrets.md): the stack creates nothing for it
    assert not [key for key in objects if key[1] == "db" and key[0] in ("Secret", "ExternalSecret")]


def prod_project_without_secrets(tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    for name in ("models.yaml", "Pulumi.dev.yaml", "Pulumi.staging.yaml", "Pulumi.prod.yaml", "Pulumi.e2e.yaml"):
        text = (ROOT / name).read_text(encoding="utf-8")
        if name == "Pulumi.prod.yaml":
            text = text[: text.index("  # Every Secret the models reference")]
        (project / name).write_text(text, encoding="utf-8")
    (project / "images").symlink_to(ROOT / "images")
    return project


def test_validate_lists_every_secret_prod_needs_and_where_it_comes_from(capsys):
    assert main(["validate", "--stack", "prod"]) == 0
    out = capsys.readouterr().out
    assert "secrets the models need (1):" in out
    assert (
        "  huggingface-token [token]: external: create it before `pulumi up`: kubectl -n ml-prod create secret "
        "generic huggingface-token --from-file=token=<file>"
    ) in out
    assert "    read by llama3-70b (weights credentials)" in out


def test_a_model_referencing_an_undeclared_secret_is_a_located_error(tmp_path, capsys):
    project = prod_project_without_secrets(tmp_path)
    assert main(["validate", "--stack", "prod", "--project-dir", str(project)]) == EXIT_INVALID
    err = capsys.readouterr().err
    line = next(x for x in err.splitlines() if "credentialsSecret" in x)
    assert line.startswith("models.yaml:")
    assert (
        "models.llama3-70b.weights.credentialsSecret: Secret 'huggingface-token' is not declared for stack 'prod'"
        in line
    )


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (
            {},
            "Secret 'hf' (source 'stack') has no value for key 'token'; run: pulumi config set --secret --path "
            "'ml-serving:secretValues.hf.token' <value>",
        ),
        ({"hf": {"token": "x", "tokn": "y"}}, "values for undeclared key(s) tokn of Secret 'hf'"),
        (
            {"hf": {"token": "x"}, "other": {"k": "v"}},
            "values for Secret 'other', which ml-serving:secrets does not declare",
        ),
    ],
)
def test_secret_values_match_the_declarations_without_showing_them(tmp_path, values, message):
    from model_catalog.errors import ConfigurationError

    declared = {"hf": {"source": "stack", "keys": ["token"]}, "db": {"source": "external", "keys": ["password"]}}
    with pytest.raises(ConfigurationError) as info:
        run_with(tmp_path, declared, values)
    messages = [p.message for p in info.value.problems]
    assert message in messages
    assert not [m for m in messages if "x" in m.split("'")[1::2]]  # values never quoted


def test_validate_json_lists_the_same_secrets(capsys):
    assert main(["validate", "--stack", "prod", "--json"]) == 0
    (secret,) = json.loads(capsys.readouterr().out)["secrets"]
    assert (secret["name"], secret["keys"], secret["source"]) == ("huggingface-token", ["token"], "external")
    assert secret["readBy"] == [{"model": "llama3-70b", "use": "weights credentials"}]
