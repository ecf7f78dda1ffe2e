#!/usr/bin/env python3
"""Fetch model weights into a directory: hf://org/model[@revision] or https://host/file[.tar.gz|.tgz|.tar|.zip].

Runs in the model pod's init container (or the weights cache's fill Job) on a pinned python:slim image, standard
library only. Credentials are files mounted from the Secret named in the catalog's `weights.credentialsSecret`:
HF_TOKEN_PATH (a Hugging Face token) and FETCH_AUTHORIZATION_FILE (an `Authorization` header value for https). They
are never logged, and they stay on their host: a redirect to another origin (Hugging Face's CDN answers with a
pre-signed URL) is followed without the `Authorization` header, and a redirect from https to plain http is refused.
TLS certificates are always verified (the system's CA bundle, or SSL_CERT_FILE); nothing turns verification off.

Disk: the volume holds the weights and nothing else at any moment.
- Archives are unpacked while they stream in (tar, tar.gz: the archive is never written to disk; zip, which needs
  random access, is read through HTTP Range requests, and only downloaded whole when the server cannot seek).
  Members are checked against path traversal before anything is written.
- Downloads go to `<name>.partial` and get their name once complete and verified, so a retried init container
  never serves half a file. A dropped connection resumes with an HTTP Range request (If-Range on the ETag), within
  one run and across restarts.
- `--max-bytes`: what the volume may hold. The fetch stops with a clear message before writing past it (the
  catalog's `weights.sizeGiB` is too small), instead of the kubelet evicting the pod on every try. Hugging Face
  lists every file's size, so an over-large selection fails before the first byte.

Verification: Hugging Face publishes each file's size, the sha256 of every LFS file and the git blob id of the
others (`/api/models/<repo>/revision/<rev>?blobs=true`); every file is checked against them. An https download is
checked against `--sha256` when the catalog gives `weights.sha256`.

hf:// selection: `--include`/`--exclude` glob patterns over the repository's paths (fnmatch, `*` crosses `/`, a
pattern ending in `/` means everything under it: huggingface_hub's allow/ignore patterns), and
`--prefer-safetensors`: when safetensors files are selected, PyTorch pickles (`*.bin`, `*.pt`, `*.pth`) are not.
"""

from __future__ import annotations

import argparse
import fnmatch
import hashlib
import http.client
import io
import json
import os
import ssl
import sys
import tarfile
import time
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from pathlib import Path

HF_ENDPOINT = os.environ.get("HF_ENDPOINT", "https://huggingface.co")
RETRIES = int(os.environ.get("FETCH_RETRIES", "5"))
CHUNK = 1 << 20
MAX_REDIRECTS = 10
GIB = 1 << 30
PICKLES = ("*.bin", "*.pt", "*.pth")
TAR_SUFFIXES = (".tar.gz", ".tgz", ".tar")


class FetchError(SystemExit):
    """A fatal, explained failure (exit 1 with the message)."""

    def __init__(self, message: str):
        super().__init__(f"fetch-weights: {message}")


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
            raise FetchError(f"{req.full_url}: refusing a redirect from https to {scheme}://{host}")
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
    return urllib.request.Request(url, headers={"User-Agent": "ml-serving-fetch-weights/2", **headers})


def _pause(attempt: int) -> None:
    time.sleep(min(2 ** (attempt - 1), 30))


def _open(url: str, headers: dict[str, str]):
    """A response, retried on network errors, 429 and 5xx; None for 416 (the range starts at the end)."""
    for attempt in range(1, RETRIES + 1):
        try:
            return _opener().open(_request(url, headers), timeout=60)
        except OSError as exc:  # URLError and HTTPError are OSErrors
            status = getattr(exc, "code", None)
            if status == 416:
                return None
            if status is not None and 400 <= status < 500 and status != 429:
                raise FetchError(f"{url}: HTTP {status}; check the URI and credentials") from None
            if attempt == RETRIES:
                raise FetchError(f"{url}: {exc} (after {RETRIES} attempts)") from None
            print(f"fetch-weights: {url}: {exc}; retrying", file=sys.stderr)
            _pause(attempt)
    raise AssertionError("unreachable")


# --- disk budget ------------------------------------------------------------------------------------------------


