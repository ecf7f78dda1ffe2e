"""The weight fetcher (components/scripts/fetch_weights.py) against a local HTTP server standing in for the
Hugging Face hub and an https file host. Loopback only; bounded in time."""

from __future__ import annotations

import io
import json
import os
import shutil
import ssl
import subprocess
import sys
import tarfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "components" / "scripts" / "fetch_weights.py"


def tarball(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


class Hub:
    """Serves /api/models/<repo>/revision/<rev>, /<repo>/resolve/<rev>/<file> and /files/<name>."""

    def __init__(self, files: dict[str, bytes], token: str | None = None, redirects: dict[str, str] | None = None):
        self.files, self.token, self.requests = files, token, []
        self.redirects = redirects or {}
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                hub.requests.append((self.path, self.headers.get("Authorization")))
                if self.path in hub.redirects:
                    self.send_response(302)
                    self.send_header("Location", hub.redirects[self.path])
                    self.end_headers()
                    return
                if hub.token and self.headers.get("Authorization") != f"Bearer {hub.token}":
                    self.send_response(401)
                    self.end_headers()
                    return
                if self.path.split("?")[0] == "/api/models/org/model/revision/v1":
                    body = json.dumps({"siblings": [{"rfilename": n} for n in sorted(hub.files)]}).encode()
                elif self.path.startswith("/org/model/resolve/v1/"):
                    body = hub.files.get(self.path.removeprefix("/org/model/resolve/v1/"))
                elif self.path.startswith("/files/"):
                    body = hub.files.get(self.path.split("?")[0].removeprefix("/files/"))
                else:
                    body = None
                if body is None:
                    self.send_response(404)
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def serve_tls(self, cert: Path, key: Path) -> Hub:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.url = self.url.replace("http://", "https://")
        return self

    def __enter__(self):
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def fetch(uri: str, dest: Path, hub: Hub, **env: str) -> subprocess.CompletedProcess:
    environment = {**os.environ, "HF_ENDPOINT": hub.url, "FETCH_RETRIES": "2", "FETCH_ALLOW_HTTP": "1", **env}
    return subprocess.run(
        [sys.executable, str(SCRIPT), uri, str(dest)], env=environment, capture_output=True, text=True, timeout=60
    )


def test_hf_uris_download_every_file_of_the_revision(tmp_path):
    files = {"config.json": b"{}", "weights/model.safetensors": b"\x00" * 1000}
    with Hub(files) as hub:
        result = fetch("hf://org/model@v1", tmp_path / "m", hub)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "m" / "weights" / "model.safetensors").read_bytes() == b"\x00" * 1000
    assert not list((tmp_path / "m").rglob("*.partial"))


def test_the_hf_token_comes_from_a_file_and_is_never_printed(tmp_path):
    token_file = tmp_path / "token"
    token_file.write_text("hf_secret_value\n")
    with Hub({"a.bin": b"a"}, token="hf_secret_value") as hub:
        denied = fetch("hf://org/model@v1", tmp_path / "x", hub)
        allowed = fetch("hf://org/model@v1", tmp_path / "y", hub, HF_TOKEN_PATH=str(token_file))
    assert denied.returncode != 0 and "HTTP 401" in denied.stderr
    assert allowed.returncode == 0 and (tmp_path / "y" / "a.bin").read_bytes() == b"a"
    assert "hf_secret_value" not in denied.stderr + allowed.stderr + denied.stdout + allowed.stdout


def test_a_retried_fetch_resumes_and_skips_complete_files(tmp_path):
    with Hub({"a.bin": b"a", "b.bin": b"b"}) as hub:
        (tmp_path / "m").mkdir()
        (tmp_path / "m" / "a.bin").write_bytes(b"already here")
        assert fetch("hf://org/model@v1", tmp_path / "m", hub).returncode == 0
        downloaded = [path for path, _ in hub.requests if "/resolve/" in path]
    assert downloaded == ["/org/model/resolve/v1/b.bin"]
    assert (tmp_path / "m" / "a.bin").read_bytes() == b"already here"


def test_https_archives_are_unpacked_in_place(tmp_path):
    archive = tarball({"model-store/sentiment.mar": b"mar", "model-store/config.properties": b"x=1"})
    with Hub({"store.tar.gz": archive}) as hub:
        result = fetch(f"{hub.url}/files/store.tar.gz", tmp_path / "m", hub)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "m" / "model-store" / "sentiment.mar").read_bytes() == b"mar"
    assert not (tmp_path / "m" / "store.tar.gz").exists()


