"""Where the CRD schemas for offline checks are, and ``make crds``: download the pinned upstream CRD files.

Lookup order: $ML_SERVING_CRD_DIR, then ``../shared/crds`` beside the project, then ``.crds/`` in the project
(what ``make crds`` writes). The download verifies every file's sha256 against platform_data/pins.py CRDS before
anything is written, and writes the directory atomically.
"""

from __future__ import annotations

import hashlib
import os
import sys
import urllib.request
from pathlib import Path

from platform_data.pins import CRDS

from .output_dir import OutputError, replace_owned_directory

PROJECT_DIR = Path(__file__).resolve().parent.parent
CRD_DIR_ENV = "ML_SERVING_CRD_DIR"
DOWNLOADED = PROJECT_DIR / ".crds"
MISSING = (
    "no CRD schemas found: run `make crds` (downloads the pinned upstream CRDs into .crds/; needs internet), or set "
    f"{CRD_DIR_ENV} to a directory of CRD files, or keep ../shared/crds beside the project"
)


def crd_dir() -> Path | None:
    """The directory of CRD files the checks use, or None when there is none."""
    configured = os.environ.get(CRD_DIR_ENV)
    if configured:
        return Path(configured) if Path(configured).is_dir() else None
    for candidate in (PROJECT_DIR.parent / "shared" / "crds", DOWNLOADED):
        if candidate.is_dir() and any(candidate.glob("*.yaml")):
            return candidate
    return None


def download(dest: Path = DOWNLOADED, timeout: float = 60.0) -> list[str]:
    """Fetch every pinned CRD, check its sha256, then write them all into ``dest``; the lines to print."""
    files: dict[str, str] = {}
    for name, pin in sorted(CRDS.items()):
        with urllib.request.urlopen(pin.url, timeout=timeout) as response:
            body = response.read()
        digest = hashlib.sha256(body).hexdigest()
        if digest != pin.sha256:
            raise ValueError(
                f"{name}: {pin.url} has sha256 {digest}, the pin says {pin.sha256}; nothing was written. Review the "
                "upstream change and update platform_data/pins.py CRDS (URL and sha256 together)"
            )
        files[name] = body.decode("utf-8")
    replace_owned_directory(dest, files, PROJECT_DIR)
    return [f"{name}: sha256 ok" for name in sorted(files)] + [f"-> {dest}"]


def main() -> int:
    try:
        print("\n".join(download()))
    except (OSError, ValueError, OutputError) as exc:
        print(f"make crds: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
