#!/usr/bin/env python3
"""Fetch model weights into a directory: hf://org/model[@revision] or https://host/file[.tar.gz|.tgz|.tar|.zip].

Runs in the model pod's init container on a pinned python:slim image, standard library only. Credentials are
files mounted from the Secret named in the catalog's `weights.credentialsSecret`: HF_TOKEN_PATH (a Hugging Face
token) and FETCH_AUTHORIZATION_FILE (an `Authorization` header value for https). They are never logged, and they
stay on their host: a redirect to another origin (Hugging Face's CDN answers with a pre-signed URL) is followed
without the `Authorization` header, and a redirect from https to plain http is refused. TLS certificates are always
verified (the system's CA bundle, or SSL_CERT_FILE); nothing turns verification off.
Downloads go to a temporary name and are renamed when complete, so a retried init container never serves half a
file. Archives are unpacked with path-traversal protection.
"""

from __future__ import annotations

import json
import os
import shutil
import ssl
import sys
import tarfile
import time
import urllib.parse
import urllib.request
import zipfile
from pathlib import Path

HF_ENDPOINT = os.environ.get("HF_ENDPOINT", "https://huggingface.co")
RETRIES = int(os.environ.get("FETCH_RETRIES", "5"))
CHUNK = 1 << 20


MAX_REDIRECTS = 10


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urllib.parse.urlsplit(url)
    default = {"http": 80, "https": 443}.get(parts.scheme)
    return parts.scheme, (parts.hostname or "").lower(), parts.port or default


class _KeepCredentialsOnTheirHost(urllib.request.HTTPRedirectHandler):
    """Follow redirects, but send `Authorization` only to the origin it was given for, and never downgrade."""

    max_redirections = MAX_REDIRECTS

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        new = super().redirect_request(req, fp, code, msg, headers, newurl)
        if new is None:
            return None
        old_scheme, new_scheme = urllib.parse.urlsplit(req.full_url).scheme, urllib.parse.urlsplit(newurl).scheme
        if old_scheme == "https" and new_scheme != "https":
            # Fatal, not retried; the target is not printed (a pre-signed URL carries a token).
            scheme, host, _ = _origin(newurl)
            raise SystemExit(f"fetch-weights: {req.full_url}: refusing a redirect from https to {scheme}://{host}")
        # urllib copies every header to the redirected request; the credential goes only where it was meant to go.
        if _origin(newurl) != _origin(req.full_url):
            for name in list(new.headers):
                if name.lower() in ("authorization", "cookie"):
                    del new.headers[name]
        return new


def _opener() -> urllib.request.OpenerDirector:
    # An explicit default context: certificate and host name always checked, whatever the environment says.
    context = ssl.create_default_context()
    return urllib.request.build_opener(urllib.request.HTTPSHandler(context=context), _KeepCredentialsOnTheirHost())


def _request(url: str, headers: dict[str, str]) -> urllib.request.Request:
    return urllib.request.Request(url, headers={"User-Agent": "ml-serving-fetch-weights/1", **headers})


def _open(url: str, headers: dict[str, str]):
    delay = 1.0
    for attempt in range(1, RETRIES + 1):
        try:
            return _opener().open(_request(url, headers), timeout=60)
        except OSError as exc:  # URLError and HTTPError are OSErrors
            status = getattr(exc, "code", None)
            if status is not None and 400 <= status < 500 and status != 429:
                raise SystemExit(f"fetch-weights: {url}: HTTP {status}; check the URI and credentials") from None
            if attempt == RETRIES:
                raise SystemExit(f"fetch-weights: {url}: {exc} (after {RETRIES} attempts)") from None
            print(f"fetch-weights: {url}: {exc}; retrying in {delay:.0f}s", file=sys.stderr)
            time.sleep(delay)
            delay = min(delay * 2, 30)
    raise AssertionError("unreachable")


def download(url: str, target: Path, headers: dict[str, str]) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    with _open(url, headers) as response, open(partial, "wb") as out:
        shutil.copyfileobj(response, out, CHUNK)
    partial.replace(target)
    return target


def _inside(root: Path, member: str) -> Path:
    path = (root / member).resolve()
    if not path.is_relative_to(root.resolve()):
        raise SystemExit(f"fetch-weights: archive member {member!r} escapes the target directory")
    return path


def unpack(archive: Path, dest: Path) -> None:
    if archive.name.endswith((".tar.gz", ".tgz", ".tar")):
        with tarfile.open(archive) as tar:
            for member in tar.getmembers():
                _inside(dest, member.name)
            tar.extractall(dest, filter="data")
    elif archive.name.endswith(".zip"):
        with zipfile.ZipFile(archive) as zf:
            for name in zf.namelist():
                _inside(dest, name)
            zf.extractall(dest)
    else:
        return
    archive.unlink()


def _secret(file_variable: str) -> str | None:
    """The content of the credential file named by an environment variable, if there is one."""
    path = os.environ.get(file_variable)
    if path and Path(path).is_file():
        return Path(path).read_text(encoding="utf-8").strip() or None
    return None


def fetch_https(uri: str, dest: Path) -> None:
    headers = {}
    authorization = _secret("FETCH_AUTHORIZATION_FILE")
    if authorization:
        headers["Authorization"] = authorization
    name = Path(urllib.parse.urlparse(uri).path).name or "weights"
    unpack(download(uri, dest / name, headers), dest)


def fetch_hf(uri: str, dest: Path) -> None:
    spec = uri.removeprefix("hf://")
    repo, _, revision = spec.partition("@")
    revision = revision or "main"
    token = _secret("HF_TOKEN_PATH")
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    quoted_rev = urllib.parse.quote(revision, safe="")
    with _open(f"{HF_ENDPOINT}/api/models/{repo}/revision/{quoted_rev}", headers) as response:
        info = json.load(response)
    files = sorted(s["rfilename"] for s in info.get("siblings", []))
    if not files:
        raise SystemExit(f"fetch-weights: {uri}: the repository lists no files")
    for i, name in enumerate(files, 1):
        target = _inside(dest, name)
        if target.exists():
            continue  # a retried init container resumes where it stopped
        print(f"fetch-weights: [{i}/{len(files)}] {name}", file=sys.stderr)
        download(f"{HF_ENDPOINT}/{repo}/resolve/{quoted_rev}/{urllib.parse.quote(name)}", target, headers)


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print("usage: fetch_weights.py <hf://org/model[@rev] | https://...> <dest-dir>", file=sys.stderr)
        return 2
    uri, dest = argv[1], Path(argv[2])
    dest.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    if uri.startswith("hf://"):
        fetch_hf(uri, dest)
    elif uri.startswith("https://") or (uri.startswith("http://") and os.environ.get("FETCH_ALLOW_HTTP") == "1"):
        fetch_https(uri, dest)
    else:
        print(f"fetch-weights: unsupported URI {uri!r}", file=sys.stderr)
        return 2
    size = sum(p.stat().st_size for p in dest.rglob("*") if p.is_file())
    print(f"fetch-weights: {uri} -> {dest}: {size} bytes in {time.monotonic() - started:.1f}s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