def test_an_archive_that_escapes_the_target_directory_is_refused(tmp_path):
    archive = tarball({"../evil.txt": b"x"})
    with Hub({"bad.tar.gz": archive}) as hub:
        result = fetch(f"{hub.url}/files/bad.tar.gz", tmp_path / "m", hub)
    assert result.returncode != 0 and "escapes the target directory" in result.stderr
    assert not (tmp_path / "evil.txt").exists()


@pytest.mark.parametrize("uri", ["ftp://host/x", "s3://bucket/x"])
def test_schemes_it_does_not_handle_exit_2(tmp_path, uri):
    with Hub({}) as hub:
        assert fetch(uri, tmp_path / "m", hub).returncode == 2


def test_a_missing_file_is_a_clear_error_not_a_retry_loop(tmp_path):
    with Hub({}) as hub:
        result = fetch(f"{hub.url}/files/nope.tar.gz", tmp_path / "m", hub)
    assert result.returncode != 0 and "HTTP 404; check the URI and credentials" in result.stderr
    assert len(hub.requests) == 1


def test_the_authorization_header_never_follows_a_redirect_to_another_host(tmp_path):
    """Hugging Face's resolve URLs redirect to a CDN with a pre-signed URL: the token must not go along."""
    token_file = tmp_path / "token"
    token_file.write_text("hf_hubonly_secret\n")
    with Hub({"weights.bin": b"w" * 100}) as cdn:
        redirects = {
            "/org/model/resolve/v1/weights.bin": f"{cdn.url}/files/weights.bin?X-Amz-Signature=presigned",
            "/org/model/resolve/v1/moved.bin": "/org/model/resolve/v1/config.json",
        }
        files = {"weights.bin": b"", "moved.bin": b"", "config.json": b"{}"}
        with Hub(files, token="hf_hubonly_secret", redirects=redirects) as hub:
            result = fetch("hf://org/model@v1", tmp_path / "m", hub, HF_TOKEN_PATH=str(token_file))
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "m" / "weights.bin").read_bytes() == b"w" * 100
    # The CDN (another origin: another port of 127.0.0.1) got the pre-signed URL and no credential ...
    assert cdn.requests == [("/files/weights.bin?X-Amz-Signature=presigned", None)]
    # ... while a redirect within the hub kept it (the hub answers 401 without it).
    assert ("/org/model/resolve/v1/config.json", "Bearer hf_hubonly_secret") in hub.requests
    assert (tmp_path / "m" / "moved.bin").read_bytes() == b"{}"
    assert "hf_hubonly_secret" not in result.stderr + result.stdout


@pytest.fixture
def certificate(tmp_path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, made with the openssl CLI."""
    if shutil.which("openssl") is None:
        if os.environ.get("CI"):
            pytest.fail("CI must run the TLS tests: install the openssl CLI")
        pytest.skip("the TLS tests need the openssl CLI to make a test certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return cert, key


def test_tls_certificates_are_always_verified(tmp_path, certificate):
    cert, key = certificate
    with Hub({"m.bin": b"m"}).serve_tls(cert, key) as hub:
        untrusted = fetch(f"{hub.url}/files/m.bin", tmp_path / "a", hub, PYTHONHTTPSVERIFY="0", FETCH_ALLOW_HTTP="0")
        trusted = fetch(f"{hub.url}/files/m.bin", tmp_path / "b", hub, SSL_CERT_FILE=str(cert), FETCH_ALLOW_HTTP="0")
    assert untrusted.returncode != 0 and "CERTIFICATE_VERIFY_FAILED" in untrusted.stderr
    assert not (tmp_path / "a" / "m.bin").exists()
    assert trusted.returncode == 0, trusted.stderr
    assert (tmp_path / "b" / "m.bin").read_bytes() == b"m"


def test_a_redirect_from_https_to_plain_http_is_refused(tmp_path, certificate):
    cert, key = certificate
    with Hub({"m.bin": b"m"}) as plain:
        redirects = {"/files/m.bin": f"{plain.url}/files/m.bin"}
        with Hub({}, redirects=redirects).serve_tls(cert, key) as hub:
            result = fetch(f"{hub.url}/files/m.bin", tmp_path / "m", hub, SSL_CERT_FILE=str(cert))
    assert result.returncode != 0 and "refusing a redirect from https to http://127.0.0.1" in result.stderr
    assert plain.requests == []