class Budget:
    """Bytes under the destination against what the volume may hold."""

    def __init__(self, uri: str, dest: Path, max_bytes: int | None, size_gib: float | None):
        self.uri, self.max_bytes, self.size_gib = uri, max_bytes, size_gib
        self.used = sum(p.stat().st_size for p in dest.rglob("*") if p.is_file())
        self.peak = self.used

    def describe(self) -> str:
        declared = f"weights.sizeGiB {self.size_gib:g}" if self.size_gib is not None else "the declared size"
        return f"{declared} (the volume holds {self.max_bytes / GIB:.2f} GiB)"

    def check_total(self, total: int, what: str) -> None:
        if self.max_bytes is not None and total > self.max_bytes:
            raise FetchError(
                f"{self.uri}: {what} total {total / GIB:.2f} GiB, more than {self.describe()}; raise weights.sizeGiB "
                "in the catalog (or, for hf://, narrow weights.include / weights.exclude)"
            )

    def take(self, n: int) -> None:
        self.used += n
        self.peak = max(self.peak, self.used)
        if self.max_bytes is not None and self.used > self.max_bytes:
            raise FetchError(
                f"{self.uri}: {self.used / GIB:.2f} GiB written, more than {self.describe()}; stopped before the "
                "volume overflows. Raise weights.sizeGiB in the catalog to the size of the unpacked weights"
            )

    def give_back(self, n: int) -> None:
        self.used -= n


# --- a resumable byte stream ------------------------------------------------------------------------------------


class ResumingStream(io.RawIOBase):
    """The body of ``url`` from ``start``, read sequentially; a dropped connection is resumed with a Range request
    (If-Range on the first response's ETag, so a file that changed meanwhile starts over instead of being spliced).
    ``seek`` works too (a new Range request), which is what zipfile needs."""

    def __init__(self, url: str, headers: dict[str, str], start: int = 0, etag: str | None = None):
        self.url, self.headers, self.pos = url, headers, start
        self.etag = etag
        self.size: int | None = None
        self.ranges = False
        """The server answered a Range request with 206."""
        self._response = None
        self._connect()

    def _connect(self) -> None:
        headers = dict(self.headers)
        if self.pos:
            headers["Range"] = f"bytes={self.pos}-"
            if self.etag:
                headers["If-Range"] = self.etag
        response = _open(self.url, headers)
        if response is None:  # 416: nothing after pos
            self._response, self.size = None, self.pos
            return
        if self.pos and response.status != 206:
            response.close()
            raise _RangeRefusedError()
        if response.status == 206:
            self.ranges = True
            total = response.headers.get("Content-Range", "").rpartition("/")[2]
            self.size = int(total) if total.isdigit() else self.size
        elif response.headers.get("Content-Length", "").isdigit():
            self.size = int(response.headers["Content-Length"])
        if self.etag is None:
            self.etag = response.headers.get("ETag")
        self._response = response

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def ranges_supported(self) -> bool:
        """Whether the server honours Range requests (probed with the last byte; the stream is rewound)."""
        if self.ranges:
            return True
        if not self.size:
            return False
        self.close_response()
        self.pos = self.size - 1
        try:
            self._connect()
        except _RangeRefusedError:
            return False
        finally:
            self.close_response()
            self.pos = 0
        return self.ranges

    def tell(self) -> int:
        return self.pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_END:
            if self.size is None:
                raise OSError("size unknown")
            offset += self.size
        elif whence == io.SEEK_CUR:
            offset += self.pos
        if offset != self.pos:
            self.close_response()
            self.pos = offset
        return self.pos

    def close_response(self) -> None:
        if self._response is not None:
            self._response.close()
            self._response = None

    def readinto(self, buffer) -> int:
        if self.size is not None and self.pos >= self.size:
            return 0
        for attempt in range(1, RETRIES + 1):
            try:
                if self._response is None:
                    try:
                        self._connect()
                    except _RangeRefusedError:
                        raise FetchError(
                            f"{self.url}: the file changed at the source while it was being fetched (its ETag no "
                            "longer matches), or the server stopped honouring Range requests; retry"
                        ) from None
                    if self._response is None:
                        return 0
                n = self._response.readinto(buffer)
                if n == 0 and self.size is not None and self.pos < self.size:
                    raise http.client.IncompleteRead(b"", self.size - self.pos)
                self.pos += n
                return n
            except (OSError, http.client.HTTPException) as exc:
                self.close_response()
                if attempt == RETRIES:
                    raise FetchError(f"{self.url}: {exc!r} at byte {self.pos} (after {RETRIES} attempts)") from None
                print(f"fetch-weights: {self.url}: {exc!r} at byte {self.pos}; resuming", file=sys.stderr)
                _pause(attempt)
        raise AssertionError("unreachable")

    def close(self) -> None:
        self.close_response()
        super().close()


