"""A directory the render owns, and only that: refuse anything else, replace atomically, one writer at a time.

- Ownership: a render writes a marker file (MARKER) into its output. It replaces a directory only when the directory
  is absent, empty, or has that marker (or is exactly what a render wrote before the marker existed:
  resources.json and manifests/*.yaml); anything else is refused, naming the path. The working directory, the
  project directory, $HOME, ``/`` and every directory above them are refused even when empty or marked.
- Atomic: the new render is written into a sibling temporary directory, then swapped in with one
  ``renameat2(RENAME_EXCHANGE)`` (Linux; elsewhere two renames, leaving no directory only for the instant between
  them). A render killed at any point leaves the previous output, never a half that looks complete.
- One writer: an exclusive ``flock`` on a sibling lock file (``.<name>.render-lock``) is held from the ownership
  check to the swap. The kernel drops it when the process dies, so a killed render leaves no stale lock.
- Every failure to write (no permission, a file in the way, a full disk) is an OutputError: exit 2, a message
  naming the path, nothing half-written left in place.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import fcntl
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

MARKER = ".mlserve-render"
MARKER_TEXT = (
    "This directory is written by `python -m mlserve render` (make render, make golden) and replaced as a whole by\n"
    "the next render into it. Do not keep other files here.\n"
)
#: How long a render waits for another render into the same directory before giving up.
LOCK_WAIT_SECONDS = 120.0


class OutputError(Exception):
    """The output directory cannot or may not be written; nothing was written."""


def _protected(project_dir: Path | None) -> dict[Path, str]:
    places = {Path("/"): "the root directory", Path.cwd().resolve(): "the current directory"}
    with contextlib.suppress(RuntimeError, KeyError):
        places[Path.home().resolve()] = "your home directory ($HOME)"
    if project_dir is not None:
        places[project_dir.resolve()] = "the project directory"
    return places


def check_owned(out_dir: Path, project_dir: Path | None = None) -> Path:
    """The resolved ``out_dir`` if a render may replace it; OutputError naming the path otherwise."""
    try:
        target = out_dir.resolve()
    except (OSError, RuntimeError) as exc:
        raise OutputError(f"--out {out_dir}: cannot resolve the path: {exc}") from None
    for place, what in _protected(project_dir).items():
        if target == place or target in place.parents:
            relation = "is" if target == place else "contains"
            raise OutputError(
                f"--out {out_dir}: refused: {target} {relation} {what}; a render replaces its output directory as "
                "a whole, so give it a directory of its own, e.g. build/<stack>"
            )
    if target.exists() or target.is_symlink():
        if not target.is_dir():
            raise OutputError(f"--out {out_dir}: refused: {target} exists and is not a directory")
        try:
            entries = [entry.name for entry in os.scandir(target)]
        except OSError as exc:
            raise OutputError(f"--out {out_dir}: cannot read {target}: {exc.strerror or exc}") from None
        if entries and MARKER not in entries and not _earlier_render(target, entries):
            raise OutputError(
                f"--out {out_dir}: refused: {target} is not empty and was not written by a render (no {MARKER} "
                "file in it); nothing was changed. Choose another directory, or empty this one yourself"
            )
    return target


def _earlier_render(target: Path, entries: list[str]) -> bool:
    """A render written before the marker existed: exactly resources.json and manifests/ holding only .yaml files."""
    if sorted(entries) != ["manifests", "resources.json"] or not (target / "manifests").is_dir():
        return False
    return all(p.is_file() and p.suffix == ".yaml" for p in (target / "manifests").iterdir())


@contextlib.contextmanager
def render_lock(target: Path, wait_seconds: float | None = None) -> Iterator[None]:
    """Exclusive lock for renders into ``target`` (a sibling lock file, released when the process ends)."""
    wait = LOCK_WAIT_SECONDS if wait_seconds is None else wait_seconds
    lock_path = target.parent / f".{target.name}.render-lock"
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + wait
        announced = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise OutputError(
                        f"another render is writing {target} (it holds {lock_path}); gave up after {wait:.0f} s"
                    ) from None
                if not announced:
                    print(f"waiting for another render into {target} to finish", file=sys.stderr)
                    announced = True
                time.sleep(0.2)
        yield
    finally:
        os.close(fd)  # releases the lock


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _renameat2() -> object | None:
    if not sys.platform.startswith("linux"):
        return None
    libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
    return getattr(libc, "renameat2", None)


def exchange(a: Path, b: Path) -> bool:
    """Atomically swap two directories (Linux renameat2); False where the system cannot."""
    func = _renameat2()
    if func is None:
        return False
    result = func(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    if result == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS):  # file system or kernel without RENAME_EXCHANGE
        return False
    raise OSError(err, os.strerror(err), str(b))


def _remove_leftovers(target: Path) -> None:
    """Staging directories of renders killed before their swap (ours: they carry the marker)."""
    for sibling in target.parent.glob(f".{target.name}.tmp-*"):
        if sibling.is_dir() and not sibling.is_symlink() and (sibling / MARKER).is_file():
            shutil.rmtree(sibling, ignore_errors=True)


@contextlib.contextmanager
def owned_staging(out_dir: Path, project_dir: Path | None = None) -> Iterator[Path]:
    """A new staging directory beside ``out_dir`` (holding only the marker), under the render lock; when the block
    ends without an error, it replaces ``out_dir`` atomically, else it is removed and ``out_dir`` is left as it was.
    An OSError in the block is an OutputError naming the path."""
    target = check_owned(out_dir, project_dir)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with render_lock(target):
            check_owned(out_dir, project_dir)  # again, under the lock: another render or a person may have been first
            _remove_leftovers(target)
            staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
            try:
                (staging / MARKER).write_text(MARKER_TEXT, encoding="utf-8")
                yield staging
                if target.exists() and exchange(staging, target):
                    pass  # staging now holds the previous render, removed below
                else:
                    if target.exists():
                        old = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
                        target.rename(old / "previous")
                        (old / MARKER).write_text(MARKER_TEXT, encoding="utf-8")
                        staging.rename(target)
                        staging = old
                    else:
                        staging.rename(target)
            finally:
                if staging.exists():
                    shutil.rmtree(staging, ignore_errors=True)
    except OutputError:
        raise
    except OSError as exc:
        where = exc.filename or target
        raise OutputError(
            f"--out {out_dir}: cannot write {where}: {exc.strerror or exc}; nothing was changed"
        ) from None


def replace_owned_directory(
    out_dir: Path,
    files: Mapping[str, str],
    project_dir: Path | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> None:
    """Make ``out_dir`` hold exactly ``files`` (relative path -> text) and the marker, atomically;
    ``progress(written, total)`` after each file."""
    with owned_staging(out_dir, project_dir) as staging:
        folders = {staging}
        for written, (name, text) in enumerate(files.items(), start=1):
            path = staging / name
            if path.parent not in folders:
                path.parent.mkdir(parents=True, exist_ok=True)
                folders.add(path.parent)
            path.write_text(text, encoding="utf-8")
            if progress is not None:
                progress(written, len(files))
