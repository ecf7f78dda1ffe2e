"""What "pinned" means for a container image: one definition for the catalog check (model_catalog/environment.py,
before anything renders) and the policy rule ``image-pinned`` (policy/rules.py, over every rendered pod template and
in ``pulumi preview --policy-pack policy``), so the two cannot drift apart.

- By digest: ``name[:tag]@sha256:<64 hex>``; the only form a catalog's ``image.ref`` may take in staging and prod.
- By content tag: ``:ctx-<sha256 prefix>``, the tag of an image this repository builds from a context it hashes
  (components/build_context.py); it appears in renders of ``image.build`` models, never in a catalog's ``image.ref``.
"""

from __future__ import annotations

import re

#: The policy rule that enforces it, named in the catalog's message too.
POLICY_RULE = "image-pinned"
DIGEST = re.compile(r"@sha256:[0-9a-f]{64}$")
CONTENT_TAG = re.compile(r":ctx-[0-9a-f]{16,64}$")


def pinned_by_digest(ref: str) -> bool:
    return bool(DIGEST.search(ref))


def pinned(ref: str) -> bool:
    """A rendered image: by digest, or by this repository's content tag."""
    return pinned_by_digest(ref) or bool(CONTENT_TAG.search(ref))