class _RangeRefusedError(Exception):
    """The server ignored a Range request (200 with the whole body)."""


class Hashing(io.RawIOBase):
    """Passes a stream through, hashing (sha256) what is read."""

    def __init__(self, raw: io.RawIOBase):
        self.raw, self.sha256, self.count = raw, hashlib.sha256(), 0

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        self.raw.close()
        super().close()

    def readinto(self, buffer) -> int:
        n = self.raw.readinto(buffer)
        self.sha256.update(memoryview(buffer)[:n])
        self.count += n
        return n


# --- verification -----------------------------------------------------------------------------------------------


def _file_digest(path: Path, algorithm: str, prefix: bytes = b"") -> str:
    digest = hashlib.new(algorithm, prefix)
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def verify(path: Path, name: str, size: int | None, sha256: str | None, blob_id: str | None) -> None:
    """Check a downloaded file against what its source publishes; a mismatch removes it and fails."""
    actual = path.stat().st_size
    problem = None
    if size is not None and actual != size:
        problem = f"{actual} bytes, the source lists {size}"
    elif sha256 is not None and (got := _file_digest(path, "sha256")) != sha256.lower():
        problem = f"sha256 {got}, the source publishes {sha256}"
    elif sha256 is None and blob_id is not None:
        # A file stored in git (not LFS): its id is the git blob hash, sha1 over "blob <size>\0<content>".
        got = _file_digest(path, "sha1", f"blob {actual}\0".encode())
        if got != blob_id:
            problem = f"git blob id {got}, the source lists {blob_id}"
    if problem:
        path.unlink()
        raise FetchError(f"{name}: {problem}; removed (corrupted in transit, or changed at the source); retry")


# --- downloads --------------------------------------------------------------------------------------------------


