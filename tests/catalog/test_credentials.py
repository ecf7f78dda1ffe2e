"""Credential screening: what counts as a credential, where the catalog is screened, and that no message quotes one."""

import pytest

from model_catalog.credentials import credential_kind, is_credential_name, redact
from tests.helpers import problems


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ("postgres://app:hunter2@db/x", "URL with a password"),
        ("https://token123@models.example/m.tar.gz", "URL with a user name or token"),
        ("https://h.example/m.tar.gz?X-Amz-Signature=abc", "URL with a credential in its query, 'X-Amz-Signature'"),
        ("AKIAIOSFODNN7EXAMPLE", "AWS Access Key"),
        ("hf_abcdefghijklmnopqrstuvwxyzABCDEFGH", "Hugging Face Token"),
        ("ghp_abcdefghijklmnopqrstuvwxyz0123456789", "GitHub Token"),
        ("xoxb-123456789012-1234567890123-abcdefghijklmnopqrstuvwx", "Slack Token"),
        ("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJlc2lnbmF0dXJl", "JSON Web Token"),
        ("-----BEGIN RSA PRIVATE KEY-----", "Private Key"),
        ("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "base64 high entropy string"),
        ("d41d8cd98f00b204e9800998ecf8427e", "hex high entropy string"),
    ],
)
def test_credential_shapes_are_recognised(value, kind):
    assert credential_kind(value) == kind


@pytest.mark.parametrize(
    "value",
    [
        "info",
        "2026.11",
        "s3://acme-ml-models/resnet50/savedmodel/",
        "hf://neuralmagic/Meta-Llama-3.1-70B-Instruct-FP8",
        "hf://org/model@0123456789abcdef0123456789abcdef01234567",  # a commit pins a revision
        "https://models.acme.example/review-sentiment/v3/model-store.tar.gz",
        "arn:aws:iam::444455556666:role/ml-prod-model-weights",
        "sha256:014a6ad8a6de5e9fb4e2e9c8b0c1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3",
        "app.kubernetes.io/name",
        "--model-dir={model_dir}",
    ],
)
def test_ordinary_values_are_not_credentials(value):
    assert credential_kind(value) is None


@pytest.mark.parametrize(
    "name", ["PGPASSWORD", "DATABASE_URL", "APIKEY", "HF_TOKEN", "DB_DSN", "AWS_SECRET_ACCESS_KEY"]
)
def test_credential_names_are_recognised(name):
    assert is_credential_name(name)


@pytest.mark.parametrize("name", ["TOKENIZERS_PARALLELISM", "MAX_NUM_BATCHED_TOKENS", "LOG_LEVEL", "MODEL_VERSION"])
def test_ordinary_names_are_not_credentials(name):
    assert not is_credential_name(name)


def test_redaction_keeps_the_message_and_drops_the_credential():
    assert redact("got 'postgres://app:hunter2@db/x'; bad") == "got 'postgres://app:[redacted]@db/x'; bad"


def test_a_dsn_with_a_password_under_a_neutral_name_is_a_located_error():
    (line,) = problems(
        """
        models:
          m:
            runtime: triton
            weights: {uri: "s3://bucket/m/", sizeGiB: 1}
            resources: {cpu: "1", memory: 1Gi}
            env: {DB_DSN_HOST: "postgres://app:hunter2@db/x"}
        """
    )
    assert line.startswith("models.yaml:6:24: models.m.env.DB_DSN_HOST: looks like a credential (URL with a password;")
    assert "'secretEnv'" in line and "hunter2" not in line


def test_an_https_uri_with_userinfo_is_a_located_error_pointing_at_credentials_secret():
    (line,) = problems(
        """
        models:
          m:
            runtime: triton
            weights: {uri: "https://user:pass1234@models.example/m.tar.gz", sizeGiB: 1}
            resources: {cpu: "1", memory: 1Gi}
        """
    )
    assert line.startswith("models.yaml:4:20: models.m.weights.uri: looks like a credential (URL with a password;")
    assert "weights.credentialsSecret" in line and "pass1234" not in line


def test_an_override_that_adds_a_credential_is_blamed_on_the_override():
    lines = problems(
        """
        models:
          m:
            runtime: triton
            weights: {uri: "s3://bucket/m/", sizeGiB: 1}
            resources: {cpu: "1", memory: 1Gi}
            overrides:
              prod: {env: {HUB: "hf_abcdefghijklmnopqrstuvwxyzABCDEFGH"}}
        """
    )
    assert any(
        line.startswith("models.yaml:7:25: models.m.overrides.prod.env.HUB: looks like a credential") for line in lines
    ), lines