def download(url: str, target: Path, headers: dict[str, str], budget: Budget, **expected) -> Path:
    """``url`` into ``target`` through ``<target>.partial``, resuming a partial file left by an earlier attempt."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    # The partial file's ETag: a restarted fetch resumes only if the source still serves the same content (If-Range).
    etag_file = target.with_name(target.name + ".partial-etag")
    have = partial.stat().st_size if partial.exists() else 0
    etag = etag_file.read_text(encoding="utf-8").strip() if have and etag_file.is_file() else None
    size = expected.get("size")
    if have and size is not None and have > size:
        budget.give_back(have)
        partial.unlink()
        have = 0
    if size is None or have < size:
        try:
            stream = ResumingStream(url, headers, start=have, etag=etag)
        except _RangeRefusedError:
            print(f"fetch-weights: {url}: cannot resume (no Range support, or changed); starting over", file=sys.stderr)
            budget.give_back(have)
            partial.unlink()
            have = 0
            stream = ResumingStream(url, headers)
        if have:
            print(f"fetch-weights: {target.name}: resuming at byte {have}", file=sys.stderr)
        if stream.etag:
            etag_file.write_text(stream.etag, encoding="utf-8")
        with stream, open(partial, "ab" if have else "wb") as out:
            buffer = bytearray(CHUNK)
            while n := stream.readinto(buffer):
                budget.take(n)
                out.write(memoryview(buffer)[:n])
    etag_file.unlink(missing_ok=True)
    verify(partial, target.name, size, expected.get("sha256"), expected.get("blob_id"))
    partial.replace(target)
    return target


def _inside(root: Path, member: str) -> Path:
    path = (root / member).resolve()
    if not path.is_relative_to(root.resolve()):
        raise FetchError(f"archive member {member!r} escapes the target directory")
    return path


def _existing_size(path: Path) -> int:
    return path.stat().st_size if path.is_file() else 0


def unpack_tar_stream(stream: io.BufferedIOBase, dest: Path, budget: Budget) -> list[Path]:
    """Unpack a tar (optionally gzip-compressed) stream member by member; the archive never touches the disk."""
    written: list[Path] = []
    with tarfile.open(fileobj=stream, mode="r|*") as tar:
        for member in tar:
            path = _inside(dest, member.name)
            if member.isfile():
                old = _existing_size(path)
                if old == member.size and old:
                    continue  # a restarted fetch already wrote this member (the stream still passes over it)
                budget.give_back(old)
                budget.take(member.size)
            elif not member.isdir():
                continue  # links and devices: weights need neither
            tar.extract(member, dest, filter="data")
            written.append(path)
    return written


def unpack_zip(source, dest: Path, budget: Budget) -> list[Path]:
    """Unpack a zip from a seekable file object (a local file, or a ResumingStream reading by range)."""
    written: list[Path] = []
    with zipfile.ZipFile(source) as zf:
        infos = zf.infolist()
        for info in infos:
            _inside(dest, info.filename)
        budget.check_total(budget.used + sum(i.file_size for i in infos), "the archive's contents")
        for info in infos:
            path = _inside(dest, info.filename)
            if info.is_dir():
                path.mkdir(parents=True, exist_ok=True)
                continue
            old = _existing_size(path)
            if old == info.file_size and old:
                continue
            budget.give_back(old)
            budget.take(info.file_size)
            path.parent.mkdir(parents=True, exist_ok=True)
            with zf.open(info) as src, open(path, "wb") as out:
                while chunk := src.read(CHUNK):
                    out.write(chunk)
            written.append(path)
    return written


def _remove(paths: list[Path]) -> None:
    for path in sorted(paths, reverse=True):
        if path.is_file():
            path.unlink()


def _secret(file_variable: str) -> str | None:
    """The content of the credential file named by an environment variable, if there is one."""
    path = os.environ.get(file_variable)
    if path and Path(path).is_file():
        return Path(path).read_text(encoding="utf-8").strip() or None
    return None


def fetch_https(uri: str, dest: Path, budget: Budget, sha256: str | None = None) -> None:
    headers = {}
    authorization = _secret("FETCH_AUTHORIZATION_FILE")
    if authorization:
        headers["Authorization"] = authorization
    name = Path(urllib.parse.urlparse(uri).path).name or "weights"
    if name.endswith(TAR_SUFFIXES):
        hashing = Hashing(ResumingStream(uri, headers))
        with io.BufferedReader(hashing, CHUNK) as stream:
            written = unpack_tar_stream(stream, dest, budget)
            while stream.read(CHUNK):  # the end-of-archive padding, so the digest covers every byte
                pass
        if sha256 is not None and hashing.sha256.hexdigest() != sha256.lower():
            _remove(written)
            raise FetchError(
                f"{name}: sha256 {hashing.sha256.hexdigest()}, the catalog's weights.sha256 is {sha256}; the unpacked "
                "files were removed"
            )
    elif name.endswith(".zip"):
        remote = ResumingStream(uri, headers)
        if sha256 is None and remote.ranges_supported():
            with io.BufferedReader(remote, CHUNK) as source:
                unpack_zip(source, dest, budget)
            return
        remote.close()
        # A checksum needs every byte anyway, and a server that cannot seek leaves no choice: the archive is
        # downloaded (its size counts against the volume), unpacked, then removed.
        archive = download(uri, dest / f".{name}", headers, budget, sha256=sha256)
        try:
            unpack_zip(archive, dest, budget)
        finally:
            budget.give_back(archive.stat().st_size)
            archive.unlink()
    else:
        download(uri, dest / name, headers, budget, sha256=sha256)


# --- Hugging Face -----------------------------------------------------------------------------------------------


def _matches(path: str, pattern: str) -> bool:
    if pattern.endswith("/"):
        pattern += "*"
    return fnmatch.fnmatchcase(path, pattern)


def select(files: list[str], include: list[str], exclude: list[str], prefer_safetensors: bool) -> list[str]:
    """The repository paths to fetch: included (all, without patterns), not excluded, and without PyTorch pickles
    when safetensors are selected and preferred."""
    chosen = [f for f in files if (not include or any(_matches(f, p) for p in include))]
    chosen = [f for f in chosen if not any(_matches(f, p) for p in exclude)]
    if prefer_safetensors and any(f.endswith(".safetensors") for f in chosen):
        chosen = [f for f in chosen if not any(_matches(Path(f).name, p) for p in PICKLES)]
    return sorted(chosen)


def fetch_hf(uri: str, dest: Path, budget: Budget, include=(), exclude=(), prefer_safetensors=False) -> None:
    spec = uri.removeprefix("hf://")
    repo, _, revision = spec.partition("@")
    revision = revision or "main"
    token = _secret("HF_TOKEN_PATH")
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    quoted_rev = urllib.parse.quote(revision, safe="")
    with _open(f"{HF_ENDPOINT}/api/models/{repo}/revision/{quoted_rev}?blobs=true", headers) as response:
        info = json.load(response)
    siblings = {s["rfilename"]: s for s in info.get("siblings", [])}
    if not siblings:
        raise FetchError(f"{uri}: the repository lists no files")
    names = select(sorted(siblings), list(include), list(exclude), prefer_safetensors)
    if not names:
        raise FetchError(
            f"{uri}: no file matches (include {list(include) or 'all'}, exclude {list(exclude)}); the repository "
            f"has: {', '.join(sorted(siblings)[:20])}"
        )
    skipped = len(siblings) - len(names)
    sizes = [siblings[n].get("size") for n in names]
    if all(isinstance(s, int) for s in sizes):
        budget.check_total(sum(sizes), f"the {len(names)} files selected ({skipped} left out by the filters)")
    print(f"fetch-weights: {uri}: {len(names)} files, {skipped} left out by the filters", file=sys.stderr)
    for i, name in enumerate(names, 1):
        entry = siblings[name]
        target = _inside(dest, name)
        size = entry.get("size")
        if target.exists() and (size is None or target.stat().st_size == size):
            continue  # verified before it got its name: a retried init container resumes where it stopped
        print(f"fetch-weights: [{i}/{len(names)}] {name}", file=sys.stderr)
        lfs = entry.get("lfs") or {}
        download(
            f"{HF_ENDPOINT}/{repo}/resolve/{quoted_rev}/{urllib.parse.quote(name)}",
            target,
            headers,
            budget,
            size=size,
            sha256=lfs.get("sha256"),
            blob_id=entry.get("blobId"),
        )


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="fetch_weights.py", description="Fetch model weights into a directory.")
    parser.add_argument("uri", help="hf://org/model[@rev] or https://...")
    parser.add_argument("dest", type=Path)
    parser.add_argument("--include", action="append", default=[], help="hf://: fetch only matching paths")
    parser.add_argument("--exclude", action="append", default=[], help="hf://: leave out matching paths")
    parser.add_argument("--prefer-safetensors", action="store_true", help="hf://: no pickles next to safetensors")
    parser.add_argument("--sha256", help="https://: the file's (or archive's) sha256")
    parser.add_argument("--max-bytes", type=int, help="what the volume may hold")
    parser.add_argument("--size-gib", type=float, help="the catalog's weights.sizeGiB, for messages")
    try:
        args = parser.parse_args(argv[1:])
    except SystemExit as exc:
        return 2 if exc.code else 0
    uri, dest = args.uri, args.dest
    dest.mkdir(parents=True, exist_ok=True)
    budget = Budget(uri, dest, args.max_bytes, args.size_gib)
    started = time.monotonic()
    if uri.startswith("hf://"):
        fetch_hf(uri, dest, budget, args.include, args.exclude, args.prefer_safetensors)
    elif uri.startswith("https://") or (uri.startswith("http://") and os.environ.get("FETCH_ALLOW_HTTP") == "1"):
        fetch_https(uri, dest, budget, args.sha256)
    else:
        print(f"fetch-weights: unsupported URI {uri!r}", file=sys.stderr)
        return 2
    size = sum(p.stat().st_size for p in dest.rglob("*") if p.is_file())
    print(
        f"fetch-weights: {uri} -> {dest}: {size} bytes in {time.monotonic() - started:.1f}s "
        f"(peak {budget.peak} bytes on the volume)",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
